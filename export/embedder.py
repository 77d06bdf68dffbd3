"""Export a sentence embedder (`TextEmbedder`, a `--task embed` run) to a bundle that
MediaPipe's TextEmbedder runs as is.

model.tflite: inputs ids / mask / segment_ids int32 [1, max_length] (fixed:
MediaPipe cuts a fixed-length model's input at the head, as the edge runtime
does), output `embedding` float32 [1, H], the mean-pooled and L2-normalised
last layer. Its metadata is the BERT text model's (tensor names, tokenizer as
an input process unit with its file inside) with a plain feature output, which
is what MediaPipe's TextEmbedder reads. The bundle folder holds model.tflite,
the tokenizer file and manifest.json (`task` "embed", sha256 of each file, the
verification report).

Verification: on the given texts, cosine of each text's bundle vector (edge
runtime) with its Keras vector, and MediaPipe's TextEmbedder's vectors against
the edge runtime's; the export refuses below `MIN_COSINE` unless forced.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from typing import Any

import numpy as np

from export.bundle import BUNDLE_FORMAT, check_replaceable
from export.metadata import (
    _INPUT_DESCRIPTIONS,
    MIN_PARSER_VERSION,
    _schemas,
    _tokenizer_unit,
    tensor_metadata,
    tensor_names,
    with_metadata,
)
from export.runtime import MANIFEST_FILE, TFLITE_FILE, sha256_of
from export.runtime.bundle_tokenizer import TOKENIZER_FILES
from export.runtime.embedder import EMBED_TASK, EMBEDDING_OUTPUT, Embedder
from export.runtime.quiet_stderr import filtered_stderr
from export.task_heads import convert_serving_function

# Below this cosine between the bundle's and Keras' vector of a text, the export fails.
MIN_COSINE = 0.99
EMBED_MODES = ("float32", "float16", "dynamic")


class EmbedderVerificationError(ValueError):
    """The bundle's vectors are too far from the Keras model's."""


def add_embedder_metadata(tflite_bytes: bytes, tokenizer_file: bytes, kind: str) -> bytes:
    """`tflite_bytes` with TextEmbedder metadata: BERT inputs, tokenizer, `embedding` output."""
    meta_fb, _ = _schemas()
    inputs, outputs = tensor_names(tflite_bytes)
    if set(inputs) != set(_INPUT_DESCRIPTIONS) or outputs != [EMBEDDING_OUTPUT]:
        raise ValueError(f"Expected ids/mask/segment_ids -> embedding, got {inputs} -> {outputs}")
    subgraph = meta_fb.SubGraphMetadataT()
    subgraph.inputTensorMetadata = [
        tensor_metadata(meta_fb, n, _INPUT_DESCRIPTIONS[n]) for n in inputs
    ]
    subgraph.outputTensorMetadata = [
        tensor_metadata(meta_fb, EMBEDDING_OUTPUT, "L2-normalised mean of the last layer.")
    ]
    subgraph.inputProcessUnits = [_tokenizer_unit(meta_fb, kind)]
    model_md = meta_fb.ModelMetadataT()
    model_md.name = "ALBERT text embedder"
    model_md.description = "Embeds a text as a unit vector (albert-tf export)."
    model_md.subgraphMetadata = [subgraph]
    model_md.minParserVersion = MIN_PARSER_VERSION
    return with_metadata(tflite_bytes, model_md, {TOKENIZER_FILES[kind]: tokenizer_file})


def embedder_to_tflite(model, max_length: int, mode: str = "dynamic") -> bytes:
    """A `TextEmbedder` (or `AlbertTextEmbedder`) as builtin-only TFLite, no metadata."""
    return convert_serving_function(
        model, [1, int(max_length)], lambda out: {EMBEDDING_OUTPUT: out}, mode
    )


def mediapipe_embeddings(model_path: str, texts: list[str]) -> np.ndarray:
    """Vectors from MediaPipe's TextEmbedder (its own tokenizer, from the metadata)."""
    from mediapipe.tasks.python import text as mp_text
    from mediapipe.tasks.python.core.base_options import BaseOptions

    options = mp_text.TextEmbedderOptions(
        base_options=BaseOptions(model_asset_path=os.path.abspath(model_path))
    )
    rows = []
    with (
        filtered_stderr(("Created TensorFlow Lite XNNPACK delegate",)),
        mp_text.TextEmbedder.create_from_options(options) as embedder,
    ):
        for text in texts:
            result = embedder.embed(text)
            rows.append(np.asarray(result.embeddings[0].embedding, np.float32))
    return np.stack(rows) if rows else np.zeros((0, 0), np.float32)


