"""prune_vocabulary: the pruned WordPiece tokenizer spells in-domain text exactly
as the teacher's does (through the kept-id map), and unseen words in kept
single-character pieces instead of [UNK]."""

import os

import numpy as np
import pytest

from albert_tf import AlbertTokenizer
from albert_tf.distillation import prune_vocabulary
from albert_tf.tokenizers.wordpiece import SPECIAL_TOKENS, WordPieceTokenizer

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
BERT_TINY = os.path.join(FIXTURES, "hf", "bert_tiny", "vocab.txt")
CHARS = list("acdeghilnprty")
SPELLING_VOCAB = (
    ["[PAD]", "[unused0]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "play", "playing", "##ing"]
    + CHARS
    + ["##" + c for c in CHARS]
)


def test_in_domain_text_maps_to_the_teacher_ids():
    teacher = WordPieceTokenizer.load(BERT_TINY)
    texts = ["A charming film, never dull!", "the plot is a mess", "funny and sweet"]
    pruned, kept = prune_vocabulary(teacher, texts, keep_characters=False)
    for text in texts:
        assert kept[pruned.encode(text)].tolist() == teacher.encode(text)
    assert np.all(np.diff(kept) > 0)
    used = {i for text in texts for i in teacher.encode(text)}
    assert set(kept.tolist()) == used | {teacher.token_to_id(t) for t in SPECIAL_TOKENS}


def test_specials_survive_and_pack_like_the_teacher():
    teacher = WordPieceTokenizer.load(BERT_TINY)
    pruned, kept = prune_vocabulary(teacher, ["good film"], keep_characters=False)
    for token in SPECIAL_TOKENS:
        assert kept[pruned.token_to_id(token)] == teacher.token_to_id(token)
    got = pruned(["good film"], max_length=8)
    want = teacher(["good film"], max_length=8)
    np.testing.assert_array_equal(kept[got["token_ids"]], want["token_ids"])
    np.testing.assert_array_equal(got["padding_mask"], want["padding_mask"])


def test_unseen_word_is_spelled_in_kept_pieces_not_unknown(tmp_path):
    teacher = WordPieceTokenizer(SPELLING_VOCAB)
    assert teacher.tokenize("playing") == ["playing"]
    pruned, _ = prune_vocabulary(teacher, ["the play"])
    assert pruned.tokenize("playing") == ["play", "##i", "##n", "##g"]
    bare, _ = prune_vocabulary(teacher, ["the play"], keep_characters=False)
    assert bare.tokenize("playing") == ["[UNK]"]
    # The pruned vocabulary is an ordinary vocab.txt.
    again = WordPieceTokenizer.load(pruned.save(tmp_path))
    assert again.vocab == pruned.vocab


def test_bad_input():
    teacher = WordPieceTokenizer.load(BERT_TINY)
    with pytest.raises(ValueError, match="no texts"):
        prune_vocabulary(teacher, [])
    with pytest.raises(TypeError, match=r"texts\[1\] must be str, got int"):
        prune_vocabulary(teacher, ["good", 3])
    with pytest.raises(TypeError, match="WordPieceTokenizer or an AlbertTokenizer"):
        prune_vocabulary(object(), ["good"])


def test_pruned_sentencepiece_spells_its_texts_exactly_and_keeps_their_characters():
    spiece = AlbertTokenizer.load(os.path.join(FIXTURES, "tiny_spiece.model"))
    texts = ["a fine film, well acted", "the plot is dull"]
    pruned, kept = prune_vocabulary(spiece, texts)
    assert pruned.vocab_size == len(kept) < spiece.vocab_size
    assert list(kept[:5]) == [0, 1, 2, 3, 4]  # the contract's special ids stay
    for text in texts:
        assert [kept[i] for i in pruned.encode(text)] == spiece.encode(text)
    # Every character of the texts stays spellable on its own.
    for c in set("".join(texts).replace(" ", "")):
        assert spiece.unk_id not in pruned.encode(c) or spiece.unk_id in spiece.encode(c)
