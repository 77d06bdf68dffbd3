"""The int4 export mode's token-embedding table: int4 rows packed two per byte.

Why: ai-edge-quantizer's int4 recipe quantizes FULLY_CONNECTED weights but has
no rule for GATHER, which is how the TFLite converter writes the token lookup.
An ALBERT-base table (30000 x 128) would stay float32: 15.4 MB of a 19 MB
model. So for int4 the serving graph gathers from a table stored here as
- int4 values q in [-7, 7], packed two per byte (uint8 [V, ceil(E / 2)]): byte
  j of a row holds column 2j in its low nibble and column 2j + 1 in its high
  nibble, each as q + 8;
- one float32 scale per row (symmetric: value = scale * q, scale = max|row| / 7).
Only the gathered rows are unpacked, with ops every TFLite runtime has (GATHER,
CAST, RESHAPE, MUL): no Flex or custom op, so LiteRT and MediaPipe run it, and
the converter cannot fold the unpacking into a float table because it depends on
the input ids. A byte is unpacked by gathering its row of a 256 x 2 decode table
(both nibbles in one op): 4-8x faster than FLOOR_DIV / FLOOR_MOD arithmetic,
which TFLite runs with reference kernels (40-65 vs 300 microseconds for 128 ids
on the loaded 2-core development machine; a float GATHER takes 5-10). 30000 x 128 becomes 1.92 MB of values plus 0.12 MB of
scales.

Example:
>>> table = pack_int4_rows(np.random.randn(100, 8).astype("float32"))
>>> lookup(table, tf.constant([[1, 2, 3]])).shape
TensorShape([1, 3, 8])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

_LEVELS = 7  # symmetric int4: q in [-7, 7]; -8 unused so that q and -q both exist
_OFFSET = 8  # stored nibble = q + 8, in [1, 15]


@dataclass(frozen=True)
class PackedInt4Table:
    """A [V, width] table as packed int4 values and per-row float32 scales."""

    packed: np.ndarray  # uint8 [V, ceil(width / 2)]
    scales: np.ndarray  # float32 [V]
    width: int


def pack_int4_rows(table: np.ndarray) -> PackedInt4Table:
    """Quantize each row of a float [V, E] table to int4 with its own scale and pack it."""
    table = np.asarray(table, np.float32)
    if table.ndim != 2 or table.shape[0] == 0 or table.shape[1] == 0:
        raise ValueError(f"Expected a non-empty [vocab, width] table; got shape {table.shape}.")
    if not np.all(np.isfinite(table)):
        raise ValueError("The embedding table has NaN or infinite values; cannot quantize it.")
    width = table.shape[1]
    peak = np.abs(table).max(axis=1)
    # An all-zero row keeps scale 1 (any scale reproduces it) instead of 0 / 0.
    scales = np.where(peak > 0, peak / _LEVELS, 1.0).astype(np.float32)
    q = np.clip(np.rint(table / scales[:, None]), -_LEVELS, _LEVELS).astype(np.int32)
    if width % 2:
        q = np.pad(q, ((0, 0), (0, 1)))  # a zero column; `lookup` drops it
    nibbles = (q + _OFFSET).astype(np.uint8)
    packed = nibbles[:, 0::2] | (nibbles[:, 1::2] << 4)
    return PackedInt4Table(packed=packed, scales=scales, width=width)


def _decode_table() -> np.ndarray:
    """Row b holds the two int4 values of byte b: (low nibble - 8, high nibble - 8)."""
    b = np.arange(256)
    return np.stack([(b & 0x0F) - _OFFSET, (b >> 4) - _OFFSET], axis=-1).astype(np.float32)


def lookup(table: PackedInt4Table, ids: tf.Tensor, dtype=tf.float32) -> tf.Tensor:
    """Rows `ids` ([batch, seq] int32) of the dequantized table: [batch, seq, width]."""
    packed = tf.gather(tf.constant(table.packed, name="token_table_int4"), ids)  # [B, S, W/2]
    scales = tf.gather(tf.constant(table.scales, name="token_table_scales"), ids)  # [B, S]
    pairs = tf.gather(tf.constant(_decode_table(), name="int4_decode"), tf.cast(packed, tf.int32))
    # [B, S, W/2, 2] -> [B, S, W]: columns low0, high0, low1, high1, ...
    q = tf.reshape(pairs, (tf.shape(ids)[0], tf.shape(ids)[1], -1))
    if q.shape[-1] != table.width:
        q = q[:, :, : table.width]
    return tf.cast(q * scales[:, :, None], dtype)
