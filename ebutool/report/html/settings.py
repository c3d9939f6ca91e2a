"""How the report's numbers are made: analyze's options, gathered for
:func:`ebutool.report.html.data.collect`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ebutool.core.constants import DEFAULT_CONFIG, MAX_EMBEDDED_ROWS, ProtocolConfig

if TYPE_CHECKING:
    from ebutool.analysis.claim_stats import ClaimSettings
    from ebutool.esp.sa import EspSA
    from ebutool.oracle.keys import KeyTable


@dataclass
class ReportOptions:
    """How the report's numbers are made: analyze's options (module doc)."""

    config: ProtocolConfig = DEFAULT_CONFIG
    keys: KeyTable | None = None
    esp_sas: Sequence[EspSA] = ()
    mn: str | None = None
    cn: str | None = None
    merge: bool = False
    vantage: dict[str, str] = field(default_factory=dict)
    no_merge: bool = False  # not even a rotated capture's pieces (analyze --no-merge)
    clock_offsets: dict[str, Any] | None = None  # merged views' clocks (--clock-offset)
    jobs: int = 1
    cluster: str | None = None  # a record store's analysis on Dask (analyze --cluster)
    by: str = "file"  # compare's grouping for several inputs (ebutool.report.compare)
    settings: ClaimSettings | None = None  # None: the defaults of analyze --summary
    title: str = ""
    max_rows: int = MAX_EMBEDDED_ROWS  # episodes embedded in the page (above)
    command_line: Sequence[str] | None = None  # for the provenance record, as given
    from_cli: bool = False  # made by ``ebutool report`` (not a library call)


def claim_settings(options: ReportOptions) -> ClaimSettings:
    from ebutool.analysis.claim_stats import DEFAULT_SETTINGS

    return options.settings if options.settings is not None else DEFAULT_SETTINGS
