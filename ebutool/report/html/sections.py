"""The report's static sections as HTML fragments (every value escaped): the claim's
verdicts, the summary, compare's table, the diagnostics and how the numbers were made.
"""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Iterable, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

import pandas as pd

from ebutool.analysis.claim import CLAIM_MODES, OBSERVED
from ebutool.report.cells import P_VALUE_COLUMNS, p_value_text

if TYPE_CHECKING:
    from ebutool.report.html.data import ReportData

DIFF_CI = ("diff_ci_low_ms", "diff_ci_high_ms")
MISSING = "\u2013"  # what an empty cell shows (its reason is in the section's text)


def cell(v: Any, digits: int = 3) -> str:
    """One value as escaped text: numbers to ``digits`` decimals, missing as a dash."""
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return MISSING
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return escape(f"{v:.{digits}f}".rstrip("0").rstrip(".") if v != int(v) else f"{v:.0f}")
    return escape(str(v))


P_DIGITS = 4  # decimals of a p-value on the page (below 0.0001: "< 0.0001")


def _p_text(v: Any) -> str | None:
    """A p-value as text, as :func:`cell` writes a number at :data:`P_DIGITS` decimals,
    but below their smallest value "< 0.0001" (ebutool.report.cells.p_value_text), never
    0; None: missing."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    p = float(v)
    return p_value_text(p, P_DIGITS) if p < 10.0**-P_DIGITS else cell(p, P_DIGITS)


def p_cell(v: Any) -> str:
    """A p-value as escaped text: :func:`cell`'s, but never 0."""
    text = _p_text(v)
    return MISSING if text is None else escape(text)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], cls: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in r) + "</tr>" for r in rows)
    return (
        f'<table class="{escape(cls)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def frame_table(df: pd.DataFrame, cls: str = "") -> str:
    """A DataFrame as an HTML table (p-value columns by :func:`p_cell`)."""
    shown = df.copy(deep=False)
    for c in P_VALUE_COLUMNS.intersection(df.columns):
        shown[c] = [_p_text(v) for v in df[c].tolist()]
    return table([str(c) for c in df.columns], shown.itertuples(index=False, name=None), cls)


def _pick(summary: pd.DataFrame, kind: str, mode: str, q: str) -> pd.Series | None:
    if summary.empty:
        return None
    rows = summary[
        (summary["kind"] == kind) & (summary["mode"] == mode) & (summary["quantity"] == q)
    ]
    return rows.iloc[0] if len(rows) else None


def _interval(row: pd.Series | None, mid: str, low: str, high: str) -> str:
    if row is None:
        return MISSING
    return f"{cell(row.get(mid))} [{cell(row.get(low))}, {cell(row.get(high))}]"


def _verdict(v: Any) -> str:
    text = cell(v if v is not None else "undetermined")
    cls = {"supported": "ok", "not supported": "bad"}.get(str(v), "neutral")
    return f'<span class="verdict {cls}">{text}</span>'


def claim_section(data: ReportData) -> str:
    """Both statements of the draft per mode and latency, with intervals and counts."""
    rows = []
    for q in OBSERVED:
        for mode in CLAIM_MODES:
            e = _pick(data.summary, "early", mode, q)
            s = _pick(data.summary, "standard", mode, q)
            n = lambda r: MISSING if r is None else cell(r.get("n"))  # noqa: E731
            rows.append(
                "<tr>"
                + f"<td>{escape(q.replace('_', ' '))}</td><td>{escape(mode)}</td>"
                + f"<td>{n(e)}</td><td>{n(s)}</td>"
                + f"<td>{_interval(e, 'median_ms', 'median_ci_low_ms', 'median_ci_high_ms')}</td>"
                + f"<td>{_interval(s, 'median_ms', 'median_ci_low_ms', 'median_ci_high_ms')}</td>"
                + f"<td>{_interval(e, 'ratio_to_standard', 'ratio_ci_low', 'ratio_ci_high')}</td>"
                + f"<td>{cell(e.get('model_ratio') if e is not None else None)}</td>"
                + f"<td>{_interval(e, 'diff_to_standard_ms', *DIFF_CI)}</td>"
                + f"<td>{cell(e.get('rtt_ro_median_ms') if e is not None else None)}</td>"
                + f"<td>{cell(e.get('p_method') if e is not None else None)}</td>"
                + f"<td>{p_cell(e.get('p_holm') if e is not None else None)}</td>"
                + f"<td>{_verdict(e.get('claim') if e is not None else None)}</td>"
                + f"<td>{_verdict(e.get('claim_rtt_sooner') if e is not None else None)}</td>"
                + "</tr>"
            )
    head = (
        "latency", "mode", "early n", "standard n", "early median ms [95% CI]",
        "standard median ms [95% CI]", "ratio [95% CI]", "model ratio",
        "sooner by ms [95% CI]", "RTT_RO median ms", "p method", "p (Holm)", "half or less",
        "one RTT sooner",
    )  # fmt: skip
    lines = data.claim_text.splitlines()
    verdicts = "".join(f'<p class="statement">{escape(v)}</p>' for v in lines[-2:])
    heads = "".join(f"<th>{escape(h)}</th>" for h in head)
    left = "".join(f"<tr><td>{escape(k)}</td><td>{v}</td></tr>" for k, v in data.exclusions.items())
    return (
        f'<section id="claim"><h2>The draft\'s claim</h2>{verdicts}'
        f'<div class="scroll"><table class="claim"><thead><tr>{heads}'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        f'<p class="note">{escape(lines[0].rstrip(":") + "." if lines else "")}</p>'
        f'<p class="note">{escape(data.exclusion_text)}</p>'
        + (
            f'<table class="small"><thead><tr><th>left out because</th><th>episodes</th></tr>'
            f"</thead><tbody>{left}</tbody></table>"
            if left
            else ""
        )
        + f"<details><summary>The comparisons in words</summary><pre>{escape(data.claim_text)}"
        f"\n\n{escape(data.counterfactual_text)}</pre></details></section>"
    )


def summary_section(data: ReportData) -> str:
    """The analyze --summary table, and compare's table when there is one."""
    out = [
        '<section id="summary"><h2>Summary per kind x mode</h2>',
        '<div class="scroll">' + frame_table(data.summary, "summary") + "</div>",
    ]
    if data.compare is not None:
        out.append(f"<h3>Compared by {escape(data.options.by)}</h3>")
        out.append('<div class="scroll">' + frame_table(data.compare, "summary") + "</div>")
    out.append("</section>")
    return "".join(out)


def diagnostics_section(data: ReportData) -> str:
    """Warning codes with counts, then the first kept diagnoses of each (frame, source)."""
    d = data.diag
    if not d.counts:
        body = "<p>No warnings: every packet was read.</p>"
    else:
        counts = table(("code", "count"), sorted(d.counts.items()), "small")
        kept = table(
            ("code", "source", "frame", "message"),
            ((k.code, k.source or MISSING, k.frame, k.message) for k in d.kept),
        )
        body = f"{counts}<h3>First occurrences (at most {d.keep} per code)</h3>{kept}"
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in data.ladder_notes)
    stats = data.stats
    read = (
        f"{stats.frames} frames read{stats.numbered_note()}, "
        f"{sum(stats.messages.values())} Mobility Header messages"
    )
    return (
        f'<section id="diagnostics"><h2>Diagnostics</h2><p>{escape(read)}.</p>'
        f"{body}{notes}</section>"
    )


