"""Command-line mistakes end in one line naming what is wrong, exit code 2, nothing touched."""

from __future__ import annotations

import pytest

from albert_tf.cli import main


@pytest.mark.parametrize(
    "command",
    [
        ["train", "--dataset", "movie_reviews"],
        ["distill", "--teacher", "t", "--dataset", "movie_reviews"],
        ["evaluate", "run", "--data", "x.csv"],
        ["demo"],
    ],
)
def test_out_that_is_an_existing_file_is_refused_and_kept(tmp_path, capsys, command):
    out = tmp_path / "notes.txt"
    out.write_text("mine")
    code = main([*command, "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == [
        f"albert-tf {command[0]}: error: --out {out} is an existing file, not a folder; "
        "choose a folder"
    ]
    assert out.read_text() == "mine"


def test_evaluate_offers_encoding_errors(capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    assert "--encoding-errors {strict,replace}" in capsys.readouterr().out


def test_a_failing_command_prints_its_one_line_and_no_framework_notices(tmp_path):
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "albert_tf.cli",
            "evaluate",
            str(tmp_path / "no_run"),
            "--data",
            "x",
        ],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": root},
        timeout=300,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"albert-tf evaluate: error: Run folder not found: {tmp_path / 'no_run'}"
    ]


def test_one_label_only_is_refused_before_training(tmp_path, capsys):
    data = tmp_path / "train.csv"
    data.write_text("text,label\n" + "".join(f"text {i},pos\n" for i in range(20)))
    code = main(["train", "--data", str(data), "--recipe", "scratch", "--out", str(tmp_path / "r")])
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        "albert-tf train: error: train.csv: every row has the label 'pos'; "
        "a classifier needs at least two labels"
    )
    assert not (tmp_path / "r").exists()
