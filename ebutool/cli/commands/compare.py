"""``ebutool compare``: summaries of several inputs (or groups of one) side by side."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from ebutool.cli.commands.analyze import MinClaimOpt, SeedOpt, ToleranceOpt
from ebutool.cli.option_groups import esp_options, protocol_options, reading_options
from ebutool.cli.options import (
    ColumnsOpt,
    FormatOpt,
    JobsOpt,
    OutputOpt,
    QuietOpt,
    check_output,
    err,
    final_status,
    guarded,
    input_paths,
    output_file,
    print_diagnostics,
    write_table,
)
from ebutool.cli.provenance_option import Provenance, provenance_option
from ebutool.core.constants import (
    BOOTSTRAP_SEED,
    MIN_CLAIM_SAMPLES,
    RTT_TOLERANCE,
    ProtocolConfig,
)
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import UsageError
from ebutool.report import OutputFormat


class PlotKind(StrEnum):
    cdf = "cdf"
    box = "box"


if TYPE_CHECKING:
    from ebutool.esp.sa import EspSA


CompareFilesArg = Annotated[
    list[str],
    typer.Argument(
        help="Captures (pcap, pcapng) or JSON Lines traces, or directories (their "
        "captures); each is analysed on its own."
    ),
]


def _by_value(value: str) -> str:
    """A bad ``--by`` is the parser's usage error (one line, with the -h hint)."""
    from ebutool.report.compare import parse_by

    try:
        parse_by(value)
    except UsageError as exc:
        raise typer.BadParameter(str(exc).removeprefix("--by ")) from None
    return value


ByOpt = Annotated[
    str,
    typer.Option(
        "--by",
        metavar="COLUMNS",
        callback=_by_value,
        help="Groups: file (one summary per input), mn, cn, kind or mode, or several "
        "comma-separated (e.g. kind,mode or file,mode); kind and mode order the rows "
        "(the table is split by kind x mode anyway).  The figure's groups are these "
        "columns and mode: it never pools modes.",
    ),
]

CompareMnOpt = Annotated[
    str | None,
    typer.Option("--mn", metavar="HOA", help="Only this mobile node (home address)."),
]

CompareCnOpt = Annotated[
    str | None,
    typer.Option("--cn", metavar="ADDR", help="Only this correspondent node."),
]

ComparePlotOpt = Annotated[
    str | None,
    typer.Option(
        "--plot",
        metavar="PATH",
        help="Also draw the send and receive latency distributions per group, observed "
        "and predicted (.png, .svg or .pdf; needs ebutool[plot]).",
    ),
]

PlotKindOpt = Annotated[
    PlotKind | None,
    typer.Option("--plot-kind", help="cdf (empirical CDF) or box (box plot) [default: cdf]"),
]


def register(app: typer.Typer) -> None:
    @app.command("compare")
    @guarded
    @reading_options
    @protocol_options("analysis", "oracle")
    @esp_options
    @provenance_option
    def compare_cmd(
        esp_sas: list[EspSA],
        provenance: Provenance,
        files: CompareFilesArg,
        config: ProtocolConfig,
        by: ByOpt = "file",
        mn: CompareMnOpt = None,
        cn: CompareCnOpt = None,
        plot: ComparePlotOpt = None,
        plot_kind: PlotKindOpt = None,
        min_claim_samples: MinClaimOpt = MIN_CLAIM_SAMPLES,
        claim_tolerance: ToleranceOpt = RTT_TOLERANCE,
        bootstrap_seed: SeedOpt = BOOTSTRAP_SEED,
        fmt: FormatOpt = OutputFormat.table,
        output: OutputOpt = "-",
        columns: ColumnsOpt = None,
        jobs: JobsOpt = 1,
        quiet: QuietOpt = False,
    ) -> None:
        """The analyze --summary table (per kind x mode: episodes, observed and
        predicted latencies with sample counts and intervals, early/standard ratio and
        the claim's tests; quality-ok episodes only, the others counted by reason on
        stderr) for several
        captures side by side, or for groups inside one (--by mn, cn, kind, mode, or several
        comma-separated: kind,mode; the figure never pools modes).

        Example: ebutool compare samples/standard.pcap samples/early-conservative.pcap
        --plot cdf.png

        Example: ebutool compare samples/mixed.pcap --by kind,mode --plot cdf.svg

        The claim's settings (--min-claim-samples, --claim-tolerance, --bootstrap-seed)
        are analyze --summary's and report's: the same settings, the same table.
        """
        from ebutool.analysis.claim_stats import ClaimSettings
        from ebutool.report import compare
        from ebutool.runner.compare_inputs import episodes_by_file

        if plot_kind is not None and plot is None:
            raise UsageError("--plot-kind needs --plot PATH")
        if plot is not None:
            from ebutool.report.plots import check_plot_target

            check_plot_target(plot)
        check_output(fmt, output)
        out = output_file(output)
        plot_out = output_file(plot, "--plot") if plot is not None else None
        diag = Diagnostics()
        paths = input_paths(files, quiet)
        episodes = episodes_by_file(
            paths,
            jobs,
            mn=mn,
            cn=cn,
            config=config,
            diag=diag,
            esp_sas=esp_sas,
            columns=compare.compare_columns(by),  # only what the statistics read (issue 12)
        )
        settings = ClaimSettings(
            min_samples=min_claim_samples, tolerance=claim_tolerance, seed=bootstrap_seed
        )
        table = compare.compare_table(episodes, by, settings=settings)
        if plot is not None:
            from ebutool.report.plots import distribution_figure, save_figure

            kind = (plot_kind or PlotKind.cdf).value
            samples = compare.latency_samples(episodes, by)
            title = compare.plot_title(by, kind, episodes)
            fig = distribution_figure(samples, kind, title=title)
            save_figure(fig, plot_out or plot)
            if not quiet and not any(
                v for panel in samples.values() for g in panel.values() for v in g.values()
            ):
                err("no episode has a measured or predicted latency: the figure is empty")
        made = provenance.record(fmt, paths, config=config, episodes=episodes)
        write_table(
            table, fmt, out, columns=columns, name="ebutool_compare", quiet=quiet, provenance=made
        )
        if not quiet:
            cols = compare.parse_by(by)
            groups = len(episodes[cols].drop_duplicates()) if set(cols) <= set(episodes) else 0
            err(
                f"{len(files)} input(s), {len(episodes)} episode(s), "
                f"{groups} group(s) by {by}" + (f"; figure written to {plot}" if plot else "")
            )
            if len(episodes):
                from ebutool.analysis.summary import exclusion_statement

                err(exclusion_statement(episodes))
            print_diagnostics(diag, quiet)
        raise typer.Exit(final_status(diag, quiet))
