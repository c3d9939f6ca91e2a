"""``ebutool decode``: one row per Mobility Header message."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

import typer

from ebutool.cli.options import (
    FormatOpt,
    OutputOpt,
    QuietOpt,
    err,
    guarded,
    print_diagnostics,
    write_table,
)
from ebutool.core.constants import NH_ESP, NH_FRAGMENT
from ebutool.core.diagnostics import Diagnostics
from ebutool.records.from_packet import StreamStats
from ebutool.report import OutputFormat


def register(app: typer.Typer) -> None:
    @app.command("decode")
    @guarded
    def decode_cmd(
        file: Annotated[str, typer.Argument(help="pcap, pcapng or JSON Lines trace; '-' = stdin.")],
        fmt: FormatOpt = OutputFormat.table,
        output: OutputOpt = "-",
        quiet: QuietOpt = False,
    ) -> None:
        """Decode every Mobility Header message, one row each, all fields.

        A summary (frames read, messages by type, frames skipped and why, warnings)
        goes to stderr.

        Example: ebutool decode samples/early-conservative.pcap --format csv -o messages.csv
        """
        from ebutool.core.progress import reading_progress
        from ebutool.report.message_table import decode_frame
        from ebutool.stream.reader import read_records

        diag, stats = Diagnostics(), StreamStats()
        opaque = Counter()
        with reading_progress(file, quiet) as prog:
            df = decode_frame(_count_opaque(read_records(file, diag, stats, progress=prog), opaque))
        write_table(df, fmt, output)
        if not quiet:
            print_summary(stats, opaque)
            print_diagnostics(diag, quiet)


def _count_opaque(records, counter: Counter):
    """Pass records through, counting mobility-related packets whose content cannot be
    seen: ESP (a BU/BA to the home agent is usually ESP-protected) and fragments."""
    for rec in records:
        proto = getattr(rec, "proto", None)
        if proto == NH_ESP:
            counter["ESP"] += 1
        elif proto == NH_FRAGMENT:
            counter["non-first fragments"] += 1
        yield rec


def print_summary(stats: StreamStats, opaque: Counter | None = None) -> None:
    msgs = ", ".join(f"{k} {v}" for k, v in sorted(stats.messages.items())) or "none"
    skipped = ", ".join(f"{k} {v}" for k, v in sorted(stats.skipped.items())) or "none"
    line = (
        f"frames {stats.frames}, IPv6 {stats.ipv6}, mobility-related {stats.relevant}; "
        f"MH messages: {msgs}; skipped: {skipped}"
    )
    if opaque:
        line += "; opaque (not decodable): " + ", ".join(
            f"{k} {v}" for k, v in sorted(opaque.items())
        )
    err(line)
