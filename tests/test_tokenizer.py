"""AlbertTokenizer: special-id layout, training, packing, truncation, bad input, and
parity with keras-hub (independent packer) and the in-graph tensorflow-text path."""

import io
import os
import re

import numpy as np
import pytest
import sentencepiece as spm
import tensorflow as tf
from sentencepiece import sentencepiece_model_pb2 as model_pb2

from albert_tf import AlbertTokenizer
from albert_tf.tokenizers.sentencepiece import ALBERT_USER_SYMBOLS, SPECIAL_PIECES

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "tiny_spiece.model")

SENTENCES = [
    "The Rock is destined to be the 21st Century's new Conan.",
    "Effective but too tepid biopic",
    "",
    "If you sometimes like to go to the movies to have fun, Wasabi is a good place to start.",
    'Ünïcödé, £5 and 10€ (really) -- "quoted" Mixed CASE text.',
]
SECOND = [
    "a short one",
    "The gorgeously elaborate continuation of The Lord of the Rings trilogy is so huge "
    "that a column of words cannot adequately describe it.",
    "x",
    "",
    "another sentence with several words in it to truncate",
]


@pytest.fixture(scope="module")
def tok():
    return AlbertTokenizer.load(FIXTURE)


def _small_model(normalization: str, ids: dict, sentences) -> bytes:
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_writer=buf,
        vocab_size=100,
        model_type="unigram",
        normalization_rule_name=normalization,
        minloglevel=2,
        **ids,
    )
    return buf.getvalue()


def test_fixture_has_the_albert_special_layout():
    proto = model_pb2.ModelProto()
    with open(FIXTURE, "rb") as f:
        proto.ParseFromString(f.read())
    pieces = [(p.piece, p.type) for p in proto.pieces]
    T = model_pb2.ModelProto.SentencePiece
    assert pieces[:5] == [
        ("<pad>", T.CONTROL),
        ("<unk>", T.UNKNOWN),
        ("[CLS]", T.CONTROL),
        ("[SEP]", T.CONTROL),
        ("[MASK]", T.CONTROL),
    ]
    assert [p for p, _ in pieces[5:13]] == list(ALBERT_USER_SYMBOLS)
    assert {t for _, t in pieces[5:13]} == {T.USER_DEFINED}
    assert proto.trainer_spec.model_type == model_pb2.TrainerSpec.UNIGRAM
    assert proto.normalizer_spec.name == "nmt_nfkc_cf"
    assert len(pieces) == 1000


def test_train_is_deterministic_and_lowercases(tmp_path):
    texts = [s for s in SENTENCES + SECOND if s] * 30
    a = AlbertTokenizer.train(texts, vocab_size=90, model_path=tmp_path)
    b = AlbertTokenizer.train(iter(texts), vocab_size=90)
    assert a.serialized_model == b.serialized_model
    assert (tmp_path / "spiece.model").read_bytes() == a.serialized_model
    assert [a.id_to_token(i) for i in range(5)] == list(SPECIAL_PIECES)
    assert a.encode("The FILM Is Fine") == a.encode("the film is fine")


def test_shrink_to_fit_trains_the_largest_vocabulary_the_texts_allow():
    texts = SENTENCES * 20
    with pytest.raises(ValueError, match=r"a value <= (\d+)") as refused:
        AlbertTokenizer.train(texts, vocab_size=5000)
    most = int(re.search(r"<= (\d+)", str(refused.value)).group(1))
    assert AlbertTokenizer.train(texts, vocab_size=5000, shrink_to_fit=True).vocab_size == most
    # A spent iterator cannot be read twice: the refusal stands.
    with pytest.raises(ValueError, match="too high"):
        AlbertTokenizer.train(iter(texts), vocab_size=5000, shrink_to_fit=True)


def test_train_from_files_and_too_large_vocab(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(SENTENCES * 20), encoding="utf-8")
    tok = AlbertTokenizer.train(str(path), vocab_size=60)
    assert tok.vocab_size == 60
    with pytest.raises(
        ValueError,
        match=r"Vocabulary size too high \(5000\)\. Please set it to a value <= \d+\. \(the training text is too small",
    ):
        AlbertTokenizer.train([str(path)], vocab_size=5000)
    with pytest.raises(ValueError, match="No training text: every text"):
        AlbertTokenizer.train(["", "  "], vocab_size=30)
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        AlbertTokenizer.train(tmp_path / "missing.txt", vocab_size=60)


