"""A p-value is never 0: where fixed decimals would print one as 0 (1.66e-12, the
reviewer's case, was "0.000" in ``-f table`` and "0" in the HTML report), the text
formats print "< 0.001" and the HTML report "< 0.0001"; CSV and JSON keep the exact
value (docs/outputs.md, "Numbers and missing values")."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from ebutool.report.formats import render_table

TINY_P = 1.66e-12  # a Mann-Whitney p-value of two well separated samples
BELOW_THREE = 0.00049  # rounds to 0.000 at three decimals
ORDINARY_P = 0.2
TEXT_DECIMALS = 3  # render_table's default
TEXT_FLOOR = "< 0.001"  # what a p-value below 10^-3 prints as in the text formats
HTML_FLOOR = "< 0.0001"  # the HTML report's, at four decimals
HTML_BELOW_FOUR = 0.00004  # below 10^-4: the page's floor
HTML_ABOVE_FOUR = 0.00049  # above 10^-4: four decimals on the page


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kind": ["early", "early", "early"],
            "p_value": [TINY_P, ORDINARY_P, BELOW_THREE],
            "p_holm": [float("nan"), BELOW_THREE, ORDINARY_P],
            "median_ms": [BELOW_THREE, BELOW_THREE, BELOW_THREE],  # not a p-value: 0.000
        }
    )


def _cells(text: str, fmt: str) -> list[list[str]]:
    """The body cells of a markdown or simple table."""
    lines = [line for line in text.splitlines() if line.strip()]
    if fmt == "markdown":
        return [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    return [[c.strip() for c in line.split("  ") if c.strip()] for line in lines[2:]]


def test_markdown_prints_small_p_values_as_below_the_floor():
    rows = _cells(render_table(_table(), "markdown"), "markdown")
    assert [r[1:] for r in rows] == [
        [TEXT_FLOOR, "", "0.000"],
        [f"{ORDINARY_P:.{TEXT_DECIMALS}f}", TEXT_FLOOR, "0.000"],
        [TEXT_FLOOR, f"{ORDINARY_P:.{TEXT_DECIMALS}f}", "0.000"],
    ]


def test_table_and_latex_never_print_a_p_value_of_zero():
    text = render_table(_table(), "table")
    rows = _cells(text, "table")
    assert rows[0][:2] == ["early", TEXT_FLOOR]
    assert rows[1][:3] == ["early", f"{ORDINARY_P:.{TEXT_DECIMALS}f}", TEXT_FLOOR]
    latex = render_table(_table(), "latex")
    assert latex.count(r"\ensuremath{<} 0.001") == 3  # (tabulate escapes the "<")


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_csv_and_json_keep_the_exact_value(fmt):
    text = render_table(_table(), fmt)
    back = pd.read_csv(io.StringIO(text)) if fmt == "csv" else pd.DataFrame(json.loads(text))
    assert back["p_value"].tolist() == [TINY_P, ORDINARY_P, BELOW_THREE]


def test_html_p_values_never_read_as_zero():
    from ebutool.report.html.sections import frame_table, p_cell

    assert p_cell(TINY_P) == "&lt; 0.0001" and p_cell(HTML_BELOW_FOUR) == "&lt; 0.0001"
    assert p_cell(HTML_ABOVE_FOUR) == f"{HTML_ABOVE_FOUR:.4f}"
    assert p_cell(None) == p_cell(float("nan")) == "\u2013"  # missing: the page's dash
    html = frame_table(_table())
    cells = [c for c in html.split("<td>")[1:]]
    p_value_cells = [c.split("</td>")[0] for c in cells[1::4]]
    assert p_value_cells == ["&lt; 0.0001", "0.2", "0.0005"]
    assert HTML_FLOOR.replace("<", "&lt;") in html


def test_the_p_value_columns_are_the_summary_probabilities():
    from ebutool.analysis.summary_columns import SUMMARY_COLUMN_DOCS
    from ebutool.report.cells import P_VALUE_COLUMNS

    probabilities = {c for c, (_, unit, _) in SUMMARY_COLUMN_DOCS.items() if unit == "probability"}
    assert probabilities == P_VALUE_COLUMNS
