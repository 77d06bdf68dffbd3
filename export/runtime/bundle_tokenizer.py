"""Which tokenizer a bundle holds, and the edge encoder that reads it (no TensorFlow).

A bundle's manifest.json names its tokenizer:
    "tokenizer": {"kind": "wordpiece", "file": "vocab.txt", "lower_case": true}
(`kind` "sentencepiece" with "spiece.model", or "wordpiece" with "vocab.txt";
`lower_case` is the run tokenizer's casing at training time, recorded for
readers: on the device MediaPipe always applies ASCII lower-casing only, see
`export.runtime.wordpiece_encoder`). Bundles written before WordPiece support have no
"tokenizer" entry; they hold spiece.model.

Example:
>>> entry = tokenizer_entry(read_manifest("bundle"))  # doctest: +SKIP
>>> load_encoder("bundle", entry).encode("a fine film", max_length=16)  # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass

SPIECE_FILE = "spiece.model"
VOCAB_FILE = "vocab.txt"
TOKENIZER_FILES = {"sentencepiece": SPIECE_FILE, "wordpiece": VOCAB_FILE}
# Manifests without a "tokenizer" entry (albert-tf-bundle/1 before WordPiece).
LEGACY_ENTRY = {"kind": "sentencepiece", "file": SPIECE_FILE, "lower_case": True}


class TokenizerEntryError(ValueError):
    """manifest.json's "tokenizer" entry is malformed or names an unknown kind."""


@dataclass(frozen=True)
class TokenizerAsset:
    """A run's tokenizer as a bundle stores it: the kind, the file name and its bytes."""

    kind: str
    data: bytes
    lower_case: bool

    @property
    def file(self) -> str:
        return TOKENIZER_FILES[self.kind]

    def entry(self) -> dict:
        """The manifest's "tokenizer" entry."""
        return {"kind": self.kind, "file": self.file, "lower_case": self.lower_case}

    def encoder(self):
        """The edge encoder (the bundle's, MediaPipe's tokenization) for these bytes."""
        return make_encoder(self.kind, self.data, self.file)


def tokenizer_entry(manifest: dict, source: str = "manifest.json") -> dict:
    """The manifest's tokenizer entry, checked; the SentencePiece one for old manifests."""
    entry = manifest.get("tokenizer")
    if entry is None:
        return dict(LEGACY_ENTRY)
    if not isinstance(entry, dict):
        raise TokenizerEntryError(f"{source}: field 'tokenizer' must be an object, got {entry!r}")
    kind = entry.get("kind")
    if kind not in TOKENIZER_FILES:
        raise TokenizerEntryError(
            f"{source}: field 'tokenizer.kind' is {kind!r}; this runtime reads "
            f"{sorted(TOKENIZER_FILES)}"
        )
    file = entry.get("file", TOKENIZER_FILES[kind])
    if file != TOKENIZER_FILES[kind]:
        raise TokenizerEntryError(
            f"{source}: field 'tokenizer.file' is {file!r}; a {kind} bundle holds "
            f"{TOKENIZER_FILES[kind]}"
        )
    return {"kind": kind, "file": file, "lower_case": bool(entry.get("lower_case", True))}


def make_encoder(kind: str, data: bytes, source: str):
    """TextEncoder (SentencePiece) or WordPieceEncoder; each imports only what it needs."""
    # A WordPiece bundle runs without the sentencepiece package, which TextEncoder imports.
    if kind == "wordpiece":
        from export.runtime.wordpiece_encoder import WordPieceEncoder

        return WordPieceEncoder(data, source=source)
    from export.runtime.text_encoder import TextEncoder  # (see above)

    return TextEncoder(data, source=source)


def load_encoder(bundle_dir: str, entry: dict):
    """The encoder for the tokenizer file a bundle holds."""
    path = os.path.join(bundle_dir, entry["file"])
    with open(path, "rb") as f:
        return make_encoder(entry["kind"], f.read(), path)


def run_tokenizer_asset(tokenizer) -> TokenizerAsset:
    """A run's tokenizer (`AlbertTokenizer` or `WordPieceTokenizer`) as bundle bytes.

    Raises:
        ValueError: a WordPiece vocabulary MediaPipe would read with other ids
            (an empty or multi-line token).
    """
    serialized = getattr(tokenizer, "serialized_model", None)
    if serialized is not None:
        return TokenizerAsset("sentencepiece", bytes(serialized), bool(tokenizer.lower_case))
    vocab = getattr(tokenizer, "vocab", None)
    if vocab is None:
        raise ValueError(
            f"Cannot export a {type(tokenizer).__name__}: expected a SentencePiece "
            "(spiece.model) or WordPiece (vocab.txt) tokenizer."
        )
    for i, token in enumerate(vocab):
        # MediaPipe skips empty lines, so every later id would shift by one.
        if not token or "\n" in token or token.endswith("\r"):
            raise ValueError(
                f"vocab.txt line {i + 1}: token {token!r} is empty or holds a line break; "
                "MediaPipe would number every later token differently."
            )
    data = ("\n".join(vocab) + "\n").encode("utf-8")
    return TokenizerAsset("wordpiece", data, bool(getattr(tokenizer, "lower_case", True)))
