"""Round trips: HF -> albert-tf -> keras-hub -> albert-tf -> HF, and every head HF -> HF."""

import json
import os
import subprocess

import numpy as np
import pytest

from albert_tf.convert import (
    load_backbone,
    load_model,
    load_tokenizer,
    save_albert_tf,
    save_huggingface,
    save_keras_hub_preset,
    source_kind,
)
from albert_tf.convert.safetensors_io import SafetensorsFile
from tests.convert_fixtures import REF_PYTHON, TOL, expected, fixture, keras_inputs, max_diff


def _tensors(folder):
    f = SafetensorsFile(os.path.join(folder, "model.safetensors"))
    return {k.removeprefix("albert."): f[k] for k in f.keys()}


def test_hf_albert_tf_keras_hub_albert_tf_hf(tmp_path):
    src = fixture("albert_pretraining_g2_i2")
    d = expected("albert_pretraining_g2_i2")
    backbone = load_backbone(src)
    save_albert_tf(backbone, tmp_path / "a", tokenizer=src)
    assert source_kind(str(tmp_path / "a")) == "albert-tf"
    save_keras_hub_preset(load_backbone(tmp_path / "a"), tmp_path / "kh", tokenizer=src)
    assert source_kind(str(tmp_path / "kh")) == "keras-hub"
    assert os.path.isfile(tmp_path / "kh" / "assets" / "tokenizer" / "vocabulary.spm")
    save_albert_tf(load_backbone(tmp_path / "kh"), tmp_path / "b")
    final = load_backbone(tmp_path / "b")
    save_huggingface(final, tmp_path / "hf", tokenizer=tmp_path / "kh")

    out = load_backbone(tmp_path / "hf")(keras_inputs(d))
    assert max_diff(out["sequence_output"], d["sequence_output"]) < TOL
    original, written = _tensors(src), _tensors(tmp_path / "hf")
    backbone_keys = {k for k in original if not k.startswith(("predictions.", "sop_"))}
    assert set(written) == backbone_keys
    for k in backbone_keys:
        np.testing.assert_array_equal(written[k], original[k], err_msg=k)
    config = json.loads((tmp_path / "hf" / "config.json").read_text())
    assert config["architectures"] == ["AlbertModel"] and config["model_type"] == "albert"
    assert os.path.isfile(tmp_path / "hf" / "spiece.model")


@pytest.mark.parametrize(
    "name",
    [
        "albert_pretraining_g1_i1",
        "albert_masked_lm",
        "albert_sequence_classification",
        "albert_token_classification",
        "albert_question_answering",
        "albert_multiple_choice",
    ],
)
def test_every_head_writes_back_the_same_hf_tensors(name, tmp_path):
    src = fixture(name)
    save_huggingface(load_model(src), tmp_path / "out")
    original, written = _tensors(src), _tensors(tmp_path / "out")
    assert set(original) <= set(written)  # heads without a pooler in HF get ours written
    for k in original:
        np.testing.assert_array_equal(written[k], original[k], err_msg=k)
    src_config = json.loads(open(os.path.join(src, "config.json")).read())
    out_config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert out_config["architectures"] == src_config["architectures"]


def test_writers_refuse_a_non_empty_folder_and_leave_nothing_half_written(tmp_path):
    backbone = load_backbone(fixture("albert_model_g2_i1"))
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError):
        save_huggingface(backbone, tmp_path / "busy")
    assert os.listdir(tmp_path / "busy") == ["keep.txt"]
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp")]


@pytest.mark.slow
def test_transformers_loads_what_we_write(tmp_path):
    """Needs a Python with torch + transformers + protobuf (ALBERT_TF_REF_PYTHON)."""
    if not os.path.exists(REF_PYTHON):
        pytest.skip("no reference Python with transformers")
    d = expected("albert_pretraining_g2_i2")
    backbone = load_backbone(fixture("google_ckpt"))
    save_huggingface(backbone, tmp_path / "hf", tokenizer=fixture("google_ckpt"))
    np.savez(
        tmp_path / "in.npz", **{k: d[k] for k in ("input_ids", "attention_mask", "token_type_ids")}
    )
    code = (
        "import sys, numpy as np, torch, transformers\n"
        "m = transformers.AlbertModel.from_pretrained(sys.argv[1]).eval()\n"
        "x = {k: torch.tensor(v.astype('int64')) for k, v in np.load(sys.argv[2]).items()}\n"
        "tok = transformers.AlbertTokenizer.from_pretrained(sys.argv[1])\n"
        "with torch.no_grad(): o = m(**x)\n"
        "ids = np.array(tok(['the film is charming', 'a dull thriller'], padding=True)['input_ids'])\n"
        "np.savez(sys.argv[3], seq=o.last_hidden_state.numpy(), pooled=o.pooler_output.numpy(),"
        " ids=ids)\n"
    )
    subprocess.run(
        [
            REF_PYTHON,
            "-c",
            code,
            str(tmp_path / "hf"),
            str(tmp_path / "in.npz"),
            str(tmp_path / "o.npz"),
        ],
        check=True,
    )
    o = np.load(tmp_path / "o.npz")
    assert max_diff(o["seq"], d["sequence_output"]) < TOL
    assert max_diff(o["pooled"], d["pooled_output"]) < TOL
    ours = load_tokenizer(tmp_path / "hf")(["the film is charming", "a dull thriller"])
    np.testing.assert_array_equal(ours["token_ids"], o["ids"])
