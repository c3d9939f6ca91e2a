"""Markdown (pipe table) output escapes ``|`` and ``\\`` in its cells, so a ``|`` (a file
named ``a|b.pcap``) does not end a cell and shift the row's later columns, and GFM shows
every cell as it was (docs/outputs.md).

The cells are read back here as GitHub-flavoured markdown reads a table row (GFM spec,
"Tables"; cmark-gfm): split at each ``|`` not escaped as ``\\|``, ``\\|`` made ``|``,
then a backslash before ASCII punctuation is dropped (inline backslash escapes)."""

from __future__ import annotations

import shutil
import string

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from ebutool.report.formats import render_table
from ebutool.report.output_format import OutputFormat
from ebutool.report.spilled import SpilledRenderer
from tests.support.cli import SAMPLES, run_cli

PIPE_NAME = "a|b.pcap"  # the reviewer's file name
TRICKY = (PIPE_NAME, "c\\|d", "ends in \\", "x | y | z", "plain")
HEADER_AND_RULE = 2  # the lines of a pipe table before its rows


def gfm_cells(line: str) -> list[str]:
    """One pipe-table row's cells as GFM reads them (module doc)."""
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    cells, cur, i = [], "", 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body) and body[i + 1] == "|":
            cur, i = cur + "\\|", i + 2
        elif body[i] == "|":
            cells.append(cur)
            cur, i = "", i + 1
        else:
            cur, i = cur + body[i], i + 1
    if cur.strip():
        cells.append(cur)
    return [_inline(c.replace("\\|", "|").strip()) for c in cells]


def _inline(text: str) -> str:
    out, i = "", 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in string.punctuation:
            out, i = out + text[i + 1], i + 2
        else:
            out, i = out + text[i], i + 1
    return out


def _rows(markdown: str) -> list[list[str]]:
    lines = [line for line in markdown.splitlines() if line.strip()]
    return [gfm_cells(line) for line in lines[HEADER_AND_RULE:]]


def test_cells_with_pipes_and_backslashes_read_back_as_they_were():
    df = pd.DataFrame({"source": list(TRICKY), "kind": ["standard"] * len(TRICKY)})
    text = render_table(df, OutputFormat.markdown)
    assert _rows(text) == [[name, "standard"] for name in TRICKY]


CELL_TEXT = st.text(alphabet=st.sampled_from([*"ab |\\.-_"]), max_size=8)


@settings(max_examples=60, deadline=None)
@given(st.lists(CELL_TEXT, min_size=1, max_size=12), st.integers(1, 5))
def test_any_text_keeps_its_columns_also_in_pieces(texts, piece):
    df = pd.DataFrame({"note": texts, "n": list(range(len(texts)))})
    spilled = SpilledRenderer(OutputFormat.markdown)
    for start in range(0, len(df), piece):
        spilled.piece(df.iloc[start : start + piece].reset_index(drop=True))
    streamed = b"".join(spilled.chunks()).decode("utf-8")
    for text in (render_table(df, OutputFormat.markdown), streamed):
        assert _rows(text) == [[t.strip(), str(i)] for i, t in enumerate(texts)]


def test_cli_analyze_and_compare_of_a_file_named_with_a_pipe(tmp_path):
    path = tmp_path / PIPE_NAME
    shutil.copy(SAMPLES / "standard.pcap", path)
    res = run_cli("analyze", path, "-f", "markdown", "-c", "source,kind", "-q")
    assert res.exit_code == 0, res.output
    rows = _rows(res.stdout)
    assert rows and all(r == [PIPE_NAME, "standard"] for r in rows), res.stdout
    res = run_cli("compare", path, "-f", "markdown", "-c", "file,kind,mode", "-q")
    assert res.exit_code == 0, res.output
    rows = _rows(res.stdout)
    assert rows and all(len(r) == 3 and r[0] == PIPE_NAME for r in rows), res.stdout
