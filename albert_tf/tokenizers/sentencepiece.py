"""SentencePiece tokenizer with ALBERT's special ids, packing and an in-graph path.

Special ids follow the original ALBERT vocabulary `30k-clean.model`:
`<pad>`=0 (control), `<unk>`=1, `[CLS]`=2, `[SEP]`=3, `[MASK]`=4 (control), then the
user-defined symbols ``( ) " - . – £ €`` and the learned pieces.

Input handling (documented behaviour, not accidents):
- An empty string encodes to no pieces, so it packs to ``[CLS] [SEP]``.
- A single text longer than ``max_length - 2`` pieces keeps its first pieces
  (`truncation="head"`, the default, as MediaPipe, keras-hub and Hugging Face
  cut) or its first ``int(head_share * (max_length - 2))`` pieces and its last
  ones (`truncation="head_tail"`, see `cut_pieces`; new training runs use
  `RUN_TRUNCATION`).
- Very long texts are cut to a character budget before SentencePiece sees them
  (about ``12 * max_length`` characters from the start, and as many from the end
  under "head_tail"; cut at a whitespace and widened if it did not yield enough
  pieces), so a 1 MB text costs no more than a short one.
  Pieces never cross whitespace, so the result equals tokenizing the whole
  text and truncating; only text with no whitespace at all near the cut could
  differ, and then only in the piece at the cut.
- Pairs are truncated longest-first: the budget ``max_length - 3`` is shared
  evenly, the first text gets the odd token, and a short text gives its unused
  share to the other (this is tensorflow-text's ``RoundRobinTrimmer``, as in
  keras-hub). Hugging Face's "longest_first" gives the same result except when
  both texts are long and the budget is odd: it gives the odd token to the second.
- Lower-casing (`lower_case`) is Python's `str.lower` here and
  `tf.strings.lower` in the graph (identical, checked). The original ALBERT
  Python tokenizer also rewrote ``` `` ``` / `''` to `"` and stripped accents;
  we do not, so training matches what MediaPipe feeds the model on a phone.
- Anything that is not a ``str`` raises ``TypeError`` naming its position.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import sentencepiece as spm

from albert_tf.io.files import write_bytes_atomic as _write_bytes_atomic
from export.runtime.bundle_tokenizer import SPIECE_FILE
from export.runtime.packing import cut_bounds, keep_pieces

PAD_ID, UNK_ID, CLS_ID, SEP_ID, MASK_ID = 0, 1, 2, 3, 4
SPECIAL_PIECES = ("<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]")
# The original ALBERT vocabulary keeps these as single pieces of their own.
ALBERT_USER_SYMBOLS = ("(", ")", '"', "-", ".", "\u2013", "\u00a3", "\u20ac")
PADDING_MODES = ("longest", "max_length")

# Generous: English averages ~4-5 characters per piece; the clip widens itself
# when this was not enough, so the value only affects speed, never results.
_CHARS_PER_TOKEN_BUDGET = 12
_MIN_CHAR_BUDGET = 2048
_LAST_SPACE = re.compile(r"\s(?=\S*$)")
_FIRST_SPACE = re.compile(r"\s")

TRUNCATIONS = ("head", "head_tail")
# Under "head_tail", the share of the piece budget kept from the text's start.
HEAD_SHARE = 0.75
# The cut new training runs use (`albert_tf.training.builders.build_tokenizer`
# sets it; run.json's tokenizer "truncation" records it; runs without the field
# were trained, and are read, as "head"). Validation accuracy by cut, from
# benchmarks/bench_long_texts.py (results/long_texts.json), of models trained on
# head cuts (so the other cuts are scored on inputs they never trained on):
#   bbc_news, max_length 128, all 212 texts cut:  student / teacher
#     head 0.953 / 0.991; head 3/4 + tail 1/4 0.981 / 0.986; half/half
#     0.948 / 0.986; head 1/4 + tail 3/4 0.958 / 0.972; windows 0.976 / 0.962
#   sms_spam, max_length 64, 10 of 452 texts cut: 0.991 under every cut.
# 3/4 + 1/4 gains 6 texts for the student (the model that ships) and loses 1
# for the teacher: it wins for the student and ties elsewhere.
RUN_TRUNCATION = "head_tail"


class BatchEncoder:
    """What both tokenizers (this one and `albert_tf.tokenizers.wordpiece.WordPieceTokenizer`)
    share: calling one encodes a padded batch from its `pack`."""

    pad_id = PAD_ID

    def pack(self, texts, pairs=None, max_length: int = 128):  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(
        self,
        texts: str | Sequence[str],
        pairs: str | Sequence[str] | None = None,
        max_length: int = 128,
        padding: str = "longest",
    ) -> dict[str, np.ndarray]:
        """Encode a batch to int32 `token_ids`, `segment_ids`, `padding_mask`.

        padding: "longest" pads to the longest packed example in the batch,
        "max_length" to `max_length`.
        """
        if padding not in PADDING_MODES:
            raise ValueError(f"padding must be one of {PADDING_MODES}, got {padding!r}")
        token_ids, segment_ids = self.pack(texts, pairs, max_length)
        width = int(max_length) if padding == "max_length" else max(map(len, token_ids))
        return pad_batch(token_ids, segment_ids, width, pad_id=self.pad_id)


class AlbertTokenizer(BatchEncoder):
    """ALBERT SentencePiece tokenizer: train, load, encode, pack.

    Args:
        proto: the serialized SentencePiece model (the bytes of `spiece.model`).
        lower_case: lower-case text before SentencePiece. `None` (default) means
            "unless the model folds case itself" (models trained here use the
            `nmt_nfkc_cf` rule; the original ALBERT models expect lower-cased input).
        truncation: how a single text longer than the budget is cut: "head"
            keeps its start, "head_tail" its start and end (see `cut_pieces`).
            Pairs are always cut longest-first from their ends.
        head_share: under "head_tail", the share of the budget kept from the start.

    Example:
    >>> tok = AlbertTokenizer.load("tests/fixtures/tiny_spiece.model")
    >>> batch = tok(["a fine film", "dull"], max_length=16)
    >>> batch["token_ids"].shape
    (2, 6)
    >>> tok(["a question"], pairs=["an answer"], padding="max_length", max_length=8)["segment_ids"]
    array([[0, 0, 0, 0, 1, 1, 1, 1]], dtype=int32)
    """

    def __init__(
        self,
        proto: bytes,
        lower_case: bool | None = None,
        truncation: str = "head",
        head_share: float = HEAD_SHARE,
    ):
        check_truncation(truncation, head_share)
        self.truncation, self.head_share = truncation, float(head_share)
        if not isinstance(proto, bytes | bytearray):
            raise TypeError(f"proto must be bytes, got {type(proto).__name__}")
        self._proto = bytes(proto)
        self._sp = spm.SentencePieceProcessor()
        try:
            self._sp.LoadFromSerializedProto(self._proto)
        except Exception as e:  # sentencepiece raises a bare RuntimeError/OSError
            raise ValueError(f"Not a SentencePiece model ({len(proto)} bytes): {e}") from e
        self._check_special_ids()
        if lower_case is None:
            lower_case = not self.normalization_rule.endswith("_cf")
        self.lower_case = bool(lower_case)

    # ------------------------------------------------------------------ build
    @classmethod
    def train(
        cls,
        texts_or_files: str | os.PathLike | Iterable[str],
        vocab_size: int = 30000,
        model_path: str | os.PathLike | None = None,
        *,
        character_coverage: float = 0.99995,
        input_sentence_size: int = 2_000_000,
        seed: int = 0,
        num_threads: int = 1,
        shrink_to_fit: bool = False,
    ) -> AlbertTokenizer:
        """Train a unigram SentencePiece model with ALBERT's special ids.

        Args:
            texts_or_files: a text file path, a list of paths (every item an
                existing file), or any iterable of texts (one sentence or
                paragraph each). Files are read as UTF-8, one text per line;
                undecodable bytes become U+FFFD.
            vocab_size: number of pieces including the specials.
            model_path: where to write the model (a `.model` file, or a folder
                that gets `spiece.model`); `None` keeps it in memory only.
            character_coverage, input_sentence_size: as in SentencePiece.
            seed: seeds SentencePiece's sentence sampling; with the same input,
                seed and `num_threads` the model bytes are identical.
            shrink_to_fit: when the texts are too few for `vocab_size` pieces,
                train the largest vocabulary SentencePiece allows instead of
                failing (`vocab_size` is then a ceiling, as for a recipe default).

        Example:
        >>> tok = AlbertTokenizer.train(["the film was fine", "dull plot"] * 200, vocab_size=30)
        >>> tok.token_to_id("[MASK]")
        4
        """
        counted = _Counted(_iter_training_texts(texts_or_files))
        options = dict(
            character_coverage=character_coverage,
            input_sentence_size=input_sentence_size,
            seed=seed,
            num_threads=num_threads,
        )
        try:
            proto = _train_unigram(iter(counted), int(vocab_size), **options)
        except RuntimeError as e:
            # e.g. "Vocabulary size too high (30000). Please set it to a value <= 812."
            if counted.count == 0:
                raise ValueError("No training text: every text (or line) was empty") from e
            reason = str(e).split("] ", 1)[-1]  # drop SentencePiece's source location
            most = re.search(r"too high \(\d+\)\. Please set it to a value <= (\d+)", reason)
            reusable = iter(texts_or_files) is not texts_or_files  # a spent iterator is not
            if shrink_to_fit and reusable and most and int(most.group(1)) < int(vocab_size):
                return cls.train(texts_or_files, int(most.group(1)), model_path, **options)
            hint = " (the training text is too small for it)" if "too high" in reason else ""
            raise ValueError(f"SentencePiece training failed: {reason}{hint}") from e
        tok = cls(proto)
        if model_path is not None:
            path = os.fspath(model_path)
            if os.path.isdir(path):
                path = os.path.join(path, SPIECE_FILE)
            _write_bytes_atomic(path, tok.serialized_model)
        return tok

    @classmethod
    def load(
        cls, path: str | os.PathLike | bytes, lower_case: bool | None = None, **packing: Any
    ) -> AlbertTokenizer:
        """Load a `spiece.model` file, a folder holding one, or the model bytes;
        `packing` is `truncation` / `head_share` (see the class)."""
        if isinstance(path, bytes | bytearray):
            return cls(bytes(path), lower_case=lower_case, **packing)
        path = os.fspath(path)
        if os.path.isdir(path):
            folder, path = path, os.path.join(path, SPIECE_FILE)
            if not os.path.exists(path):
                raise FileNotFoundError(f"Folder {folder} has no {SPIECE_FILE}")
        if not os.path.exists(path):
            raise FileNotFoundError(f"SentencePiece model not found: {path}")
        with open(path, "rb") as f:
            proto = f.read()
        try:
            return cls(proto, lower_case=lower_case, **packing)
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from e

    def save(self, folder: str | os.PathLike) -> str:
        """Write `folder/spiece.model` (atomically) and return its path."""
        folder = os.fspath(folder)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, SPIECE_FILE)
        _write_bytes_atomic(path, self._proto)
        return path

    # ------------------------------------------------------------ properties
    @property
    def serialized_model(self) -> bytes:
        return self._proto

    @property
    def vocab_size(self) -> int:
        return self._sp.get_piece_size()

    @property
    def normalization_rule(self) -> str:
        from sentencepiece import sentencepiece_model_pb2 as model_pb2

        m = model_pb2.ModelProto()
        m.ParseFromString(self._proto)
        return m.normalizer_spec.name

    pad_id, unk_id, cls_id, sep_id, mask_id = PAD_ID, UNK_ID, CLS_ID, SEP_ID, MASK_ID

    def token_to_id(self, piece: str) -> int:
        return self._sp.piece_to_id(piece)

    def id_to_token(self, idx: int) -> str:
        if not 0 <= int(idx) < self.vocab_size:
            raise ValueError(f"id {idx} is outside the vocabulary (0..{self.vocab_size - 1})")
        return self._sp.id_to_piece(int(idx))

    def get_config(self) -> dict[str, Any]:
        return {
            "lower_case": self.lower_case,
            "vocab_size": self.vocab_size,
            "truncation": self.truncation,
            "head_share": self.head_share,
        }

    def __reduce__(self):
        # The SentencePiece processor is a C++ object; rebuild it from the bytes
        # (for multiprocessing workers, copy.deepcopy, pickle).
        return (type(self), (self._proto, self.lower_case, self.truncation, self.head_share))

    def __repr__(self) -> str:
        return (
            f"AlbertTokenizer(vocab_size={self.vocab_size}, lower_case={self.lower_case}, "
            f"truncation={self.truncation!r})"
        )

    # -------------------------------------------------------------- encoding
    def encode(self, text: str) -> list[int]:
        """Piece ids of one text, without specials or truncation."""
        _check_text(text, "text")
        return self._sp.encode(self._prepare(text), out_type=int)

    def tokenize(self, text: str) -> list[str]:
        """Pieces (strings) of one text, for inspection."""
        _check_text(text, "text")
        return self._sp.encode(self._prepare(text), out_type=str)

    def decode(self, ids: Sequence[int] | np.ndarray) -> str:
        """Text of piece ids; special ids (pad, CLS, SEP, MASK) are dropped."""
        ids = [int(i) for i in np.asarray(ids).reshape(-1)]
        bad = [i for i in ids if not 0 <= i < self.vocab_size]
        if bad:
            raise ValueError(f"ids {bad[:5]} are outside the vocabulary (0..{self.vocab_size - 1})")
        return self._sp.decode(ids)

    def pack(
        self,
        texts: str | Sequence[str],
        pairs: str | Sequence[str] | None = None,
        max_length: int = 128,
    ) -> tuple[list[list[int]], list[list[int]]]:
        """Tokenize and pack without padding: per example token ids and segment ids.

        `[CLS] a [SEP]` or `[CLS] a [SEP] b [SEP]`, truncated to `max_length`
        (a single text as `truncation` says, pairs longest-first).
        """
        texts = _as_text_list(texts, "texts")
        min_length = 3 if pairs is None else 5
        if int(max_length) < min_length:
            raise ValueError(
                f"max_length={max_length} leaves no room for text: it must be >= {min_length}"
            )
        max_length = int(max_length)
        if pairs is None:
            budget = max_length - 2
            tail = budget - head_pieces(budget, self.truncation, self.head_share)
            ids_a = self._encode_clipped(texts, budget, tail)
            token_ids = [[CLS_ID, *self._cut(a, budget), SEP_ID] for a in ids_a]
            segment_ids = [[0] * len(t) for t in token_ids]
            return token_ids, segment_ids
        pairs = _as_text_list(pairs, "pairs")
        if len(pairs) != len(texts):
            raise ValueError(f"texts has {len(texts)} items but pairs has {len(pairs)}")
        budget = max_length - 3
        ids_a = self._encode_clipped(texts, budget)
        ids_b = self._encode_clipped(pairs, budget)
        return pack_pairs(ids_a, ids_b, budget, _round_robin_lengths)

    # ------------------------------------------------------------- in-graph
    def graph_packer(self, max_length: int = 128, pairs: bool = False):
        """A TensorFlow function for `tf.data`: string tensors -> packed int32 dict.

        Uses tensorflow-text's SentencepieceTokenizer (the same C++ library),
        so ids equal the Python path (`truncation` included); output is padded
        to `max_length`.

        Example:
        >>> fn = tok.graph_packer(max_length=32)
        >>> ds = tf.data.Dataset.from_tensor_slices(["a fine film"]).batch(8).map(fn)
        """
        return _make_graph_packer(self, int(max_length), pairs)

    # -------------------------------------------------------------- helpers
    def _prepare(self, text: str) -> str:
        return text.lower() if self.lower_case else text

    def _cut(self, pieces: list[int], budget: int) -> list[int]:
        return cut_pieces(pieces, budget, self.truncation, self.head_share)

    def _encode_clipped(
        self, texts: list[str], max_tokens: int, tail_tokens: int = 0
    ) -> list[list[int]]:
        """Pieces whose first `max_tokens` and last `tail_tokens` equal the whole
        text's, and which number more than `max_tokens` exactly when the whole
        text's do: a clipped text returns its start's pieces and then its end's."""
        prepared = [self._prepare(t) for t in texts]
        ids = self._encode_ends(prepared, max_tokens, _clip_at_space)
        if tail_tokens <= 0:
            return ids
        # Texts that fit the character budget already hold all their pieces.
        size = _char_budget(max_tokens)
        cut = [i for i, a in enumerate(ids) if len(a) > max_tokens and len(prepared[i]) > size]
        tails = self._encode_ends([prepared[i] for i in cut], tail_tokens, _clip_tail_at_space)
        for i, tail in zip(cut, tails):
            ids[i] = ids[i] + tail
        return ids

    def _encode_ends(self, texts: list[str], max_tokens: int, clip) -> list[list[int]]:
        """Pieces of `clip(text, size)`, widened until they number over `max_tokens`
        (or the clip is the whole text)."""
        size = _char_budget(max_tokens)
        clipped = [clip(t, size) for t in texts]
        ids = self._sp.encode(clipped, out_type=int) if texts else []
        for i, (full, cut) in enumerate(zip(texts, clipped)):
            width = size
            # Rarely a clip yields too few pieces (long runs of rare characters): widen.
            while len(cut) < len(full) and len(ids[i]) < max_tokens + 1:
                width *= 4
                cut = clip(full, width)
                ids[i] = self._sp.encode(cut, out_type=int)
        return ids

    def _check_special_ids(self) -> None:
        size = self._sp.get_piece_size()
        found = [self._sp.id_to_piece(i) if i < size else None for i in range(5)]
        if tuple(found) != SPECIAL_PIECES:
            raise ValueError(
                f"Not an ALBERT SentencePiece model: ids 0-4 are {found}, "
                f"expected {list(SPECIAL_PIECES)}"
            )


