"""CSV cells on the fast paths of the renderer: object columns that cannot hold bytes
are not scanned (report.cells.NO_BYTES), float64 epoch columns are formatted without a
cell() per value (report.formats._csv_column).  The expected text is written out by
hand here, not produced by the renderer's helpers."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd

from ebutool.report.formats import OutputFormat, render_table


def _csv_rows(df: pd.DataFrame) -> list[list[str]]:
    return list(csv.reader(io.StringIO(render_table(df, OutputFormat.csv))))


def test_text_mixed_with_bytes_is_hexed():
    # infer_dtype calls this column "mixed": it must still be scanned for bytes
    df = pd.DataFrame({"token": pd.Series(["absent", b"\x01\xab", None], dtype=object)})
    assert _csv_rows(df) == [["token"], ["absent"], ["01ab"], [""]]


def test_all_bytes_column_is_hexed():
    df = pd.DataFrame({"nonce": pd.Series([b"\x00\x10", b"\xff"], dtype=object)})
    assert _csv_rows(df) == [["nonce"], ["0010"], ["ff"]]


def test_text_column_is_left_as_text():
    df = pd.DataFrame({"mn": pd.Series(["2001:db8::1", None, "2001:db8::2"], dtype=object)})
    assert _csv_rows(df) == [["mn"], ["2001:db8::1"], [""], ["2001:db8::2"]]


def test_float_epoch_column_nan_is_empty_and_six_decimals():
    df = pd.DataFrame({"t_start": np.array([1700000000.25, np.nan, 1700000001.0]), "n": [1, 2, 3]})
    assert _csv_rows(df) == [
        ["t_start", "n"],
        ["1700000000.250000", "1"],
        ["", "2"],
        ["1700000001.000000", "3"],
    ]


def test_float_epoch_column_prints_exact_nanoseconds():
    ns = [1_700_000_000_123_456_789, 1_700_000_001_000_000_001]
    df = pd.DataFrame({"time": np.array([n / 1e9 for n in ns]), "k": ["a", "b"]})
    df.attrs["exact_ns"] = {n / 1e9: n for n in ns}
    df.attrs["time_decimals"] = 9
    assert _csv_rows(df) == [
        ["time", "k"],
        ["1700000000.123456789", "a"],
        ["1700000001.000000001", "b"],
    ]


def test_object_and_float_epoch_columns_print_alike():
    values = [1700000000.5, None, 1700000002.125]
    as_object = pd.DataFrame({"t_end": pd.Series(values, dtype=object)})
    as_float = pd.DataFrame({"t_end": pd.Series(values, dtype=float)})
    assert _csv_rows(as_object) == _csv_rows(as_float)
    assert _csv_rows(as_float)[2] == [""]
