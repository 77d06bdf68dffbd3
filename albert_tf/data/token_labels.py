"""Word-level tags (NER, POS) for token classification.

read_conll(path)                       CoNLL-style file -> list of (words, tags) sentences
label_list(sentences)                  the tag vocabulary, "O" first
align_labels(words, tags, tokenizer, label_to_id, max_length)
                                       pieces of each word; its tag on the first piece,
                                       -100 (ignored by the loss) everywhere else
token_label_arrays(sentences, ...)     (inputs dict, labels) for `model.fit`, + word ids
word_predictions(logits, word_ids, labels)
                                       per-token logits -> one tag per word

CoNLL format: one token per line, columns separated by whitespace, the tag in
the last column; a blank line ends a sentence; `-DOCSTART-` lines are skipped.

Example:
>>> sentences = read_conll("train.conll")                                # doctest: +SKIP
>>> labels = label_list(sentences)                                       # doctest: +SKIP
>>> x, y, word_ids = token_label_arrays(sentences, tokenizer, labels, 64)  # doctest: +SKIP
>>> model.fit(x, y)                                                      # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from albert_tf.io.files import check_regular_file

PAD_ID, UNK_ID, CLS_ID, SEP_ID = 0, 1, 2, 3
IGNORE_INDEX = -100


class ConllFormatError(ValueError):
    """A CoNLL file that cannot be read; the message names the file and line."""


def read_conll(path: str) -> list[tuple[list[str], list[str]]]:
    """Sentences of (words, tags) from a CoNLL-style file (tag = last column)."""
    sentences: list[tuple[list[str], list[str]]] = []
    words: list[str] = []
    tags: list[str] = []
    check_regular_file(path)
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            columns = line.split()
            if not columns:
                if words:
                    sentences.append((words, tags))
                    words, tags = [], []
                continue
            if columns[0] == "-DOCSTART-":
                continue
            if len(columns) < 2:
                raise ConllFormatError(
                    f"{path}:{number}: expected a word and a tag separated by whitespace, got "
                    f"{line.rstrip()!r}."
                )
            words.append(columns[0])
            tags.append(columns[-1])
    if words:
        sentences.append((words, tags))
    if not sentences:
        raise ConllFormatError(f"{path}: no sentences found.")
    return sentences


def label_list(sentences: Sequence[tuple[Sequence[str], Sequence[str]]]) -> list[str]:
    """Every tag seen, "O" first (when present) then sorted, so ids are stable."""
    tags = {tag for _, sentence_tags in sentences for tag in sentence_tags}
    return (["O"] if "O" in tags else []) + sorted(tags - {"O"})


def _encode_word(tokenizer, word: str) -> list[int]:
    ids = [int(i) for i in tokenizer.encode(word) if i not in (CLS_ID, SEP_ID)]
    # A word the tokenizer drops entirely (a lone control character) still
    # needs a position to carry its tag.
    return ids or [UNK_ID]


def align_labels(
    words: Sequence[str],
    tags: Sequence[str],
    tokenizer,
    label_to_id: dict[str, int],
    max_length: int = 128,
    label_all_pieces: bool = False,
) -> tuple[list[int], list[int], list[int]]:
    """Tokenize one sentence word by word and put each word's tag on its first piece.

    Returns (token_ids, labels, word_ids), each of length <= max_length, with
    `[CLS] pieces [SEP]`. Labels are -100 on [CLS], [SEP] and on every
    piece after a word's first (unless `label_all_pieces`); word_ids give the
    word index of each first piece and -1 elsewhere. Words past `max_length`
    are cut off (their tags are then not predicted).
    """
    if len(words) != len(tags):
        raise ValueError(f"{len(words)} words but {len(tags)} tags in {' '.join(words)[:80]!r}.")
    token_ids, labels, word_ids = [CLS_ID], [IGNORE_INDEX], [-1]
    for w, (word, tag) in enumerate(zip(words, tags)):
        if tag not in label_to_id:
            raise ValueError(
                f"Tag {tag!r} (word {word!r}) is not in the label list {sorted(label_to_id)}."
            )
        pieces = _encode_word(tokenizer, word)
        if len(token_ids) + len(pieces) > max_length - 1:
            break
        for k, piece in enumerate(pieces):
            token_ids.append(piece)
            first = k == 0
            labels.append(label_to_id[tag] if first or label_all_pieces else IGNORE_INDEX)
            word_ids.append(w if first else -1)
    token_ids.append(SEP_ID)
    labels.append(IGNORE_INDEX)
    word_ids.append(-1)
    return token_ids, labels, word_ids


def token_label_arrays(
    sentences: Sequence[tuple[Sequence[str], Sequence[str]]],
    tokenizer,
    labels: Sequence[str],
    max_length: int = 128,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Inputs dict, labels [n, max_length] (-100 = ignored) and word ids [n, max_length]."""
    label_to_id = {label: i for i, label in enumerate(labels)}
    n = len(sentences)
    token_ids = np.full((n, max_length), PAD_ID, dtype="int32")
    padding_mask = np.zeros((n, max_length), dtype="int32")
    y = np.full((n, max_length), IGNORE_INDEX, dtype="int32")
    word_ids = np.full((n, max_length), -1, dtype="int32")
    for i, (words, tags) in enumerate(sentences):
        ids, tag_ids, words_of = align_labels(words, tags, tokenizer, label_to_id, max_length)
        token_ids[i, : len(ids)] = ids
        padding_mask[i, : len(ids)] = 1
        y[i, : len(ids)] = tag_ids
        word_ids[i, : len(ids)] = words_of
    x = {
        "token_ids": token_ids,
        "segment_ids": np.zeros_like(token_ids),
        "padding_mask": padding_mask,
    }
    return x, y, word_ids


def word_predictions(
    logits: np.ndarray, word_ids: np.ndarray, labels: Sequence[str]
) -> list[list[str]]:
    """One predicted tag per word: the argmax at each word's first piece."""
    best = np.asarray(logits).argmax(-1)
    sentences = []
    for row_best, row_words in zip(best, np.asarray(word_ids)):
        positions = np.nonzero(row_words >= 0)[0]
        sentences.append([labels[int(row_best[p])] for p in positions])
    return sentences
