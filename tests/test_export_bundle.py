"""Export: every mode agrees with Keras through our runtime and MediaPipe's TextClassifier."""

import dataclasses
import json
import os
import zipfile

import numpy as np
import pytest

from tests.export_helpers import (
    LABELS,
    MAX_LENGTH,
    TOY_MAX_ACCURACY_DROP,
    TOY_MIN_AGREEMENT,
    bundle,
    keras_probs,
    mediapipe_probs,
    trained_run,
)
from tests.old_runs import save_old_run

# Largest probability difference from Keras we accept per mode on a trained model.
TOLERANCE = {"float32": 1e-4, "float16": 5e-3, "dynamic": 0.05, "int8": 0.1, "int4": 0.1}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return trained_run(tmp_path_factory)


def test_trained_model_is_not_degenerate(trained):
    probs = keras_probs(trained, trained["texts"])
    predicted = probs.argmax(-1)
    assert len(set(predicted)) == 2
    assert (predicted == np.array(trained["gold"])).mean() > 0.6


@pytest.mark.parametrize("mode", ["float32", "float16", "dynamic", "int8", "int4"])
def test_mode_agrees_with_keras_runtime_and_mediapipe(trained, tmp_path_factory, mode):
    from export.runtime import Classifier

    path = bundle(tmp_path_factory, mode)
    texts = trained["texts"][:40]
    reference = keras_probs(trained, texts)
    ours = Classifier(path).predict_proba(texts)
    theirs = mediapipe_probs(os.path.join(path, "model.tflite"), texts)
    assert np.abs(ours - reference).max() < TOLERANCE[mode]
    # A label may differ from Keras only where Keras itself is within the mode's
    # tolerance of the boundary: quantization noise, not a broken graph.
    flipped = ours.argmax(-1) != reference.argmax(-1)
    assert np.all(np.abs(reference[flipped, 1] - 0.5) < TOLERANCE[mode])
    # MediaPipe tokenizes with its own C++ SentencePiece from the metadata: it
    # must see exactly the ids our runtime packs.
    np.testing.assert_allclose(theirs, ours, atol=1e-5)
    report = json.load(open(os.path.join(path, "manifest.json")))["verification"]
    assert report["passed"] and report["label_agreement"] >= TOY_MIN_AGREEMENT
    assert report["label_agreement"] == pytest.approx(1 - flipped.mean())
    keras_accuracy = report["keras"]["accuracy"]
    assert report["mediapipe"]["accuracy"] >= keras_accuracy - TOY_MAX_ACCURACY_DROP


def test_dynamic_length_bundle_matches_fixed(trained, tmp_path_factory):
    from ai_edge_litert.interpreter import Interpreter

    from export.runtime import Classifier

    path = bundle(tmp_path_factory, "dynamic", dynamic_length=True)
    details = Interpreter(model_path=os.path.join(path, "model.tflite")).get_input_details()
    assert all(list(d["shape_signature"]) == [1, -1] for d in details)
    texts = trained["texts"][:20] + ["great " * 80]  # one text over max_length
    dynamic = Classifier(path)
    fixed = Classifier(bundle(tmp_path_factory, "dynamic"))
    np.testing.assert_allclose(dynamic.predict_proba(texts), fixed.predict_proba(texts), atol=0.02)
    # MediaPipe feeds dynamic models untruncated texts; the graph cuts them itself.
    theirs = mediapipe_probs(os.path.join(path, "model.tflite"), texts)
    np.testing.assert_allclose(theirs, dynamic.predict_proba(texts), atol=1e-5)


def test_tensor_names_and_metadata(tmp_path_factory):
    from export.metadata import read_associated_files, read_metadata, tensor_names

    path = bundle(tmp_path_factory, "dynamic")
    model = open(os.path.join(path, "model.tflite"), "rb").read()
    inputs, outputs = tensor_names(model)
    assert sorted(inputs) == ["ids", "mask", "segment_ids"] and outputs == ["probability"]
    metadata = read_metadata(model)
    subgraph = metadata.subgraphMetadata[0]
    assert [t.name.decode() for t in subgraph.inputTensorMetadata] == inputs
    tokenizer_file = subgraph.inputProcessUnits[0].options.sentencePieceModel[0].name
    assert tokenizer_file.decode() == "spiece.model"
    packed = read_associated_files(model)
    assert packed["spiece.model"] == open(os.path.join(path, "spiece.model"), "rb").read()
    assert packed["labels.txt"].decode().split("\n") == LABELS


