"""Texts longer than max_length under truncation="head_tail": both training
tokenizers, run.json, the edge runtime's packing and the dynamic-length graph's
clip keep the same first and last pieces; head runs keep cutting at the head."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from albert_tf.tokenizers.sentencepiece import AlbertTokenizer, head_pieces
from albert_tf.tokenizers.wordpiece import WordPieceTokenizer

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
SPM = os.path.join(FIXTURES, "tiny_spiece.model")
VOCAB = os.path.join(FIXTURES, "hf", "bert_tiny", "vocab.txt")
MAX_LENGTH = 16
BUDGET = MAX_LENGTH - 2
HEAD = 10  # int(0.75 * 14)
WORDS = "the film is charming dull and slow but the plot was clever".split()


def long_text(n_words: int, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    return " ".join(f"{WORDS[i]}{j}" for i, j in zip(rng.integers(0, len(WORDS), n_words),
                                                     rng.integers(0, 100, n_words)))  # fmt: skip


def hand_cut(pieces: list[int], budget: int = BUDGET, head: int = HEAD) -> list[int]:
    if len(pieces) <= budget:
        return list(pieces)
    return list(pieces[:head]) + list(pieces[len(pieces) - (budget - head) :])


@pytest.fixture(scope="module")
def sp():
    return AlbertTokenizer.load(SPM, truncation="head_tail")


def test_head_share_gives_the_documented_head():
    assert head_pieces(BUDGET, "head_tail", 0.75) == HEAD
    assert head_pieces(BUDGET, "head", 0.75) == BUDGET


def test_sentencepiece_keeps_first_and_last_pieces(sp):
    for text in (long_text(40), "a short one"):
        ids, segs = sp.pack(text, max_length=MAX_LENGTH)
        assert ids[0] == [2, *hand_cut(sp.encode(text)), 3]
        assert segs[0] == [0] * len(ids[0])


def test_sentencepiece_character_clip_keeps_the_tail_of_a_megabyte_text(sp):
    # Over the character budget at both ends: the raw-text clip must not lose the end.
    text = long_text(150_000, seed=1) + " zyzzyva slow dull"
    assert len(text) > 1_000_000
    ids, _ = sp.pack(text, max_length=MAX_LENGTH)
    assert ids[0] == [2, *hand_cut(sp.encode(text)), 3]


def test_pairs_are_still_cut_longest_first(sp):
    head = AlbertTokenizer.load(SPM)
    a, b = long_text(30, seed=2), long_text(20, seed=3)
    assert sp.pack(a, b, max_length=MAX_LENGTH) == head.pack(a, b, max_length=MAX_LENGTH)


def test_graph_packer_keeps_first_and_last_pieces(sp):
    import tensorflow as tf

    texts = [long_text(40, seed=4), "dull", long_text(14, seed=5)]
    got = sp.graph_packer(max_length=MAX_LENGTH)(tf.constant(texts))
    for i, text in enumerate(texts):
        want = [2, *hand_cut(sp.encode(text)), 3]
        row = got["token_ids"][i].numpy()
        assert row[: len(want)].tolist() == want and not row[len(want) :].any()
        assert int(got["padding_mask"][i].numpy().sum()) == len(want)


def test_wordpiece_keeps_first_and_last_pieces():
    tok = WordPieceTokenizer.load(VOCAB, truncation="head_tail")
    words = [w for w in tok.vocab if w.isalpha() and w.islower()][:40]
    ids, _ = tok.pack(" ".join(words), max_length=MAX_LENGTH)
    # Each word is a token of its own: its id is its line in vocab.txt.
    assert ids[0] == [tok.cls_id, *hand_cut([tok.vocab.index(w) for w in words]), tok.sep_id]


def test_unknown_truncation_is_refused():
    with pytest.raises(ValueError, match="truncation must be one of"):
        AlbertTokenizer.load(SPM, truncation="middle")
    with pytest.raises(ValueError, match="head_share"):
        WordPieceTokenizer.load(VOCAB, truncation="head_tail", head_share=1.5)


# ------------------------------------------------------------------ run.json
def _tiny_classifier(vocab_size: int, initializer_range: float = 0.02):
    from albert_tf import AlbertBackbone, AlbertClassifier, AlbertConfig

    config = AlbertConfig(
        vocab_size=vocab_size, embedding_size=8, hidden_size=16, num_hidden_layers=1,
        num_attention_heads=2, intermediate_size=32, max_position_embeddings=32,
        classifier_dropout_prob=0.0, initializer_range=initializer_range,
    )  # fmt: skip
    return AlbertClassifier(AlbertBackbone(config), num_labels=2)


def _save(folder, tokenizer, initializer_range: float = 0.02) -> str:
    from albert_tf.training.run_folder import save_run

    model = _tiny_classifier(tokenizer.vocab_size, initializer_range)
    info = {"task": "classify", "max_length": MAX_LENGTH}
    return save_run(str(folder), model, tokenizer, ["negative", "positive"], info)


def test_run_json_records_head_tail_and_loads_it(tmp_path, sp):
    from albert_tf.training.run_folder import load_run

    _save(tmp_path, sp)
    info = json.loads((tmp_path / "run.json").read_text())
    assert info["tokenizer"]["truncation"] == "head_tail"
    assert info["tokenizer"]["head_share"] == 0.75
    run = load_run(str(tmp_path))
    assert (run.truncation, run.tokenizer.truncation) == ("head_tail", "head_tail")


def _save_old(folder, tokenizer) -> None:
    from tests.old_runs import save_old_run

    model = _tiny_classifier(tokenizer.vocab_size)
    info = {"task": "classify", "max_length": MAX_LENGTH}
    save_old_run(folder, model, tokenizer, ["negative", "positive"], info)


def test_old_run_json_without_the_field_reads_as_head(tmp_path, sp):
    from albert_tf.training.run_folder import load_run

    _save_old(tmp_path, sp)
    info = json.loads((tmp_path / "run.json").read_text())
    del info["tokenizer"]["truncation"], info["tokenizer"]["head_share"]
    (tmp_path / "run.json").write_text(json.dumps(info))
    run = load_run(str(tmp_path))
    text = long_text(40)
    assert run.truncation == "head" and run.tokenizer.truncation == "head"
    assert run.tokenizer.pack(text, max_length=MAX_LENGTH)[0][0][1:-1] == sp.encode(text)[:BUDGET]


def test_a_bad_recorded_truncation_of_an_old_run_names_run_json(tmp_path, sp):
    from albert_tf.training.run_folder import load_run

    _save_old(tmp_path, sp)
    info = json.loads((tmp_path / "run.json").read_text())
    info["tokenizer"]["truncation"] = "tail"
    (tmp_path / "run.json").write_text(json.dumps(info))
    with pytest.raises(ValueError, match=r"run\.json: tokenizer truncation must be one of"):
        load_run(str(tmp_path))


# ------------------------------------------------------------- edge packing
def _rule(head: int = HEAD) -> dict:
    return {"truncation_rule": {"keep": "head_tail", "head_pieces": head, "tail_pieces": 14 - head}}


def test_runtime_encoders_pack_like_the_training_tokenizers(sp):
    from export.runtime.packing import head_pieces_of
    from export.runtime.text_encoder import TextEncoder
    from export.runtime.wordpiece_encoder import WordPieceEncoder

    wp = WordPieceTokenizer.load(VOCAB, truncation="head_tail")
    with open(VOCAB, "rb") as f:
        edge = {"sp": TextEncoder(sp.serialized_model), "wp": WordPieceEncoder(f.read())}
    text = " ".join([w for w in wp.vocab if w.isalpha() and w.islower()][:40])
    for name, tok in (("sp", sp), ("wp", wp)):
        encoder = edge[name]
        encoder.head_pieces = head_pieces_of(_rule(), MAX_LENGTH)
        ids, mask, _ = encoder.encode(text, MAX_LENGTH)
        assert ids[0].tolist() == tok.pack(text, max_length=MAX_LENGTH)[0][0]
        assert mask.sum() == MAX_LENGTH


def test_runtime_rule_that_does_not_add_up_is_refused():
    from export.runtime.packing import head_pieces_of

    assert head_pieces_of({}, MAX_LENGTH) is None
    rule = _rule()
    rule["truncation_rule"]["tail_pieces"] = 9
    with pytest.raises(ValueError, match="!= max_length - 2 = 14"):
        head_pieces_of(rule, MAX_LENGTH)
    with pytest.raises(ValueError, match="head_tail"):
        head_pieces_of({"truncation_rule": "middle"}, MAX_LENGTH)


# -------------------------------------------------------------- the graph
def _keras_probs(model, ids: list[int]) -> np.ndarray:
    import tensorflow as tf

    x = np.asarray([ids], np.int32)
    batch = {"token_ids": x, "segment_ids": np.zeros_like(x), "padding_mask": np.ones_like(x)}
    return tf.nn.softmax(model(batch, training=False)).numpy()


def test_dynamic_length_clip_equals_the_runtime_packing():
    import keras

    from export.runtime.packing import keep_pieces
    from export.serving import serving_module

    keras.utils.set_random_seed(0)
    model = _tiny_classifier(50, initializer_range=0.5)  # an output that moves with every token
    module = serving_module(model, max_length=MAX_LENGTH, dynamic_length=True, head_pieces=HEAD)
    rng = np.random.default_rng(0)
    for n in (30, 15, 14, 3, 0):  # pieces, as MediaPipe feeds them: [CLS] all of them [SEP]
        pieces = rng.integers(5, 50, n).tolist()
        assert keep_pieces(pieces, BUDGET, HEAD) == hand_cut(pieces)
        ids = np.asarray([[2, *pieces, 3]], np.int32)
        ones = np.ones_like(ids)
        got = module.serve(ids=ids, mask=ones, segment_ids=ones * 0)["probability"].numpy()
        np.testing.assert_allclose(got, _keras_probs(model, [2, *hand_cut(pieces), 3]), atol=1e-5)
        if n == 30:  # the tail really is what the model saw
            head_only = _keras_probs(model, [2, *pieces[:BUDGET], 3])
            assert np.abs(got - head_only).max() > 1e-3


def test_a_head_run_keeps_the_old_manifest_sentence():
    from export.bundle import long_text_cut

    tok = AlbertTokenizer.load(SPM)
    for dynamic in (False, True):
        cut = long_text_cut(tok, MAX_LENGTH, dynamic)
        assert cut.entries == {"truncation": "texts longer than 14 pieces lose their end"}
        assert cut.head_pieces is None and cut.tokenizer is tok and cut.warning is None


def test_a_fixed_length_head_tail_bundle_cuts_at_the_head_and_says_so(sp):
    from export.bundle import long_text_cut

    cut = long_text_cut(sp, MAX_LENGTH, dynamic_length=False)
    assert cut.head_pieces is None and "truncation_rule" not in cut.entries
    assert "MediaPipe cuts a fixed-length model's input at the head" in cut.entries["truncation"]
    assert cut.warning and cut.tokenizer.truncation == "head" and sp.truncation == "head_tail"
    text = long_text(40)
    assert cut.tokenizer.pack(text, max_length=MAX_LENGTH)[0][0][1:-1] == sp.encode(text)[:BUDGET]


def test_dynamic_length_bundle_keeps_head_and_tail_in_runtime_and_mediapipe(tmp_path, sp):
    import keras

    from export import BundleSettings, export_run
    from export.runtime import Classifier
    from tests.export_helpers import mediapipe_probs

    keras.utils.set_random_seed(7)
    # Large random weights: an untrained model whose output moves with every token.
    run_dir = _save(tmp_path / "run", sp, initializer_range=1.0)
    texts = [long_text(60, seed=s) for s in range(4)] + ["dull and slow"]
    texts_file = tmp_path / "heldout.tsv"
    texts_file.write_text(
        "".join(f"{'negative' if i % 2 else 'positive'}\t{t}\n" for i, t in enumerate(texts))
    )
    out = export_run(run_dir, str(tmp_path / "bundle"), texts_file=str(texts_file), log=lambda message: None, settings=BundleSettings(mode="float32", dynamic_length=True, force=True))  # fmt: skip
    manifest = json.loads(open(os.path.join(out, "manifest.json")).read())
    assert manifest["truncation_rule"] == _rule()["truncation_rule"]
    assert manifest["verification"]["tokenization"]["texts_with_other_ids"] == 0
    model = keras.models.load_model(os.path.join(run_dir, "model.keras"))
    batch = sp(texts, max_length=MAX_LENGTH, padding="max_length")
    logits = np.asarray(model(batch, training=False), np.float64)
    want = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(Classifier(out).predict_proba(texts), want, atol=1e-5)
    head = AlbertTokenizer.load(SPM)(texts, max_length=MAX_LENGTH, padding="max_length")
    head_logits = np.asarray(model(head, training=False), np.float64)
    assert np.abs(head_logits - logits)[:4].max() > 1e-2  # the cut is visible in the output
    # MediaPipe feeds the dynamic-length graph every piece; its clip keeps the same ones.
    mediapipe = mediapipe_probs(os.path.join(out, "model.tflite"), texts)
    np.testing.assert_allclose(mediapipe, want, atol=1e-5)


# ------------------------------------------------------------- new runs
def test_a_new_runs_tokenizer_cuts_as_run_truncation_says():
    from albert_tf.tokenizers.sentencepiece import RUN_TRUNCATION
    from albert_tf.training.builders import build_tokenizer

    tok = build_tokenizer([], tokenizer_path=SPM)
    assert (tok.truncation, tok.head_share) == (RUN_TRUNCATION, 0.75)


def test_a_pruned_student_cuts_as_its_teacher():
    from albert_tf.distillation import prune_vocabulary

    teacher = WordPieceTokenizer.load(VOCAB, truncation="head_tail", head_share=0.5)
    pruned, _ = prune_vocabulary(teacher, ["the film is charming"])
    assert (pruned.truncation, pruned.head_share) == ("head_tail", 0.5)


def test_an_unfinished_run_begun_under_another_cut_refuses_to_resume(tmp_path, capsys):
    # A run killed before head_tail became the rule has no cut in inputs.json;
    # resuming it would train its last epochs on other pieces than its first.
    from albert_tf.cli import build_parser, main
    from albert_tf.commands.train import _fill_defaults, _inputs, choose_recipe

    data = tmp_path / "data.csv"
    data.write_text("text,label\n" + "".join(f"film {i},{'ab'[i % 2]}\n" for i in range(40)))
    argv = ["train", "--data", str(data), "--recipe", "scratch", "--out", str(tmp_path / "run")]
    args = build_parser().parse_args(argv)
    recipe = choose_recipe(args)
    old = _inputs(_fill_defaults(args, recipe), recipe)
    del old["settings"]["truncation"], old["settings"]["head_share"]
    (tmp_path / "run" / "backup").mkdir(parents=True)
    (tmp_path / "run" / "inputs.json").write_text(json.dumps(old))
    assert main(argv) == 2
    assert "truncation was None, now 'head_tail'" in capsys.readouterr().err
    assert (tmp_path / "run" / "backup").is_dir()  # nothing of the old run is removed
