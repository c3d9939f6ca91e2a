"""``ebutool report``: one self-contained HTML page (wiring only; see ebutool.report.html)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ebutool.cli.commands.analyze import (
    ClockOffsetOpt,
    ClusterOpt,
    CnOpt,
    FilesArg,
    MergeOpt,
    MinClaimOpt,
    MnOpt,
    NoMergeOpt,
    SeedOpt,
    ToleranceOpt,
    VantageOpt,
)
from ebutool.cli.commands.compare import ByOpt
from ebutool.cli.option_groups import esp_options, key_options, protocol_options, reading_options
from ebutool.cli.options import (
    JobsOpt,
    OutputOpt,
    QuietOpt,
    err,
    final_status,
    guarded,
    input_paths,
    output_file,
    print_diagnostics,
)
from ebutool.core.constants import (
    BOOTSTRAP_SEED,
    MAX_EMBEDDED_ROWS,
    MIN_CLAIM_SAMPLES,
    RTT_TOLERANCE,
    ProtocolConfig,
)
from ebutool.core.errors import UsageError
from ebutool.core.stdio import stdout_is_terminal

if TYPE_CHECKING:
    from ebutool.esp.sa import EspSA
    from ebutool.oracle.keys import KeyTable

TitleOpt = Annotated[
    str | None, typer.Option("--title", help="The page's title [default: the inputs' names].")
]
MaxRowsOpt = Annotated[
    int,
    typer.Option(
        "--max-rows",
        min=0,
        help="Episodes embedded in the page's table (with their ladders): the first N; the "
        "rest are counted on the page and on stderr (claim, figures, summary: all).",
    ),
]


def register(app: typer.Typer) -> None:
    @app.command("report")
    @guarded
    @reading_options
    @protocol_options("analysis", "oracle")
    @key_options
    @esp_options
    def report_cmd(
        files: FilesArg,
        config: ProtocolConfig,
        keys: KeyTable,
        esp_sas: list[EspSA],
        output: OutputOpt = "-",
        mn: MnOpt = None,
        cn: CnOpt = None,
        merge: MergeOpt = False,
        vantage: VantageOpt = None,
        no_merge: NoMergeOpt = False,
        clock_offset: ClockOffsetOpt = None,
        by: ByOpt = "file",
        title: TitleOpt = None,
        max_rows: MaxRowsOpt = MAX_EMBEDDED_ROWS,
        jobs: JobsOpt = 1,
        cluster: ClusterOpt = None,
        min_claim_samples: MinClaimOpt = MIN_CLAIM_SAMPLES,
        claim_tolerance: ToleranceOpt = RTT_TOLERANCE,
        bootstrap_seed: SeedOpt = BOOTSTRAP_SEED,
        quiet: QuietOpt = False,
    ) -> None:
        """One self-contained HTML page (no network needed to open it): the claim's
        verdicts as analyze --summary tests them, observed vs predicted latencies per
        kind x mode and the saving per early episode against RTT_RO (inline SVG), the
        episode table (sort, filter, pages; a row opens its ladder diagram), the
        summary (and compare's table for several inputs), the diagnostics, the inputs
        with their SHA-256, the protocol constants in force and ebutool's version.
        Takes analyze's input options.

        Example: ebutool report samples -o report.html

        Example: ebutool report run1.pcap run2.pcap --by file -o runs.html
        """
        from ebutool.analysis.claim_stats import ClaimSettings
        from ebutool.analysis.vantage import parse_vantage_options
        from ebutool.report.html import (
            NO_FIGURES,
            ReportOptions,
            collect,
            figures_available,
            not_embedded_statement,
            render,
            write_report,
        )
        from ebutool.runner.views import parse_clock_offsets

        if output == "-" and stdout_is_terminal():
            raise UsageError("the report is an HTML page: write it with -o FILE.html, or redirect")
        out = output_file(output)
        if not figures_available() and not quiet:
            err(f"note: {NO_FIGURES}")
        options = ReportOptions(
            config=config,
            keys=keys,
            esp_sas=esp_sas,
            mn=mn,
            cn=cn,
            merge=merge,
            vantage=parse_vantage_options(vantage or []),
            no_merge=no_merge,
            clock_offsets=parse_clock_offsets(clock_offset or []),
            jobs=jobs,
            cluster=cluster,
            by=by,
            settings=ClaimSettings(
                min_samples=min_claim_samples, tolerance=claim_tolerance, seed=bootstrap_seed
            ),
            title=title or "",
            max_rows=max_rows,
            from_cli=True,
        )
        data = collect(input_paths(files, quiet), options)
        write_report(render(data), out)
        if data.not_embedded:  # even with -q: rows left out are never silent
            err(f"note: {not_embedded_statement(data)}")
        if not quiet:
            err(
                f"{data.n_episodes} episode(s) from {len(data.paths)} input(s)"
                + (f"; report written to {output}" if output != "-" else "")
            )
            for note in data.ladder_notes:
                err(f"note: {note}")
            print_diagnostics(data.diag, quiet)
        raise typer.Exit(final_status(data.diag, quiet))
