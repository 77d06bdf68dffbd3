"""Deployment: TFLite conversion, quantization, metadata, verification, bundles, edge runtime.

Names are imported lazily so that `from export.runtime import Classifier` on an
edge device loads numpy, sentencepiece and ai-edge-litert only, never TensorFlow.

Example:
>>> import export
>>> bundle = export.export_run("runs/demo", "runs/demo/bundle")  # doctest: +SKIP
>>> export.runtime.Classifier(bundle).predict(["a fine film"])  # doctest: +SKIP
"""

from __future__ import annotations

import importlib

_LAZY = {
    "export_run": "export.bundle",
    "BundleSettings": "export.bundle",
    "to_bundle": "export.bundle",
    "zip_bundle": "export.bundle",
    "VerificationError": "export.bundle",
    "to_tflite": "export.converter",
    "representative_inputs": "export.converter",
    "FlexOpsError": "export.converter",
    "MODES": "export.converter",
    "add_classifier_metadata": "export.metadata",
    "verify_bundle": "export.verify",
    "Classifier": "export.runtime",
    "BundleError": "export.runtime",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in ("runtime", "bundle", "converter", "metadata", "verify", "serving", "texts"):
        return importlib.import_module(f"export.{name}")
    raise AttributeError(f"module 'export' has no attribute {name!r}")
