"""The paper table (``analyze --summary --format latex|markdown``): compact, its cells
from the summary's medians and intervals, and LaTeX that compiles with booktabs."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from ebutool.analysis import summarize
from ebutool.core.constants import MIN_CLAIM_SAMPLES
from ebutool.report import OutputFormat
from ebutool.report.formats import render_table
from ebutool.report.paper import PAPER_COLUMNS, paper_table

STD = [100.0, 104.0, 96.0, 110.0, 90.0, 102.0, 98.0, 120.0]
EARLY = [40.0, 44.0, 36.0, 50.0, 30.0, 42.0, 38.0, 60.0]


def episodes() -> pd.DataFrame:
    rows = [
        {
            "kind": "standard",
            "mode": "conservative",
            "send_latency_ms": v,
            "recv_latency_ms": v,
            "std_send_conserv_ms": 2 * v,
            "std_recv_ms": 3 * v,
        }
        for v in STD
    ] + [
        {
            "kind": "early",
            "mode": "conservative",
            "send_latency_ms": v,
            "recv_latency_ms": v,
            "early_send_conserv_ms": v / 2,
            "early_recv_ms": v / 4,
        }
        for v in EARLY
    ]
    return pd.DataFrame(rows)


def test_cells_are_the_summary_medians_and_intervals():
    summary = summarize(episodes())
    table = paper_table(summary)
    assert list(table.columns) == list(PAPER_COLUMNS) and len(PAPER_COLUMNS) <= 12
    assert list(zip(table["kind"], table["mode"], strict=True)) == [
        ("standard", "conservative"),
        ("early", "conservative"),
    ]
    std, early = table.iloc[0], table.iloc[1]
    assert int(std["n"]) == int(early["n"]) == 8
    # medians by hand; the interval is the summary's bootstrap interval
    assert std["send_observed_ms"].startswith(f"{np.median(STD):.1f} [")
    assert std["send_predicted_ms"].startswith(f"{2 * np.median(STD):.1f} [")  # std_send_conserv
    assert std["recv_predicted_ms"].startswith(f"{3 * np.median(STD):.1f} [")  # std_recv
    assert early["send_predicted_ms"].startswith(f"{np.median(EARLY) / 2:.1f} [")
    assert early["recv_predicted_ms"].startswith(f"{np.median(EARLY) / 4:.1f} [")
    row = summary[
        (summary["kind"] == "early")
        & (summary["mode"] == "conservative")
        & (summary["quantity"] == "send_latency")
    ].iloc[0]
    assert early["send_ratio"] == (
        f"{np.median(EARLY) / np.median(STD):.2f} "
        f"[{row['ratio_ci_low']:.2f}, {row['ratio_ci_high']:.2f}]"
    )
    assert std["send_ratio"] is None or pd.isna(std["send_ratio"])


def test_few_samples_give_no_interval():
    few = episodes().groupby("kind").head(MIN_CLAIM_SAMPLES - 1)
    table = paper_table(summarize(few))
    assert table.iloc[0]["send_observed_ms"] == f"{np.median(STD[: MIN_CLAIM_SAMPLES - 1]):.1f}"


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_latex_compiles_with_booktabs(tmp_path):
    body = render_table(paper_table(summarize(episodes())), OutputFormat.latex)
    doc = (
        "\\documentclass{article}\n\\usepackage{booktabs}\n\\usepackage[margin=1cm,"
        "landscape]{geometry}\n\\begin{document}\n" + body + "\\end{document}\n"
    )
    (tmp_path / "t.tex").write_text(doc)
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert (tmp_path / "t.pdf").stat().st_size > 0
    assert "\\toprule" in body and "send\\_observed\\_ms" in body


def test_cli_summary_markdown_is_the_paper_table(cli):
    from tests.support.cli import SAMPLES

    res = cli("analyze", SAMPLES / "mixed.pcap", "--summary", "-f", "markdown", "-q")
    assert res.exit_code == 0, res.output
    header = res.stdout.splitlines()[0]
    assert [c.strip() for c in header.strip("|").split("|")] == list(PAPER_COLUMNS)


def test_a_cell_with_fewer_samples_than_the_row_says_its_own_count():
    # two standard rows without a receive latency (e.g. not shown by the capture): the
    # row counts 8 episodes, the receive cells have 6 samples, and say so
    df = episodes()
    gone = df.index[df["kind"] == "standard"][:2]
    df.loc[gone, "recv_latency_ms"] = np.nan
    df.loc[gone, "std_recv_ms"] = np.nan
    std = paper_table(summarize(df)).iloc[0]
    assert int(std["n"]) == 8
    assert std["recv_observed_ms"].startswith(f"{np.median(STD[2:]):.1f}")
    assert std["recv_observed_ms"].endswith(" (n=6)")
    assert std["recv_predicted_ms"].endswith(" (n=6)")
    assert not std["send_observed_ms"].endswith(")")  # (all 8: no count of its own)
