"""Vocabulary pruning: a student keeps only the teacher's word pieces its domain uses.

A BERT teacher's 30,522-row token table is most of a small student's parameters
(at E=112, 3.4M of a 5.4M-parameter ALBERT), yet movie reviews use about 14k of
those pieces. Dropping the rest frees parameters for what the student lacks
most (another shared block) at the same total size.

What is kept: the special tokens, every single-character piece (`x` and `##x`,
so that any word the full vocabulary could spell is still spelled, in shorter
pieces, never as [UNK]), and the pieces the given texts use. Kept pieces keep
their relative order, so the pruned `vocab.txt` is an ordinary BERT vocabulary.

Example:
>>> from albert_tf.wordpiece import WordPieceTokenizer
>>> tok = WordPieceTokenizer.load("tests/fixtures/hf/bert_tiny/vocab.txt")
>>> small, kept = prune_vocabulary(tok, ["a charming film"], keep_characters=False)
>>> small.tokenize("a charming film"), small.vocab_size
(['a', 'charming', 'film'], 8)
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from albert_tf.wordpiece import SPECIAL_TOKENS, WordPieceTokenizer, _as_list


def _is_character(token: str) -> bool:
    return len(token) == 1 or (len(token) == 3 and token.startswith("##"))


def prune_vocabulary(
    tokenizer: WordPieceTokenizer,
    texts: Iterable[str],
    keep_characters: bool = True,
    batch_size: int = 512,
) -> tuple[WordPieceTokenizer, np.ndarray]:
    """The pieces of `tokenizer` that `texts` use, as a new tokenizer.

    Args:
        tokenizer: the teacher's WordPiece tokenizer.
        texts: the student's training texts (never held-out ones: a piece only
            a test text needs would leak it).
        keep_characters: also keep every single-character piece, so unseen
            words split into smaller known pieces instead of becoming [UNK].
        batch_size: texts tokenized at a time.

    Returns:
        (pruned tokenizer, `kept`): `kept[i]` is the teacher id of the pruned
        tokenizer's id `i`, increasing; index a teacher table with it
        (`student_from_teacher(..., token_ids=kept)`).
    """
    if not isinstance(tokenizer, WordPieceTokenizer):
        raise TypeError(
            f"prune_vocabulary needs a WordPieceTokenizer, got {type(tokenizer).__name__}."
        )
    texts = _as_list(texts, "texts")
    if not texts:
        raise ValueError("prune_vocabulary: no texts to count word pieces on.")
    used = np.zeros(tokenizer.vocab_size, bool)
    for start in range(0, len(texts), batch_size):
        for row in tokenizer._encode_batch(texts[start : start + batch_size]):
            used[row] = True
    for token in SPECIAL_TOKENS:
        used[tokenizer.token_to_id(token)] = True
    if keep_characters:
        used |= np.array([_is_character(t) for t in tokenizer.vocab])
    kept = np.flatnonzero(used)
    # The student cuts long texts as its teacher was trained to.
    pruned = WordPieceTokenizer(
        [tokenizer.vocab[i] for i in kept],
        tokenizer.lower_case,
        truncation=tokenizer.truncation,
        head_share=tokenizer.head_share,
    )
    return pruned, kept
