"""How the numbers were made, for the page: the provenance record of
:func:`ebutool.report.provenance.build_provenance` (ebutool's version, the protocol
constants in force, the inputs' names, sizes and SHA-256, vantage points, clock offsets
where known, the claim's settings and the episodes left out of the statistics).

:func:`how_made` is the one place the report asks for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ebutool.report.html.data import ReportData

NO_COMMAND_LINE = "not recorded in the report (its inputs and options are listed here)"


def how_made(data: ReportData) -> dict[str, Any]:
    """The provenance record of the report's numbers (module doc)."""
    from ebutool.report.html.data import claim_settings
    from ebutool.report.provenance import build_provenance

    options = data.options
    extra: dict[str, Any] = {
        "filters": {"mn": options.mn, "cn": options.cn, "merge": options.merge},
        "compared_by": options.by if data.compare is not None else None,
    }
    if options.command_line is None and options.from_cli:
        extra["command_line_reason"] = NO_COMMAND_LINE
    return build_provenance(
        data.paths,
        config=options.config,
        episodes=data.episodes,
        command="report",
        command_line=options.command_line,
        settings=claim_settings(options),
        extra=extra,
    )
