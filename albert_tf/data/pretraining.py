"""Pre-training examples from plain text: SOP segment pairs and whole-word n-gram masking.

The recipe of google-research/albert `create_pretraining_data.py`:
documents are separated by blank lines; each document is cut into sentences;
sentences are packed into chunks of about `max_seq_length` tokens (shorter
with probability `short_seq_prob`); a chunk splits at a sentence boundary into
segments A and B, swapped with probability 0.5 (sentence-order label 1);
15% of the tokens are masked as whole-word n-grams (n <= 3, P(n) ~ 1/n),
80% -> [MASK], 10% -> a random token, 10% kept, at most `max_predictions`
per sequence. Every document is processed `duplicate_factor` times with
fresh masks.

Small corpora: `PretrainingDataBuilder.dataset(texts, ...)` builds the
examples in memory and serves them with tf.data. Large corpora: write TFRecord
shards with `albert_tf.data.pretraining_tfrecord` (`albert-tf pretrain-data`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from albert_tf.data.pipeline import prefetched
from albert_tf.io.files import check_regular_file

PAD_ID, UNK_ID, CLS_ID, SEP_ID, MASK_ID = 0, 1, 2, 3, 4
NUM_SPECIAL = 5
WORD_START = "\u2581"  # SentencePiece's word-boundary marker "▁"

FEATURE_NAMES = (
    "token_ids",
    "segment_ids",
    "padding_mask",
    "mask_positions",
    "mlm_labels",
    "mlm_weights",
    "sop_labels",
)

# A sentence ends at . ! ? (plus closing quotes/brackets) followed by space.
_SENTENCE_END = re.compile(r"(?<=[.!?][\"')\]])\s+|(?<=[.!?])\s+")


def split_documents(text: str) -> list[str]:
    """Documents of a plain-text corpus: blocks separated by one or more blank lines.

    Example:
    >>> split_documents("a b.\\nc d.\\n\\n e f.")
    ['a b.\\nc d.', 'e f.']
    """
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n"))
    return [b.strip() for b in blocks if b.strip()]


def split_sentences(document: str) -> list[str]:
    """Sentences of a document: every line, further cut after . ! ? and a space.

    Example:
    >>> split_sentences("Hi there. How are you?\\nFine")
    ['Hi there.', 'How are you?', 'Fine']
    """
    sentences = []
    for line in document.split("\n"):
        sentences.extend(s.strip() for s in _SENTENCE_END.split(line) if s.strip())
    return sentences


def iter_documents(paths: Iterable[str]) -> Iterator[str]:
    """Stream documents (blank-line separated) from text files, one file after another."""
    for path in paths:
        lines: list[str] = []
        line_number = 0  # lines read so far; a decode error is in the next one
        check_regular_file(path, "Corpus file")
        try:
            with open(path, encoding="utf-8") as f:
                for line in f:
                    line_number += 1
                    if line.strip():
                        lines.append(line.rstrip("\n"))
                    elif lines:
                        yield "\n".join(lines)
                        lines = []
        except UnicodeDecodeError as e:
            raise ValueError(f"{path}: line {line_number + 1} is not UTF-8 ({e.reason}).") from e
        if lines:
            yield "\n".join(lines)


class PretrainingDataBuilder:
    """Turns documents into ALBERT pre-training examples (numpy, then tf.data).

    Args:
        tokenizer: an `AlbertTokenizer` (or anything with `encode(text) -> ids`,
            `id_to_token(id) -> piece` and `vocab_size`).
        max_seq_length: packed length including [CLS] and two [SEP].
        max_predictions: masked positions per sequence (padded to this).
        masked_lm_prob: fraction of tokens to mask.
        max_ngram: longest masked n-gram of whole words.
        short_seq_prob: probability of a shorter target length (so the model
            also sees short inputs).
        duplicate_factor: times each document is used, each with new masks.
        seed: seed of the one random generator; the same seed gives the same examples.

    Example:
    >>> builder = PretrainingDataBuilder(tok, max_seq_length=64, max_predictions=10)
    >>> arrays = builder.build(["First doc. Two sentences.\\n\\nSecond doc. Also two."])
    >>> sorted(arrays)[:3]
    ['mask_positions', 'mlm_labels', 'mlm_weights']
    """

    def __init__(
        self,
        tokenizer: Any,
        max_seq_length: int = 128,
        max_predictions: int = 20,
        masked_lm_prob: float = 0.15,
        max_ngram: int = 3,
        short_seq_prob: float = 0.1,
        duplicate_factor: int = 1,
        seed: int = 12345,
    ):
        if max_seq_length < 5:
            raise ValueError(f"max_seq_length must be >= 5, got {max_seq_length}.")
        if max_predictions < 1:
            raise ValueError(f"max_predictions must be >= 1, got {max_predictions}.")
        if not 0.0 < masked_lm_prob < 1.0:
            raise ValueError(f"masked_lm_prob must be in (0, 1), got {masked_lm_prob}.")
        if max_ngram < 1:
            raise ValueError(f"max_ngram must be >= 1, got {max_ngram}.")
        if duplicate_factor < 1:
            raise ValueError(f"duplicate_factor must be >= 1, got {duplicate_factor}.")
        self.tokenizer = tokenizer
        self.max_seq_length = int(max_seq_length)
        self.max_predictions = int(max_predictions)
        self.masked_lm_prob = float(masked_lm_prob)
        self.max_ngram = int(max_ngram)
        self.short_seq_prob = float(short_seq_prob)
        self.duplicate_factor = int(duplicate_factor)
        self.seed = int(seed)
        self.rng = np.random.default_rng(seed)
        self.vocab_size = int(tokenizer.vocab_size)
        # P(n) ~ 1/n, as in the ALBERT paper.
        ngram_weights = 1.0 / np.arange(1, self.max_ngram + 1)
        self._ngram_p = ngram_weights / ngram_weights.sum()
        self._word_start = self._word_start_table(tokenizer)

    def get_config(self) -> dict[str, Any]:
        return {
            "max_seq_length": self.max_seq_length,
            "max_predictions": self.max_predictions,
            "masked_lm_prob": self.masked_lm_prob,
            "max_ngram": self.max_ngram,
            "short_seq_prob": self.short_seq_prob,
            "duplicate_factor": self.duplicate_factor,
            "seed": self.seed,
        }

    # ------------------------------------------------------------ building
    def tokenize_document(self, document: str) -> list[list[int]]:
        """Piece ids of each sentence of one document (empty sentences dropped)."""
        ids = (self.tokenizer.encode(s) for s in split_sentences(document))
        return [list(s) for s in ids if len(s)]

    def examples_from_document(self, sentences: list[list[int]]) -> list[dict[str, np.ndarray]]:
        """Examples (one dict of arrays each) from one tokenized document."""
        examples = []
        for pair in self._segment_pairs(sentences):
            examples.append(self._make_example(*pair))
        return examples

    def iter_examples(self, documents: Iterable[str]) -> Iterator[dict[str, np.ndarray]]:
        """All examples of `documents`: each document `duplicate_factor` times."""
        for document in documents:
            sentences = self.tokenize_document(document)
            if not sentences:
                continue
            for _ in range(self.duplicate_factor):
                yield from self.examples_from_document(sentences)

    def build(self, texts: str | Iterable[str]) -> dict[str, np.ndarray]:
        """Stack all examples of `texts` into arrays (the keys of `FEATURE_NAMES`).

        `texts`: one corpus string (documents separated by blank lines) or
        a list of documents.
        """
        documents = split_documents(texts) if isinstance(texts, str) else list(texts)
        for i, doc in enumerate(documents):
            if not isinstance(doc, str):
                raise ValueError(f"texts[{i}] is a {type(doc).__name__}, not a string.")
        examples = list(self.iter_examples(documents))
        if not examples:
            raise ValueError(
                "No pre-training example could be made: the texts are empty or have no "
                "tokens (documents are separated by blank lines)."
            )
        return {name: np.stack([e[name] for e in examples]) for name in FEATURE_NAMES}

    def dataset(
        self,
        texts: str | Iterable[str],
        batch_size: int = 32,
        shuffle: bool = True,
        repeat: bool = False,
        drop_remainder: bool = False,
    ):
        """A `tf.data.Dataset` of `(x, y)` batches for `AlbertPretrainer.fit`.

        Order is fixed by `seed` (shuffling included), so a resumed run sees
        the same batches.
        """
        return arrays_to_dataset(
            self.build(texts),
            batch_size=batch_size,
            shuffle=shuffle,
            seed=self.seed,
            repeat=repeat,
            drop_remainder=drop_remainder,
        )

    # -------------------------------------------------------- segment pairs
    def _segment_pairs(self, sentences: list[list[int]]):
        """Yield (tokens_a, tokens_b, sop_label) as in the original create_instances."""
        max_tokens = self.max_seq_length - 3
        target = max_tokens
        if self.rng.random() < self.short_seq_prob:
            target = int(self.rng.integers(2, max_tokens + 1))
        chunk: list[list[int]] = []
        length = 0
        i = 0
        while i < len(sentences):
            chunk.append(sentences[i])
            length += len(sentences[i])
            if i == len(sentences) - 1 or length >= target:
                if chunk:
                    pair = self._split_chunk(chunk)
                    if pair is not None:
                        a, b = pair
                        label = 0
                        if self.rng.random() < 0.5:
                            a, b, label = b, a, 1
                        self._truncate_pair(a, b, max_tokens)
                        if a and b:
                            yield a, b, label
                chunk, length = [], 0
                target = max_tokens
                if self.rng.random() < self.short_seq_prob:
                    target = int(self.rng.integers(2, max_tokens + 1))
            i += 1

    def _split_chunk(self, chunk: list[list[int]]):
        if len(chunk) >= 2:
            a_end = int(self.rng.integers(1, len(chunk)))
            a = [t for s in chunk[:a_end] for t in s]
            b = [t for s in chunk[a_end:] for t in s]
            return a, b
        # One (long) sentence: cut it at a word boundary so the order task
        # still has two parts; the original code used another document here.
        tokens = list(chunk[0])
        if len(tokens) < 2:
            return None
        starts = [j for j in range(1, len(tokens)) if self._word_start[tokens[j]]]
        cut = int(self.rng.choice(starts)) if starts else len(tokens) // 2
        return tokens[:cut], tokens[cut:]

    def _truncate_pair(self, a: list[int], b: list[int], max_tokens: int) -> None:
        # Trim the longer segment, randomly from its front or back.
        while len(a) + len(b) > max_tokens:
            longer = a if len(a) > len(b) else b
            if self.rng.random() < 0.5:
                del longer[0]
            else:
                longer.pop()

    # -------------------------------------------------------------- masking
    def _make_example(self, a: list[int], b: list[int], sop_label: int) -> dict[str, np.ndarray]:
        tokens = [CLS_ID, *a, SEP_ID, *b, SEP_ID]
        segments = [0] * (len(a) + 2) + [1] * (len(b) + 1)
        tokens_arr = np.asarray(tokens, "int32")
        masked, positions, labels = self.mask_tokens(tokens_arr)
        n, s, p = len(tokens), self.max_seq_length, self.max_predictions
        example = {
            "token_ids": np.zeros(s, "int32"),
            "segment_ids": np.zeros(s, "int32"),
            "padding_mask": np.zeros(s, "int32"),
            "mask_positions": np.zeros(p, "int32"),
            "mlm_labels": np.zeros(p, "int32"),
            "mlm_weights": np.zeros(p, "float32"),
            "sop_labels": np.asarray(sop_label, "int32"),
        }
        example["token_ids"][:n] = masked
        example["segment_ids"][:n] = segments
        example["padding_mask"][:n] = 1
        k = len(positions)
        example["mask_positions"][:k] = positions
        example["mlm_labels"][:k] = labels
        example["mlm_weights"][:k] = 1.0
        return example

    def mask_tokens(self, tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Whole-word n-gram masking of one packed sequence.

        Returns (masked token ids, sorted masked positions, original ids there).
        """
        # Words: a piece starting with "▁" opens a word; pieces without it
        # continue the previous word. Specials are never masked.
        words: list[list[int]] = []
        for i, t in enumerate(tokens):
            if t < NUM_SPECIAL:
                continue
            if words and not self._word_start[t] and words[-1][-1] == i - 1:
                words[-1].append(i)
            else:
                words.append([i])
        num_tokens = sum(len(w) for w in words)
        num_to_predict = min(
            self.max_predictions, max(1, int(round(num_tokens * self.masked_lm_prob)))
        )
        covered: set[int] = set()
        order = self.rng.permutation(len(words))
        for start in order:
            if len(covered) >= num_to_predict:
                break
            n = int(self.rng.choice(self.max_ngram, p=self._ngram_p)) + 1
            # Fall back to shorter n-grams when the long one does not fit.
            while n >= 1:
                span = [i for w in words[start : start + n] for i in w]
                if len(covered) + len(span) <= num_to_predict and not covered.intersection(span):
                    covered.update(span)
                    break
                n -= 1
        positions = np.asarray(sorted(covered), "int32")
        labels = tokens[positions].copy()
        masked = tokens.copy()
        for pos in positions:
            r = self.rng.random()
            if r < 0.8:
                masked[pos] = MASK_ID
            elif r < 0.9:
                masked[pos] = int(self.rng.integers(NUM_SPECIAL, self.vocab_size))
            # else: keep the original token
        return masked, positions, labels

    @staticmethod
    def _word_start_table(tokenizer: Any) -> np.ndarray:
        to_piece = getattr(tokenizer, "id_to_token", None) or tokenizer.id_to_piece
        table = np.zeros(int(tokenizer.vocab_size), bool)
        for i in range(NUM_SPECIAL, len(table)):
            piece = to_piece(i)
            # Pieces that are a bare "▁" or punctuation open a word of their own.
            table[i] = piece.startswith(WORD_START) or not piece[:1].isalnum()
        return table


def split_features(arrays: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Example arrays/tensors -> (x, y) as `AlbertPretrainer` takes them."""
    x = {k: arrays[k] for k in ("token_ids", "segment_ids", "padding_mask", "mask_positions")}
    y = {k: arrays[k] for k in ("mlm_labels", "mlm_weights", "sop_labels")}
    return x, y


def arrays_to_dataset(
    arrays: dict[str, np.ndarray],
    batch_size: int = 32,
    shuffle: bool = True,
    seed: int = 12345,
    repeat: bool = False,
    drop_remainder: bool = False,
):
    """In-memory examples -> a deterministic `tf.data.Dataset` of `(x, y)` batches."""
    import tensorflow as tf

    missing = [k for k in FEATURE_NAMES if k not in arrays]
    if missing:
        raise ValueError(f"pre-training arrays lack {missing}; expected {list(FEATURE_NAMES)}.")
    ds = tf.data.Dataset.from_tensor_slices(dict(arrays))
    if shuffle:
        # A fixed seed and per-epoch reshuffling: epoch k's order is the same
        # in every run, which resumption relies on.
        ds = ds.shuffle(len(arrays["token_ids"]), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    return prefetched(ds.map(split_features))
