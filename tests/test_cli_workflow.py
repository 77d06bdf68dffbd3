"""The README's workflow on a user's own file: `albert-tf train --data reviews.csv`, then
`albert-tf export RUN --out BUNDLE` and `albert-tf predict BUNDLE "text"` with no other flags;
predict and bench with TensorFlow unimportable."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from tests.export_helpers import movie_reviews

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NUM_ROWS = 600
# What an edge device lacks; set to None in sys.modules, `import tensorflow` fails there.
BLOCKED = ("tensorflow", "tensorflow_text", "keras", "keras_hub", "mediapipe")
NO_TENSORFLOW = f"""
import sys
for name in {BLOCKED!r}:
    sys.modules[name] = None
from albert_tf.cli import main
code = main(sys.argv[1:])
sys.stdout.flush()
sys.exit(code)
"""


def cli(argv: list[str]) -> tuple[int, str]:
    from albert_tf.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    return code, out.getvalue()


def run_without_tensorflow(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", NO_TENSORFLOW, *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def write_reviews_csv(path: str, n: int = NUM_ROWS) -> None:
    # Column names other than the defaults: only `train` is told them.
    (texts, labels), _ = movie_reviews(n_train=n, n_test=1)
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["review", "sentiment"])
        writer.writerows(zip(texts, labels))


@pytest.fixture(scope="module")
def workflow(tmp_path_factory):
    root = tmp_path_factory.mktemp("workflow")
    data, run_dir, bundle = str(root / "reviews.csv"), str(root / "run"), str(root / "bundle")
    write_reviews_csv(data)
    opened = _count_opens(data)
    train_code, _ = cli([
        "train", "--data", data, "--text-column", "review", "--label-column", "sentiment",
        "--preset", "tiny", "--epochs", "1", "--max-length", "32", "--vocab-size", "500",
        "--out", run_dir,
    ])  # fmt: skip
    export_code, export_out = cli(["export", run_dir, "--out", bundle])
    opened["counting"] = False
    with open(os.path.join(run_dir, "run.json"), encoding="utf-8") as f:
        info = json.load(f)
    return {
        "data": data,
        "run_dir": run_dir,
        "bundle": bundle,
        "train_code": train_code,
        "export_code": export_code,
        "export_out": export_out,
        "info": info,
        "opened": opened["count"],
    }


def _count_opens(path: str) -> dict:
    """Counts every open of `path` (Python's audit events) until "counting" is False."""
    wanted = os.path.realpath(path)
    opened = {"count": 0, "counting": True}

    def hook(event: str, args: tuple) -> None:
        if event == "open" and opened["counting"] and isinstance(args[0], str | bytes):
            if os.path.realpath(os.fsdecode(args[0])) == wanted:
                opened["count"] += 1

    sys.addaudithook(hook)  # hooks stay for the process: the flag switches it off
    return opened


def the_runs_split(data: str):
    """train/validation/test of `data` as `albert-tf train` made them (its documented default)."""
    from albert_tf.data.readers import read_table
    from albert_tf.data.split import split_dataset

    return split_dataset(read_table(data, "review", "sentiment"), (0.8, 0.1, 0.1), seed=0)


def test_the_users_file_is_opened_once_from_train_to_export(workflow):
    assert (workflow["train_code"], workflow["export_code"]) == (0, 0)
    assert workflow["opened"] == 1


def test_train_records_the_file_columns_and_split_in_run_json(workflow):
    assert workflow["train_code"] == 0
    info = workflow["info"]
    assert (info["version"], info["task"], info["problem_type"]) == (2, "classify", "single_label")
    data = info["data"]
    assert data["train"] == os.path.abspath(workflow["data"]) and data["dataset"] is None
    assert data["validation"] is None and data["test"] is None
    assert data["split"] == {"fractions": [0.8, 0.1, 0.1], "seed": 0}
    assert (data["text_column"], data["label_column"]) == ("review", "sentiment")
    assert data["encoding_errors"] == "strict"


def test_export_with_only_out_verifies_on_the_test_part_training_held_out(workflow):
    from export.texts import load_texts

    assert workflow["export_code"] == 0, workflow["export_out"]
    train, _, test = the_runs_split(workflow["data"])
    with open(os.path.join(workflow["bundle"], "manifest.json"), encoding="utf-8") as f:
        report = json.load(f)["verification"]
    trained_test = workflow["info"]["metrics"]["test"]  # what training measured on its test part
    assert report["passed"] and report["num_texts"] == len(test) == trained_test["num_examples"]
    assert report["keras"]["accuracy"] == pytest.approx(trained_test["accuracy"], abs=1e-9)
    assert "test texts training held out (held_out.json)" in workflow["export_out"]

    texts = load_texts(workflow["run_dir"], None, {"negative": 0, "positive": 1})
    assert texts.held_out == test.texts and set(texts.calibration) <= set(train.texts)
    gold = Counter(texts.gold)
    # Row i of training's confusion matrix counts the test texts whose gold label is i.
    assert [gold[i] for i in range(2)] == [sum(row) for row in trained_test["confusion_matrix"]]


def test_export_with_no_length_flag_cuts_long_texts_as_the_run_was_trained(workflow):
    # The run keeps head and tail of long texts; only a dynamic-length bundle can
    # (MediaPipe cuts a fixed-length model's input at the head).
    assert workflow["info"]["tokenizer"]["truncation"] == "head_tail"
    with open(os.path.join(workflow["bundle"], "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    assert manifest["dynamic_length"] is True
    assert manifest["truncation_rule"] == {"keep": "head_tail", "head_pieces": 22, "tail_pieces": 8}


def test_predict_with_no_flags_prints_one_json_line_per_text(workflow):
    from export.runtime import Classifier

    texts = ["a gripping, beautifully acted film.", "dull and overlong."]
    proc = subprocess.run(
        [sys.executable, "-m", "albert_tf.cli", "predict", workflow["bundle"], *texts],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    expected = Classifier(workflow["bundle"]).predict_proba(texts)
    assert [line["text"] for line in lines] == texts
    for line, probs in zip(lines, expected):
        assert line["label"] == ["negative", "positive"][int(np.argmax(probs))]
        got = [line["probabilities"][name] for name in ("negative", "positive")]
        np.testing.assert_allclose(got, probs, atol=1e-6)


def test_predict_and_bench_work_with_tensorflow_unimportable(workflow):
    proc = run_without_tensorflow(["predict", workflow["bundle"], "a fine film"])
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip())["label"] in ("negative", "positive")

    proc = run_without_tensorflow(
        ["bench", workflow["bundle"], "--json", "--runs", "3", "--warmup", "1", "--threads", "1"]
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["texts"] == 4 and result["p50_ms"] > 0
    # Importing TensorFlow alone peaks above 800 MB here; the runtime near 60 MB.
    assert 0 < result["peak_rss_mb"] < 300


def test_bench_from_a_process_holding_tensorflow_still_measures_the_runtime_alone(workflow):
    import tensorflow  # noqa: F401  (what a script calling albert_tf.cli.main may hold)

    code, out = cli(["bench", workflow["bundle"], "--json", "--runs", "2", "--warmup", "1"])
    assert code == 0
    assert json.loads(out.strip().splitlines()[-1])["peak_rss_mb"] < 300


def test_a_command_that_needs_tensorflow_names_the_extra_to_install(workflow, tmp_path):
    proc = run_without_tensorflow(["export", workflow["run_dir"], "--out", str(tmp_path / "b")])
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("albert-tf export: error:") and "pip install 'albert-tf[train]'" in last
    assert not (tmp_path / "b").exists()


def test_export_reads_a_jsonl_texts_file_with_the_given_columns(workflow, tmp_path):
    _, _, test = the_runs_split(workflow["data"])
    texts_file = tmp_path / "held_out.jsonl"
    rows = [{"review": t, "sentiment": label} for t, label in zip(test.texts, test.labels)][:12]
    texts_file.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    code, out = cli([
        "export", workflow["run_dir"], "--out", str(tmp_path / "b"), "--mode", "float32",
        "--no-mediapipe", "--texts", str(texts_file), "--text-column", "review",
        "--label-column", "sentiment", "--fixed-length",
    ])  # fmt: skip
    assert code == 0, out
    with open(tmp_path / "b" / "manifest.json", encoding="utf-8") as f:
        manifest = json.load(f)
    report = manifest["verification"]
    assert manifest["dynamic_length"] is False and "keeps the head only" in out
    assert report["num_texts"] == 12 and "12 texts of held_out.jsonl" in out
    assert report["keras"]["accuracy"] is not None  # "sentiment" was read as gold labels


def test_building_the_parser_and_importing_the_package_load_no_tensorflow():
    code = (
        "import os, sys\n"
        "import albert_tf, albert_tf.cli\n"
        "albert_tf.cli.build_parser()\n"
        "from albert_tf import AlbertConfig\n"
        "AlbertConfig.from_preset('tiny')\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'keras_hub') if m in sys.modules]\n"
        "print(heavy, os.environ.get('TF_CPP_MIN_LOG_LEVEL'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, check=True
    ).stdout
    assert out.split() == ["[]", "2"]


def test_the_package_names_still_import():
    import albert_tf
    from albert_tf import AlbertBackbone, WordPieceTokenizer
    from albert_tf.models import AlbertBackbone as defined

    assert AlbertBackbone is defined and WordPieceTokenizer.__name__ == "WordPieceTokenizer"
    assert set(albert_tf.__all__) <= set(dir(albert_tf))
    with pytest.raises(AttributeError, match="NoSuchThing"):
        albert_tf.NoSuchThing  # noqa: B018


def test_train_parser_head_tasks_are_the_library_ones():
    from albert_tf.commands.train import HEAD_TASKS
    from albert_tf.training.tasks import HEAD_TASKS as library_head_tasks

    assert HEAD_TASKS is library_head_tasks


# ---------------------------------------------------------------- held-out texts
LABELS = {"neg": 0, "pos": 1}


def a_run(info: dict, path: str = "runs/x") -> str:
    """The run folder argument: with a texts file, export reads nothing of the run's."""
    return path


def write(path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_texts_csv_with_columns_gives_texts_and_gold(tmp_path):
    from export.texts import load_texts

    f = write(tmp_path / "t.csv", 'id,body,y\n1,good film,pos\n2,"bad, bad film",neg\n')
    texts = load_texts(a_run({}), f, LABELS, text_column="body", label_column="y")
    assert (texts.held_out, texts.gold) == (["good film", "bad, bad film"], [1, 0])
    assert texts.calibration == texts.held_out and texts.source == "2 texts of t.csv"


def test_texts_tsv_with_a_header_is_a_table_and_without_one_the_line_format(tmp_path):
    from export.texts import load_texts

    table = write(tmp_path / "a.tsv", "text\tlabel\nfine\tpos\nawful\tneg\n")
    lines = write(tmp_path / "b.tsv", "pos\tfine\nneg\tawful\n")
    plain = write(tmp_path / "c.txt", "fine\nawful\n")
    for f, gold in ((table, [1, 0]), (lines, [1, 0]), (plain, None)):
        texts = load_texts(a_run({}), f, LABELS)
        assert (texts.held_out, texts.gold) == (["fine", "awful"], gold), f


@pytest.mark.parametrize(
    "name, content, where",
    [
        ("t.csv", "text,label\nfine,pos\nmeh,neutral\n", "line 3 of"),
        ("t.jsonl", '{"text": "fine", "label": "pos"}\n{"text": "meh", "label": "neutral"}\n',
         "line 2 of"),
        ("t.tsv", "pos\tfine\nneutral\tmeh\n", "line 2 of"),
    ],
)  # fmt: skip
def test_a_label_the_run_never_saw_names_file_line_and_label(tmp_path, name, content, where):
    from export.texts import load_texts

    f = write(tmp_path / name, content)
    with pytest.raises(ValueError) as e:
        load_texts(a_run({}), f, LABELS)
    message = str(e.value)
    assert f"{where} {f}" in message and "'neutral'" in message and "\n" not in message


def test_a_missing_column_names_the_file_and_the_column(tmp_path):
    from export.texts import load_texts

    csv_file = write(tmp_path / "t.csv", "review,label\nfine,pos\n")
    with pytest.raises(ValueError, match=r"t\.csv has no text column 'text'.*'review'"):
        load_texts(a_run({}), csv_file, LABELS)
    jsonl = write(tmp_path / "t.jsonl", '{"review": "fine", "label": "pos"}\n')
    with pytest.raises(ValueError, match=r"line 1 of .*t\.jsonl has no text field 'text'"):
        load_texts(a_run({}), jsonl, LABELS)


def test_a_run_without_held_out_texts_says_to_pass_texts(tmp_path):
    from export.texts import load_texts

    with pytest.raises(ValueError, match=r"has no held_out\.json.*--texts"):
        load_texts(str(tmp_path), None, LABELS)
