"""How the numbers were made, for the page: the provenance record of
:func:`ebutool.report.provenance.build_provenance` (ebutool's version, the protocol
constants in force, the inputs' names, sizes and SHA-256, vantage points, clock offsets
where known, the claim's settings and the episodes left out of the statistics).

:func:`how_made` is the one place the report asks for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from ebutool.report.html.settings import ReportOptions

NO_COMMAND_LINE = "not recorded in the report (its inputs and options are listed here)"


def how_made(
    paths: list[str], options: ReportOptions, episodes: pd.DataFrame, compared: bool
) -> dict[str, Any]:
    """The provenance record of the report's numbers (module doc): ``episodes`` every
    episode's statistics columns (with the analysis' attrs), ``compared`` whether the
    page has compare's table."""
    from ebutool.report.html.settings import claim_settings
    from ebutool.report.provenance import build_provenance

    extra: dict[str, Any] = {
        "filters": {"mn": options.mn, "cn": options.cn, "merge": options.merge},
        "compared_by": options.by if compared else None,
    }
    if options.command_line is None and options.from_cli:
        extra["command_line_reason"] = NO_COMMAND_LINE
    return build_provenance(
        paths,
        config=options.config,
        episodes=episodes,
        command="report",
        command_line=options.command_line,
        settings=claim_settings(options),
        extra=extra,
    )