def same_ids(tokenizer, encoder, texts: list[str], max_length: int) -> np.ndarray:
    """Per text: whether the Keras tokenizer and the bundle's encoder pack the same ids
    (they differ on non-ASCII capitals and accents: MediaPipe lower-cases ASCII only)."""
    batch = tokenizer(list(texts), max_length=max_length, padding="max_length")
    out = np.zeros(len(texts), bool)
    for i, text in enumerate(texts):
        keras_ids = np.asarray(batch["token_ids"][i])[np.asarray(batch["padding_mask"][i]) > 0]
        ids, mask, _ = encoder.encode(text, max_length)
        out[i] = np.array_equal(keras_ids, ids[0][mask[0] > 0])
    return out


def verify_embedder(model, bundle_dir: str, texts: list[str], mediapipe: bool = True) -> dict:
    """Cosines of the bundle's vectors with Keras' (on the texts both tokenize alike, and
    on all) and the largest difference from MediaPipe's vectors, over `texts`."""
    bundle = Embedder(bundle_dir)
    runtime = bundle.embed(texts)
    cos = np.sum(runtime * model.embed(texts), axis=-1)
    alike = same_ids(model.preprocessor.tokenizer, bundle.encoder, texts, bundle.max_length)
    report: dict[str, Any] = {
        "texts": len(texts),
        "texts_with_other_ids": int((~alike).sum()),
        # The threshold applies where both sides see the same ids: the rest measures the
        # tokenizers, not the conversion.
        "keras_cosine_min": float(cos[alike].min()) if alike.any() else None,
        "keras_cosine_mean": float(cos[alike].mean()) if alike.any() else None,
        "keras_cosine_min_all_texts": float(cos.min()),
        "keras_cosine_mean_all_texts": float(cos.mean()),
    }
    if mediapipe:
        mp = mediapipe_embeddings(os.path.join(bundle_dir, TFLITE_FILE), texts)
        report["mediapipe_max_abs_difference"] = float(np.abs(mp - runtime).max())
    return report


def to_embedder_bundle(
    model,
    out_dir: str,
    verify_texts: list[str],
    mode: str = "dynamic",
    mediapipe: bool = True,
    force: bool = False,
    run_summary: dict | None = None,
) -> str:
    """Convert, add metadata, write the bundle beside its manifest, verify; returns out_dir."""
    if mode not in EMBED_MODES:
        raise ValueError(f"Unknown mode {mode!r} for an embedder; choose one of {EMBED_MODES}.")
    start = time.time()
    out_dir = os.path.abspath(out_dir)
    check_replaceable(out_dir)
    pre = model.preprocessor
    kind = "wordpiece" if TOKENIZER_FILES["wordpiece"] in _saved_names(pre) else "sentencepiece"
    staging = tempfile.mkdtemp(prefix=".bundle-", dir=os.path.dirname(out_dir))
    try:
        pre.tokenizer.save(staging)
        tok_file = TOKENIZER_FILES[kind]
        with open(os.path.join(staging, tok_file), "rb") as f:
            tokenizer_bytes = f.read()
        for extra in set(os.listdir(staging)) - {tok_file}:
            os.remove(os.path.join(staging, extra))  # tokenizer_config.json: not a bundle file
        tflite = embedder_to_tflite(model, pre.sequence_length, mode)
        tflite = add_embedder_metadata(tflite, tokenizer_bytes, kind)
        with open(os.path.join(staging, TFLITE_FILE), "wb") as f:
            f.write(tflite)
        manifest = _manifest(staging, pre, kind, mode, model, run_summary)
        _write_json(os.path.join(staging, MANIFEST_FILE), manifest)
        report = verify_embedder(model, staging, list(verify_texts), mediapipe)
        manifest["verification"] = report
        manifest["export_seconds"] = round(time.time() - start, 1)
        _write_json(os.path.join(staging, MANIFEST_FILE), manifest)
        if (report["keras_cosine_min"] or 0.0) < MIN_COSINE and not force:
            raise EmbedderVerificationError(
                f"The bundle's vectors reach only cosine {report['keras_cosine_min']:.4f} with "
                f"the Keras model's (at least {MIN_COSINE} needed; force=True writes anyway)."
            )
        os.chmod(staging, 0o755)  # mkdtemp makes it 0700; a bundle is shared like any folder
        if os.path.exists(out_dir):
            shutil.rmtree(out_dir)
        os.replace(staging, out_dir)
    finally:
        if os.path.isdir(staging):
            shutil.rmtree(staging, ignore_errors=True)
    return out_dir


