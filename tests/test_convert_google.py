"""The original Google TF1 release layout (albert_config.json + model.ckpt-* + 30k-clean.model)."""

import os
import shutil

import numpy as np
import pytest

from albert_tf.convert import CheckpointError, load_backbone, load_pretrainer, load_tokenizer
from albert_tf.convert.readers import google_to_canonical, read_google
from tests.convert_fixtures import TOL, expected, fixture, keras_inputs, max_diff, per_layer

GOOGLE = fixture("google_ckpt")


def test_backbone_matches_transformers_outputs_of_the_same_weights():
    d = expected("google_ckpt")
    backbone = load_backbone(GOOGLE, output_hidden_states=True)
    out = backbone(keras_inputs(d))
    assert max_diff(out["sequence_output"], d["sequence_output"]) < TOL
    assert max_diff(out["pooled_output"], d["pooled_output"]) < TOL
    hidden = np.stack([np.asarray(h) for h in out["hidden_states"]])
    assert max_diff(hidden, per_layer(d["hidden_states"], 4)) < TOL


def test_mlm_and_sop_heads_load_from_cls_scopes():
    d = expected("google_ckpt")
    model = load_pretrainer(GOOGLE)
    inputs = keras_inputs(d)
    inputs["mask_positions"] = np.tile(np.arange(12, dtype="int32"), (3, 1))
    out = model(inputs)
    assert max_diff(out["mlm_logits"], d["mlm_logits"]) < TOL
    assert max_diff(out["sop_logits"], d["sop_logits"]) < TOL


def test_original_gelu_means_the_tanh_approximation_and_slots_are_skipped():
    ckpt = read_google(GOOGLE)
    assert ckpt.config.hidden_act == "gelu_new"
    assert ckpt.config.num_hidden_groups == 2 and ckpt.config.inner_group_num == 2
    originals = {t.original_name for t in ckpt.tensors.values()}
    assert "global_step" not in originals
    assert not any("adam_m" in n for n in originals)


def test_tokenizer_is_30k_clean_model():
    assert load_tokenizer(GOOGLE).vocab_size == 120


def test_name_table_follows_modeling_py():
    name = "bert/encoder/transformer/group_1/inner_group_0/ffn_1/intermediate/output/dense/kernel"
    assert google_to_canonical(name) == (
        "encoder.albert_layer_groups.1.albert_layers.0.ffn_output.weight",
        True,
    )
    assert google_to_canonical("module/bert/pooler/dense/bias") == ("pooler.bias", False)
    assert google_to_canonical("bert/encoder/transformer/group_0/inner_group_0/LayerNorm_1/gamma")[
        0
    ].endswith("full_layer_layer_norm.weight")


def test_corrupt_checkpoint_data_names_the_file(tmp_path):
    folder = tmp_path / "google"
    shutil.copytree(GOOGLE, folder)
    data = next(p for p in os.listdir(folder) if ".data-" in p)
    raw = bytearray((folder / data).read_bytes())
    for i in range(0, len(raw), 97):
        raw[i] ^= 0xFF
    (folder / data).write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match=r"model\.ckpt-best"):
        load_backbone(str(folder))


def test_missing_config_is_a_clear_error(tmp_path):
    folder = tmp_path / "google"
    shutil.copytree(GOOGLE, folder)
    os.remove(folder / "albert_config.json")
    with pytest.raises(CheckpointError):
        load_backbone(str(folder / "model.ckpt-best"))


def test_fine_tuned_classifier_output_weights_load(tmp_path):
    import tensorflow as tf

    from albert_tf.convert import load_classifier

    reader = tf.train.load_checkpoint(os.path.join(GOOGLE, "model.ckpt-best"))
    names = [n for n in reader.get_variable_to_shape_map() if "adam" not in n]
    tensors = {n: reader.get_tensor(n) for n in names}
    rng = np.random.default_rng(0)
    tensors["output_weights"] = rng.normal(size=(3, 32)).astype("float32")  # [labels, H]
    tensors["output_bias"] = rng.normal(size=(3,)).astype("float32")
    folder = tmp_path / "finetuned"
    folder.mkdir()
    shutil.copy(os.path.join(GOOGLE, "albert_config.json"), folder)
    order = sorted(tensors)
    tf.raw_ops.SaveV2(
        prefix=str(folder / "model.ckpt-300"),
        tensor_names=order,
        shape_and_slices=[""] * len(order),
        tensors=[tf.constant(tensors[n]) for n in order],
    )
    d = expected("google_ckpt")
    model = load_classifier(str(folder), num_labels=None)
    assert model.num_labels == 3
    want = d["pooled_output"] @ tensors["output_weights"].T + tensors["output_bias"]
    assert max_diff(model(keras_inputs(d)), want) < TOL