def _train_unigram(
    sentences: Iterable[str],
    vocab_size: int,
    character_coverage: float,
    input_sentence_size: int,
    seed: int,
    num_threads: int,
) -> bytes:
    """The serialized unigram SentencePiece model of `sentences`, ALBERT's special
    ids and symbols in place."""
    buf = io.BytesIO()
    spm.set_random_generator_seed(seed)
    spm.SentencePieceTrainer.train(
        sentence_iterator=sentences,
        model_writer=buf,
        model_type="unigram",
        vocab_size=vocab_size,
        pad_id=PAD_ID,
        unk_id=UNK_ID,
        bos_id=-1,
        eos_id=-1,
        pad_piece="<pad>",
        unk_piece="<unk>",
        control_symbols=list(SPECIAL_PIECES[2:]),
        user_defined_symbols=list(ALBERT_USER_SYMBOLS),
        normalization_rule_name="nmt_nfkc_cf",
        character_coverage=character_coverage,
        input_sentence_size=input_sentence_size,
        shuffle_input_sentence=True,
        num_threads=num_threads,
        minloglevel=2,
    )
    return buf.getvalue()


def pack_pairs(ids_a, ids_b, budget: int, lengths, cls_id: int = CLS_ID, sep_id: int = SEP_ID):
    """`[CLS] a [SEP] b [SEP]` token and segment ids of each pair; `lengths(len_a,
    len_b, budget)` says how many pieces of each text are kept."""
    token_ids, segment_ids = [], []
    for a, b in zip(ids_a, ids_b):
        len_a, len_b = lengths(len(a), len(b), budget)
        token_ids.append([cls_id, *a[:len_a], sep_id, *b[:len_b], sep_id])
        segment_ids.append([0] * (len_a + 2) + [1] * (len_b + 1))
    return token_ids, segment_ids


