"""Text -> ids/mask/segment_ids for WordPiece bundles, id for id as MediaPipe does it.

Pure Python (unicodedata) plus numpy, so the edge runtime needs no TensorFlow
and no tokenizer library. It reproduces what MediaPipe's TextClassifier runs on
a model with `BertTokenizerOptions` metadata (mediapipe/calculators/tensor/
bert_preprocessor_calculator.cc, tasks/cc/text/tokenizers/bert_tokenizer.{h,cc}
with its default options, tensorflow_text's regex_split.cc and
wordpiece_tokenizer.cc), each step checked against MediaPipe itself in
tests/test_export_wordpiece.py:

1. ASCII lower-casing only (A-Z -> a-z). MediaPipe does *not* lower-case other
   letters and does *not* strip accents: "CAFÉ" becomes "cafÉ". The Keras side
   (`albert_tf.tokenizers.wordpiece.WordPieceTokenizer`, tensorflow-text's
   FastBertTokenizer with `lower_case_nfd_strip_accents`) lower-cases all
   letters and strips accents, and splits on Unicode whitespace. So texts with
   accents, non-ASCII capitals or non-ASCII spaces can get other ids on the
   phone than in training; a cased vocabulary (lower_case=False) loses its
   capitals on every text. The bundle follows MediaPipe, and the export
   verification measures the cost (label agreement with Keras, and how many
   held-out texts tokenize differently).
2. The text ends at its first NUL character (MediaPipe reads it as a C string).
3. Split on runs of ASCII whitespace (RE2's `\\s`: space, \\t, \\n, \\f, \\r; not
   \\v, not U+00A0 or other Unicode spaces, which stay inside words), and around
   each punctuation character (ASCII ! to /, : to @, [ to `, { to ~, and every
   Unicode category P* character) and each CJK ideograph (the ranges of
   `_CJK_RANGES`); those become one-character words. Other symbols (emoji,
   currency outside ASCII) stay inside words.
4. Each word longer than 100 UTF-8 *bytes* becomes one [UNK]. Otherwise
   greedy longest-match-first word pieces, non-initial pieces looked up with
   the "##" prefix, candidates at most 100 characters long; a word with any
   position that matches nothing becomes one [UNK].
5. `[CLS] pieces [SEP]`, cut at max_length - 2 pieces (`export.runtime.packing`).

The vocabulary is read as MediaPipe reads vocab.txt: lines split on "\\n", one
trailing "\\r" dropped, empty lines skipped (so they do not take an id), a
repeated token keeping its last line's id.

Why not Hugging Face `tokenizers` (installed here, and well kept): its
WordPiece limits words by characters (`max_input_chars_per_word`), not by
UTF-8 bytes, so a 40-letter accented word differs; its BERT pre-tokenizer
splits on Unicode whitespace, and its normalizer lower-cases beyond ASCII.
Matching MediaPipe with it would need custom pieces anyway, plus a native
wheel on the device, for what is ~80 lines here.

Example:
>>> enc = WordPieceEncoder(open("vocab.txt", "rb").read())  # doctest: +SKIP
>>> enc.tokens("Un CAFÉ, s'il vous plaît!")  # doctest: +SKIP
['un', '[UNK]', ',', 's', "'", 'il', 'vous', '[UNK]', '!']
"""

from __future__ import annotations

import functools
import unicodedata

from export.runtime.packing import PackingEncoder, mediapipe_text

UNK_TOKEN = "[UNK]"
CLS_TOKEN = "[CLS]"
SEP_TOKEN = "[SEP]"
SUFFIX_INDICATOR = "##"
# MediaPipe's BertTokenizerOptions defaults (bert_tokenizer.h).
MAX_BYTES_PER_WORD = 100
MAX_CHARS_PER_SUBTOKEN = 100
WORD_CACHE_SIZE = 50_000
_WHITESPACE = frozenset("\t\n\f\r ")  # RE2 \s is ASCII only
_CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


