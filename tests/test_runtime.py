"""Edge runtime: no TensorFlow, bundle checks with clear errors, truncation, CLI bench."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tests.export_helpers import (
    LABELS,
    MAX_LENGTH,
    bundle,
    keras_probs,
    runtime_label_and_loaded,
    trained_run,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return trained_run(tmp_path_factory)


@pytest.fixture
def bundle_copy(trained, tmp_path_factory, tmp_path):
    path = tmp_path / "bundle"
    shutil.copytree(bundle(tmp_path_factory, "dynamic"), path)
    return path


def _update_manifest_sha(path, name):
    from export.runtime import sha256_of

    manifest = json.loads((path / "manifest.json").read_text())
    manifest["files"][name]["sha256"] = sha256_of(str(path / name))
    (path / "manifest.json").write_text(json.dumps(manifest))


def test_runtime_import_pulls_in_no_tensorflow(bundle_copy):
    heavy = ("tensorflow", "keras", "tf_keras", "mediapipe", "albert_tf")
    label, loaded = runtime_label_and_loaded(bundle_copy, "a fine film", heavy)
    assert label in LABELS and loaded == []


def test_predict_matches_predict_proba_and_batches(trained, bundle_copy):
    from export.runtime import Classifier

    clf = Classifier(str(bundle_copy), num_threads=1)
    texts = trained["texts"][:10]
    probs = clf.predict_proba(texts)
    results = clf.predict(texts, batch_size=3)
    assert [r["label"] for r in results] == [LABELS[i] for i in probs.argmax(-1)]
    np.testing.assert_allclose([r["score"] for r in results], probs.max(-1), rtol=1e-6)


def test_long_text_is_truncated_like_the_tokenizer(trained, bundle_copy):
    from export.runtime import Classifier

    clf = Classifier(str(bundle_copy))
    long_text = " ".join(trained["texts"][:6])  # far over MAX_LENGTH pieces
    assert len(clf.encoder.pieces(long_text)) > MAX_LENGTH
    result = clf.predict([long_text, "short"])
    assert [r["truncated"] for r in result] == [True, False]
    # The Keras side cuts with AlbertTokenizer: the same first MAX_LENGTH - 2 pieces.
    reference = keras_probs(trained, [long_text])[0]
    np.testing.assert_allclose(clf.predict_proba([long_text])[0], reference, atol=0.05)


def test_missing_file_is_named(bundle_copy):
    from export.runtime import Classifier

    os.remove(bundle_copy / "spiece.model")
    with pytest.raises(FileNotFoundError, match="spiece.model"):
        Classifier(str(bundle_copy))


def test_bundle_from_before_wordpiece_support_still_loads(trained, bundle_copy):
    # Older manifests name no tokenizer and no file kinds: they are SentencePiece bundles.
    from export.runtime import Classifier

    texts = trained["texts"][:5]
    expected = Classifier(str(bundle_copy)).predict_proba(texts)
    manifest = json.loads((bundle_copy / "manifest.json").read_text())
    del manifest["tokenizer"]
    for entry in manifest["files"].values():
        del entry["kind"]
    (bundle_copy / "manifest.json").write_text(json.dumps(manifest))
    clf = Classifier(str(bundle_copy))
    assert clf.encoder.kind == "sentencepiece"
    np.testing.assert_array_equal(clf.predict_proba(texts), expected)


def test_missing_manifest_is_named(bundle_copy):
    from export.runtime import Classifier

    os.remove(bundle_copy / "manifest.json")
    with pytest.raises(FileNotFoundError, match="manifest.json"):
        Classifier(str(bundle_copy))


def test_changed_file_fails_sha256_check(bundle_copy):
    from export.runtime import BundleError, Classifier

    with open(bundle_copy / "model.tflite", "ab") as f:
        f.write(b"\0")
    with pytest.raises(BundleError, match="model.tflite does not match manifest.json"):
        Classifier(str(bundle_copy))


def test_corrupt_tflite_is_a_clear_error(bundle_copy):
    from export.runtime import BundleError, Classifier

    (bundle_copy / "model.tflite").write_bytes(b"not a flatbuffer" * 100)
    _update_manifest_sha(bundle_copy, "model.tflite")
    with pytest.raises(BundleError, match="model.tflite is not a loadable TFLite model"):
        Classifier(str(bundle_copy))


def test_labels_disagreeing_with_manifest(bundle_copy):
    from export.runtime import BundleError, Classifier

    (bundle_copy / "labels.txt").write_text("positive\nnegative\n")
    _update_manifest_sha(bundle_copy, "labels.txt")
    with pytest.raises(BundleError, match="labels.txt lists"):
        Classifier(str(bundle_copy))


def test_bench_reports_latency_size_and_memory(bundle_copy):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "export.runtime.benchmark",
            str(bundle_copy),
            "--runs",
            "2",
            "--threads",
            "1",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert 0 < result["p50_ms"] <= result["p95_ms"]
    assert result["texts_per_s"] > 0 and result["threads"] == 1
    assert result["model_mb"] == round(os.path.getsize(bundle_copy / "model.tflite") / 1e6, 3)
    # TensorFlow alone takes hundreds of MB; the runtime stays far below.
    assert 0 < result["peak_rss_mb"] < 300


def test_dynamic_length_runs_exact_lengths_with_bounded_interpreters(trained, tmp_path_factory):
    from export.runtime import Classifier

    dynamic = Classifier(
        bundle(tmp_path_factory, "dynamic", dynamic_length=True), max_interpreters=2
    )
    fixed = Classifier(bundle(tmp_path_factory, "dynamic"))
    texts = ["fine " * n for n in (2, 20, 40, 2, 25, 7)]  # 40 words: cut at MAX_LENGTH
    packed = [min(len(dynamic.encoder.pieces(t)) + 2, MAX_LENGTH) for t in texts]
    assert [dynamic.input_length(n) for n in packed] == packed
    assert len(set(packed)) > 2  # more lengths than interpreters: some get resized
    np.testing.assert_allclose(dynamic.predict_proba(texts), fixed.predict_proba(texts), atol=0.02)
    # One at a time, in an order that revisits lengths after they were evicted.
    one_by_one = np.concatenate([dynamic.predict_proba([t]) for t in texts + texts[::-1]])
    np.testing.assert_allclose(one_by_one, fixed.predict_proba(texts + texts[::-1]), atol=0.02)
    assert len(dynamic._by_length) <= 2
    # allocated at text lengths, not buckets
    assert {length for length, _ in dynamic._by_length} <= set(packed)


def test_encoder_macs_counts_the_dense_layers():
    from export.runtime import encoder_macs

    base = {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12}
    # q, k, v, output (4 x 768 x 768) and the feed-forward pair (2 x 768 x 3072)
    # per token and layer: 7,077,888.
    assert encoder_macs(base, 128) == 128 * 12 * 7_077_888
    assert encoder_macs({**base, "inner_group_num": 2}, 1) == 2 * 12 * 7_077_888
    assert encoder_macs({"hidden_size": 768}, 128) is None


def test_a_lone_text_of_a_small_model_runs_on_one_thread(trained, tmp_path_factory):
    from export.runtime import SINGLE_THREAD_MAX_MACS, Classifier, encoder_macs

    path = bundle(tmp_path_factory, "dynamic", dynamic_length=True)
    clf = Classifier(path, num_threads=2)
    config = clf.manifest["config"]
    assert encoder_macs(config, clf.max_length) < SINGLE_THREAD_MAX_MACS  # tiny model
    assert clf.threads_for(clf.max_length) == 1
    assert clf.threads_for(clf.max_length, texts_in_call=3) == 2  # back-to-back texts
    assert Classifier(path, num_threads=None).threads_for(5) is None
    big = {"hidden_size": 4096, "intermediate_size": 16384, "num_hidden_layers": 48}
    clf._macs_per_token = encoder_macs(big, 1)
    assert clf.threads_for(clf.max_length) == 2  # enough work for a second thread
    texts = ["fine " * n for n in (2, 20, 7)]
    lone = Classifier(path, num_threads=2)
    one_thread = np.concatenate([lone.predict_proba([t]) for t in texts])
    np.testing.assert_allclose(one_thread, clf.predict_proba(texts), atol=1e-5)
    assert {threads for _, threads in clf._by_length} == {2}
    # The lone texts really ran on 1-thread interpreters (the first one is the load's).
    assert {threads for _, threads in list(lone._by_length)[1:]} == {1}


def _predict_cli(argv, stdin: bytes = b""):
    """`albert-tf predict` in a subprocess, so stdin and argv carry raw bytes."""
    env = {**os.environ, "PYTHONPATH": ROOT}
    return subprocess.run(
        [sys.executable, "-m", "albert_tf.cli", "predict", *argv],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=120,
    )


def test_predict_names_the_line_of_bytes_that_are_not_utf8(bundle_copy, tmp_path):
    bad = tmp_path / "texts.txt"
    bad.write_bytes(b"a fine film\ncaf\xe9 film\n")
    for argv, stdin, where in (
        ([str(bundle_copy)], b"a fine film\ncaf\xe9 film\n", "line 2 of stdin"),
        ([str(bundle_copy), "--file", str(bad)], b"", f"line 2 of {bad}"),
        (
            [str(bundle_copy), b"caf\xe9 film".decode("utf-8", "surrogateescape")],
            b"",
            "text argument 1",
        ),
    ):
        proc = _predict_cli(argv, stdin)
        err = proc.stderr.decode().strip().splitlines()
        assert proc.returncode == 2, proc.stderr
        assert len(err) == 1 and where in err[0] and "--encoding-errors replace" in err[0]
        assert proc.stdout == b""


def test_predict_replaces_bad_bytes_when_asked(bundle_copy):
    proc = _predict_cli([str(bundle_copy), "--encoding-errors", "replace"], b"caf\xe9 film\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b""  # no LiteRT start-up notice either
    assert json.loads(proc.stdout)["text"] == "caf\ufffd film"


def test_predict_refuses_an_empty_text(bundle_copy):
    proc = _predict_cli([str(bundle_copy), ""])
    assert proc.returncode == 2
    assert proc.stderr.decode().strip() == (
        "albert-tf predict: error: text argument 1 is empty; there is nothing to classify"
    )


def test_the_manifest_decides_the_length_mode(trained, tmp_path_factory, tmp_path):
    from export.runtime import BundleError, Classifier

    dynamic = tmp_path / "dynamic"
    shutil.copytree(bundle(tmp_path_factory, "dynamic", dynamic_length=True), dynamic)
    manifest = json.loads((dynamic / "manifest.json").read_text())
    assert manifest["dynamic_length"] is True and Classifier(str(dynamic)).input_length(5) == 5
    # An open-length model that the export recorded as fixed runs at max_length.
    (dynamic / "manifest.json").write_text(json.dumps({**manifest, "dynamic_length": False}))
    clf = Classifier(str(dynamic))
    assert not clf.dynamic_length and clf.input_length(5) == MAX_LENGTH
    assert clf.predict(["fine"])[0]["label"] in LABELS
    # Without the field (an older manifest), the model's input shape decides.
    del manifest["dynamic_length"]
    (dynamic / "manifest.json").write_text(json.dumps(manifest))
    assert Classifier(str(dynamic)).dynamic_length
    fixed = tmp_path / "fixed"
    shutil.copytree(bundle(tmp_path_factory, "dynamic"), fixed)
    manifest = json.loads((fixed / "manifest.json").read_text())
    for value, message in ((True, "fixed input length"), ("yes", "true or false")):
        (fixed / "manifest.json").write_text(json.dumps({**manifest, "dynamic_length": value}))
        with pytest.raises(BundleError, match=message):
            Classifier(str(fixed))