def pad_batch(
    token_ids: Sequence[Sequence[int]],
    segment_ids: Sequence[Sequence[int]],
    width: int,
    pad_id: int = 0,
) -> dict[str, np.ndarray]:
    """Right-pad packed examples to `width` with `pad_id` as int32 arrays."""
    n = len(token_ids)
    out_ids = np.full((n, width), pad_id, dtype=np.int32)
    out_seg = np.zeros((n, width), dtype=np.int32)
    out_mask = np.zeros((n, width), dtype=np.int32)
    for i, (ids, seg) in enumerate(zip(token_ids, segment_ids)):
        k = min(len(ids), width)
        out_ids[i, :k] = ids[:k]
        out_seg[i, :k] = seg[:k]
        out_mask[i, :k] = 1
    return {"token_ids": out_ids, "segment_ids": out_seg, "padding_mask": out_mask}


def check_truncation(truncation: str, head_share: float) -> None:
    """Raise ValueError for a truncation other than `TRUNCATIONS` or a share outside [0, 1]."""
    if truncation not in TRUNCATIONS:
        raise ValueError(f"truncation must be one of {TRUNCATIONS}, got {truncation!r}")
    number = isinstance(head_share, int | float) and not isinstance(head_share, bool)
    if not (number and 0.0 <= head_share <= 1.0):
        raise ValueError(f"head_share must be a number in [0, 1], got {head_share!r}")


