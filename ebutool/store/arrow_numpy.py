"""Arrow arrays to NumPy and back through their buffers, without pyarrow's pandas import.

pyarrow (26) imports pandas the first time it converts between Arrow and NumPy or
Python: ``Array.to_numpy`` and ``np.asarray(array)`` (its C++ conversion, shared with
``to_pandas``, looks up pandas' missing-value objects once), ``pa.array`` and
``pa.scalar`` of NumPy or Python values and ``fill_null`` of a Python value (its pandas
shim checks whether they are pandas objects).  ``analyze STORE -j N`` forks before
anything of ebutool needs pandas (ebutool.runner.forked): its pre-pass
(ebutool.store.order, ebutool.store.groups, ebutool.store.grouped) and its shares
(ebutool.store.schema.from_table) convert with these functions instead, so that pandas
(~0.3 s of CPU to import after pyarrow) is imported by the caller alone, after the
fork (docs/performance.md, "pandas after the fork").

Only what a store's columns need: fixed-width integers and floats, booleans, validity.
The arrays returned are views of the Arrow buffers (read-only) where the layout allows,
like ``to_numpy``'s zero-copy ones.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

BITS_PER_OCTET = 8  # Arrow's booleans and validity bitmaps: one bit a cell, least significant first
VALUES = 1  # index of a fixed-width array's values in Array.buffers() (0: its validity bitmap)

_NUMPY: dict[pa.DataType, np.dtype] = {
    pa.int8(): np.dtype(np.int8),
    pa.int16(): np.dtype(np.int16),
    pa.int32(): np.dtype(np.int32),
    pa.int64(): np.dtype(np.int64),
    pa.uint8(): np.dtype(np.uint8),
    pa.uint16(): np.dtype(np.uint16),
    pa.uint32(): np.dtype(np.uint32),
    pa.uint64(): np.dtype(np.uint64),
    pa.float32(): np.dtype(np.float32),
    pa.float64(): np.dtype(np.float64),
}
_ARROW: dict[np.dtype, pa.DataType] = {dtype: kind for kind, dtype in _NUMPY.items()}


def _bits(buffer: pa.Buffer | None, offset: int, n: int) -> np.ndarray:
    """Cells ``offset`` .. ``offset + n - 1`` of a bitmap as booleans."""
    if n == 0 or buffer is None:
        return np.zeros(n, bool)
    octets = np.frombuffer(buffer, np.uint8, count=-(-(offset + n) // BITS_PER_OCTET))
    return np.unpackbits(octets, bitorder="little")[offset : offset + n].astype(bool)


def _chunks(arr: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    return list(arr.chunks) if isinstance(arr, pa.ChunkedArray) else [arr]


def _joined(parts: list[np.ndarray], dtype: np.dtype) -> np.ndarray:
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts) if parts else np.empty(0, dtype)


def _dtype(kind: pa.DataType) -> np.dtype:
    if pa.types.is_boolean(kind):
        return np.dtype(bool)
    if kind not in _NUMPY:
        raise TypeError(f"not a fixed-width integer, float or boolean array: {kind}")
    return _NUMPY[kind]


def _values(arr: pa.Array) -> np.ndarray:
    """The values of one array, null cells' unspecified."""
    dtype = _dtype(arr.type)
    buffer = arr.buffers()[VALUES]
    if pa.types.is_boolean(arr.type):
        return _bits(buffer, arr.offset, len(arr))
    if len(arr) == 0:
        return np.empty(0, dtype)
    return np.frombuffer(buffer, dtype, count=len(arr), offset=arr.offset * dtype.itemsize)


def numpy_of(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """``arr.to_numpy()`` of an array without nulls (ValueError if it has some)."""
    if arr.null_count:
        raise ValueError("an array with nulls: filled(arr, value)")
    return _joined([_values(c) for c in _chunks(arr)], _dtype(arr.type))


def valid(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """``np.asarray(pc.is_valid(arr))``: True where a cell is not null."""
    parts = [
        _bits(c.buffers()[0], c.offset, len(c)) if c.null_count else np.ones(len(c), bool)
        for c in _chunks(arr)
    ]
    return _joined(parts, np.dtype(bool))


def filled(arr: pa.Array | pa.ChunkedArray, value: int | float) -> np.ndarray:
    """``arr.fill_null(value).to_numpy()``: the values, ``value`` in the null cells (of
    int64 when ``value`` does not fit in the array's type)."""
    dtype = _dtype(arr.type)
    if dtype.kind in "iu" and not np.iinfo(dtype).min <= value <= np.iinfo(dtype).max:
        dtype = np.dtype(np.int64)
    parts = []
    for c in _chunks(arr):
        values = _values(c).astype(dtype, copy=False)
        if c.null_count:
            values = np.where(valid(c), values, np.asarray(value, dtype))
        parts.append(values)
    return _joined(parts, dtype)


def arrow_of(values: np.ndarray) -> pa.Array:
    """``pa.array(values)`` of a fixed-width integer or float NumPy array (its buffer,
    not copied when contiguous)."""
    values = np.ascontiguousarray(values)
    kind = _ARROW.get(values.dtype)
    if kind is None:
        raise TypeError(f"not a fixed-width integer or float array: {values.dtype}")
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])
