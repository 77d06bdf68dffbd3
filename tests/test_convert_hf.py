"""Hugging Face ALBERT checkpoints load with transformers' numerics (fixtures, no torch)."""

import numpy as np
import pytest

from albert_tf.convert import (
    CheckpointError,
    load_backbone,
    load_classifier,
    load_masked_lm,
    load_model,
    load_multiple_choice,
    load_pretrainer,
    load_question_answerer,
    load_token_classifier,
    load_tokenizer,
)
from tests.convert_fixtures import TOL, expected, fixture, keras_inputs, max_diff, per_layer


@pytest.mark.parametrize(
    "name",
    ["albert_model_g2_i1", "albert_model_g1_i2", "albert_pretraining_g2_i2"],
)
def test_backbone_matches_transformers_for_group_settings(name):
    d = expected(name)
    backbone = load_backbone(fixture(name), output_hidden_states=True)
    out = backbone(keras_inputs(d))
    assert max_diff(out["sequence_output"], d["sequence_output"]) < TOL
    assert max_diff(out["pooled_output"], d["pooled_output"]) < TOL
    hidden = np.stack([np.asarray(h) for h in out["hidden_states"]])
    assert max_diff(hidden, per_layer(d["hidden_states"], backbone.config.num_hidden_layers)) < TOL


def test_config_is_read_from_the_folder():
    backbone = load_backbone(fixture("albert_model_g1_i2"))
    c = backbone.config
    assert (c.embedding_size, c.hidden_size, c.num_hidden_groups, c.inner_group_num) == (
        16,
        32,
        1,
        2,
    )
    assert c.vocab_size == 120


def test_pretrainer_mlm_and_sop_logits_match():
    d = expected("albert_pretraining_g1_i1")
    model = load_pretrainer(fixture("albert_pretraining_g1_i1"))
    inputs = keras_inputs(d)
    batch, seq = inputs["token_ids"].shape
    inputs["mask_positions"] = np.tile(np.arange(seq, dtype="int32"), (batch, 1))
    out = model(inputs)
    assert max_diff(out["mlm_logits"], d["mlm_logits"]) < TOL
    assert max_diff(out["sop_logits"], d["sop_logits"]) < TOL


def test_masked_lm_logits_match():
    d = expected("albert_masked_lm")
    model = load_masked_lm(fixture("albert_masked_lm"))
    assert max_diff(model(keras_inputs(d)), d["mlm_logits"]) < TOL


def test_sequence_classifier_head_and_label_count_come_from_the_checkpoint():
    d = expected("albert_sequence_classification")
    model = load_classifier(fixture("albert_sequence_classification"), num_labels=None)
    assert model.num_labels == 3
    assert max_diff(model(keras_inputs(d)), d["logits"]) < TOL


def test_classifier_with_other_label_count_is_a_clear_error():
    with pytest.raises(CheckpointError, match=r"classifier.weight.*3 labels.*num_labels=3"):
        load_classifier(fixture("albert_sequence_classification"), num_labels=2)


def test_classifier_from_backbone_only_checkpoint_gets_a_fresh_head():
    d = expected("albert_model_g2_i1")
    model = load_classifier(fixture("albert_model_g2_i1"), num_labels=4)
    assert model.num_labels == 4
    assert max_diff(model.backbone(keras_inputs(d))["pooled_output"], d["pooled_output"]) < TOL


def test_token_classifier_logits_match():
    d = expected("albert_token_classification")
    model = load_token_classifier(fixture("albert_token_classification"))
    assert model.num_labels == 5
    assert max_diff(model(keras_inputs(d)), d["logits"]) < TOL


def test_question_answerer_logits_match():
    d = expected("albert_question_answering")
    out = load_question_answerer(fixture("albert_question_answering"))(keras_inputs(d))
    assert max_diff(out["start_logits"], d["start_logits"]) < TOL
    assert max_diff(out["end_logits"], d["end_logits"]) < TOL


def test_multiple_choice_logits_match():
    d = expected("albert_multiple_choice")
    model = load_multiple_choice(fixture("albert_multiple_choice"))
    assert max_diff(model(keras_inputs(d)), d["logits"]) < TOL


@pytest.mark.parametrize(
    "name, cls",
    [
        ("albert_pretraining_g1_i1", "AlbertPretrainer"),
        ("albert_masked_lm", "AlbertMaskedLM"),
        ("albert_sequence_classification", "AlbertClassifier"),
        ("albert_model_g2_i1", "AlbertBackbone"),
    ],
)
def test_load_model_picks_the_head_the_checkpoint_carries(name, cls):
    assert type(load_model(fixture(name))).__name__ == cls


def test_tokenizer_comes_along_when_its_file_is_there():
    tok = load_tokenizer(fixture("albert_model_g2_i1"))
    assert tok.vocab_size == 120
    assert tok(["the film is charming"])["token_ids"][0, 0] == 2


def test_folder_without_tokenizer_still_loads_the_weights():
    assert load_tokenizer(fixture("albert_sequence_classification")) is None
    assert load_backbone(fixture("albert_sequence_classification")).config.hidden_size == 32


def test_sharded_safetensors_with_index_load(tmp_path):
    import json
    import shutil

    from albert_tf.convert.safetensors_io import SafetensorsFile, write_safetensors

    src = fixture("albert_model_g2_i1")
    folder = tmp_path / "sharded"
    folder.mkdir()
    shutil.copy(f"{src}/config.json", folder)
    f = SafetensorsFile(f"{src}/model.safetensors")
    keys = f.keys()
    shards = {
        "model-00001-of-00002.safetensors": keys[::2],
        "model-00002-of-00002.safetensors": keys[1::2],
    }
    weight_map = {}
    for name, part in shards.items():
        write_safetensors({k: f[k] for k in part}, folder / name)
        weight_map.update(dict.fromkeys(part, name))
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    d = expected("albert_model_g2_i1")
    out = load_backbone(str(folder))(keras_inputs(d))
    assert max_diff(out["sequence_output"], d["sequence_output"]) < TOL
