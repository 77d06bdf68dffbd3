"""The edge runtime: an exported bundle run with numpy, ai-edge-litert and the
tokenizer only. Nothing in this package imports TensorFlow, MediaPipe or
another part of the project; the rest of `export` (conversion, metadata,
verification) and `albert_tf` build on it, never the other way round.

Example:
>>> from export.runtime import Classifier
>>> Classifier("runs/demo/bundle").predict(["a fine film"])  # doctest: +SKIP
[{'label': 'positive', 'score': 0.93, ...}]
"""

from export.runtime.classifier import (
    BUNDLE_FILES,
    INPUT_NAMES,
    LABELS_FILE,
    LITERT_NOTICES,
    MANIFEST_FILE,
    OUTPUT_NAME,
    QUANTIZATION_MODES,
    SINGLE_THREAD_MAX_MACS,
    TFLITE_FILE,
    BundleError,
    Classifier,
    bundle_files,
    check_bundle,
    dynamic_length_of,
    encoder_macs,
    manifest_tokenizer,
    model_max_length,
    read_labels,
    read_manifest,
    sha256_of,
)

__all__ = [
    "BUNDLE_FILES",
    "INPUT_NAMES",
    "LABELS_FILE",
    "LITERT_NOTICES",
    "MANIFEST_FILE",
    "OUTPUT_NAME",
    "QUANTIZATION_MODES",
    "SINGLE_THREAD_MAX_MACS",
    "TFLITE_FILE",
    "BundleError",
    "Classifier",
    "bundle_files",
    "check_bundle",
    "dynamic_length_of",
    "encoder_macs",
    "manifest_tokenizer",
    "model_max_length",
    "read_labels",
    "read_manifest",
    "sha256_of",
]
