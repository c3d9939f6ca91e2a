"""``ebutool timeline``: one episode's message sequence as a ladder diagram."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

import typer

from ebutool.cli.option_groups import esp_options, protocol_options, reading_options
from ebutool.cli.options import (
    ColumnsOpt,
    OutputOpt,
    QuietOpt,
    err,
    guarded,
    output_file,
    print_diagnostics,
    write_table,
)
from ebutool.core.constants import ProtocolConfig
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import UsageError
from ebutool.report import OutputFormat

if TYPE_CHECKING:
    from ebutool.analysis.state import Episode
    from ebutool.core.output_file import OutputFile
    from ebutool.esp.sa import EspSA

TEXT_EXTENSIONS = (".txt", ".text")


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

        figure = _figure_target(output, fmt)
        out = output_file(output)
        diag = Diagnostics()
        every = tl.load_episodes(file, config, diag, esp_sas)
        if not every or (episode is None and not tl.select_episodes(every, mn)):
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
                ep = tl.find_episode(every, episode, mn)
            else:
                mine = tl.select_episodes(every, mn)
                if len(mine) > 1 and figure:
                    raise UsageError(
                        f"{len(mine)} episodes: choose one with --episode N "
                        f"(list them: ebutool timeline {file})"
                    )
        except UsageError:
            print_diagnostics(diag, quiet)  # the warnings may say why (e.g. a cut capture)
            raise
        if episode is None:
            if len(mine) != 1:
                write_table(
                    tl.episode_list(mine),
                    fmt or OutputFormat.table,
                    out,
                    columns=columns,
                    name="ebutool_timeline",
                    quiet=quiet,
                )
                if not quiet:
                    err(
                        f"{len(mine)} episodes; draw one with --episode N "
                        f"(e.g. ebutool timeline {file} --episode {mine[0].id})"
                    )
                    print_diagnostics(diag, quiet)
                return
            ep = mine[0]
        _draw(ep, figure, fmt, out, columns, quiet)
        if not quiet:
            err(
                f"episode {ep.id} of {len(every)}: {ep.kind}, {ep.mode}, "
                f"{len(ep.timeline)} message(s)"
                + (f"; diagram written to {output}" if output != "-" else "")
            )
            print_diagnostics(diag, quiet)


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
) -> None:
    """One episode's ladder: a figure, a table of its messages, or the text diagram."""
    from ebutool.report import timeline as tl

    ladder = tl.ladder_from_episode(ep)
    if figure:
        from ebutool.report.plots import ladder_figure, save_figure

        save_figure(ladder_figure(ladder), out)
    elif fmt is not None:
        write_table(ladder.table(), fmt, out, columns=columns, name="ebutool_ladder", quiet=quiet)
    else:
        out.write(tl.render_text(ladder).encode("utf-8"))
