"""The fast part of the hostile-inputs sweep (tests/hostile_inputs.py, issue 17): the
Python API cases and the `predict`/`bench` cases on a stub bundle, none of which loads
TensorFlow or needs a trained run; about ten seconds. The whole sweep, with train,
evaluate, export and convert, is the script: `python -m tests.hostile_inputs`."""

from __future__ import annotations

import pytest

from tests import hostile_inputs as sweep

CASES = sweep.all_cases()
FAST = [case for case in CASES if case.fast]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return sweep.Inputs(str(tmp_path_factory.mktemp("hostile_inputs")))


@pytest.mark.parametrize("case", FAST, ids=lambda case: case.name)
def test_a_hostile_input_is_handled_well(case, inputs, tmp_path):
    (outcome,) = sweep.run_cases([case], inputs, str(tmp_path / "cases"), log=lambda m: None)
    assert outcome.ok, f"expected {case.expect.describe()}; got {outcome.got()}"


def test_the_sweep_covers_every_command_with_at_least_85_cases():
    commands = {case.command for case in CASES}
    assert len(CASES) >= 85 and len(FAST) >= 30
    assert commands >= {"train", "evaluate", "export", "predict", "bench", "convert", "api"}
    assert len({case.name for case in CASES}) == len(CASES)


def test_the_table_counts_what_was_handled_well():
    case = FAST[0]
    good = sweep.Outcome(case, sweep.Result(code=2, stderr="albert-tf predict: error: x\n"))
    bad = sweep.Outcome(case, sweep.Result(code=1), problems=["traceback"])
    table = sweep.markdown([good, bad])
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert len(rows) == 3 and rows[2].endswith("| **no** |")  # the header and two cases
    assert "Handled well: 1 of 2." in table