def test_matches_keras_hub_tokenizer_and_packer(tok):
    import keras_hub

    hub_tok = keras_hub.tokenizers.SentencePieceTokenizer(proto=tok.serialized_model)
    for max_length in (8, 16, 64):
        packer = keras_hub.layers.MultiSegmentPacker(
            sequence_length=max_length,
            start_value=2,
            end_value=3,
            pad_value=0,
            truncate="round_robin",
        )
        ids, segs = packer(hub_tok(tf.constant(SENTENCES)))
        ours = tok(SENTENCES, max_length=max_length, padding="max_length")
        np.testing.assert_array_equal(ours["token_ids"], ids.numpy())
        np.testing.assert_array_equal(ours["segment_ids"], segs.numpy())
        ids, segs = packer((hub_tok(tf.constant(SENTENCES)), hub_tok(tf.constant(SECOND))))
        ours = tok(SENTENCES, pairs=SECOND, max_length=max_length, padding="max_length")
        np.testing.assert_array_equal(ours["token_ids"], ids.numpy())
        np.testing.assert_array_equal(ours["segment_ids"], segs.numpy())
        np.testing.assert_array_equal(ours["padding_mask"], (ids.numpy() != 0).astype(np.int32))


def test_in_graph_path_gives_the_same_ids(tok):
    for pairs in (None, SECOND):
        expected = tok(SENTENCES, pairs=pairs, max_length=16, padding="max_length")
        packer = tok.graph_packer(max_length=16, pairs=pairs is not None)
        cols = (SENTENCES,) if pairs is None else (SENTENCES, pairs)
        ds = tf.data.Dataset.from_tensor_slices(cols).batch(2).map(packer)
        got = {k: np.concatenate([b[k].numpy() for b in ds]) for k in expected}
        for key in expected:
            np.testing.assert_array_equal(got[key], expected[key])
            assert got[key].dtype == np.int32


def test_original_albert_style_model_is_lowercased_in_both_paths():
    # The original 30k-clean.model uses nmt_nfkc (no case folding): input is lower-cased first.
    ids = dict(
        pad_id=0,
        unk_id=1,
        bos_id=-1,
        eos_id=-1,
        control_symbols=["[CLS]", "[SEP]", "[MASK]"],
    )
    proto = _small_model("nmt_nfkc", ids, [s.lower() for s in SENTENCES + SECOND if s] * 20)
    tok = AlbertTokenizer.load(proto)
    assert tok.lower_case
    assert tok.encode("THE ROCK Is") == tok.encode("the rock is")
    texts = ["THE Rock IS Destined", "Wasabi IS a GOOD place"]
    expected = tok(texts, max_length=12, padding="max_length")
    got = tok.graph_packer(max_length=12)(tf.constant(texts))
    np.testing.assert_array_equal(got["token_ids"].numpy(), expected["token_ids"])


def test_pack_layout_and_padding_modes(tok):
    out = tok(["a fine film", "dull"], pairs=["yes", "no it was not"], max_length=32)
    a, b = tok.encode("a fine film"), tok.encode("yes")
    row = [2, *a, 3, *b, 3]
    assert out["token_ids"][0, : len(row)].tolist() == row
    assert out["segment_ids"][0, : len(row)].tolist() == [0] * (len(a) + 2) + [1] * (len(b) + 1)
    width = max(out["padding_mask"].sum(1))
    assert out["token_ids"].shape == (2, width)  # "longest"
    fixed = tok(["a fine film"], max_length=32, padding="max_length")
    assert {k: v.shape for k, v in fixed.items()} == {
        "token_ids": (1, 32),
        "segment_ids": (1, 32),
        "padding_mask": (1, 32),
    }
    assert all(v.dtype == np.int32 for v in fixed.values())
    with pytest.raises(ValueError, match="padding must be one of"):
        tok(["x"], padding="max")


def test_empty_string_packs_to_cls_sep(tok):
    out = tok([""], max_length=8, padding="max_length")
    assert out["token_ids"].tolist() == [[2, 3, 0, 0, 0, 0, 0, 0]]
    assert out["padding_mask"].tolist() == [[1, 1, 0, 0, 0, 0, 0, 0]]
    assert tok("", pairs="")["token_ids"].tolist() == [[2, 3, 3]]


def test_one_megabyte_text_is_truncated_like_the_full_encoding(tok):
    words = SENTENCES[3].split()
    big = " ".join(words[i % len(words)] for i in range(240_000))
    assert len(big) > 1_000_000
    out = tok([big, "short"], max_length=128)
    full = tok.encode(big)
    assert out["token_ids"].shape == (2, 128)
    assert out["token_ids"][0].tolist() == [2, *full[:126], 3]
    pair = tok(["short"], pairs=[big], max_length=64)
    n_short = len(tok.encode("short"))
    assert pair["token_ids"][0].tolist() == [2, *tok.encode("short"), 3, *full[: 61 - n_short], 3]


