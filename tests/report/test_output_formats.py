"""ndjson and zeek (issue 15 item 4): each parsed back by its own reader (pandas for
NDJSON, an independent Zeek-log reader for zeek); CSV and JSON time precision; the
Zeek ``weird`` log of the per-packet warnings."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from decimal import ROUND_HALF_EVEN, Decimal

import pandas as pd
import pytest

from ebutool.report import OutputFormat, render_table
from tests.report.zeek_reader import read_zeek
from tests.support.cli import SAMPLES, run_cli

MIXED = SAMPLES / "mixed.pcap"
ZEEK_HEADER = [
    "#separator \\x09",
    "#set_separator\t,",
    "#empty_field\t(empty)",
    "#unset_field\t-",
]


def _csv(*args) -> tuple[list[str], list[dict]]:
    res = run_cli(*args, "-f", "csv", "-q")
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    header = next(csv.reader(io.StringIO(res.stdout)))
    return header, rows


def _same(zeek_value, csv_text: str, ztype: str) -> bool:
    """A Zeek value against the CSV cell of the same row and column."""
    if csv_text == "":  # CSV writes an empty string and a missing value alike
        return zeek_value in (None, "", [])
    if ztype in ("time", "double"):
        return math.isclose(zeek_value, float(csv_text), rel_tol=0, abs_tol=1e-6)
    if ztype in ("count", "int"):
        return zeek_value == int(csv_text)
    if ztype == "bool":
        return zeek_value == (csv_text == "True")
    if ztype == "set[string]":
        return zeek_value == csv_text.split(";")
    return zeek_value == csv_text


@pytest.mark.parametrize(
    "args,time_column",
    [(("analyze", MIXED), "t_handover"), (("decode", MIXED), "time")],
)
def test_zeek_parsed_back_equals_csv(args, time_column):
    header, rows = _csv(*args)
    res = run_cli(*args, "-f", "zeek", "-q")
    assert res.exit_code == 0, res.output
    text = res.stdout
    assert text.split("\n")[:4] == ZEEK_HEADER
    assert "#open" not in text and "#close" not in text  # reproducible output
    zh, zrows = read_zeek(text)
    assert zh["path"] == f"ebutool_{'episodes' if args[0] == 'analyze' else 'decode'}"
    # ts is the table's time column, first, typed time
    assert zh["fields"] == ["ts"] + [c for c in header if c != time_column]
    types = dict(zip(zh["fields"], zh["types"], strict=True))
    assert types["ts"] == "time"
    assert all(types[c] == "double" for c in zh["fields"] if c.endswith("_ms"))
    assert len(zrows) == len(rows) > 0
    for zrow, crow in zip(zrows, rows, strict=True):
        for field, ztype in types.items():
            cell = crow[time_column if field == "ts" else field]
            assert _same(zrow[field], cell, ztype), (field, ztype, zrow[field], cell)


def test_zeek_unset_empty_and_escapes():
    df = pd.DataFrame(
        {
            "t_handover": [1700000001.8366048, None],
            "mn": ["2001:db8::1", None],
            "note": ["a\tb,c", ""],
            "dash": ["-", "(empty)"],
            "rtt_ha_ms": [1.5, float("nan")],
            "n": pd.array([2, None], dtype="Int64"),
            "ok": pd.array([True, None], dtype="boolean"),
            "diagnosis": ["x;y", None],
        }
    )
    zh, rows = read_zeek(render_table(df, OutputFormat.zeek))
    assert zh["types"] == [
        "time", "addr", "string", "string", "double", "count", "bool", "set[string]"
    ]  # fmt: skip
    assert rows[0] == {
        "ts": 1700000001.836605,
        "mn": "2001:db8::1",
        "note": "a\tb,c",
        "dash": "-",
        "rtt_ha_ms": 1.5,
        "n": 2,
        "ok": True,
        "diagnosis": ["x", "y"],
    }
    assert rows[1] == {
        "ts": None,
        "mn": None,
        "note": "",
        "dash": "(empty)",
        "rtt_ha_ms": None,
        "n": None,
        "ok": None,
        "diagnosis": None,
    }


def test_zeek_types_of_object_columns_by_their_values():
    df = pd.DataFrame(
        {
            "tentative_start": pd.Series([1704110401.024, None], dtype=object),
            "tentative_ms": pd.Series([70.0, None], dtype=object),
            "n": pd.Series([3, None], dtype=object),
            "ok": pd.Series([True, None], dtype=object),
        }
    )
    zh, rows = read_zeek(render_table(df, OutputFormat.zeek))
    assert zh["types"] == ["time", "double", "count", "bool"]
    assert rows[0] == {"tentative_start": 1704110401.024, "tentative_ms": 70.0, "n": 3, "ok": True}
    assert rows[1] == dict.fromkeys(zh["fields"])


def test_ndjson_read_by_pandas_equals_csv():
    header, rows = _csv("analyze", MIXED)
    res = run_cli("analyze", MIXED, "-f", "ndjson", "-q")
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert len(lines) == len(rows) > 1
    assert all(json.loads(line).keys() == set(header) for line in lines)  # one object a line
    df = pd.read_json(io.StringIO(res.stdout), lines=True)
    assert list(df.columns) == header
    for i, crow in enumerate(rows):
        for col in header:
            got, want = df[col][i], crow[col]
            if want == "":
                assert got is None or pd.isna(got), (col, got)
            elif want in ("True", "False"):
                assert bool(got) == (want == "True"), (col, got)
            elif pd.api.types.is_number(got):
                assert math.isclose(float(got), float(want), abs_tol=1e-6), (col, got, want)
            else:
                assert str(got) == want, (col, got, want)


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "t_handover": [1700000001.8366048, 1700000002.0],
            "rtt_ro_ms": [1.23456789, 20.0],
            "ratio": [1 / 3, 0.5],
        }
    )


def _micro(value: float, places: int) -> float:
    return float(Decimal(repr(value)).quantize(Decimal(10) ** -places, ROUND_HALF_EVEN))


@pytest.mark.parametrize("fmt", [OutputFormat.json, OutputFormat.ndjson])
def test_json_numbers_rounded_to_microseconds(fmt):
    text = render_table(_frame(), fmt)
    recs = json.loads(text) if fmt is OutputFormat.json else [json.loads(x) for x in text.split()]
    assert recs[0]["t_handover"] == _micro(1700000001.8366048, 6) == 1700000001.836605
    assert recs[0]["rtt_ro_ms"] == _micro(1.23456789, 3) == 1.235
    assert recs[0]["ratio"] == 1 / 3  # not a time: as computed
    assert "1700000001.8366048" not in text


def test_csv_epoch_times_have_six_fixed_decimals():
    rows = list(csv.reader(io.StringIO(render_table(_frame(), OutputFormat.csv))))
    assert [r[0] for r in rows[1:]] == ["1700000001.836605", "1700000002.000000"]
    for args, col in ((("analyze", MIXED), "t_handover"), (("decode", MIXED), "time")):
        _, rows2 = _csv(*args)
        cells = [r[col] for r in rows2 if r[col]]
        assert cells and all(re.fullmatch(r"\d{10}\.\d{6}", c) for c in cells), cells[:3]


def test_csv_epoch_times_fixed_in_an_object_column():
    # a table put together from several files may hold its floats in an object column
    df = pd.DataFrame({"tentative_start": pd.Series([1704110401.024, None], dtype=object)})
    rows = list(csv.reader(io.StringIO(render_table(df, OutputFormat.csv))))
    assert rows[1:] == [["1704110401.024000"], [""]]


def _truncated(tmp_path):
    data = (SAMPLES / "standard.pcap").read_bytes()
    bad = tmp_path / "cut.pcap"
    bad.write_bytes(data[: len(data) - 7])  # the last record cut short
    return bad


@pytest.mark.parametrize("cmd", ["decode", "analyze", "verify", "replay"])
def test_weird_log_holds_the_warnings(tmp_path, cmd):
    bad = _truncated(tmp_path)
    weird = tmp_path / "weird.log"
    res = run_cli(cmd, bad, "-f", "csv", "--weird-log", weird)
    assert res.exit_code in (0, 1), res.output
    counted = re.search(r"warnings: (.*)", res.stderr)
    assert counted, res.stderr
    zh, rows = read_zeek(weird.read_text())
    assert zh["path"] == "weird"
    assert zh["fields"][:1] == ["ts"] and "name" in zh["fields"] and "addl" in zh["fields"]
    names = {r["name"] for r in rows}
    for item in counted.group(1).split(", "):
        assert item.split()[0] in names
    cut = [r for r in rows if r["name"] == "truncated_record"]
    assert cut and cut[0]["frame"] is not None and cut[0]["ts"] is None


def test_weird_log_without_warnings_is_an_empty_log(tmp_path):
    weird = tmp_path / "weird.log"
    res = run_cli("decode", MIXED, "-f", "csv", "-q", "--weird-log", weird)
    assert res.exit_code == 0
    zh, rows = read_zeek(weird.read_text())
    assert rows == [] and zh["path"] == "weird"
    assert zh["types"] == ["time", "string", "count", "string", "string", "bool", "string"]


def test_weird_log_to_stdout_is_refused():
    res = run_cli("decode", MIXED, "--weird-log", "-")
    assert res.exit_code == 2 and "weird-log" in res.stderr