def head_pieces(budget: int, truncation: str = "head", head_share: float = HEAD_SHARE) -> int:
    """How many of the `budget` pieces a cut text keeps from its start (the rest
    come from its end)."""
    return int(budget) if truncation == "head" else int(float(head_share) * int(budget))


def cut_pieces(
    pieces: Sequence[int], budget: int, truncation: str = "head", head_share: float = HEAD_SHARE
) -> list[int]:
    """At most `budget` of `pieces`: all of them when they fit, else the first
    `head_pieces(...)` and the last `budget - head_pieces(...)` (`keep_pieces`).

    Example:
    >>> cut_pieces(list(range(10)), 4, "head_tail", 0.75)
    [0, 1, 2, 9]
    """
    return keep_pieces(pieces, budget, head_pieces(budget, truncation, head_share))


def _round_robin_lengths(len_a: int, len_b: int, budget: int) -> tuple[int, int]:
    # Same allocation as tensorflow_text.RoundRobinTrimmer for two segments.
    keep_a = min(len_a, max((budget + 1) // 2, budget - len_b))
    keep_b = min(len_b, budget - keep_a)
    return keep_a, keep_b


def _char_budget(max_tokens: int) -> int:
    return max(_MIN_CHAR_BUDGET, _CHARS_PER_TOKEN_BUDGET * max_tokens)


def _clip_at_space(text: str, size: int) -> str:
    if len(text) <= size:
        return text
    # Cut at a whitespace so no word is split: pieces never cross whitespace.
    match = _LAST_SPACE.search(text, size // 2, size)
    return text[: match.start() if match else size]


def _clip_tail_at_space(text: str, size: int) -> str:
    if len(text) <= size:
        return text
    # The mirror of `_clip_at_space`: start at a whitespace (kept, so the first
    # word gets its word-start marker as in the whole text).
    start = len(text) - size
    match = _FIRST_SPACE.search(text, start, len(text) - size // 2)
    return text[match.start() if match else start :]


def _make_graph_packer(tok: AlbertTokenizer, max_length: int, pairs: bool):
    import tensorflow as tf
    import tensorflow_text as tf_text

    sp = tf_text.SentencepieceTokenizer(model=tok.serialized_model, out_type=tf.int32)
    lower_case = tok.lower_case
    budget = max_length - 2
    head = head_pieces(budget, tok.truncation, tok.head_share)
    min_length = 5 if pairs else 3
    if max_length < min_length:
        raise ValueError(
            f"max_length={max_length} leaves no room for text: it must be >= {min_length}"
        )

    def tokenize(texts):
        texts = tf.convert_to_tensor(texts, dtype=tf.string)
        if texts.shape.rank == 0:
            texts = texts[tf.newaxis]
        if lower_case:
            texts = tf.strings.lower(texts, encoding="utf-8")
        return sp.tokenize(texts)

    def pack(texts, pair_texts=None):
        if pairs:
            if pair_texts is None:
                raise ValueError("this packer was made with pairs=True: pass (texts, pair_texts)")
            trimmer = tf_text.RoundRobinTrimmer(max_seq_length=max_length - 3)
            segments = trimmer.trim([tokenize(texts), tokenize(pair_texts)])
        elif head == budget:
            segments = [tokenize(texts)[:, :budget]]
        else:
            segments = [_graph_head_tail(tf, tokenize(texts), budget, head)]
        ids, seg = tf_text.combine_segments(
            segments, start_of_sequence_id=CLS_ID, end_of_segment_id=SEP_ID
        )
        ids, mask = tf_text.pad_model_inputs(ids, max_seq_length=max_length, pad_value=PAD_ID)
        seg, _ = tf_text.pad_model_inputs(seg, max_seq_length=max_length, pad_value=0)
        return {
            "token_ids": tf.cast(ids, tf.int32),
            "segment_ids": tf.cast(seg, tf.int32),
            "padding_mask": tf.cast(mask, tf.int32),
        }

    return pack


def _graph_head_tail(tf, pieces, budget: int, head: int):
    """`cut_pieces` on a ragged [batch, (pieces)] tensor (`cut_bounds` row by row)."""
    split, start = cut_bounds(pieces.row_lengths(), budget, head, ops=tf)
    position = tf.ragged.range(pieces.row_lengths())
    keep = (position < split[:, None]) | (position >= start[:, None])
    return tf.ragged.boolean_mask(pieces, keep)


def _check_text(text: Any, where: str) -> None:
    if not isinstance(text, str):
        hint = " (decode bytes to str first)" if isinstance(text, bytes) else ""
        raise TypeError(f"{where} must be str, got {type(text).__name__}{hint}")


def _as_text_list(texts: Any, name: str) -> list[str]:
    if isinstance(texts, str):
        return [texts]
    if isinstance(texts, np.ndarray):
        texts = texts.reshape(-1).tolist()
    if isinstance(texts, bytes | bytearray):  # a Sequence, but of ints
        raise TypeError(
            f"{name} must be str, got {type(texts).__name__} (decode bytes to str first)"
        )
    if not isinstance(texts, Sequence):
        if isinstance(texts, Iterable) and not isinstance(texts, bytes | bytearray):
            texts = list(texts)
        else:
            raise TypeError(
                f"{name} must be a str or a sequence of str, got {type(texts).__name__}"
            )
    for i, t in enumerate(texts):
        _check_text(t, f"{name}[{i}]")
    if not texts:
        raise ValueError(f"{name} is empty: nothing to tokenize")
    return list(texts)


def _iter_training_texts(source: Any) -> Iterable[str]:
    if isinstance(source, str | os.PathLike):
        return _file_lines([os.fspath(source)])
    if isinstance(source, list | tuple) and source:
        if all(
            isinstance(s, os.PathLike) or (isinstance(s, str) and os.path.isfile(s)) for s in source
        ):
            return _file_lines([os.fspath(s) for s in source])
    if isinstance(source, bytes | bytearray) or not isinstance(source, Iterable):
        raise TypeError(
            f"texts_or_files must be a path, a list of paths or an iterable of str, "
            f"got {type(source).__name__}"
        )
    return _checked_texts(source)


class _Counted:
    """Counts the texts SentencePiece actually pulled (to explain its empty errors)."""

    def __init__(self, texts: Iterable[str]):
        self._texts = texts
        self.count = 0

    def __iter__(self):
        for t in self._texts:
            self.count += 1
            yield t


def _checked_texts(texts: Iterable[Any]) -> Iterable[str]:
    for i, t in enumerate(texts):
        _check_text(t, f"training text {i}")
        if t.strip():
            yield t


def _file_lines(paths: list[str]) -> Iterable[str]:
    """The non-blank lines of training text files (undecodable bytes become U+FFFD)."""
    for p in paths:
        if not os.path.isfile(p):
            raise FileNotFoundError(f"Training text file not found: {p}")
    for p in paths:
        with open(p, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.strip():
                    yield line.rstrip("\n")
