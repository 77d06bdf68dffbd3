"""WordPiece tokenizer for BERT checkpoints, behind `AlbertTokenizer`'s interface.

A BERT checkpoint (loaded as an unshared ALBERT by `albert_tf.convert`) comes
with a WordPiece `vocab.txt`, not a SentencePiece model. This class gives it
the same calls as `AlbertTokenizer` (`__call__`, `encode`, `decode`,
`vocab_size`, `save`) so training, evaluation and distillation code does not
care which one it holds. Tokenizing is tensorflow-text's `FastBertTokenizer`
(BERT's basic tokenization: lower-case + accent stripping for uncased models,
splitting on whitespace and punctuation, then greedy longest-match WordPiece).
Special ids come from `vocab.txt` itself ([PAD] [UNK] [CLS] [SEP] [MASK]).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence

import numpy as np

from albert_tf.io.files import write_text_atomic
from albert_tf.tokenizers.sentencepiece import (
    HEAD_SHARE,
    BatchEncoder,
    check_truncation,
    cut_pieces,
    pack_pairs,
)

VOCAB_FILE = "vocab.txt"
CONFIG_FILE = "tokenizer_config.json"
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


class WordPieceTokenizer(BatchEncoder):
    """BERT WordPiece tokenizer with ALBERT-style packing.

    Args:
        vocab: the tokens, in id order (the lines of `vocab.txt`).
        lower_case: lower-case and strip accents first (BERT "uncased").
        truncation, head_share: how a single long text is cut, as in
            `AlbertTokenizer` ("head" keeps its start, "head_tail" start and end).

    Example:
    >>> tok = WordPieceTokenizer.load("tests/fixtures/hf/bert_tiny/vocab.txt")
    >>> tok(["the film is charming"], max_length=16)["token_ids"].shape
    (1, 6)
    """

    def __init__(
        self,
        vocab: Sequence[str],
        lower_case: bool = True,
        truncation: str = "head",
        head_share: float = HEAD_SHARE,
    ):
        check_truncation(truncation, head_share)
        self.truncation, self.head_share = truncation, float(head_share)
        self.vocab = [str(t) for t in vocab]
        self.lower_case = bool(lower_case)
        self._index = {t: i for i, t in enumerate(self.vocab)}
        missing = [t for t in SPECIAL_TOKENS if t not in self._index]
        if missing:
            raise ValueError(f"Not a BERT WordPiece vocabulary: no {', '.join(missing)} token.")
        self.pad_id, self.unk_id, self.cls_id, self.sep_id, self.mask_id = (
            self._index[t] for t in SPECIAL_TOKENS
        )
        self._tokenizer = None

    # ------------------------------------------------------------------ build
    @classmethod
    def load(
        cls, path: str | os.PathLike, lower_case: bool | None = None, **packing
    ) -> WordPieceTokenizer:
        """Load `vocab.txt` (or a folder holding it; `tokenizer_config.json`'s
        `do_lower_case` beside it is honoured); `packing` is `truncation` /
        `head_share` (see the class)."""
        path = os.fspath(path)
        if os.path.isdir(path):
            path = os.path.join(path, VOCAB_FILE)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"WordPiece vocabulary not found: {path}")
        try:
            with open(path, encoding="utf-8") as f:
                vocab = [line.rstrip("\n").rstrip("\r") for line in f]
        except UnicodeDecodeError as e:
            raise ValueError(f"{path}: not UTF-8 text ({e}).") from e
        while vocab and vocab[-1] == "":
            vocab.pop()
        if lower_case is None:
            lower_case = True
            config = os.path.join(os.path.dirname(path), CONFIG_FILE)
            if os.path.isfile(config):
                with open(config, encoding="utf-8") as f:
                    lower_case = bool(json.load(f).get("do_lower_case", True))
        try:
            return cls(vocab, lower_case=lower_case, **packing)
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from e

    def save(self, folder: str | os.PathLike) -> str:
        """Write `folder/vocab.txt` and `folder/tokenizer_config.json` (its
        `do_lower_case`, which `load` reads back), atomically; returns vocab.txt's path.

        The config names `BertTokenizer`, so that transformers' AutoTokenizer reads
        a converted ALBERT-with-WordPiece folder as WordPiece, not as SentencePiece
        (model_type "albert" alone picks AlbertTokenizer: every word [UNK])."""
        folder = os.fspath(folder)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, VOCAB_FILE)
        write_text_atomic(path, "\n".join(self.vocab) + "\n")
        config = {"do_lower_case": self.lower_case, "tokenizer_class": "BertTokenizer"}
        config = json.dumps(config, indent=2)
        write_text_atomic(os.path.join(folder, CONFIG_FILE), config)
        return path

    # ------------------------------------------------------------ properties
    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def token_to_id(self, token: str) -> int:
        return self._index.get(token, self.unk_id)

    def id_to_token(self, idx: int) -> str:
        if not 0 <= int(idx) < len(self.vocab):
            raise ValueError(f"id {idx} is outside the vocabulary (0..{len(self.vocab) - 1})")
        return self.vocab[int(idx)]

    def get_config(self) -> dict:
        return {
            "vocab_size": self.vocab_size,
            "lower_case": self.lower_case,
            "truncation": self.truncation,
            "head_share": self.head_share,
        }

    # ------------------------------------------------------------- encoding
    def _fast(self):
        if self._tokenizer is None:
            import tensorflow as tf
            import tensorflow_text as tf_text

            self._tokenizer = tf_text.FastBertTokenizer(
                vocab=self.vocab,
                token_out_type=tf.int64,
                unknown_token="[UNK]",
                lower_case_nfd_strip_accents=self.lower_case,
            )
        return self._tokenizer

    def _encode_batch(self, texts: list[str]) -> list[list[int]]:
        if not texts:
            return []
        ragged = self._fast().tokenize(texts)
        return [list(map(int, row)) for row in ragged.to_list()]

    def encode(self, text: str) -> list[int]:
        """Word-piece ids of one text, without [CLS]/[SEP]."""
        _check_text(text, "text")
        return self._encode_batch([text])[0]

    def tokenize(self, text: str) -> list[str]:
        return [self.vocab[i] for i in self.encode(text)]

    def decode(self, ids: Sequence[int] | np.ndarray) -> str:
        """Text of `ids`, special tokens dropped and `##` pieces joined."""
        skip = {self.pad_id, self.cls_id, self.sep_id}
        words: list[str] = []
        for i in np.asarray(ids, dtype=np.int64).reshape(-1):
            if int(i) in skip:
                continue
            token = self.id_to_token(int(i))
            if token.startswith("##") and words:
                words[-1] += token[2:]
            else:
                words.append(token)
        return " ".join(words)

    def pack(
        self,
        texts: str | Sequence[str],
        pairs: str | Sequence[str] | None = None,
        max_length: int = 128,
    ) -> tuple[list[list[int]], list[list[int]]]:
        """`[CLS] a [SEP]` or `[CLS] a [SEP] b [SEP]`; a single text cut as
        `truncation` says, pairs longest-first."""
        texts = _as_list(texts, "texts")
        if pairs is not None:
            pairs = _as_list(pairs, "pairs")
            if len(pairs) != len(texts):
                raise ValueError(f"{len(texts)} texts but {len(pairs)} pairs.")
        if max_length < (5 if pairs is not None else 3):
            raise ValueError(f"max_length {max_length} leaves no room for text.")
        ids_a = self._encode_batch(texts)
        token_ids, segment_ids = [], []
        if pairs is None:
            for a in ids_a:
                a = cut_pieces(a, max_length - 2, self.truncation, self.head_share)
                token_ids.append([self.cls_id, *a, self.sep_id])
                segment_ids.append([0] * (len(a) + 2))
            return token_ids, segment_ids
        ids_b = self._encode_batch(pairs)
        return pack_pairs(ids_a, ids_b, max_length - 3, _longest_first, self.cls_id, self.sep_id)


def _longest_first(len_a: int, len_b: int, budget: int) -> tuple[int, int]:
    """Drop tokens from the longer text (the second on ties) until both fit,
    as BERT's `longest_first` truncation does."""
    while len_a + len_b > budget:
        if len_a > len_b:
            len_a -= 1
        else:
            len_b -= 1
    return len_a, len_b


def _check_text(text, where: str) -> None:
    if not isinstance(text, str):
        hint = " (decode bytes to str first)" if isinstance(text, bytes | bytearray) else ""
        raise TypeError(f"{where} must be str, got {type(text).__name__}{hint}")


def _as_list(texts, name: str) -> list[str]:
    if isinstance(texts, str):
        texts = [texts]
    if isinstance(texts, bytes | bytearray) or not isinstance(texts, Iterable):
        _check_text(texts, name)  # bytes iterate as ints; None and numbers not at all
    texts = list(texts)
    for i, t in enumerate(texts):
        _check_text(t, f"{name}[{i}]")
    return texts
