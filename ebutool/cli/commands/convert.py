"""``ebutool convert``: a capture (or a trace) -> a JSON Lines trace."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Annotated

import typer

from ebutool.cli.option_groups import esp_options, reading_options
from ebutool.cli.options import (
    OutputOpt,
    QuietOpt,
    claim_inputs,
    err,
    guarded,
    output_file,
    print_diagnostics,
)
from ebutool.core.diagnostics import Diagnostics

if TYPE_CHECKING:
    from ebutool.esp.sa import EspSA


def register(app: typer.Typer) -> None:
    @app.command("convert")
    @guarded
    @reading_options
    @esp_options
    def convert_cmd(
        esp_sas: list[EspSA],
        file: Annotated[str, typer.Argument(help="pcap, pcapng or JSON Lines trace; '-' = stdin.")],
        output: OutputOpt = "-",
        quiet: QuietOpt = False,
    ) -> None:
        """Convert a capture to a JSON Lines trace (docs/trace-format.md): a header line,
        then one line per mobility-relevant packet with the decoded message and its exact
        octets, so that reading the trace gives the same message stream as the capture.

        A JSON trace as input is rewritten in the canonical form (a simulator's trace
        gains mh_hex).  The summary and warnings go to stderr; -o PATH is written only
        when the input could be read.

        Example: ebutool convert samples/early-conservative.pcap -o early.jsonl
        """
        from ebutool.records.from_packet import StreamStats
        from ebutool.stream.reader import read_records
        from ebutool.trace.jsonl import not_carried, write_trace

        claim_inputs([file])
        out = output_file(output)
        diag, stats = Diagnostics(), StreamStats()
        records = read_records(file, diag, stats, esp_sas=esp_sas)
        first = next(records, None)  # an unreadable input fails here, before any output
        records = itertools.chain([first] if first is not None else [], records)
        counts = write_trace(records, out.text(), file)  # put in place when the run ends
        if not quiet:
            msgs = ", ".join(
                f"{k[4:]} {v}" for k, v in sorted(counts.items()) if k.startswith("msg:")
            )
            skipped = ", ".join(f"{k} {v}" for k, v in sorted(stats.skipped.items())) or "none"
            err(
                f"{file} -> {output}: {counts['packet']} packet records "
                f"(MH messages: {msgs or 'none'}), "
                f"{counts['handover']} handover events; "
                f"frames read {stats.frames}{stats.numbered_note()}, "
                f"skipped: {skipped}"
            )
            lost = not_carried(diag.counts)
            if lost:
                err(
                    f"{output}: the trace does not carry these warnings of {file} ({lost}): "
                    "its records keep their outcome, reading it back does not say them again"
                )
            print_diagnostics(diag, quiet)
