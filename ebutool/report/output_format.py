"""The output formats and how a table is to be rendered, without pandas: the command
line names them in ``--help`` and shell completion, which must not import pandas."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    ndjson = "ndjson"
    zeek = "zeek"
    markdown = "markdown"
    latex = "latex"
    parquet = "parquet"


TEXT_FORMATS = [f for f in OutputFormat if f is not OutputFormat.parquet]

# The text formats a table can be written in pieces in (the command line asks before it
# has a table, and before pandas is imported): concatenated per-row text
# (ebutool.report.streamed), or padded to every row's widest cell through a spill
# (ebutool.report.spilled, whose PADDED formats are the first three).
STREAMED_FORMATS = (OutputFormat.csv, OutputFormat.json, OutputFormat.ndjson)
SPILLED_FORMATS = (OutputFormat.table, OutputFormat.markdown, OutputFormat.latex, OutputFormat.zeek)

EPOCH_DECIMALS = 6  # epoch seconds in text formats: microseconds (pcap's resolution)


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """What a renderer needs beyond the table: ``decimals`` for other numbers in the
    fixed-decimal formats (table, markdown, latex), ``time_decimals`` for epoch
    seconds, and ``name``, the table's name (a Zeek log's ``#path``)."""

    decimals: int = 3
    time_decimals: int = EPOCH_DECIMALS
    name: str = "ebutool"


def is_epoch_column(name: object) -> bool:
    """Columns holding epoch seconds keep microseconds in text formats: ``time``,
    ``t_*`` and ``*_time``/``*_start``/``*_end`` (durations carry a unit suffix)."""
    name = str(name)
    return name == "time" or name.startswith("t_") or name.endswith(("_time", "_start", "_end"))
