"""The contract the Android demo relies on, checked on a real exported bundle.

The app hands `model.tflite` to MediaPipe's TextClassifier and reads
`manifest.json` and `labels.txt` with its Java core. MediaPipe's Python
TextClassifier runs the same C++ task graph (tokenizer from the model metadata,
TFLite inference, label mapping) as the Android one, so what holds here holds on
the phone for everything but the delegate:
- tensors: the three int32 inputs and the float32 output carry the names the
  metadata gives them, in the subgraph's order (a swapped ids/segment_ids order is
  a known on-device failure), builtin ops only (Android MediaPipe has no Flex);
- labels: MediaPipe's category names and indices == labels.txt == manifest labels,
  and with default options (as the app calls it) every label comes back;
- scores: MediaPipe's probabilities == our edge runtime's (`export.runtime.Classifier`)
  on the same texts, including upper case, accents, emoji and over-long texts;
- the Java core reads the real manifest.json and catches a stale labels.txt/model;
- scripts/copy_bundle.sh copies exactly the three files the app reads.

Bundles are exported once per variant (dynamic-range int8 weights as `albert-tf
export` writes by default, float32, and dynamic-length inputs) from a tiny
classifier trained for a few steps, so probabilities are far from uniform and a
mix-up would show.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.test_android_core import CORE_PACKAGE, DEMO, compile_core, needs_jdk, run_java

LABELS = ["negative", "neutral", "positive"]
MAX_LENGTH = 24
APP_FILES = ("model.tflite", "manifest.json", "labels.txt")

_POS = ["wonderful", "moving", "funny", "brilliant", "gripping", "charming", "superb"]
_NEG = ["dull", "awful", "boring", "clumsy", "tedious", "lifeless", "weak"]
_NEU = ["long", "french", "recent", "quiet", "new", "second", "late"]
_NOUNS = ["film", "plot", "cast", "script", "ending", "score", "story"]


def _corpus() -> tuple[list[str], list[int]]:
    texts, gold = [], []
    for i in range(84):
        noun = _NOUNS[i % len(_NOUNS)]
        label = i % 3
        adj = (_NEG, _NEU, _POS)[label][(i // 3) % 7]
        texts.append(f"the {adj} {noun} of this movie was {adj}")
        gold.append(label)
    return texts, gold


# What the app may be given: plain, shouted, accented, emoji/CJK (unknown pieces),
# punctuation only, and texts longer than max_length (MediaPipe and our runtime
# both keep the first max_length - 2 pieces).
CONTRACT_TEXTS = [
    "the wonderful film of this movie was wonderful",
    "THE DULL PLOT OF THIS MOVIE WAS DULL",
    "A quiet, French story: neither good nor bad.",
    "café crème — déjà vu, naïve",
    "funny 🎬 movie 映画 👍",
    "?!",
    " ".join(["gripping charming superb"] * 20),
    " ".join(["boring tedious"] * 30) + " but the ending was wonderful",
]


def _build_run(run_dir: Path) -> None:
    import keras

    from albert_tf.config import AlbertConfig
    from albert_tf.models.backbone import AlbertBackbone
    from albert_tf.models.classifier import AlbertClassifier
    from albert_tf.tokenizers.sentencepiece import AlbertTokenizer
    from albert_tf.training.run_folder import save_run

    # Module fixtures run before conftest's per-test seeding: seed here.
    keras.utils.set_random_seed(20261128)
    texts, gold = _corpus()
    extra = [t.lower() for t in CONTRACT_TEXTS] + ["a film with a plot and a cast"] * 5
    tok = AlbertTokenizer.train(texts * 4 + extra * 4, vocab_size=90)
    config = AlbertConfig.from_preset("tiny", vocab_size=tok.vocab_size)
    model = AlbertClassifier(AlbertBackbone(config), num_labels=len(LABELS), dropout=0.0)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    x = tok(texts, max_length=MAX_LENGTH, padding="max_length")
    model.fit(x, np.array(gold), batch_size=16, epochs=12, verbose=0)
    save_run(
        str(run_dir),
        model,
        tok,
        LABELS,
        {"task": "single_label", "max_length": MAX_LENGTH, "dataset": "android-contract"},
    )


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("android-run")
    _build_run(folder)
    texts, gold = _corpus()
    with open(folder / "heldout.tsv", "w", encoding="utf-8") as f:
        for text, label in zip(texts, gold):
            f.write(f"{LABELS[label]}\t{text}\n")
    return folder


# (quantization mode, dynamic-length inputs): the exporter's default, float32, and the
# dynamic-length variant (inputs [1, None]; MediaPipe then tokenizes without padding).
VARIANTS = [("dynamic", False), ("float32", False), ("dynamic", True)]


@pytest.fixture(scope="module")
def export_bundle(run_dir, tmp_path_factory):
    import export

    made = {}

    def make(mode: str, dynamic_length: bool) -> Path:
        key = (mode, dynamic_length)
        if key not in made:
            name = f"bundle-{mode}{'-dynlen' if dynamic_length else ''}"
            out = tmp_path_factory.mktemp(name) / "bundle"
            # force=True: these tests check the app's contract on whatever the exporter
            # writes; the agreement thresholds are the export tests' business.
            export.export_run(
                str(run_dir),
                str(out),
                texts_file=str(run_dir / "heldout.tsv"),
                log=lambda message: None,
                settings=export.BundleSettings(
                    mode=mode, dynamic_length=dynamic_length, num_verify=30, force=True
                ),
            )
            made[key] = out
        return made[key]

    return make


@pytest.fixture(params=VARIANTS, ids=lambda v: f"{v[0]}{'-dynlen' if v[1] else ''}")
def bundle(request, export_bundle):
    return export_bundle(*request.param)


@pytest.fixture
def default_bundle(export_bundle):
    """What `albert-tf export` writes without options (and `make demo` copies)."""
    return export_bundle(*VARIANTS[0])


def _mediapipe_results(model_path: Path, texts: list[str]):
    from mediapipe.tasks.python import text as mp_text
    from mediapipe.tasks.python.core.base_options import BaseOptions

    # Default classifier options, as the app calls it (no max_results, no threshold).
    options = mp_text.TextClassifierOptions(
        base_options=BaseOptions(model_asset_path=str(model_path))
    )
    with mp_text.TextClassifier.create_from_options(options) as classifier:
        return [classifier.classify(t).classifications[0].categories for t in texts]


def _labels_file(bundle: Path) -> list[str]:
    return (bundle / "labels.txt").read_text(encoding="utf-8").splitlines()


# --------------------------------------------------------------------- tensors


def test_tensor_names_order_and_types_match_metadata(bundle):
    from ai_edge_litert.interpreter import Interpreter

    from export.metadata import read_metadata

    manifest = json.loads((bundle / "manifest.json").read_text())
    interp = Interpreter(model_path=str(bundle / "model.tflite"))
    inputs = interp.get_input_details()  # subgraph order
    outputs = interp.get_output_details()
    names = [d["name"] for d in inputs]
    assert sorted(names) == ["ids", "mask", "segment_ids"]
    assert [d["name"] for d in outputs] == ["probability"]
    dynamic_length = manifest["dynamic_length"]
    for d in inputs:
        assert d["dtype"] == np.int32
        assert list(d["shape_signature"]) == [1, -1 if dynamic_length else MAX_LENGTH]
    assert outputs[0]["dtype"] == np.float32
    assert list(outputs[0]["shape"]) == [1, len(LABELS)]

    # MediaPipe finds ids/mask/segment_ids by the metadata names, position by position.
    meta = read_metadata((bundle / "model.tflite").read_bytes())
    subgraph = meta.subgraphMetadata[0]
    assert [t.name.decode() for t in subgraph.inputTensorMetadata] == names
    assert [t.name.decode() for t in subgraph.outputTensorMetadata] == ["probability"]
    # The manifest tells the app the same names.
    assert manifest["tensors"]["inputs"] == {n: n for n in ("ids", "mask", "segment_ids")}
    assert manifest["tensors"]["output"] == "probability"
    assert manifest["max_length"] == MAX_LENGTH


def test_model_uses_builtin_ops_only(bundle):
    from mediapipe.tasks.metadata import schema_py_generated as model_fb

    model = model_fb.Model.GetRootAsModel((bundle / "model.tflite").read_bytes(), 0)
    codes = [model.OperatorCodes(i) for i in range(model.OperatorCodesLength())]
    custom = [c.CustomCode() for c in codes if c.BuiltinCode() == model_fb.BuiltinOperator.CUSTOM]
    assert codes and not custom, f"custom/Flex ops in the model: {custom}"


def test_metadata_carries_the_bundle_tokenizer_and_labels(default_bundle):
    bundle = default_bundle
    from export.metadata import read_associated_files

    packed = read_associated_files((bundle / "model.tflite").read_bytes())
    assert packed["spiece.model"] == (bundle / "spiece.model").read_bytes()
    assert packed["labels.txt"].decode("utf-8").splitlines() == _labels_file(bundle)


# ---------------------------------------------------------------------- labels


def test_mediapipe_categories_are_the_bundle_labels(bundle):
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert _labels_file(bundle) == manifest["labels"] == LABELS
    for categories in _mediapipe_results(bundle / "model.tflite", CONTRACT_TEXTS[:3]):
        # Every label comes back (the app draws them all), names match by index.
        assert sorted(c.index for c in categories) == list(range(len(LABELS)))
        for c in categories:
            assert c.category_name == LABELS[c.index]
        scores = [c.score for c in categories]
        assert scores == sorted(scores, reverse=True)  # MediaPipe sorts, the app re-sorts


# ---------------------------------------------------------------------- scores


def test_mediapipe_probabilities_equal_our_runtime(bundle):
    from export.runtime import Classifier

    ours = Classifier(str(bundle)).predict_proba(CONTRACT_TEXTS)
    theirs = np.zeros_like(ours)
    for row, categories in enumerate(_mediapipe_results(bundle / "model.tflite", CONTRACT_TEXTS)):
        for c in categories:
            theirs[row, c.index] = c.score
    np.testing.assert_allclose(theirs, ours, atol=2e-5, rtol=0)
    # Trained, not uniform: a label or order mix-up could not hide in the tolerance.
    assert np.median(ours.max(axis=1)) > 0.8
    assert len(set(ours.argmax(axis=1))) >= 2
    np.testing.assert_allclose(ours.sum(axis=1), 1.0, atol=1e-5)


# ------------------------------------------------------------ Java core + copy


@pytest.fixture(scope="module")
def core_main_classes(tmp_path_factory):
    return compile_core(tmp_path_factory.mktemp("android-core-main"), with_tests=False)


@needs_jdk
def test_java_core_reads_the_exported_manifest(bundle, core_main_classes):
    proc = run_java(core_main_classes, f"{CORE_PACKAGE}.BundleInspector", str(bundle))
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert seen["max_length"] == manifest["max_length"] == MAX_LENGTH
    assert seen["task"] == manifest["task"] == "single_label"
    assert seen["quantization"] == manifest["quantization"]
    assert seen["labels"] == manifest["labels"] == LABELS
    assert seen["input_tensors"] == manifest["tensors"]["inputs"]
    assert seen["output_tensor"] == manifest["tensors"]["output"]
    # The Java reader checked the sha256 of every file the manifest lists.
    assert sorted(seen["sha256_checked"]) == sorted(manifest["files"])
    assert {"model.tflite", "labels.txt"} <= set(seen["sha256_checked"])
    assert set(seen["verification_keys"]) == set(manifest["verification"])


@needs_jdk
def test_java_core_rejects_a_stale_copy(default_bundle, core_main_classes, tmp_path):
    bundle = default_bundle
    # Labels edited after export: MediaPipe would still show the labels inside the model,
    # so the app must notice the mismatch itself.
    edited = tmp_path / "edited"
    shutil.copytree(bundle, edited)
    (edited / "labels.txt").write_text("bad\nneutral\npositive\n", encoding="utf-8")
    proc = run_java(core_main_classes, f"{CORE_PACKAGE}.BundleInspector", str(edited))
    assert proc.returncode == 2
    assert "labels.txt" in proc.stderr and '"bad"' in proc.stderr

    # A model from another export next to this manifest: caught by sha256.
    mixed = tmp_path / "mixed"
    shutil.copytree(bundle, mixed)
    with open(mixed / "model.tflite", "ab") as f:
        f.write(b"\0")
    proc = run_java(core_main_classes, f"{CORE_PACKAGE}.BundleInspector", str(mixed))
    assert proc.returncode == 2
    assert "model.tflite" in proc.stderr and "sha256" in proc.stderr


@needs_jdk
def test_copy_script_copies_the_three_app_files(default_bundle, tmp_path):
    bundle = default_bundle
    assets = tmp_path / "assets"
    proc = subprocess.run(
        [str(DEMO / "scripts" / "copy_bundle.sh"), str(bundle)],
        capture_output=True,
        text=True,
        env={**os.environ, "ANDROID_ASSETS_DIR": str(assets)},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in assets.iterdir()) == sorted(APP_FILES)
    for name in APP_FILES:
        assert (assets / name).read_bytes() == (bundle / name).read_bytes()