def test_manifest_records_files_and_settings(tmp_path_factory):
    from export.runtime import sha256_of

    path = bundle(tmp_path_factory, "int8")
    manifest = json.load(open(os.path.join(path, "manifest.json")))
    assert sorted(os.listdir(path)) == sorted(
        ["model.tflite", "labels.txt", "spiece.model", "manifest.json"]
    )
    for name, entry in manifest["files"].items():
        assert entry["sha256"] == sha256_of(os.path.join(path, name))
    assert manifest["quantization"] == "int8" and manifest["max_length"] == MAX_LENGTH
    assert manifest["labels"] == LABELS
    assert manifest["tensors"]["output"] == "probability"
    assert manifest["config"]["hidden_size"] == 64
    assert manifest["tokenizer"] == {
        "kind": "sentencepiece",
        "file": "spiece.model",
        "lower_case": False,
    }
    assert manifest["files"]["spiece.model"]["kind"] == "tokenizer"
    assert manifest["run"]["name"] == "run" and "path" not in manifest["run"]


def test_refuses_bundle_below_threshold_unless_forced(trained, tmp_path):
    from export import BundleSettings, VerificationError, export_run

    out = tmp_path / "bundle"
    kwargs = dict(texts_file=trained["texts_file"], log=lambda m: None)
    strict = BundleSettings(num_verify=10, use_mediapipe=False, min_agreement=1.01)
    with pytest.raises(VerificationError, match="agreement"):
        export_run(trained["run_dir"], str(out), **kwargs, settings=strict)
    assert not out.exists()
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp-bundle")]
    forced = dataclasses.replace(strict, force=True, make_zip=True)
    export_run(trained["run_dir"], str(out), **kwargs, settings=forced)
    report = json.load(open(out / "manifest.json"))["verification"]
    assert report["passed"] is False and report["forced"] is True
    with zipfile.ZipFile(str(out) + ".zip") as zf:
        assert sorted(zf.namelist()) == sorted(os.listdir(out))


def test_flex_op_is_named():
    import keras
    import tensorflow as tf

    from export.converter import FlexOpsError, to_tflite

    class NeedsFlex(keras.layers.Layer):
        def call(self, x):
            # String ops have no TFLite builtin kernels.
            return tf.cast(tf.strings.length(tf.strings.as_string(x)), tf.float32)

        def compute_output_shape(self, shape):
            return shape

    inputs = {
        n: keras.Input((None,), dtype="int32", name=n)
        for n in ("token_ids", "segment_ids", "padding_mask")
    }
    feats = NeedsFlex()(inputs["token_ids"])
    logits = keras.layers.Dense(2)(keras.ops.mean(feats, axis=1, keepdims=True))
    model = keras.Model(inputs, logits)
    with pytest.raises(FlexOpsError, match="AsString"):
        to_tflite(model, "float32", max_length=8, task="single_label")


