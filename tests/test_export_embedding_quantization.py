"""int4 export's token table: packing, lookup (TF and TFLite) against numpy, export vs Keras."""

import numpy as np
import pytest


def numpy_dequantize(packed: np.ndarray, scales: np.ndarray, width: int) -> np.ndarray:
    """Independent reading of the documented layout, with bit masks and shifts."""
    low = (packed & 0x0F).astype(np.int32) - 8
    high = (packed >> 4).astype(np.int32) - 8
    q = np.empty((packed.shape[0], 2 * packed.shape[1]), np.int32)
    q[:, 0::2], q[:, 1::2] = low, high
    return q[:, :width].astype(np.float32) * scales[:, None]


def _table(rows: int, width: int) -> np.ndarray:
    table = np.random.default_rng(0).normal(0.0, 0.02, (rows, width)).astype(np.float32)
    table[3] = 0.0  # an all-zero row (e.g. an unused token)
    return table


@pytest.mark.parametrize("width", [8, 7])
def test_packing_error_is_at_most_half_a_step_per_row(width):
    from export.embedding_quantization import pack_int4_rows

    table = _table(50, width)
    packed = pack_int4_rows(table)
    assert packed.packed.dtype == np.uint8 and packed.packed.shape == (50, (width + 1) // 2)
    assert packed.scales.dtype == np.float32 and packed.width == width
    restored = numpy_dequantize(packed.packed, packed.scales, width)
    assert np.all(np.abs(restored - table) <= packed.scales[:, None] / 2 * (1 + 1e-6))
    # Symmetric per-row scales: each row's largest magnitude is a level (+-7).
    np.testing.assert_allclose(np.abs(restored).max(1), np.abs(table).max(1), rtol=1e-6)
    np.testing.assert_array_equal(restored[3], 0.0)


@pytest.mark.parametrize(
    "table, message",
    [(np.zeros(5, np.float32), "vocab, width"), (np.full((2, 2), np.nan, np.float32), "NaN")],
)
def test_bad_tables_raise_clear_errors(table, message):
    from export.embedding_quantization import pack_int4_rows

    with pytest.raises(ValueError, match=message):
        pack_int4_rows(table)


@pytest.mark.parametrize("width", [8, 7])
def test_lookup_equals_numpy_dequantization_in_tf_and_builtin_tflite(width):
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    from export.embedding_quantization import lookup, pack_int4_rows

    packed = pack_int4_rows(_table(50, width))
    ids = np.array([[0, 3, 49, 7, 7, 12, 25]], np.int32)
    expected = numpy_dequantize(packed.packed, packed.scales, width)[ids]

    np.testing.assert_array_equal(lookup(packed, tf.constant(ids)).numpy(), expected)

    fn = tf.function(
        lambda ids: lookup(packed, ids), input_signature=[tf.TensorSpec(ids.shape, tf.int32)]
    )
    converter = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], fn)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]  # no Flex
    interpreter = Interpreter(model_content=converter.convert())
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], ids)
    interpreter.invoke()
    got = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_array_equal(got, expected)


def test_int4_export_stores_packed_table_and_agrees_with_keras():
    import keras
    from ai_edge_litert.interpreter import Interpreter

    from albert_tf import AlbertBackbone, AlbertClassifier, AlbertConfig
    from export.converter import to_tflite

    vocab, width, seq = 301, 16, 16
    config = AlbertConfig.from_preset(
        "tiny",
        vocab_size=vocab,
        embedding_size=width,
        hidden_size=32,
        intermediate_size=64,
        num_attention_heads=2,
        max_position_embeddings=32,
    )
    model = AlbertClassifier(AlbertBackbone(config), num_labels=3)
    interpreter = Interpreter(model_content=to_tflite(model, "int4", seq))

    tables = {
        (tuple(d["shape"]), np.dtype(d["dtype"]))
        for d in interpreter.get_tensor_details()
        if d["shape"].size and d["shape"][0] == vocab
    }
    assert ((vocab, width // 2), np.dtype(np.uint8)) in tables
    assert ((vocab, width), np.dtype(np.float32)) not in tables

    rng = np.random.default_rng(1)
    ids = rng.integers(0, vocab, (8, seq)).astype(np.int32)
    mask = np.ones_like(ids)
    mask[:, 12:] = 0
    segments = np.zeros_like(ids)
    segments[:, 6:12] = 1
    run = interpreter.get_signature_runner()
    ours = np.concatenate(
        [
            run(ids=ids[i : i + 1], mask=mask[i : i + 1], segment_ids=segments[i : i + 1])[
                "probability"
            ]
            for i in range(len(ids))
        ]
    )
    logits = model({"token_ids": ids, "segment_ids": segments, "padding_mask": mask})
    reference = keras.ops.convert_to_numpy(keras.ops.softmax(logits))
    assert np.abs(ours - reference).max() < 0.02
    assert (ours.argmax(-1) == reference.argmax(-1)).all()


def test_int4_quantizer_prints_nothing_and_quantizes_the_dense_weights(capfd):
    import tensorflow as tf

    from export.converter import quantize_int4

    # 80 matrix products: enough tensors (over 100 steps) for ai-edge-quantizer to
    # draw its progress bar, which it skips on smaller models.
    rng = np.random.default_rng(0)
    weights = [tf.constant(rng.normal(size=(32, 32)).astype(np.float32)) for _ in range(80)]

    def chain(x):
        for w in weights:
            x = tf.matmul(x, w)
        return x

    fn = tf.function(chain, input_signature=[tf.TensorSpec([1, 32])])
    converter = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], fn)
    float_model = converter.convert()
    capfd.readouterr()
    int4_model = quantize_int4(float_model)
    printed = capfd.readouterr()
    assert printed.out == ""  # no size/time report
    assert "Quantiz" not in printed.err and "Transformations" not in printed.err  # no bars
    # LiteRT lists packed int4 weights as int8 tensors; the size shows they are 4-bit.
    assert len(int4_model) < len(float_model) / 3
