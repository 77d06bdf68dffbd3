"""Embed and search with an embedder bundle, with no TensorFlow.

An embedder bundle (`albert-tf export` of a `--task embed` run) is a folder:
model.tflite (inputs ids / mask / segment_ids int32 [1, max_length], output
`embedding` float32 [1, H], already L2-normalised, MediaPipe TextEmbedder
metadata with the tokenizer), the tokenizer file and manifest.json (`task`
"embed", `files` with sha256). Texts are tokenized id for id as MediaPipe does
(`export.runtime.bundle_tokenizer`), cut at the head past `max_length - 2`
pieces, as MediaPipe cuts a fixed-length model's input.

An index (`build_index`) is one `.npz` file: the corpus texts, their unit
vectors and the sha256 of the bundle's model, written under a temporary name
and renamed, so a crash never leaves half an index; `search` refuses an index
made by another model.

Example:
>>> emb = Embedder("bundle")                                 # doctest: +SKIP
>>> emb.embed(["a fine film"]).shape                        # doctest: +SKIP
(1, 384)
>>> build_index(emb, corpus, "corpus.npz"); Index("corpus.npz").search(emb, "query")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import tempfile

import numpy as np

from export.runtime.bundle_tokenizer import load_encoder
from export.runtime.classifier import (
    MANIFEST_FILE,
    TFLITE_FILE,
    BundleError,
    _make_interpreter,
    _text_list,
    manifest_tokenizer,
    read_manifest,
    sha256_of,
)

EMBED_TASK = "embed"
EMBEDDING_OUTPUT = "embedding"
INPUTS = ("ids", "mask", "segment_ids")


def check_embedder_bundle(bundle_dir: str, manifest: dict) -> None:
    """The manifest says task "embed", and model.tflite and the tokenizer match its sha256."""
    where = os.path.join(bundle_dir, MANIFEST_FILE)
    if manifest.get("task") != EMBED_TASK:
        raise BundleError(f"{where}: not an embedder bundle (task {manifest.get('task')!r})")
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise BundleError(f"{where}: field 'files' must be a JSON object")
    own = (TFLITE_FILE, manifest_tokenizer(manifest)["file"])
    for name in own:
        entry = files.get(name)
        expected = entry.get("sha256") if isinstance(entry, dict) else None
        path = os.path.join(bundle_dir, name)
        if expected is None:
            raise BundleError(f"{where} records no sha256 for {name}")
        if not os.path.isfile(path):
            raise FileNotFoundError(f"Bundle {bundle_dir} has no {name}")
        if sha256_of(path) != expected:
            raise BundleError(f"{path} does not match {MANIFEST_FILE} (changed or corrupt)")


class Embedder:
    """Unit-vector sentence embeddings from an embedder bundle.

    Args:
        bundle_dir: the folder `albert-tf export` wrote for an embed run.
        num_threads: CPU threads for LiteRT (None: its default).
        check_files: check the files against manifest.json first.
    """

    def __init__(self, bundle_dir: str, num_threads: int | None = None, check_files: bool = True):
        self.bundle_dir = bundle_dir
        self.manifest = read_manifest(bundle_dir)
        if check_files:
            check_embedder_bundle(bundle_dir, self.manifest)
        self.encoder = load_encoder(bundle_dir, manifest_tokenizer(self.manifest))
        self.model_path = os.path.join(bundle_dir, TFLITE_FILE)
        self.interpreter = _make_interpreter(self.model_path, num_threads)
        inputs = {d["name"]: d for d in self.interpreter.get_input_details()}
        outputs = {d["name"]: d for d in self.interpreter.get_output_details()}
        if set(INPUTS) - set(inputs) or EMBEDDING_OUTPUT not in outputs:
            raise BundleError(
                f"{self.model_path}: expected inputs {list(INPUTS)} and output "
                f"{EMBEDDING_OUTPUT!r}, got {sorted(inputs)} -> {sorted(outputs)}"
            )
        self._inputs = {n: inputs[n]["index"] for n in INPUTS}
        self._output = outputs[EMBEDDING_OUTPUT]["index"]
        self.max_length = int(inputs["ids"]["shape"][-1])
        self.dimension = int(outputs[EMBEDDING_OUTPUT]["shape"][-1])
        self.model_sha256 = sha256_of(self.model_path)

    def embed(self, texts: list[str] | str) -> np.ndarray:
        """float32 [len(texts), dimension] unit vectors."""
        texts = _text_list(texts)
        out = np.zeros((len(texts), self.dimension), np.float32)
        for i, text in enumerate(texts):
            pieces = self.encoder.pieces(text)
            ids, mask, segs = self.encoder.pack(pieces, self.max_length, pad_to=self.max_length)
            self.interpreter.set_tensor(self._inputs["ids"], ids)
            self.interpreter.set_tensor(self._inputs["mask"], mask)
            self.interpreter.set_tensor(self._inputs["segment_ids"], segs)
            self.interpreter.invoke()
            out[i] = self.interpreter.get_tensor(self._output)[0]
        return out

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two texts."""
        va, vb = self.embed([a, b])
        return float(va @ vb)


def cosine_top_k(query: np.ndarray, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices, cosines) of the `k` rows of unit `vectors` nearest unit `query`, best first."""
    scores = vectors @ query
    k = min(int(k), len(scores))
    if k <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    top = np.argpartition(-scores, k - 1)[:k]
    # Ties broken by corpus order, so results do not depend on argpartition.
    top = top[np.lexsort((top, -scores[top]))]
    return top, scores[top]


def build_index(embedder: Embedder, texts: list[str], path: str) -> int:
    """Embed `texts` and write the index file `path` atomically; returns its size."""
    texts = _text_list(texts)
    vectors = embedder.embed(texts)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".index-", suffix=".npz", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(
                f,
                texts=np.asarray(texts, dtype=object).astype(str),
                vectors=vectors,
                model_sha256=np.asarray(embedder.model_sha256),
            )
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return os.path.getsize(path)


class Index:
    """An index file written by `build_index`."""

    def __init__(self, path: str):
        try:
            with np.load(path, allow_pickle=False) as data:
                self.texts = [str(t) for t in data["texts"]]
                self.vectors = np.asarray(data["vectors"], np.float32)
                self.model_sha256 = str(data["model_sha256"])
        except (OSError, ValueError, KeyError) as e:
            raise BundleError(f"{path} is not an albert-tf index file: {e}") from e
        self.path = path

    def search(self, embedder: Embedder, query: str, k: int = 10) -> list[dict]:
        """The `k` corpus texts nearest `query` by cosine: dicts `rank`, `index`, `score`, `text`."""
        if embedder.model_sha256 != self.model_sha256:
            raise BundleError(
                f"{self.path} was built with another model than {embedder.model_path}; "
                "build the index again"
            )
        top, scores = cosine_top_k(embedder.embed([query])[0], self.vectors, k)
        return [
            {"rank": r + 1, "index": int(i), "score": float(s), "text": self.texts[int(i)]}
            for r, (i, s) in enumerate(zip(top, scores))
        ]