def test_non_str_input_raises_type_error_naming_the_item(tok):
    with pytest.raises(TypeError, match=r"texts\[1\] must be str, got int"):
        tok(["fine", 7])
    with pytest.raises(TypeError, match="decode bytes to str first"):
        tok.encode(b"bytes")
    with pytest.raises(TypeError, match=r"pairs\[0\] must be str, got NoneType"):
        tok(["a"], pairs=[None])
    with pytest.raises(ValueError, match="texts has 2 items but pairs has 1"):
        tok(["a", "b"], pairs=["c"])
    with pytest.raises(ValueError, match="max_length=4 leaves no room"):
        tok(["a"], pairs=["b"], max_length=4)


def test_load_save_roundtrip_and_bad_models(tok, tmp_path):
    path = tok.save(tmp_path / "run")
    assert os.path.basename(path) == "spiece.model"
    for source in (tmp_path / "run", path, tok.serialized_model):
        again = AlbertTokenizer.load(source)
        assert again.encode(SENTENCES[0]) == tok.encode(SENTENCES[0])
    assert tok.decode(tok(["The Rock, really"])["token_ids"][0]) == "the rock, really"
    import pickle

    clone = pickle.loads(pickle.dumps(tok))
    assert clone.encode(SENTENCES[3]) == tok.encode(SENTENCES[3])
    with pytest.raises(FileNotFoundError, match="has no spiece.model"):
        AlbertTokenizer.load(tmp_path)
    (tmp_path / "junk.model").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="junk.model"):
        AlbertTokenizer.load(tmp_path / "junk.model")
    plain = _small_model("nmt_nfkc", {}, [s for s in SENTENCES + SECOND if s] * 20)
    with pytest.raises(ValueError, match="Not an ALBERT SentencePiece model: ids 0-4"):
        AlbertTokenizer.load(plain)


REF_PYTHON = os.environ.get("ALBERT_TF_REF_PYTHON", "/work/refvenv/bin/python")
_HF_SCRIPT = """
import json, os, shutil, sys, tempfile, transformers
texts, pairs, lengths = json.loads(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4])
folder = tempfile.mkdtemp()
shutil.copy(sys.argv[1], os.path.join(folder, "spiece.model"))
tok = transformers.AlbertTokenizer.from_pretrained(folder)
out = {}
for n in lengths:
    kw = dict(return_token_type_ids=True, truncation="longest_first", max_length=n, padding="max_length")
    a, b = tok(texts, **kw), tok(texts, pairs, **kw)
    out[n] = [a["input_ids"], a["token_type_ids"], b["input_ids"], b["token_type_ids"]]
print(json.dumps(out))
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    "model", [FIXTURE, os.path.join(os.path.dirname(__file__), "fixtures", "hf", "spiece.model")]
)
def test_matches_transformers_albert_tokenizer(model):
    """Needs a Python with transformers (ALBERT_TF_REF_PYTHON). The second model
    has no case folding, so this also checks our lower-casing against HF's.
    Pair budgets (max_length - 3) are even: with an odd budget and two long texts
    HF's longest_first gives the spare token to the second text, tf-text's
    round robin (ours, keras-hub's) to the first."""
    import json
    import subprocess

    if not os.path.exists(REF_PYTHON):
        pytest.skip("no reference Python with transformers")
    texts = [s for s in SENTENCES if s.isascii()]
    pairs = SECOND[: len(texts)]
    lengths = [9, 13, 64]
    proc = subprocess.run(
        [
            REF_PYTHON,
            "-c",
            _HF_SCRIPT,
            model,
            json.dumps(texts),
            json.dumps(pairs),
            json.dumps(lengths),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    hf = json.loads(proc.stdout.strip().splitlines()[-1])
    tok = AlbertTokenizer.load(model)
    for n in lengths:
        ids, segs, pair_ids, pair_segs = (np.array(x) for x in hf[str(n)])
        single = tok(texts, max_length=n, padding="max_length")
        pair = tok(texts, pairs=pairs, max_length=n, padding="max_length")
        np.testing.assert_array_equal(single["token_ids"], ids)
        np.testing.assert_array_equal(single["segment_ids"], segs)
        np.testing.assert_array_equal(pair["token_ids"], pair_ids)
        np.testing.assert_array_equal(pair["segment_ids"], pair_segs)
