"""``ebutool timeline``: one episode's message sequence as a ladder diagram."""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator
from itertools import chain
from typing import TYPE_CHECKING, Annotated

import typer

from ebutool.cli.option_groups import esp_options, protocol_options, reading_options
from ebutool.cli.options import (
    ColumnsOpt,
    OutputOpt,
    QuietOpt,
    claim_inputs,
    err,
    guarded,
    in_pieces,
    output_file,
    print_diagnostics,
    write_pieces,
    write_table,
)
from ebutool.core.constants import ProtocolConfig
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import UsageError
from ebutool.report import OutputFormat

if TYPE_CHECKING:
    import pandas as pd

    from ebutool.analysis.state import Episode
    from ebutool.core.output_file import OutputFile
    from ebutool.esp.sa import EspSA

TEXT_EXTENSIONS = (".txt", ".text")
LIST_NAME = "ebutool_timeline"  # the list of episodes' table name (zeek, parquet metadata)


MnOpt = Annotated[
    str | None,
    typer.Option("--mn", metavar="HOA", help="Only the episodes of this mobile node."),
]
EpisodeOpt = Annotated[
    int | None,
    typer.Option(
        "--episode",
        "-e",
        metavar="N",
        min=1,
        help="The episode to draw, numbered as listed (and as analyze's episode column).",
    ),
]
TableFormatOpt = Annotated[
    OutputFormat | None,
    typer.Option(
        "--format",
        "-f",
        help="Write the episode list, or the drawn episode's messages, as a table in this "
        "format instead of the text diagram.",
    ),
]


def register(app: typer.Typer) -> None:
    @app.command("timeline")
    @guarded
    @reading_options
    @protocol_options("analysis")
    @esp_options
    def timeline_cmd(
        esp_sas: list[EspSA],
        file: Annotated[str, typer.Argument(help="pcap, pcapng or JSON Lines trace; '-' = stdin.")],
        config: ProtocolConfig,
        mn: MnOpt = None,
        episode: EpisodeOpt = None,
        output: OutputOpt = "-",
        fmt: TableFormatOpt = None,
        columns: ColumnsOpt = None,
        quiet: QuietOpt = False,
    ) -> None:
        """An episode's messages as a ladder diagram with MN, HA and CN lanes and the
        time of each message from the handover t0, in ms (the draft's Figures 1 and 2,
        drawn from the capture).

        Without --episode: a file with one episode (after --mn) draws it; otherwise
        the episodes are listed with their numbers. -o PATH.svg/.png/.pdf draws a
        figure (needs ebutool[plot]), -o PATH.txt or stdout the text diagram.

        Example: ebutool timeline samples/early-conservative.pcap --episode 1 -o ladder.svg
        """
        from ebutool.report import timeline as tl
        from ebutool.report.timeline_scan import scan_episodes

        figure = _figure_target(output, fmt)
        if columns is not None and fmt is None and (figure or episode is not None):
            raise _columns_unused()
        wanted = tl.canonical_mn(mn) if mn is not None else None
        claim_inputs([file])
        out = output_file(output)
        diag = Diagnostics()
        # one pass, keeping only what is shown (issue 12: report/timeline_scan.py)
        scan = scan_episodes(file, config, diag, esp_sas, number=episode, mn=wanted)
        if not scan.total or (episode is None and not scan.matched):
            # nothing to draw is an answer, not a usage error: exit status 0, after the
            # warnings that may say why (e.g. a cut capture)
            out.discard()  # an old file stays as it was
            print_diagnostics(diag, quiet)
            err(
                "no binding-update episode"
                + (f" of MN {mn}" if mn else "")
                + " in this input: nothing to draw"
                + ("" if output == "-" else f" ({output} not written)")
            )
            return
        try:
            if episode is not None:
                ep = tl.numbered_episode(scan.chosen, episode, scan.total, mn)
            elif scan.matched > 1 and figure:
                raise UsageError(
                    f"{scan.matched} episodes: choose one with --episode N "
                    f"(list them: ebutool timeline {shlex.quote(file)})"
                )
        except UsageError as exc:
            print_diagnostics(diag, quiet)  # the warnings may say why (e.g. a cut capture)
            if not _read_once_note(file):
                raise
            raise UsageError(f"{exc}{_read_once_note(file)}") from None
        if episode is None:
            only = scan.only()
            if only is None:
                first = _write_list(scan.listing(wanted), fmt, out, columns, quiet)
                if not quiet:
                    err(
                        f"{scan.matched} episodes; draw one with --episode N "
                        f"(e.g. ebutool timeline {shlex.quote(file)} --episode {first})"
                        + _read_once_note(file)
                    )
                    print_diagnostics(diag, quiet)
                return
            ep = only
        _draw(ep, figure, fmt, out, columns, quiet, scan.time_decimals)
        if not quiet:
            err(
                f"episode {ep.id} of {scan.total}: {ep.kind}, {ep.mode}, "
                f"{len(ep.timeline)} message(s)"
                + (f"; diagram written to {output}" if output != "-" else "")
            )
            print_diagnostics(diag, quiet)


