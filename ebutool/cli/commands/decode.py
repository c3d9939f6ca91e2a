"""``ebutool decode``: one row per Mobility Header message."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import typer

from ebutool.cli.option_groups import esp_options, reading_options
from ebutool.cli.options import (
    ColumnsOpt,
    FormatOpt,
    InputsArg,
    JobsOpt,
    OutputOpt,
    QuietOpt,
    WeirdLogOpt,
    check_output,
    err,
    final_status,
    guarded,
    in_pieces,
    input_paths,
    output_file,
    print_diagnostics,
    weird_log_output,
    write_pieces,
    write_table,
    write_weird_log,
)
from ebutool.cli.provenance_option import Provenance, provenance_option
from ebutool.core.diagnostics import Diagnostics
from ebutool.report import OutputFormat

if TYPE_CHECKING:
    from ebutool.esp.sa import EspSA
    from ebutool.records.from_packet import StreamStats


def register(app: typer.Typer) -> None:
    @app.command("decode")
    @guarded
    @reading_options
    @esp_options
    @provenance_option
    def decode_cmd(
        files: InputsArg,
        esp_sas: list[EspSA],
        provenance: Provenance,
        fmt: FormatOpt = OutputFormat.table,
        output: OutputOpt = "-",
        columns: ColumnsOpt = None,
        weird_log: WeirdLogOpt = None,
        jobs: JobsOpt = 1,
        quiet: QuietOpt = False,
    ) -> None:
        """Decode every Mobility Header message, one row each, all fields.

        A summary (frames read, messages by type, frames skipped and why, warnings)
        goes to stderr.  Several files: one table, a source column first.  With --esp-sa,
        ESP-protected messages are decrypted and the columns esp_spi, esp_seq and
        esp_algorithm follow the others.

        Example: ebutool decode samples/early-conservative.pcap --format csv -o messages.csv
        """
        from ebutool.core.progress import NullProgress, reading_progress
        from ebutool.records.from_packet import StreamStats
        from ebutool.runner.decode_inputs import decode_files, decode_files_streamed, decode_stream

        check_output(fmt, output)
        out = output_file(output)
        weird = weird_log_output(weird_log)  # before any input is read, like -o
        paths = input_paths(files, quiet)
        diag, stats = Diagnostics(), StreamStats()
        opaque: Counter[str] = Counter()
        with reading_progress(paths[0], quiet) if len(paths) == 1 else NullProgress() as prog:
            if in_pieces(fmt, out, parquet=True):
                # one input: the rows are written as they are decoded; several: once
                # every input is read (the finest time resolution known; docs/outputs.md)
                if len(paths) == 1:
                    tables = decode_stream(paths[0], diag, stats, opaque, prog, esp_sas)
                else:
                    tables = decode_files_streamed(
                        paths, jobs, diag=diag, stats=stats, opaque=opaque, esp_sas=esp_sas
                    ).pieces()
                write_pieces(
                    tables,
                    fmt,
                    out,
                    columns=columns,
                    name="ebutool_decode",
                    provenance=lambda: provenance.record(fmt, paths),
                )
            else:
                df = decode_files(paths, jobs, diag, stats, opaque, progress=prog, esp_sas=esp_sas)
                made = provenance.record(fmt, paths)
                write_table(
                    df,
                    fmt,
                    out,
                    columns=columns,
                    name="ebutool_decode",
                    quiet=quiet,
                    provenance=made,
                )
        write_weird_log(diag, weird)
        if not quiet:
            print_summary(stats, opaque)
            print_diagnostics(diag, quiet)
        raise typer.Exit(final_status(diag, quiet))


def print_summary(stats: StreamStats, opaque: Counter[str] | None = None) -> None:
    msgs = ", ".join(f"{k} {v}" for k, v in sorted(stats.messages.items())) or "none"
    skipped = ", ".join(f"{k} {v}" for k, v in sorted(stats.skipped.items())) or "none"
    line = (
        f"frames {stats.frames}{stats.numbered_note()}, IPv6 {stats.ipv6}, "
        f"mobility-related {stats.relevant}; "
        f"MH messages: {msgs}; skipped: {skipped}"
    )
    if opaque:
        line += "; opaque (not decodable): " + ", ".join(
            f"{k} {v}" for k, v in sorted(opaque.items())
        )
    err(line)
