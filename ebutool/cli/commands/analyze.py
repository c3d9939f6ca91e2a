"""``ebutool analyze``: one row per binding-update episode (wiring only; see ebutool.analysis)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Annotated

import typer

from ebutool.cli.option_groups import esp_options, key_options, protocol_options, reading_options
from ebutool.cli.options import (
    ColumnsOpt,
    FormatOpt,
    JobsOpt,
    OutputOpt,
    QuietOpt,
    WeirdLogOpt,
    check_output,
    err,
    final_status,
    guarded,
    input_paths,
    output_file,
    print_diagnostics,
    print_key_notes,
    write_table,
    write_weird_log,
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

if TYPE_CHECKING:
    import pandas as pd

    from ebutool.analysis.claim_stats import ClaimSettings
    from ebutool.esp.sa import EspSA
    from ebutool.oracle.keys import KeyTable
    from ebutool.records.from_packet import StreamStats

FilesArg = Annotated[
    list[str],
    typer.Argument(
        help="pcap, pcapng or JSON Lines traces ('-' = stdin), or directories (every pcap/pcapng "
        "capture in them, by content); each file is analysed on its own (column source) "
        "unless --merge."
    ),
]
MergeOpt = Annotated[
    bool,
    typer.Option(
        "--merge",
        help="Merge the files by time into one capture first (one capture split "
        "over several files, e.g. tcpdump -C rotation).",
    ),
]
VantageOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--vantage",
        metavar="PATH=ROLE",
        help="Where the capture PATH (as given, or its base name) was taken: mn, ha, cn or "
        "path (a router between them); repeatable.  Overrides the detection, which says on "
        "stderr what it found.",
    ),
]
MnOpt = Annotated[
    str | None, typer.Option("--mn", help="Only episodes of this mobile node (home address).")
]
CnOpt = Annotated[
    str | None, typer.Option("--cn", help="Only episodes with this correspondent node.")
]
MinClaimOpt = Annotated[
    int,
    typer.Option(
        "--min-claim-samples",
        min=1,
        help="Fewest samples per side (early, standard; same mode) for a claim verdict; fewer "
        "gives 'too few samples'.",
    ),
]
PaperOpt = Annotated[
    bool,
    typer.Option(
        "--paper",
        help="Only the DESIGN.md contract columns (mn ... auth): a preset of --columns.",
    ),
]
ToleranceOpt = Annotated[
    float,
    typer.Option(
        "--claim-tolerance",
        min=0.0,
        max=1.0,
        help="'About one RTT sooner' holds when the lower bound of the difference's interval "
        "reaches the median RTT_RO x (1 - this).",
    ),
]
SeedOpt = Annotated[
    int,
    typer.Option(
        "--bootstrap-seed",
        help="Seed of the bootstrap intervals of --summary (the same seed and input give the "
        "same output).",
    ),
]
SummaryOpt = Annotated[
    bool,
    typer.Option(
        "--summary",
        help="Per kind x mode: counts, median (95% bootstrap interval)/mean/p95 of observed "
        "and predicted latencies, early/standard ratio and the claim's tests (instead of the "
        "episode rows); quality-ok episodes only, the others counted by reason on stderr.",
    ),
]


def register(app: typer.Typer) -> None:
    @app.command("analyze")
    @guarded
    @reading_options
    @protocol_options("analysis", "oracle")
    @key_options
    @esp_options
    @provenance_option
    def analyze_cmd(
        files: FilesArg,
        config: ProtocolConfig,
        keys: KeyTable,
        esp_sas: list[EspSA],
        provenance: Provenance,
        fmt: FormatOpt = OutputFormat.table,
        output: OutputOpt = "-",
        columns: ColumnsOpt = None,
        paper: PaperOpt = False,
        weird_log: WeirdLogOpt = None,
        mn: MnOpt = None,
        cn: CnOpt = None,
        summary: SummaryOpt = False,
        merge: MergeOpt = False,
        vantage: VantageOpt = None,
        jobs: JobsOpt = 1,
        min_claim_samples: MinClaimOpt = MIN_CLAIM_SAMPLES,
        claim_tolerance: ToleranceOpt = RTT_TOLERANCE,
        bootstrap_seed: SeedOpt = BOOTSTRAP_SEED,
        quiet: QuietOpt = False,
    ) -> None:
        """Reconstruct every handover: one row per MN x peer x new care-of address.

        Columns (docs/analysis.md): mn, ha, cn, prev_coa, coa, kind (standard, early,
        early_fallback, home_only, deregistration, incomplete), mode (conservative,
        optimistic, unknown), t_handover (epoch s), rtt_ha_ms, rtt_bt_ms, rtt_ro_ms,
        send_latency_ms, recv_latency_ms, the six latencies the draft predicts from the
        episode's own RTTs, auth, then source (input file), episode, t0_source, complete,
        rtt_ro_from, home_test_before_handover, n_retransmissions, karn_excluded,
        n_binding_errors, diagnosis, rtt_bt_basis, rtt_bt_pred_ms, data_gap_send_ms,
        data_gap_recv_ms, quality, esp_protected, vantage and what only some vantage
        points measure.  Each file is analysed on its own unless --merge.  The vantage
        point of each capture (mn, ha, cn) is detected from what it holds, or given with
        --vantage; a vantage point other than the MN leaves empty what it cannot
        observe.  A one-line
        summary (episodes by kind) and warnings go to stderr.  The auth column comes
        from the CN oracle (`ebutool verify`): with the key options it checks against
        each CN's Kcn and nonces, without them against the capture's own tokens.

        Example: ebutool analyze samples/early-conservative.pcap --format markdown -o episodes.md

        Example: ebutool analyze cn-side.pcap --vantage cn-side.pcap=cn
        """
        from ebutool.analysis import summarize
        from ebutool.analysis.claim_stats import ClaimSettings
        from ebutool.analysis.vantage import parse_vantage_options
        from ebutool.core.progress import NullProgress, reading_progress
        from ebutool.records.from_packet import StreamStats
        from ebutool.runner.tasks import analyze_files

        check_output(fmt, output)
        out = output_file(output)
        columns = episode_columns(columns, paper, summary)
        given = parse_vantage_options(vantage or [])
        paths = input_paths(files, quiet)
        diag, stats = Diagnostics(), StreamStats()
        with reading_progress(paths[0], quiet) if len(paths) == 1 else NullProgress() as prog:
            df = analyze_files(
                paths,
                jobs,
                mn=mn,
                cn=cn,
                config=config,
                keys=keys,
                diag=diag,
                stats=stats,
                merge=merge,
                progress=prog,
                esp_sas=esp_sas,
                vantage=given,
            )
        settings = ClaimSettings(
            min_samples=min_claim_samples, tolerance=claim_tolerance, seed=bootstrap_seed
        )
        table = summarize(df, settings=settings) if summary else df
        name = "ebutool_summary" if summary else "ebutool_episodes"
        shown = table
        if summary and fmt in (OutputFormat.latex, OutputFormat.markdown):
            from ebutool.report.paper import paper_table

            shown = paper_table(table)  # the compact table a paper prints
        made = provenance.record(fmt, paths, config=config, episodes=df, settings=settings)
        write_table(shown, fmt, out, columns=columns, name=name, quiet=quiet, provenance=made)
        write_weird_log(diag, weird_log)
        if not quiet:
            print_key_notes(keys, False)
            _stderr_report(df, table if summary else None, stats, settings)
            print_diagnostics(diag, quiet)
        raise typer.Exit(final_status(diag, quiet))


def _stderr_report(
    df: pd.DataFrame, summary: pd.DataFrame | None, stats: StreamStats, settings: ClaimSettings
) -> None:
    """What analyze says on stderr: vantage decisions, what was read, and with --summary
    the rows left out, the claim's verdicts and the counterfactual."""
    from ebutool.analysis import claim_statement
    from ebutool.analysis.summary import counterfactual_statement, exclusion_statement
    from ebutool.analysis.vantage import vantage_lines

    for line in vantage_lines(df):
        err(line)
    err(summary_line(df, stats))
    if summary is not None:
        err(exclusion_statement(df))
        for line in claim_statement(summary, settings=settings).splitlines():
            err(line)
        for line in counterfactual_statement(df, settings.min_samples).splitlines():
            err(line)