@functools.lru_cache(maxsize=8192)
def _is_split_char(ch: str) -> bool:
    """A character that becomes a word of its own (MediaPipe's kDefaultIncludeDelimRe)."""
    code = ord(ch)
    if 0x21 <= code <= 0x2F or 0x3A <= code <= 0x40 or 0x5B <= code <= 0x60:
        return True
    if 0x7B <= code <= 0x7E:
        return True
    if any(lo <= code <= hi for lo, hi in _CJK_RANGES):
        return True
    return unicodedata.category(ch).startswith("P")


# Per-character answers for ASCII, the common case: the tokenizer was 10% of a
# student bundle's call, most of it in these per-character checks.
_ASCII_SPLIT = frozenset(chr(c) for c in range(128) if _is_split_char(chr(c)))
_ASCII_WORD = frozenset(chr(c) for c in range(128)) - _ASCII_SPLIT - _WHITESPACE


def split_words(text: str) -> list[str]:
    """Steps 1-3 of the module docstring: the words WordPiece then cuts."""
    text = mediapipe_text(text)
    words: list[str] = []
    start = None  # index where the current word began
    for i, ch in enumerate(text):
        if ch in _ASCII_WORD:
            if start is None:
                start = i
            continue
        if ch in _WHITESPACE or ch in _ASCII_SPLIT or _is_split_char(ch):
            if start is not None:
                words.append(text[start:i])
                start = None
            if ch not in _WHITESPACE:
                words.append(ch)
        elif start is None:
            start = i
    if start is not None:
        words.append(text[start:])
    return words


def read_vocab(data: bytes, source: str = "vocab.txt") -> list[str]:
    """The tokens of vocab.txt in id order, read as MediaPipe reads them."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{source} is not UTF-8 text: {e}") from e
    lines = (line[:-1] if line.endswith("\r") else line for line in text.split("\n"))
    return [line for line in lines if line]


class WordPieceEncoder(PackingEncoder):
    """MediaPipe's BertTokenizer plus [CLS]/[SEP] packing, numpy out.

    Args:
        vocab_file: the bytes of vocab.txt (one token per line, line i = id i).
        source: the file's name, for error messages.
    """

    kind = "wordpiece"

    def __init__(self, vocab_file: bytes, source: str = "vocab.txt"):
        self.vocab = read_vocab(vocab_file, source)
        self._index = {token: i for i, token in enumerate(self.vocab)}  # last line wins
        missing = [t for t in (UNK_TOKEN, CLS_TOKEN, SEP_TOKEN) if t not in self._index]
        if missing:
            raise ValueError(f"{source} has no {', '.join(missing)} token; it cannot pack inputs.")
        self.unk_id = self._index[UNK_TOKEN]
        self.cls_id = self._index[CLS_TOKEN]
        self.sep_id = self._index[SEP_TOKEN]
        # word -> its pieces: real texts repeat their words, and a word's pieces
        # depend on nothing else. Bounded: cleared when full.
        self._cache: dict[str, list[int]] = {}

    def word_pieces(self, word: str) -> list[int]:
        """Step 4: greedy longest-match-first pieces of one word, or [UNK]."""
        cached = self._cache.get(word)
        if cached is None:
            if len(self._cache) >= WORD_CACHE_SIZE:
                self._cache.clear()
            cached = self._cache[word] = self._cut(word)
        return list(cached)

    def _cut(self, word: str) -> list[int]:
        if len(word.encode("utf-8", "surrogatepass")) > MAX_BYTES_PER_WORD:
            return [self.unk_id]
        ids, start = [], 0
        while start < len(word):
            end = min(len(word), start + MAX_CHARS_PER_SUBTOKEN)
            while end > start:
                piece = word[start:end] if start == 0 else SUFFIX_INDICATOR + word[start:end]
                if piece in self._index:
                    ids.append(self._index[piece])
                    break
                end -= 1
            if end == start:
                return [self.unk_id]
            start = end
        return ids

    def pieces(self, text: str) -> list[int]:
        get = self._cache.get
        out: list[int] = []
        for word in split_words(text):
            out += get(word) or self.word_pieces(word)
        return out

    def tokens(self, text: str) -> list[str]:
        """The pieces as strings (for reading, debugging and docs)."""
        return [self.vocab[i] for i in self.pieces(text)]
