"""Every OutputFormat has a renderer, and each honours the output contract."""

from __future__ import annotations

import csv
import io
import json
import math

import pandas as pd
import pytest

from ebutool.report import OutputFormat, render_bytes, render_table
from ebutool.report.formats import RENDERERS, TEXT_FORMATS


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "mn": ["2001:db8::1", "2001:db8::2"],
            "kind": ["early", "standard"],
            "t_handover": [1700000000.123456, 1700000001.5],
            "rtt_ro_ms": [20.0, float("nan")],
            "n": pd.array([3, None], dtype="Int64"),
            "ok": [True, False],
        }
    )


def test_every_format_is_covered():
    # parquet is binary (render_bytes); every other format has a text renderer
    assert set(RENDERERS) == set(TEXT_FORMATS)
    assert set(TEXT_FORMATS) | {OutputFormat.parquet} == set(OutputFormat)


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_every_text_format_renders_all_rows_and_columns(fmt):
    text = render_table(_frame(), fmt)
    for col in _frame().columns:
        if fmt is OutputFormat.zeek and col == "t_handover":
            col = "ts"  # a Zeek log's time column
        assert col.replace("_", r"\_") in text or col in text
    assert "2001:db8::2" in text


def test_csv_one_header_row_empty_for_missing():
    rows = list(csv.reader(io.StringIO(render_table(_frame(), OutputFormat.csv))))
    assert rows[0] == list(_frame().columns)
    assert len(rows) == 3
    assert rows[2][3] == "" and rows[2][4] == ""


def test_json_null_for_missing():
    data = json.loads(render_table(_frame(), OutputFormat.json))
    assert data[1]["rtt_ro_ms"] is None and data[1]["n"] is None
    assert data[0]["rtt_ro_ms"] == 20.0 and data[0]["n"] == 3 and data[0]["ok"] is True


def test_markdown_is_a_pipe_table_with_fixed_decimals():
    lines = render_table(_frame(), OutputFormat.markdown).splitlines()
    assert all(line.startswith("|") and line.endswith("|") for line in lines)
    assert set(lines[1].replace("|", "").replace(":", "").replace(" ", "")) == {"-"}
    assert "20.000" in lines[2]
    assert "1700000000.123456" in lines[2]  # times keep microseconds


def test_latex_is_booktabs():
    text = render_table(_frame(), OutputFormat.latex)
    assert "\\toprule" in text and "\\bottomrule" in text and "rtt\\_ro\\_ms" in text


def test_parquet_round_trip(tmp_path):
    pytest.importorskip("pyarrow")
    out = tmp_path / "t.parquet"
    out.write_bytes(render_bytes(_frame(), OutputFormat.parquet))
    back = pd.read_parquet(out)
    assert list(back.columns) == list(_frame().columns)
    assert math.isnan(back["rtt_ro_ms"][1]) and back["rtt_ro_ms"][0] == 20.0


def test_empty_frame_renders_headers():
    empty = _frame().iloc[0:0]
    assert render_table(empty, OutputFormat.csv).strip() == ",".join(empty.columns)
    assert json.loads(render_table(empty, OutputFormat.json)) == []


def test_markdown_aligns_numbers_right_and_text_left():
    rule = render_table(_frame(), OutputFormat.markdown).splitlines()[1]
    cells = rule.strip("|").split("|")
    # mn, kind text; t_handover, rtt_ro_ms, n numbers; ok boolean (text)
    assert [c.startswith(":") for c in cells] == [True, True, False, False, False, True]
    assert [c.endswith(":") for c in cells] == [False, False, True, True, True, False]


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_render_bytes_covers_every_format(fmt):
    pytest.importorskip("pyarrow")
    data = render_bytes(_frame(), fmt)
    assert data
    if fmt is OutputFormat.parquet:
        assert data[:4] == b"PAR1"
    else:
        assert data.decode("utf-8") == render_table(_frame(), fmt)


def test_library_never_writes_to_stdout(capsys):
    for fmt in OutputFormat:
        render_bytes(_frame(), fmt)
    assert capsys.readouterr().out == ""