def _read_once_note(file: str) -> str:
    """What a hint to run timeline again adds when its input can be read only once
    (standard input, a FIFO: ebutool.stream.sniff.read_once): the run read it to its
    end, so the next run needs it again ("" for a file)."""
    from ebutool.stream.sniff import read_once

    if not read_once(file):
        return ""
    what = "standard input" if file == "-" else f"{file} (not a regular file)"
    return f"; {what} is read once: give it again, or save it to a file first"


def _write_list(
    pieces: Iterator[pd.DataFrame],
    fmt: OutputFormat | None,
    out: OutputFile,
    columns: str | None,
    quiet: bool,
) -> int:
    """Write the list of episodes (streamed in csv, json, ndjson); the first one's number."""
    fmt = fmt or OutputFormat.table
    head = next(pieces)
    first = int(head["episode"].iloc[0])
    if in_pieces(fmt, out, parquet=True):
        write_pieces(chain([head], pieces), fmt, out, columns=columns, name=LIST_NAME)
        return first
    import pandas as pd

    rest = list(pieces)
    from ebutool.core.exact_time import merged_attrs

    table = pd.concat([head, *rest], ignore_index=True) if rest else head
    table.attrs.update(merged_attrs([head, *rest]))  # concat drops the pieces' exact ns
    write_table(table, fmt, out, columns=columns, name=LIST_NAME, quiet=quiet)
    return first


def _figure_target(output: str, fmt: OutputFormat | None) -> bool:
    """Whether ``-o`` asks for a figure; checks its extension and that it can be written."""
    figure = output != "-" and not output.lower().endswith(TEXT_EXTENSIONS) and fmt is None
    if figure:
        from ebutool.report.plots import FIGURE_FORMATS, check_plot_target

        if os.path.splitext(output)[1].lower() not in FIGURE_FORMATS:
            raise UsageError(
                f"-o {output!r}: a diagram is written as .svg, .png, .pdf or .txt "
                "(or give --format for a table)"
            )
        check_plot_target(output)
    return figure


def _draw(
    ep: Episode,
    figure: bool,
    fmt: OutputFormat | None,
    out: OutputFile,
    columns: str | None,
    quiet: bool,
    time_decimals: int,
) -> None:
    """One episode's ladder: a figure, a table of its messages, or the text diagram, at
    the input's resolution ``time_decimals`` (9: a nanosecond capture's t0 and offsets)."""
    from ebutool.report import timeline as tl

    ladder = tl.ladder_from_episode(ep, time_decimals)
    if figure:
        from ebutool.report.plots import ladder_figure, save_figure

        save_figure(ladder_figure(ladder), out)
    elif fmt is not None:
        write_table(ladder.table(), fmt, out, columns=columns, name="ebutool_ladder", quiet=quiet)
    elif columns is not None:
        raise _columns_unused()  # the one episode of the input, found after reading it
    else:
        out.write(tl.render_text(ladder).encode("utf-8"))


def _columns_unused() -> UsageError:
    """--columns with a diagram: it has no columns (it was silently ignored)."""
    return UsageError(
        "--columns chooses the columns of a table: a diagram has none; give --format "
        "(e.g. -f csv) for the episode's messages as a table, or leave --columns out"
    )
