"""Trained classifier -> SavedModel -> TFLite flatbuffer (builtin ops only), quantized.

Modes:
    float32   no quantization.
    float16   float16 weights (dequantized at load time; half the size).
    dynamic   int8 weights, float activations quantized on the fly (the default).
    int8      integer: int8 weights and activations, ranges calibrated on
              representative texts (inputs stay int32 ids, output float); the
              attention products, softmax and layer norms (`INT8_FLOAT_OPS`)
              stay float, where XNNPACK has kernels for them.
    int16x8   int8 weights with int16 activations (more precise than int8,
              slower on most CPUs: XNNPACK has no kernels for it). TF 2.21's
              converter fails to calibrate the int32 id inputs in this mode, so
              it raises a clear error for ALBERT classifiers today.
    int4      int4 weights (per channel) for the matrix multiplications, float
              activations quantized on the fly. Written by `ai-edge-quantizer`
              on the float32 model; it has no rule for GATHER, so the serving
              graph itself stores the token embedding table as int4 rows packed
              two per byte with a float scale per row and unpacks the gathered
              rows with builtin ops (`export.embedding_quantization`).

Example:
>>> tflite = to_tflite(classifier, mode="dynamic", max_length=128)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable

import numpy as np

from export.metadata import tensor_names
from export.runtime import QUANTIZATION_MODES
from export.runtime.quiet_stderr import filtered_stderr
from export.serving import INPUT_NAMES, OUTPUT_NAME, serving_module

MODES = QUANTIZATION_MODES
CALIBRATED_MODES = ("int8", "int16x8")
# Ops int8 mode keeps in float. In int8 TFLite runs them with reference or
# slow-broadcast kernels that XNNPACK does not replace: an int8 ALBERT-base
# invoke took 3.5x the dynamic-range one, and perf put 45% of it in int8 DIV
# (the masked softmax's renormalization, `block_single`), 22% in BATCH_MATMUL
# and 9% in SQUARED_DIFFERENCE. In float XNNPACK runs them and the layer norms
# keep float precision; every FULLY_CONNECTED stays int8. An int8 divisor can
# also round to its zero point, which the int8 DIV refuses at run time.
INT8_FLOAT_OPS = ("BATCH_MATMUL", "SOFTMAX", "MEAN", "SQUARED_DIFFERENCE", "RSQRT", "DIV")


class FlexOpsError(ValueError):
    """The graph needs TensorFlow (Flex) ops that builtin-only TFLite cannot run."""


def _flex_ops(message: str) -> list[str]:
    # The converter names them like "tf.Einsum" in its error text.
    return sorted(set(re.findall(r"\btf\.([A-Z][A-Za-z0-9]+)", message)))


def _rename_io_tensors(tflite_bytes: bytes) -> bytes:
    """Give the signature's input/output tensors the signature names.

    The converter names them `serving_default_ids:0` / `StatefulPartitionedCall:0`;
    MediaPipe's metadata and people reading the model expect `ids`, `mask`,
    `segment_ids`, `probability`.
    """
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(tflite_bytes))
    if not model.signatureDefs:
        raise ValueError("The converted model has no signature; cannot name its tensors.")
    sub = model.subgraphs[model.signatureDefs[0].subgraphIndex]
    signature = model.signatureDefs[0]
    for tensor_map in list(signature.inputs) + list(signature.outputs):
        sub.tensors[tensor_map.tensorIndex].name = tensor_map.name
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def check_io_names(tflite_bytes: bytes) -> dict[str, list[str]]:
    """Read the input/output tensor names back and check them against the contract."""

    inputs, outputs = tensor_names(tflite_bytes)
    if sorted(inputs) != sorted(INPUT_NAMES) or outputs != [OUTPUT_NAME]:
        raise ValueError(
            f"Converted model has input tensors {inputs} and output tensors {outputs}; "
            f"expected {list(INPUT_NAMES)} and {[OUTPUT_NAME]}."
        )
    return {"inputs": inputs, "outputs": outputs}


def representative_inputs(
    texts: Iterable[str], encoder, max_length: int, limit: int = 200
) -> list[dict[str, np.ndarray]]:
    """Calibration inputs for int8 / int16x8 from raw texts.

    Args:
        texts: training texts.
        encoder: the bundle's edge encoder (`TextEncoder` or `WordPieceEncoder`,
            e.g. `TokenizerAsset.encoder()`), so calibration sees the ids the
            device will feed.
        max_length: the model's input length (every sample is padded to it).
        limit: at most this many samples.
    """
    if not hasattr(encoder, "encode"):
        raise TypeError(
            f"representative_inputs needs an encoder with .encode(), got {type(encoder).__name__}"
        )
    samples = []
    for text in texts:
        ids, mask, segs = encoder.encode(text, max_length, pad_to=max_length)
        samples.append({"ids": ids, "mask": mask, "segment_ids": segs})
        if len(samples) >= limit:
            break
    return samples


def to_tflite(
    model,
    mode: str = "dynamic",
    max_length: int = 128,
    dynamic_length: bool = False,
    representative_data: list[dict[str, np.ndarray]] | None = None,
    task: str | None = None,
    first_token_only: bool = True,
    head_pieces: int | None = None,
) -> bytes:
    """Convert a trained classifier to a TFLite flatbuffer (no metadata yet).

    Args:
        model: the trained Keras classifier.
        mode: one of `MODES`.
        max_length: fixed input length (or the longest input for `dynamic_length`).
        dynamic_length: inputs [1, None] so that short texts cost less.
        representative_data: for int8/int16x8, a list of dicts with int32
            `ids`/`mask`/`segment_ids` of shape [1, max_length] (see
            `representative_inputs`).
        task: "single_label" or "multi_label" (default: the model's problem_type).
        first_token_only: compute only the [CLS] row in the last block.
        head_pieces: a dynamic-length graph's head + tail cut (`serving_module`).

    Returns:
        The flatbuffer bytes, with tensors named ids/mask/segment_ids/probability.

    Raises:
        FlexOpsError: the graph needs ops outside TFLite's builtin set; the
            message names them.
    """
    import tensorflow as tf

    if mode not in MODES:
        raise ValueError(f"Unknown quantization mode {mode!r}; choose one of {MODES}.")
    if mode in CALIBRATED_MODES and not representative_data:
        raise ValueError(
            f"Mode {mode!r} needs representative data (texts from the training set) to "
            "calibrate activation ranges."
        )
    module = serving_module(
        model,
        max_length,
        dynamic_length,
        task,
        first_token_only,
        multiplicative_mask=mode in CALIBRATED_MODES,
        int4_token_table=mode == "int4",
        head_pieces=head_pieces,
    )
    with tempfile.TemporaryDirectory(prefix="albert-tf-export-") as tmp:
        saved = os.path.join(tmp, "saved_model")
        tf.saved_model.save(module, saved, signatures={"serving_default": module.serve})
        # From the loaded SavedModel's concrete function: the converter then
        # freezes the variables into constants (from_saved_model would keep
        # Keras 3's resource variables as READ_VARIABLE ops with no initializer).
        loaded = tf.saved_model.load(saved)
        concrete = loaded.signatures["serving_default"]
        converter = _configured_converter(tf, concrete, loaded, mode, representative_data)
        tflite_bytes = _convert_or_explain(converter, mode)
    tflite_bytes = _rename_io_tensors(tflite_bytes)
    if mode == "int4":
        tflite_bytes = quantize_int4(tflite_bytes)
    check_io_names(tflite_bytes)
    return tflite_bytes


def _configured_converter(tf, concrete, loaded, mode: str, representative_data):
    """A builtin-ops-only TFLiteConverter set up for `mode`."""
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], loaded)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if mode not in ("float32", "int4"):  # int4 is quantized afterwards, by quantize_int4
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if mode in CALIBRATED_MODES:
        data = list(representative_data)

        def gen():
            for sample in data:
                yield {name: np.asarray(sample[name], np.int32) for name in INPUT_NAMES}

        converter.representative_dataset = gen
    if mode == "int16x8":
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8,
            tf.lite.OpsSet.TFLITE_BUILTINS,
        ]
    return converter


def _convert_or_explain(converter, mode: str) -> bytes:
    """`converter.convert()`, with the failures a user can act on named."""
    try:
        if mode == "int8":
            return _int8_with_float_ops(converter, converter.representative_dataset)
        return converter.convert()
    except Exception as e:
        ops = _flex_ops(str(e))
        if ops:
            raise FlexOpsError(
                f"The model needs TensorFlow ops that builtin-only TFLite cannot run: "
                f"{', '.join(ops)}. Rewrite them with builtin-friendly ops; Flex "
                f"(SELECT_TF_OPS) is not allowed because MediaPipe cannot run it."
            ) from e
        if mode == "int16x8":
            raise ValueError(
                "Mode 'int16x8' is not supported for this model by the installed TFLite "
                f"converter: {str(e).strip().splitlines()[-1]} (its 16x8 calibration "
                "cannot handle the int32 token-id inputs); use 'int8' or 'dynamic'."
            ) from e
        raise


def _int8_with_float_ops(converter, dataset) -> bytes:
    """Calibrate, then quantize everything but `INT8_FLOAT_OPS` (TensorFlow's
    public selective-quantization route, `tf.lite.experimental.QuantizationDebugger`)."""
    import warnings

    import tensorflow as tf

    options = tf.lite.experimental.QuantizationDebugOptions(denylisted_ops=list(INT8_FLOAT_OPS))
    # The debugger opens its calibrated model in the deprecated tf.lite.Interpreter;
    # the quantizer prints its settings ("fully_quantize: 0, ...") from C++.
    with warnings.catch_warnings(), filtered_stderr(("XNNPACK delegate", "fully_quantize:")):
        warnings.simplefilter("ignore")
        debugger = tf.lite.experimental.QuantizationDebugger(
            converter=converter, debug_dataset=dataset, debug_options=options
        )
        return debugger.get_nondebug_quantized_model()


def quantize_int4(float_tflite: bytes) -> bytes:
    """int4 channel-wise weights, dynamically quantized activations (ai-edge-quantizer)."""
    try:
        from ai_edge_quantizer import quantizer, recipe
    except ImportError as e:
        raise ImportError(
            "Mode 'int4' needs the ai-edge-quantizer package: pip install 'albert-tf[export]'."
        ) from e

    qt = quantizer.Quantizer(bytearray(float_tflite))
    qt.load_quantization_recipe(recipe.dynamic_wi4_afp32())
    # Its progress bars and size/time report would land on the export's terminal.
    # ai-edge-quantizer does not pass enable_progress_bar on to its transformation
    # step, which draws a bar of its own on models of 100+ tensors: filtered out.
    with filtered_stderr(("Applying Transformations to tensors",)):
        result = qt.quantize(enable_progress_bar=False, enable_progress_report=False)
    return bytes(result.quantized_model)
