"""The store reader's column conversion gives what pyarrow's own to_pylist gives."""

from __future__ import annotations

import pyarrow as pa
import pytest

from ebutool.store.schema import _pylist

COLUMNS = [
    pa.array([1, 2, 3], pa.int64()),
    pa.array([1, None, 3], pa.int64()),
    pa.array([2**63 + 5, 7], pa.uint64()),
    pa.array([True, False, True]),
    pa.array([True, None, False]),
    pa.array(["2001:db8::1", None, "2001:db8::1", "2001:db8::2"]),
    pa.array([None, None], pa.string()),
    pa.array([], pa.string()),
    pa.array([b"\x01\x02", None, b""], pa.binary()),
    pa.array(["BU", "BA", None, "BU"]).dictionary_encode(),
    pa.DictionaryArray.from_arrays(pa.array([None, None], pa.int8()), pa.array(["x"])),
]


@pytest.mark.parametrize("col", COLUMNS, ids=lambda c: str(c.type))
def test_pylist_is_to_pylist(col: pa.Array) -> None:
    got, want = _pylist(col), col.to_pylist()
    assert got == want
    assert [type(v) for v in got] == [type(v) for v in want]


def test_equal_texts_are_one_object() -> None:
    """(why: the analysis hashes each address once, not once per record)"""
    a, b = _pylist(pa.array(["2001:db8::1", "2001:db8::1"]))
    assert a is b
