"""``ebutool report``: one self-contained HTML page per analysis (styles, script and
figures inline; nothing fetched when it is opened).

    from ebutool.report.html import build_report, ReportOptions
    page = build_report(["samples"], ReportOptions())      # the HTML text
    write_report(page, "report.html")

The page shows the claim's verdicts (``analyze --summary``), observed vs predicted
latencies per kind x mode (CDF, box plot) and the saving per early episode against
RTT_RO, the episode table (sorted, filtered and paged in the page; a row opens its
ladder diagram, drawn on demand from the episode's messages embedded as JSON), the
summary (and ``compare``'s table for several inputs), the diagnostics and how the
numbers were made (ebutool.report.html.how_made).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from ebutool.core.names import readable_text
from ebutool.report.html.data import ReportData, collect
from ebutool.report.html.figures import NO_FIGURES, figures_available
from ebutool.report.html.settings import ReportOptions

if TYPE_CHECKING:
    from ebutool.core.output_file import OutputFile

__all__ = [
    "NO_FIGURES",
    "ReportData",
    "ReportOptions",
    "build_report",
    "collect",
    "figures_available",
    "render",
    "write_report",
]


def _figures(data: ReportData) -> str:
    if data.figures is None:
        return (
            '<section id="figures"><h2>Observed and predicted latencies</h2>'
            f'<p class="statement">{escape(NO_FIGURES)}</p></section>'
        )
    body = "".join(
        f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"
        for caption, svg in data.figures
    )
    return (
        '<section id="figures"><h2>Observed and predicted latencies</h2>'
        '<p class="note">Counted episodes only (quality ok). Predicted: the latency the '
        "draft's formulas give for the episode's kind and mode from its own RTTs.</p>"
        f'<div class="figures">{body}</div></section>'
    )


EPISODES_SECTION = (
    '<section id="episodes"><h2>Episodes</h2>'
    '<p class="note">Filter and sort (click a column) in the page; click a row for its '
    "ladder diagram (the draft's Figures 1 and 2, drawn from the capture).</p>"
    '<div id="filters"></div><div id="pager"><button id="prev" type="button">previous</button>'
    '<button id="next" type="button">next</button><span id="count"></span></div>'
    '<div class="scroll"><table id="episode-table"><thead><tr></tr></thead><tbody></tbody>'
    '</table></div><div id="ladder"></div></section>'
)


def not_embedded_statement(data: ReportData) -> str:
    """What the page leaves out of its episode table ("" when nothing)."""
    if not data.not_embedded:
        return ""
    return (
        f"The episode table holds the first {data.options.max_rows:,} of "
        f"{data.n_episodes:,} episodes ({data.not_embedded:,} not embedded, "
        "--max-rows); the claim, figures and summary are of all of them."
    )


def not_embedded_note(data: ReportData) -> str:
    text = not_embedded_statement(data)
    return f'<p class="statement">{escape(text)}</p>' if text else ""


def render(data: ReportData) -> str:
    """The page of ``data`` (ebutool.report.html.data.collect)."""
    from ebutool.report.html import sections
    from ebutool.report.html.page import document, rows_payload

    names = ", ".join(data.paths) if len(data.paths) <= 3 else f"{len(data.paths)} inputs"
    title = data.options.title or f"ebutool report: {names}"
    record = data.record
    payload = rows_payload(data.embedded)
    payload["ladders"] = {str(k): v for k, v in data.ladders.items()}
    parts = [
        sections.claim_section(data),
        _figures(data),
        EPISODES_SECTION.replace("</h2>", f"</h2>{not_embedded_note(data)}", 1),
        sections.summary_section(data),
        sections.diagnostics_section(data),
        sections.record_section(record),
    ]
    return document(title, parts, payload, record)


def build_report(
    paths: Sequence[str], options: ReportOptions | None = None, progress: Any = None
) -> str:
    """The HTML report of the inputs ``paths`` (files; see ebutool.runner.inputs for
    directories) as text."""
    return render(collect(paths, options or ReportOptions(), progress))


def write_report(page: str, path: str | OutputFile) -> None:
    """Write the page to ``path``: an OutputFile (put in place when the command ends),
    or a file name ("-": standard output), written now through one (atomic for a
    regular file: ebutool.core.output_file)."""
    from ebutool.core.output_file import OutputFile

    out = path if isinstance(path, OutputFile) else OutputFile(path)
    out.write(readable_text(page).encode("utf-8"))  # (a file name not UTF-8: escaped)
    if not isinstance(path, OutputFile):
        try:
            out.commit()
        finally:
            out.discard()
