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
