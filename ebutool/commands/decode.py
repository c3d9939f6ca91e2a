"""``ebutool decode``: one row per Mobility Header message."""
from __future__ import annotations

from typing import Annotated

import typer

from ..diagnostics import Diagnostics
from ..report import OutputFormat, write_table
from ..stream import StreamStats
from .common import FormatOpt, OutputOpt, QuietOpt, err, guarded, print_diagnostics


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

        Example: ebutool decode samples/early.pcap --format csv -o messages.csv
        """
        from ..decode import decode_frame
        from ..stream import read_records
        diag, stats = Diagnostics(), StreamStats()
        df = decode_frame(read_records(file, diag, stats))
        write_table(df, fmt, output)
        if not quiet:
            print_summary(stats)
            print_diagnostics(diag, quiet)


def print_summary(stats: StreamStats) -> None:
    msgs = ", ".join(f"{k} {v}" for k, v in sorted(stats.messages.items())) or "none"
    skipped = ", ".join(f"{k} {v}" for k, v in sorted(stats.skipped.items())) or "none"
    err(f"frames {stats.frames}, IPv6 {stats.ipv6}, mobility-related {stats.relevant}; "
        f"MH messages: {msgs}; skipped: {skipped}")
