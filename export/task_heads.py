"""Plain TFLite export of the task heads with no on-device task contract.

`AlbertTokenClassifier`  inputs ids / mask / segment_ids int32 [1, seq]
                         -> `logits` float32 [1, seq, num_labels] (raw scores;
                         argmax at each word's first piece gives its tag).
`AlbertMultipleChoice`   inputs ids / mask / segment_ids int32 [1, num_choices, seq]
                         (choice k = [CLS] context [SEP] choice_k [SEP])
                         -> `logits` float32 [1, num_choices] (softmax for probabilities).
`AlbertClassifier` goes through `export.converter` (MediaPipe's TextClassifier
contract) and `AlbertQuestionAnswerer` through `export.question_answerer`.
Builtin ops only; tensors carry the names above.

Example:
>>> tflite = task_head_to_tflite(token_model, max_length=128)   # doctest: +SKIP
>>> run_task_head(tflite, x)["logits"].shape                     # doctest: +SKIP
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable

import numpy as np

from albert_tf.models.multiple_choice import AlbertMultipleChoice
from albert_tf.models.token_classifier import AlbertTokenClassifier
from export.converter import _configured_converter, _convert_or_explain, _rename_io_tensors
from export.runtime import INPUT_NAMES

# The modes a task head (token, QA, multiple choice) exports in: no calibrated ones.
HEAD_MODES = ("float32", "float16", "dynamic")
_KERAS_NAMES = {"ids": "token_ids", "mask": "padding_mask", "segment_ids": "segment_ids"}


def convert_serving_function(
    model,
    input_shape: list[int],
    outputs: Callable[[object], dict],
    mode: str = "float32",
) -> bytes:
    """Keras model -> builtin-only TFLite whose signature is ids/mask/segment_ids -> `outputs`.

    `outputs(keras_output)` picks and names the output tensors. The tensors of
    the converted model are renamed to the signature names.
    """
    import tensorflow as tf

    if mode not in HEAD_MODES:
        raise ValueError(f"Unknown mode {mode!r}; choose one of {HEAD_MODES}.")
    spec = [tf.TensorSpec(input_shape, tf.int32, name=n) for n in INPUT_NAMES]

    class _Serving(tf.Module):
        def __init__(self, keras_model):
            super().__init__()
            self.model = keras_model

        @tf.function(input_signature=spec)
        def serve(self, ids, mask, segment_ids):
            out = self.model(
                {"token_ids": ids, "segment_ids": segment_ids, "padding_mask": mask},
                training=False,
            )
            return outputs(out)

    module = _Serving(model)
    with tempfile.TemporaryDirectory(prefix="albert-tf-head-export-") as tmp:
        saved = os.path.join(tmp, "saved_model")
        tf.saved_model.save(module, saved, signatures={"serving_default": module.serve})
        # The loaded concrete function lets the converter freeze Keras 3's
        # resource variables into constants.
        loaded = tf.saved_model.load(saved)
        converter = _configured_converter(
            tf, loaded.signatures["serving_default"], loaded, mode, None
        )
        tflite_bytes = _convert_or_explain(converter, mode)
    return _rename_io_tensors(tflite_bytes)


def task_head_to_tflite(model, max_length: int = 128, mode: str = "float32") -> bytes:
    """Export an `AlbertTokenClassifier` or `AlbertMultipleChoice` (see the module doc).

    Multiple choice gets inputs [1, None, max_length]: any number of choices
    works (the interpreter resizes to the array it is given).
    """

    if isinstance(model, AlbertMultipleChoice):
        shape = [1, None, int(max_length)]
    elif isinstance(model, AlbertTokenClassifier):
        shape = [1, int(max_length)]
    else:
        raise TypeError(
            f"task_head_to_tflite exports AlbertTokenClassifier and AlbertMultipleChoice, got "
            f"{type(model).__name__}; classifiers go through export.converter.to_tflite and "
            "question answerers through export.question_answerer."
        )
    return convert_serving_function(model, shape, lambda out: {"logits": out}, mode)


def run_task_head(tflite: bytes | str, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run an exported head with the LiteRT interpreter, one example at a time.

    `inputs` uses the Keras names (token_ids / segment_ids / padding_mask) with
    a leading batch axis; the outputs are stacked back into a batch.
    """
    from ai_edge_litert.interpreter import Interpreter

    if isinstance(tflite, str):
        with open(tflite, "rb") as f:
            tflite = f.read()
    interpreter = Interpreter(model_content=bytes(tflite))
    runner = interpreter.get_signature_runner()
    results: dict[str, list[np.ndarray]] = {}
    for row in range(len(inputs["token_ids"])):
        feed = {k: np.asarray(inputs[v][row : row + 1], np.int32) for k, v in _KERAS_NAMES.items()}
        for name, value in runner(**feed).items():
            results.setdefault(name, []).append(value[0])
    return {name: np.stack(values) for name, values in results.items()}
