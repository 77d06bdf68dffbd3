"""Exports of the task heads: the question answerer in the BertQuestionAnswerer contract
(names, order, shapes, metadata) and the other heads as plain TFLite, each run with the
LiteRT interpreter and compared with Keras."""

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from albert_tf.data.squad import (
    decode_predictions,
    features_to_arrays,
    read_squad,
    squad_features,
)
from albert_tf.models.multiple_choice import AlbertMultipleChoice
from albert_tf.models.question_answerer import AlbertQuestionAnswerer
from albert_tf.models.token_classifier import AlbertTokenClassifier
from export.metadata import read_associated_files, read_metadata, tensor_names
from export.question_answerer import (
    add_question_answerer_metadata,
    export_question_answerer,
    question_answerer_to_tflite,
    run_question_answerer,
)
from export.task_heads import run_task_head, task_head_to_tflite
from tests.heads_helpers import SQUAD_FIXTURE, squad_texts, tiny_backbone, train_sentencepiece


@pytest.fixture(scope="module")
def qa_export():
    sp = train_sentencepiece(squad_texts())
    examples = read_squad(SQUAD_FIXTURE)[:4]
    # The Task Library's fixed length, 384, so the test checks the real contract.
    features = squad_features(examples, sp, max_length=384)
    model = AlbertQuestionAnswerer(tiny_backbone(sp.get_piece_size()))
    return sp, examples, features, model, question_answerer_to_tflite(model)


def test_question_answerer_tflite_matches_the_task_library_contract(qa_export):
    sp, _, _, _, tflite = qa_export
    assert tensor_names(tflite) == (["ids", "mask", "segment_ids"], ["end_logits", "start_logits"])
    interpreter = Interpreter(model_content=tflite)
    for detail in interpreter.get_input_details():
        assert detail["dtype"] == np.int32 and list(detail["shape"]) == [1, 384]
    for detail in interpreter.get_output_details():
        assert detail["dtype"] == np.float32 and list(detail["shape"]) == [1, 384]
    with_metadata = add_question_answerer_metadata(tflite, sp.serialized_model_proto())
    metadata = read_metadata(with_metadata)
    subgraph = metadata.subgraphMetadata[0]
    assert [t.name.decode() for t in subgraph.inputTensorMetadata] == ["ids", "mask", "segment_ids"]
    assert [t.name.decode() for t in subgraph.outputTensorMetadata] == [
        "end_logits",
        "start_logits",
    ]
    tokenizer = subgraph.inputProcessUnits[0].options.sentencePieceModel[0]
    assert tokenizer.name.decode() == "spiece.model"
    assert read_associated_files(with_metadata) == {"spiece.model": sp.serialized_model_proto()}
    Interpreter(model_content=with_metadata).allocate_tensors()  # still a valid model


def test_question_answerer_tflite_equals_keras(qa_export):
    _, examples, features, model, tflite = qa_export
    x, _ = features_to_arrays(features)
    keras_out = model.predict(x, verbose=0)
    lite_out = run_question_answerer(tflite, x)
    for name in ("start_logits", "end_logits"):
        np.testing.assert_allclose(lite_out[name], keras_out[name], atol=1e-4)
    keras_answers = decode_predictions(
        examples, features, keras_out["start_logits"], keras_out["end_logits"]
    ).answers
    lite_answers = decode_predictions(
        examples, features, lite_out["start_logits"], lite_out["end_logits"]
    ).answers
    assert lite_answers == keras_answers


def test_export_question_answerer_writes_the_file(qa_export, tmp_path):
    sp, _, _, model, _ = qa_export
    path = export_question_answerer(
        model, str(tmp_path / "qa.tflite"), sp.serialized_model_proto(), max_length=32
    )
    data = open(path, "rb").read()
    assert "spiece.model" in read_associated_files(data)
    assert [p.name for p in tmp_path.iterdir()] == ["qa.tflite"]  # no temp file left


def test_token_classifier_tflite_equals_keras():
    model = AlbertTokenClassifier(tiny_backbone(60), num_labels=5)
    tflite = task_head_to_tflite(model, max_length=16)
    inputs, outputs = tensor_names(tflite)
    assert sorted(inputs) == ["ids", "mask", "segment_ids"] and outputs == ["logits"]
    rng = np.random.default_rng(0)
    mask = np.ones((3, 16), "int32")
    mask[1, 10:] = 0
    x = {
        "token_ids": rng.integers(5, 60, size=(3, 16)).astype("int32") * mask,
        "segment_ids": np.zeros((3, 16), "int32"),
        "padding_mask": mask,
    }
    lite = run_task_head(tflite, x)["logits"]
    assert lite.shape == (3, 16, 5)
    np.testing.assert_allclose(lite, model.predict(x, verbose=0), atol=1e-4)


def test_multiple_choice_tflite_equals_keras_for_any_choice_count():
    model = AlbertMultipleChoice(tiny_backbone(60))
    tflite = task_head_to_tflite(model, max_length=12)
    assert tensor_names(tflite)[1] == ["logits"]
    rng = np.random.default_rng(0)
    for choices in (2, 4):
        x = {
            "token_ids": rng.integers(5, 60, size=(2, choices, 12)).astype("int32"),
            "segment_ids": np.zeros((2, choices, 12), "int32"),
            "padding_mask": np.ones((2, choices, 12), "int32"),
        }
        lite = run_task_head(tflite, x)["logits"]
        assert lite.shape == (2, choices)
        np.testing.assert_allclose(lite, model.predict(x, verbose=0), atol=1e-4)
