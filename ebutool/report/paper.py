"""The paper table: ``analyze --summary --format latex|markdown`` (issue 17 item 2).

A compact view of the summary table (:func:`ebutool.analysis.summarize`; its column
names in docs/reports.md) that fits a page: per kind x mode (the "all" margins left out,
they mix modes), the counted episodes and, for the send and the receive latency, the
observed median and the median of the latency the draft's formulas predict for those
episodes (the formula that models what they did: ``predicting_formula``), each with its
95% bootstrap interval, and for early episodes the early/standard ratio of medians with
its interval.  A cell is ``median [low, high]``, followed by ``(n=K)`` when it had
fewer samples than the row's ``n``; an interval is left out below
``--min-claim-samples`` samples, a value that cannot be observed is empty.
"""

from __future__ import annotations

import math

import pandas as pd

from ebutool.analysis.formulas import PROCEDURE_OF_KIND, predicting_formula

PAPER_COLUMNS = (
    "kind",
    "mode",
    "n",
    "send_observed_ms",
    "send_predicted_ms",
    "recv_observed_ms",
    "recv_predicted_ms",
    "send_ratio",
    "recv_ratio",
)
QUANTITIES = (("send", "send_latency"), ("recv", "recv_latency"))
ALL = "all"


def _num(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _cell(median, low, high, digits: int) -> str | None:
    m = _num(median)
    if m is None:
        return None
    lo, hi = _num(low), _num(high)
    if lo is None or hi is None:
        return f"{m:.{digits}f}"
    return f"{m:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def _stat(rows: pd.DataFrame, quantity: str | None, counted: int) -> str | None:
    """The cell of ``quantity``'s median; with its own sample count, ``(n=K)``, when it
    had fewer values than the row's ``counted`` episodes (e.g. rows whose receive
    latency the capture does not show): a cited cell always carries its sample size."""
    if quantity is None:
        return None
    sel = rows[rows["quantity"] == quantity]
    if not len(sel) or not sel.iloc[0]["n"]:
        return None
    r = sel.iloc[0]
    cell = _cell(r["median_ms"], r["median_ci_low_ms"], r["median_ci_high_ms"], 1)
    n = int(r["n"])
    return f"{cell} (n={n})" if cell is not None and n != counted else cell


def _ratio(rows: pd.DataFrame, quantity: str) -> str | None:
    sel = rows[rows["quantity"] == quantity]
    if not len(sel):
        return None
    r = sel.iloc[0]
    return _cell(r["ratio_to_standard"], r["ratio_ci_low"], r["ratio_ci_high"], 2)


def paper_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The compact table (:data:`PAPER_COLUMNS`) of a summary table."""
    out = []
    groups = summary[summary["mode"] != ALL]
    for (kind, mode), rows in groups.groupby(["kind", "mode"], sort=False):
        procedure = PROCEDURE_OF_KIND.get(str(kind))
        counted = int(rows.iloc[0]["counted"])
        row: dict[str, object] = {"kind": kind, "mode": mode, "n": counted}
        for short, quantity in QUANTITIES:
            row[f"{short}_observed_ms"] = _stat(rows, quantity, counted)
            row[f"{short}_predicted_ms"] = _stat(
                rows, predicting_formula(procedure, quantity, str(mode)), counted
            )
            row[f"{short}_ratio"] = _ratio(rows, quantity) if kind != "standard" else None
        out.append(row)
    table = pd.DataFrame(out, columns=list(PAPER_COLUMNS))
    table["n"] = table["n"].astype("Int64")
    return table
