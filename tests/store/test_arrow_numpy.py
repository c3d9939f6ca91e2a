"""ebutool.store.arrow_numpy against pyarrow's own conversions (which import pandas)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import ebutool
from ebutool.store.arrow_numpy import arrow_of, filled, numpy_of, valid

ROOT = os.path.dirname(os.path.dirname(ebutool.__file__))  # (the ebutool under test)

KINDS = [pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint64(), pa.float64()]


def _arrays(kind: pa.DataType, nulls: bool) -> list[pa.Array | pa.ChunkedArray]:
    """Arrays of ``kind``: whole, sliced at odd offsets (not on an octet of the bitmaps),
    empty, chunked (with an empty chunk)."""
    rng = np.random.default_rng(7)
    values = rng.integers(0, 100, 53).tolist()
    cells = [None if nulls and i % 5 == 2 else v for i, v in enumerate(values)]
    whole = pa.array(cells, kind)
    return [
        whole,
        whole.slice(3),
        whole.slice(11, 29),
        whole.slice(5, 0),
        pa.chunked_array([whole.slice(0, 13), whole.slice(13, 0), whole.slice(17)], kind),
        pa.chunked_array([], kind),
    ]


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_numpy_of_is_to_numpy(kind):
    for arr in _arrays(kind, nulls=False):
        got = numpy_of(arr)
        want = arr.to_numpy()
        assert got.dtype == want.dtype
        assert got.tolist() == want.tolist()


def test_booleans():
    cells = [bool(v) for v in np.random.default_rng(3).integers(0, 2, 45)]
    whole = pa.array(cells, pa.bool_())
    for arr in (whole, whole.slice(3), whole.slice(9, 20), pa.chunked_array([whole, whole[5:]])):
        assert numpy_of(arr).tolist() == arr.to_numpy(zero_copy_only=False).tolist()
        assert numpy_of(arr).dtype == bool


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_valid_and_filled_are_pyarrows(kind):
    for arr in _arrays(kind, nulls=True) + _arrays(kind, nulls=False):
        assert valid(arr).tolist() == pc.is_valid(arr).to_pylist()
        got = filled(arr, 7)
        assert got.dtype == np.dtype(kind.to_pandas_dtype())
        assert got.tolist() == arr.fill_null(7).to_numpy().tolist()


def test_filled_with_a_value_out_of_the_type():
    arr = pa.array([1, None, 3], pa.int8())
    assert filled(arr, 128).tolist() == [1, 128, 3]
    assert filled(pa.array([None, 2], pa.uint8()), -1).tolist() == [-1, 2]


def test_numpy_of_refuses_nulls_and_other_types():
    with pytest.raises(ValueError):
        numpy_of(pa.array([1, None], pa.int64()))
    with pytest.raises(TypeError):
        numpy_of(pa.array(["a"], pa.string()))
    with pytest.raises(TypeError):
        arrow_of(np.array(["a"], dtype=object))


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8, np.float64])
def test_arrow_of_is_pa_array(dtype):
    values = np.arange(40, dtype=dtype)[::3]  # (not contiguous: copied)
    for v in (values, np.arange(5, dtype=dtype), np.empty(0, dtype)):
        got = arrow_of(v)
        assert got.equals(pa.array(v))
        assert got.type == pa.array(v).type


def test_table_take_with_arrow_of():
    table = pa.table({"a": pa.array(list(range(10)), pa.int64()), "s": list("abcdefghij")})
    idx = np.array([9, 0, 4], np.int64)
    assert table.take(arrow_of(idx)).equals(table.take(pa.array(idx)))


def test_no_pandas_imported():
    """What the module is for: pyarrow's conversions would import pandas, these do not."""
    code = (
        "import sys, numpy as np, pyarrow as pa\n"
        "from ebutool.store.arrow_numpy import arrow_of, filled, numpy_of, valid\n"
        "a = pa.Array.from_buffers(pa.int64(), 4, [None, pa.py_buffer(np.arange(4))])\n"
        "assert numpy_of(a).tolist() == [0, 1, 2, 3]\n"
        "valid(a); filled(a, -1); arrow_of(np.arange(3))\n"
        "a.slice(1).to_numpy()  # (pyarrow's own: the check that the test can fail)\n"
        "print('pandas' in sys.modules)\n"
    )
    mine = code.replace("a.slice(1).to_numpy()", "pass")
    for text, imported in ((code, "True"), (mine, "False")):
        run = subprocess.run([sys.executable, "-c", text], capture_output=True, text=True, cwd=ROOT)
        assert run.stdout == imported + "\n", run.stderr