def test_cli_export_and_predict(trained, tmp_path, capsys):
    from albert_tf.cli import main

    out = tmp_path / "cli_bundle"
    rc = main(
        [
            "export",
            trained["run_dir"],
            "--out",
            str(out),
            "--mode",
            "float32",
            "--texts",
            trained["texts_file"],
            "--num-verify",
            "10",
            "--no-mediapipe",
        ]
    )
    assert rc == 0 and (out / "model.tflite").exists()
    capsys.readouterr()
    assert main(["predict", str(out), "a fine film", "dull"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [r["text"] for r in lines] == ["a fine film", "dull"]
    assert all(
        r["label"] in LABELS and abs(sum(r["probabilities"].values()) - 1) < 1e-5 for r in lines
    )


def test_int16x8_converts_or_says_why(trained):
    from export.converter import check_io_names, representative_inputs, to_tflite
    from export.runtime.text_encoder import TextEncoder

    encoder = TextEncoder(trained["tokenizer"].serialized_model)
    data = representative_inputs(trained["texts"][:8], encoder, MAX_LENGTH)
    try:
        flat = to_tflite(trained["model"], "int16x8", MAX_LENGTH, representative_data=data)
    except ValueError as e:  # TF 2.21's 16x8 calibration rejects int32 inputs
        assert "int16x8" in str(e) and "use 'int8' or 'dynamic'" in str(e)
    else:
        assert check_io_names(flat)["outputs"] == ["probability"]


def test_calibrated_mode_needs_texts(trained):
    from export.converter import to_tflite

    with pytest.raises(ValueError, match="representative data"):
        to_tflite(trained["model"], "int8", MAX_LENGTH)


def test_multi_label_exports_sigmoid_probabilities(trained, tmp_path):
    from albert_tf import AlbertBackbone, AlbertClassifier
    from albert_tf.training.run_folder import save_run
    from export import BundleSettings, export_run
    from export.runtime import Classifier

    backbone = AlbertBackbone(trained["model"].backbone.config)
    model = AlbertClassifier(backbone, num_labels=3, problem_type="multi_label")
    run_dir = str(tmp_path / "run")
    save_run(
        run_dir,
        model,
        trained["tokenizer"],
        ["a", "b", "c"],
        {"task": "multi_label", "max_length": MAX_LENGTH},
    )
    texts_file = tmp_path / "texts.txt"
    texts_file.write_text("\n".join(trained["texts"][:10]) + "\n")
    out = export_run(
        run_dir,
        str(tmp_path / "bundle"),
        texts_file=str(texts_file),
        log=lambda m: None,
        settings=BundleSettings(mode="float32"),
    )
    batch = trained["tokenizer"](trained["texts"][:5], max_length=MAX_LENGTH, padding="max_length")
    expected = 1 / (1 + np.exp(-model.predict(dict(batch), verbose=0)))
    np.testing.assert_allclose(
        Classifier(out).predict_proba(trained["texts"][:5]), expected, atol=1e-5
    )
    report = json.load(open(os.path.join(out, "manifest.json")))["verification"]
    assert report["passed"] and report["keras"]["accuracy"] is None


def test_metadata_keeps_buffers_stored_after_the_flatbuffer(tmp_path_factory):
    # ai-edge-quantizer (int4) stores larger models' weights after the
    # flatbuffer root (buffer offset/size); adding metadata must keep them.
    import flatbuffers
    from ai_edge_litert.interpreter import Interpreter
    from mediapipe.tasks.metadata import schema_py_generated as fb

    from export.metadata import _TFLITE_IDENTIFIER, add_classifier_metadata
    from tests.export_helpers import float_model_bytes

    flat = float_model_bytes(tmp_path_factory)
    model = fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(flat, 0))
    sizes = [0 if b.data is None else len(b.data) for b in model.buffers]
    index = int(np.argmax(sizes))
    data = bytes(model.buffers[index].data)
    model.buffers[index].data, model.buffers[index].offset, model.buffers[index].size = (
        None,
        1 << 40,
        len(data),
    )

    def pack():
        builder = flatbuffers.Builder(0)
        builder.Finish(model.Pack(builder), _TFLITE_IDENTIFIER)
        return bytes(builder.Output())

    model.buffers[index].offset = -(-len(pack()) // 16) * 16  # same packed size
    head = pack()
    external = head + b"\0" * (model.buffers[index].offset - len(head)) + data
    ids = np.array([[2, 10, 11, 3]], np.int32)
    feed = dict(ids=ids, mask=np.ones_like(ids), segment_ids=np.zeros_like(ids))
    expected = Interpreter(model_content=flat).get_signature_runner()(**feed)["probability"]
    with_metadata = add_classifier_metadata(external, b"spm", LABELS)
    got = Interpreter(model_content=with_metadata).get_signature_runner()(**feed)["probability"]
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_labels_file_disagreeing_with_the_model_is_named_before_conversion(trained, tmp_path):
    from export import export_run

    run = tmp_path / "run"
    run.mkdir()
    # A run folder from before run.json recorded its labels: only the model's width can tell.
    save_old_run(run, trained["model"], trained["tokenizer"], [*LABELS, "neutral"], {},
                 record_labels=False)  # fmt: skip
    with pytest.raises(ValueError) as caught:
        export_run(str(run), str(tmp_path / "bundle"), texts_file=trained["texts_file"])
    assert str(caught.value) == (
        f"{run / 'labels.txt'} lists 3 labels but {run / 'model.keras'} outputs 2 scores"
    )
    assert not (tmp_path / "bundle").exists()


def test_bundle_is_readable_as_the_umask_allows(tmp_path_factory):
    import stat

    from albert_tf.io.files import umask_mode

    path = bundle(tmp_path_factory, "dynamic")
    assert stat.S_IMODE(os.stat(path).st_mode) == umask_mode(0o777)
    for name in os.listdir(path):
        assert stat.S_IMODE(os.stat(os.path.join(path, name)).st_mode) == umask_mode(0o666), name


def test_int8_keeps_matrix_products_int8_and_attention_and_layer_norms_float(tmp_path_factory):
    # Why these ops stay float: export.converter.INT8_FLOAT_OPS (TFLite's int8
    # kernels for them are reference code that XNNPACK does not replace).
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    float_ops = {"BATCH_MATMUL", "SOFTMAX", "MEAN", "SQUARED_DIFFERENCE", "RSQRT", "DIV"}
    model = os.path.join(bundle(tmp_path_factory, "int8"), "model.tflite")
    interpreter = Interpreter(
        model_path=model,
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    interpreter.allocate_tensors()
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    ops = interpreter._get_ops_details()
    seen = {op["op_name"] for op in ops}
    assert {"FULLY_CONNECTED", "BATCH_MATMUL", "SOFTMAX", "MEAN", "DIV"} <= seen
    for op in ops:
        first = tensors[op["inputs"][0]]
        if op["op_name"] == "FULLY_CONNECTED":
            assert first["dtype"] == np.int8 and tensors[op["inputs"][1]]["dtype"] == np.int8
        if op["op_name"] in float_ops:
            assert first["dtype"] == np.float32, op["op_name"]
