"""Read and write `.safetensors` files with numpy only.

The reader parses the format itself (an 8-byte header length, a JSON header,
then raw little-endian data) instead of calling the `safetensors` package so
that it can (1) name the tensor and the file when a file is truncated or its
header is damaged, and (2) read bfloat16 tensors, which numpy has no dtype for.
The format holds no code, so reading it never runs anything from the file.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Iterator

import numpy as np

from albert_tf.convert.errors import CheckpointError

_DTYPES = {
    "F64": np.float64,
    "F32": np.float32,
    "F16": np.float16,
    "I64": np.int64,
    "I32": np.int32,
    "I16": np.int16,
    "I8": np.int8,
    "U8": np.uint8,
    "BOOL": np.bool_,
}
_MAX_HEADER = 100 * 1024 * 1024


class SafetensorsFile:
    """Lazy, read-only access to the tensors of one `.safetensors` file.

    Example:
    >>> f = SafetensorsFile("model.safetensors")  # doctest: +SKIP
    >>> f["embeddings.word_embeddings.weight"].shape  # doctest: +SKIP
    (30000, 128)
    """

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        try:
            size = os.path.getsize(self.path)
            with open(self.path, "rb") as f:
                head = f.read(8)
                if len(head) < 8:
                    raise CheckpointError(
                        f"{self.path}: not a safetensors file (shorter than 8 bytes)."
                    )
                (header_len,) = struct.unpack("<Q", head)
                if header_len > min(_MAX_HEADER, size - 8):
                    raise CheckpointError(
                        f"{self.path}: damaged or truncated safetensors file (header length "
                        f"{header_len} but the file has {size} bytes)."
                    )
                header = json.loads(f.read(header_len).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise CheckpointError(f"{self.path}: damaged safetensors header ({e}).") from e
        if not isinstance(header, dict):
            raise CheckpointError(f"{self.path}: damaged safetensors header (not a JSON object).")
        self.metadata = header.pop("__metadata__", None) or {}
        self._entries = header
        self._data_start = 8 + header_len
        self._size = size

    def keys(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def shape(self, name: str) -> tuple[int, ...]:
        return tuple(self._entry(name)["shape"])

    def _entry(self, name: str) -> dict:
        try:
            return self._entries[name]
        except KeyError:
            raise CheckpointError(f"{self.path}: no tensor named {name!r}.") from None

    def __getitem__(self, name: str) -> np.ndarray:
        """The tensor as a numpy array (bfloat16 is widened to float32)."""
        entry = self._entry(name)
        try:
            dtype_name = entry["dtype"]
            shape = tuple(int(d) for d in entry["shape"])
            begin, end = (int(x) for x in entry["data_offsets"])
        except (KeyError, TypeError, ValueError) as e:
            raise CheckpointError(
                f"{self.path}: tensor {name!r} has a damaged header entry."
            ) from e
        if any(d < 0 for d in shape):
            raise CheckpointError(f"{self.path}: tensor {name!r} has a negative dimension {shape}.")
        # Python ints: numpy's int64 product wraps round for shapes like [2**40, 2**40].
        count = math.prod(shape)
        if dtype_name == "BF16":
            itemsize = 2
        elif dtype_name in _DTYPES:
            itemsize = np.dtype(_DTYPES[dtype_name]).itemsize
        else:
            raise CheckpointError(
                f"{self.path}: tensor {name!r} has unsupported dtype {dtype_name}."
            )
        if end - begin != count * itemsize or begin < 0:
            raise CheckpointError(
                f"{self.path}: tensor {name!r} header says {end - begin} bytes but shape {shape} "
                f"of {dtype_name} needs {count * itemsize}."
            )
        if self._data_start + end > self._size:
            raise CheckpointError(
                f"{self.path}: file is truncated: tensor {name!r} ends at byte "
                f"{self._data_start + end} but the file has {self._size} bytes."
            )
        with open(self.path, "rb") as f:
            f.seek(self._data_start + begin)
            raw = f.read(end - begin)
        if dtype_name == "BF16":
            bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            return bits.view(np.float32).reshape(shape)
        return (
            np.frombuffer(raw, dtype=np.dtype(_DTYPES[dtype_name]).newbyteorder("<"))
            .reshape(shape)
            .copy()
        )


def write_safetensors(
    tensors: dict[str, np.ndarray], path: str | os.PathLike, metadata: dict[str, str] | None = None
) -> None:
    """Write `tensors` atomically (temp file, then rename) with the `safetensors` package."""
    from safetensors.numpy import save_file

    path = os.fspath(path)
    tmp = f"{path}.tmp{os.getpid()}"
    arrays = {k: np.ascontiguousarray(v) for k, v in tensors.items()}
    try:
        save_file(arrays, tmp, metadata=metadata or {"format": "pt"})
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