def _or_reason(value: Any, reason: Any) -> Any:
    return value if value is not None else f"({reason})" if reason else None


def record_section(record: dict[str, Any]) -> str:
    """How the numbers were made: the provenance record (ebutool.report.provenance)."""
    inputs = table(
        ("input", "size (octets)", "sha256"),
        (
            (i["name"], i["size_bytes"], _or_reason(i["sha256"], i.get("reason")))
            for i in record["inputs"]
        ),
        "inputs",
    )
    vantage = table(
        ("input", "vantage", "how decided"),
        (
            (
                v.get("source"),
                v.get("role"),
                "given (--vantage)" if v.get("given") else v.get("evidence"),
            )
            for v in record["vantage"]
        ),
        "inputs",
    )
    clocks = record.get("clock_offsets")
    clock_text = (
        table(list(clocks[0]), (list(c.values()) for c in clocks), "small")
        if clocks
        else f'<p class="note">{escape(str(record.get("clock_offsets_reason", "")))}</p>'
    )
    consts = table(
        ("constant", "option", "value", "default", "unit", "changed"),
        (
            (c["constant"], c["option"], c["value"], c["default"], c["unit"], c["changed"])
            for c in record["protocol_constants"]
        ),
        "small",
    )
    settings = table(("setting", "value"), (record.get("claim_settings") or {}).items(), "small")
    stats = record["statistics"]
    left = ", ".join(f"{k} {v}" for k, v in (stats.get("left_out") or {}).items()) or "none"
    command = _or_reason(
        # (a shell splits it back into the record's words: a name with a space is one)
        shlex.join(record["command_line"]) if record.get("command_line") else None,
        record.get("command_line_reason"),
    )
    return (
        f'<section id="record"><h2>How the numbers were made</h2>'
        f"<p>ebutool {escape(str(record['ebutool_version']))}; command line: "
        f"{escape(str(command))}.</p>"
        f"<p>{stats['episodes']} episodes, {stats['counted']} in the statistics "
        f"({escape(str(stats.get('rule', '')))}); left out: {escape(left)}.</p>"
        f'<h3>Inputs</h3><div class="scroll">{inputs}</div>'
        f'<h3>Vantage points</h3><div class="scroll">{vantage}</div>'
        f"<h3>Clock offsets</h3>{clock_text}"
        f"<h3>Protocol constants in force</h3>{consts}"
        f"<h3>Claim statistics</h3>{settings}"
        "<details><summary>The record as JSON (also in the page's "
        "<code>ebutool-provenance</code> element)</summary><pre>"
        f"{escape(json.dumps(record, indent=1, ensure_ascii=False))}</pre></details></section>"
    )
