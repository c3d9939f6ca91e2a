"""``ebutool convert``: a capture (or a trace) -> a JSON Lines trace."""

from __future__ import annotations

import itertools
import os
import sys
import tempfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, TextIO, TypeVar

import typer

from ebutool.cli.option_groups import esp_options
from ebutool.cli.options import OutputOpt, QuietOpt, err, guarded, print_diagnostics
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import UsageError

T = TypeVar("T")


if TYPE_CHECKING:
    from ebutool.esp.sa import EspSA


def register(app: typer.Typer) -> None:
    @app.command("convert")
    @guarded
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
        from ebutool.trace.jsonl import write_trace

        diag, stats = Diagnostics(), StreamStats()
        records = read_records(file, diag, stats, esp_sas=esp_sas)
        first = next(records, None)  # an unreadable input fails here, before any output
        records = itertools.chain([first] if first is not None else [], records)
        if output == "-":
            counts = write_trace(records, sys.stdout, file)
            sys.stdout.flush()
        else:
            counts = _write_file(output, lambda fh: write_trace(records, fh, file))
        if not quiet:
            msgs = ", ".join(
                f"{k[4:]} {v}" for k, v in sorted(counts.items()) if k.startswith("msg:")
            )
            skipped = ", ".join(f"{k} {v}" for k, v in sorted(stats.skipped.items())) or "none"
            err(
                f"{file} -> {output}: {counts['packet']} packet records "
                f"(MH messages: {msgs or 'none'}), "
                f"{counts['handover']} handover events; frames read {stats.frames}, "
                f"skipped: {skipped}"
            )
            print_diagnostics(diag, quiet)


def _write_file(path: str, write: Callable[[TextIO], T]) -> T:
    """Write through a temporary file beside ``path``, renamed into place on success,
    so a failed run never leaves a truncated trace behind."""
    if os.path.isdir(path):
        raise UsageError(f"-o {path}: is a directory; give a file name")
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".ebutool-", suffix=".jsonl.part", dir=directory)
    except OSError as exc:
        raise UsageError(f"-o {path}: cannot write there ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            result = write(fh)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return result