def _saved_names(pre) -> set[str]:
    with tempfile.TemporaryDirectory() as tmp:
        pre.tokenizer.save(tmp)
        return set(os.listdir(tmp))


def _manifest(folder: str, pre, kind: str, mode: str, model, run_summary) -> dict:
    tok_file = TOKENIZER_FILES[kind]
    files = {
        name: {
            "kind": role,
            "sha256": sha256_of(os.path.join(folder, name)),
            "bytes": os.path.getsize(os.path.join(folder, name)),
        }
        for name, role in ((TFLITE_FILE, "model"), (tok_file, "tokenizer"))
    }
    return {
        "format": BUNDLE_FORMAT,
        "task": EMBED_TASK,
        "tokenizer": {
            "kind": kind,
            "file": tok_file,
            "lower_case": bool(pre.tokenizer.lower_case),
        },
        "max_length": pre.sequence_length,
        "dynamic_length": False,
        "truncation": "texts over max_length - 2 pieces keep their first pieces",
        "quantization": mode,
        "inputs": ["ids", "mask", "segment_ids"],
        "output": EMBEDDING_OUTPUT,
        "embedding_size": model.embedding_size,
        "config": model.backbone.config.to_dict(),
        "run": run_summary,
        "files": files,
    }


def _write_json(path: str, data: dict) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(data, indent=2, default=str) + "\n")


def is_embedder_run(run_dir: str) -> bool:
    """Whether `run_dir`'s run.json says task "embed" (read without Keras)."""
    path = os.path.join(run_dir, "run.json")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f).get("task") == EMBED_TASK
    except (OSError, ValueError, AttributeError):
        return False  # the classifier export names what is wrong with the folder


def export_embedder_run(
    run_dir: str,
    out_dir: str,
    mode: str = "dynamic",
    texts_file: str | None = None,
    num_verify: int = 200,
    mediapipe: bool = True,
    force: bool = False,
) -> str:
    """Export an embed run: verified on `texts_file` (one text a line) or on the
    texts the run kept for calibration; returns the bundle folder."""
    # The run folder's reader and the text reader: only an exported run needs them.
    from albert_tf.io.text_lines import read_lines
    from albert_tf.training.run_folder import RunFolder

    check_replaceable(os.path.abspath(out_dir))
    folder = RunFolder(run_dir)
    info = folder.read_info()
    if texts_file:
        texts = [t for t in read_lines(texts_file) if t.strip()]
    else:
        texts = list((folder.read_held_out() or {}).get("calibration", []))
    if not texts:
        raise ValueError(f"{run_dir}: no texts to verify the export on; give --texts FILE")
    summary = {
        "name": os.path.basename(os.path.abspath(run_dir)),
        "task": EMBED_TASK,
        "metrics": info.get("metrics"),
        "parameters": info.get("parameters"),
    }
    model = folder.read_model()
    return to_embedder_bundle(
        model, out_dir, texts[: max(1, int(num_verify))], mode, mediapipe, force, summary
    )