def episode_columns(columns: str | None, paper: bool, summary: bool) -> str | None:
    """The --columns value, --paper's preset, checked before any input is read (the
    episode table's columns are known; the summary's are checked when written)."""
    from ebutool.analysis.columns import DESIGN_COLUMNS, EPISODE_COLUMNS
    from ebutool.report.select import check_columns, parse_columns

    if paper:
        if columns is not None:
            raise UsageError("--paper is a preset of --columns: give one of them")
        if summary:
            raise UsageError("--paper selects episode columns: it does not go with --summary")
        return ",".join(DESIGN_COLUMNS)
    if not summary:
        check_columns(parse_columns(columns), list(EPISODE_COLUMNS))
    return columns


def summary_line(df: pd.DataFrame, stats: StreamStats) -> str:
    """One line for stderr: what was read and how many episodes of each kind it gave."""
    read = f"{stats.frames} frames, {sum(stats.messages.values())} Mobility Header messages"
    if stats.frames == 0:
        return f"{read}: the input holds no packets, so there are no episodes"
    if not stats.messages:
        return f"{read}: no Mobile IPv6 signalling, so there are no episodes"
    if df.empty:
        return f"{read}: no episode could be reconstructed (see the warnings)"
    # kind is empty where the vantage point cannot tell it (ebutool.analysis.observable)
    kinds = Counter(k if isinstance(k, str) else "kind not observable" for k in df["kind"])
    by_kind = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    note = ""
    if set(kinds) == {"incomplete"}:
        note = "; no episode completed inside the capture (see the diagnosis column)"
    return f"{read}: {len(df)} episode{'s' if len(df) != 1 else ''} ({by_kind}){note}"
