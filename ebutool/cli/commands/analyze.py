"""``ebutool analyze``: one row per binding-update episode (wiring only; see ebutool.analysis)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from ebutool.cli.option_groups import esp_options, key_options, protocol_options, reading_options
from ebutool.cli.options import (
    ColumnsOpt,
    FormatOpt,
    JobsOpt,
    OutputOpt,
    PieceWriter,
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
    print_key_notes,
    weird_log_output,
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
    from ebutool.core.output_file import OutputFile
    from ebutool.esp.sa import EspSA
    from ebutool.oracle.keys import KeyTable
    from ebutool.records.from_packet import StreamStats
    from ebutool.runner.files_streamed import StreamedTable

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
NoMergeOpt = Annotated[
    bool,
    typer.Option(
        "--no-merge",
        help="Keep every file apart, even the pieces of one rotated capture (which are "
        "otherwise recognised and merged by time, with a note).",
    ),
]
ClockOffsetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--clock-offset",
        metavar="PATH=SECONDS[,PPM]",
        help="For merged views: the clock of PATH minus the reference's (the MN's view), "
        "and its drift, instead of the estimate; repeatable.",
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
        help="Fewest samples per side (early, standard; same mode) for a claim verdict; fewer, "
        "or too few for the test to reach alpha, gives 'too few samples'.",
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
        callback=lambda v: _finite_tolerance(v),
        min=0.0,
        max=1.0,
        help="'About one RTT sooner' holds when the lower bound of the difference's interval "
        "reaches the median RTT_RO x (1 - this).",
    ),
]


def _finite_tolerance(value: float) -> float:
    """click's range check lets NaN through (every comparison with it is false): the
    claim's verdict was then computed against a NaN threshold."""
    if math.isnan(value):
        raise typer.BadParameter(f"{value} is not in the range 0.0<=x<=1.0.")
    return value


SeedOpt = Annotated[
    int,
    typer.Option(
        "--bootstrap-seed",
        help="Seed of the bootstrap intervals of --summary (the same seed and input give the "
        "same output).",
    ),
]
FollowOpt = Annotated[
    bool,
    typer.Option(
        "--follow",
        help="Write each episode's row as soon as the episode closes (completed, or "
        "MAX_BINDACK_TIMEOUT of capture time without its signalling; docs/outputs.md), "
        "flushed per row: for a live capture on stdin (tcpdump -U -w - | ebutool analyze "
        "- --follow -f ndjson).  csv, ndjson or zeek; one input.",
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
ClusterOpt = Annotated[
    str | None,
    typer.Option(
        "--cluster",
        help="(A record store, ebutool extract) analyse it split by mobile node on Dask: "
        "local[:N] (a LocalCluster of N worker processes) or tcp://HOST:PORT (a running "
        "scheduler; the tasks carry their records).  The same table as one process; "
        "-j N does the same in N local processes.  Needs the ebutool[dask] extra.",
    ),
]


EPISODES = "ebutool_episodes"  # the table's name (a Zeek log's #path)


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
        follow: FollowOpt = False,
        merge: MergeOpt = False,
        vantage: VantageOpt = None,
        no_merge: NoMergeOpt = False,
        clock_offset: ClockOffsetOpt = None,
        jobs: JobsOpt = 1,
        cluster: ClusterOpt = None,
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
        points measure, owd_mn_ha_ms, owd_ha_cn_ms, owd_mn_cn_ms.  Each file is analysed
        on its own unless --merge; the pieces of one rotated capture are merged by time
        (--no-merge keeps them apart).  The vantage point of each capture (mn, ha, cn) is
        detected from what it holds, or given with --vantage; a vantage point other than
        the MN leaves empty what it cannot observe.  Views of one run (--merge, or
        --vantage naming several) are merged into one timeline with the MN view's values
        and one-way delays, each file's clock estimated (or --clock-offset).  A one-line
        summary (episodes by kind) and warnings go to stderr.  The auth column comes
        from the CN oracle (`ebutool verify`): with the key options it checks against
        each CN's Kcn and nonces, without them against the capture's own tokens.

        Example: ebutool analyze samples/early-conservative.pcap --format markdown -o episodes.md

        Example: ebutool analyze cn-side.pcap --vantage cn-side.pcap=cn

        Example: ebutool analyze mn.pcap ha.pcap cn.pcap --merge --clock-offset cn.pcap=0.7

        Example: ebutool extract captures/ -o store/ && ebutool analyze store/ --cluster local:2

        Example: tcpdump -U -i eth0 -w - ip6 | ebutool analyze - --follow -f ndjson
        """
        _run(AnalyzeArgs(**locals()))


@dataclass
class AnalyzeArgs:
    """The command line of ``ebutool analyze``, as typer gives it (one value per option)."""

    files: list[str]
    config: ProtocolConfig
    keys: KeyTable
    esp_sas: list[EspSA]
    provenance: Provenance
    fmt: OutputFormat
    output: str
    columns: str | None
    paper: bool
    weird_log: str | None
    mn: str | None
    cn: str | None
    summary: bool
    follow: bool
    merge: bool
    vantage: list[str] | None
    no_merge: bool
    clock_offset: list[str] | None
    jobs: int
    cluster: str | None
    min_claim_samples: int
    claim_tolerance: float
    bootstrap_seed: int
    quiet: bool
    weird_out: OutputFile | None = None  # --weird-log's output, claimed before the work


def _run(a: AnalyzeArgs) -> None:
    """The work of ``ebutool analyze`` (the command's docstring says what it does)."""
    from ebutool.analysis.claim_stats import ClaimSettings
    from ebutool.analysis.vantage import parse_vantage_options
    from ebutool.records.from_packet import StreamStats
    from ebutool.runner.views import parse_clock_offsets
    from ebutool.store.layout import is_store

    a.columns = episode_columns(a.columns, a.paper, a.summary)
    given = parse_vantage_options(a.vantage or [])
    offsets = parse_clock_offsets(a.clock_offset or [])
    if a.follow:  # rows as the episodes close
        if a.cluster is not None:
            raise UsageError("--follow reads one live input: it does not go with --cluster")
        if a.provenance.target is not None:
            raise UsageError("--provenance records a finished run: it does not go with --follow")
        req = (a.files, a.fmt, a.output, a.columns, a.mn, a.cn, given)
        weird = weird_log_output(a.weird_log)
        _follow(req, a.summary, a.merge, a.jobs, a.config, a.keys, a.esp_sas, weird, a.quiet)
    check_output(a.fmt, a.output)
    out = output_file(a.output)
    a.weird_out = weird_log_output(a.weird_log)
    paths = input_paths(a.files, a.quiet)
    diag, stats = Diagnostics(), StreamStats()
    streamable = in_pieces(a.fmt, out, parquet=True) and not a.summary
    one_process = a.cluster is None and (  # (--cluster: a store split, or refused)
        not is_store(paths[0]) or _store_in_one_process(paths[0], a, given)
    )
    settings = ClaimSettings(
        min_samples=a.min_claim_samples, tolerance=a.claim_tolerance, seed=a.bootstrap_seed
    )
    one_input = (paths[0], given, a.mn, a.cn, a.config, a.keys, a.esp_sas, diag, stats)
    no_store = a.cluster is None and not any(is_store(p) for p in paths)
    several = streamable and no_store
    if len(paths) == 1 and streamable and one_process:
        _Streamed(a, out, settings).run(*one_input)  # (it ends the command)
    elif len(paths) == 1 and a.summary and one_process and not a.merge:
        df = _Streamed(a, out, settings).lean(*one_input)  # (the statistics' columns only)
    elif len(paths) > 1 and several:
        df = _Streamed(a, out, settings).several(paths, given, offsets, diag, stats)
    elif len(paths) > 1 and a.summary and no_store:
        df = _Streamed(a, out, settings).several_lean(paths, given, offsets, diag, stats)
    else:
        df = _whole(a, paths, given, offsets, diag, stats)
    table, shown, name = _tables(df, a.summary, settings, a.fmt)
    made = a.provenance.record(a.fmt, paths, config=a.config, episodes=df, settings=settings)
    write_table(shown, a.fmt, out, columns=a.columns, name=name, quiet=a.quiet, provenance=made)
    write_weird_log(diag, a.weird_out)
    if not a.quiet:
        print_key_notes(a.keys, False)
        _stderr_report(df, table if a.summary else None, stats, settings)
        print_diagnostics(diag, a.quiet)
    raise typer.Exit(final_status(diag, a.quiet))


def _whole(a: AnalyzeArgs, paths, given, offsets, diag, stats) -> pd.DataFrame:
    """The whole episode table of the inputs (ebutool.runner.analyze_inputs.analyze_files)."""
    from ebutool.core.progress import NullProgress, reading_progress
    from ebutool.runner.analyze_inputs import analyze_files

    with reading_progress(paths[0], a.quiet) if len(paths) == 1 else NullProgress() as prog:
        return analyze_files(
            paths,
            a.jobs,
            mn=a.mn,
            cn=a.cn,
            config=a.config,
            keys=a.keys,
            diag=diag,
            stats=stats,
            merge=a.merge,
            progress=prog,
            esp_sas=a.esp_sas,
            vantage=given,
            clock_offsets=offsets,
            no_merge=a.no_merge,
            cluster=a.cluster,
            log=None if a.quiet else err,
        )


def _store_in_one_process(path: str, a: AnalyzeArgs, given: dict[str, str]) -> bool:
    """Whether a record store is analysed in this process, not split, in time order:
    not --jobs, and its parts are not views of one run (merged as views)."""
    from ebutool.analysis.vantage import role_for
    from ebutool.store.merged import of_views

    return a.jobs <= 1 and not of_views(path, role_for(path, given) or given)


class _Streamed:
    """analyze of one input written piece by piece (not --summary; docs/outputs.md
    "Streaming"); the provenance (parquet's metadata, --provenance) counts the pieces."""

    def __init__(self, a: AnalyzeArgs, out, settings: ClaimSettings) -> None:
        self.fmt, self.out, self.columns = a.fmt, out, a.columns
        self.weird_out, self.quiet = a.weird_out, a.quiet
        self.provenance, self.settings = a.provenance, settings
        self.args = a

    def _pieces(self, path, given, mn, cn, config, keys, esp_sas, diag, stats):
        """The episode table's pieces and the vantage decisions (filled as they are read)."""
        from ebutool.analysis import analyze_pieces
        from ebutool.analysis.vantage import role_for
        from ebutool.core.progress import reading_progress
        from ebutool.runner.inputs import store_sas_note
        from ebutool.store.layout import is_store

        options = dict(mn=mn, cn=cn, config=config, keys=keys, diag=diag, stats=stats)
        if is_store(path):  # (the store named: its role for every part)
            # (here: a store needs pyarrow, the ebutool[store] extra; a capture does not)
            from ebutool.store.merged import analyze_store_pieces

            store_sas_note(path, esp_sas, diag)
            vantage = role_for(path, given) or given
            return analyze_store_pieces(path, vantage=vantage, **options)
        with reading_progress(path, self.quiet) as prog:
            return analyze_pieces(
                path, progress=prog, esp_sas=esp_sas, vantage=role_for(path, given), **options
            )

    def lean(self, path, given, mn, cn, config, keys, esp_sas, diag, stats) -> pd.DataFrame:
        """The episode table with only the columns --summary reads (those of compare's
        statistics: ebutool.runner.lean), kept as the pieces pass: no whole table."""
        from ebutool.report.compare import STATISTICS_COLUMNS
        from ebutool.runner.lean import kept_columns

        pieces, decisions = self._pieces(path, given, mn, cn, config, keys, esp_sas, diag, stats)
        return kept_columns(pieces, STATISTICS_COLUMNS, decisions)

    def run(self, path, given, mn, cn, config, keys, esp_sas, diag, stats) -> None:
        pieces, decisions = self._pieces(path, given, mn, cn, config, keys, esp_sas, diag, stats)
        self._written([path], pieces, decisions, {"vantage": decisions}, [], diag, stats)

    def _several_pieces(self, paths, given, offsets, diag, stats) -> StreamedTable | pd.DataFrame:
        """Several inputs' table in pieces (ebutool.runner.files_streamed); the whole
        table of views of one run."""
        from ebutool.runner.analyze_inputs import analyze_files_streamed

        a = self.args
        return analyze_files_streamed(
            paths, a.jobs, mn=a.mn, cn=a.cn, config=a.config, keys=a.keys, diag=diag,
            stats=stats, merge=a.merge, esp_sas=a.esp_sas, vantage=given,
            clock_offsets=offsets, no_merge=a.no_merge,
        )  # fmt: skip

    def several_lean(self, paths, given, offsets, diag, stats) -> pd.DataFrame:
        """Several inputs' table with only the columns --summary reads (as :meth:`lean`),
        its attrs those of the whole table (notes, vantage); the whole table of views."""
        from ebutool.report.compare import STATISTICS_COLUMNS
        from ebutool.runner.files_streamed import StreamedTable
        from ebutool.runner.lean import kept_columns

        made = self._several_pieces(paths, given, offsets, diag, stats)
        if not isinstance(made, StreamedTable):
            return made
        with closing(made.pieces()) as pieces:  # (its spill removed on the way out: several)
            df = kept_columns(pieces, STATISTICS_COLUMNS, made.decisions)
        df.attrs.update(made.attrs)
        return df

    def several(self, paths, given, offsets, diag, stats) -> pd.DataFrame:
        """Several inputs written piece by piece once every one is read
        (ebutool.runner.files_streamed); the whole table of views of one run."""
        from ebutool.runner.files_streamed import StreamedTable

        made = self._several_pieces(paths, given, offsets, diag, stats)
        if not isinstance(made, StreamedTable):
            return made
        # closed on the way out of a signal too: the command ends by os._exit
        # (ebutool.cli.ending.stop), and only closing the generator removes its spill
        with closing(made.pieces()) as pieces:
            self._written(paths, pieces, made.decisions, made.attrs, made.notes, diag, stats)

    def _written(self, paths, pieces, decisions, attrs, notes, diag, stats) -> NoReturn:
        """The pieces written, the provenance and stderr lines; ends the command."""
        from ebutool.analysis.vantage import decision_lines
        from ebutool.report.provenance import EpisodeTally

        kinds: Counter[str] = Counter()
        writer = PieceWriter(self.fmt, self.out, columns=self.columns, name=EPISODES)
        tally = EpisodeTally()
        for df in _counting(pieces, kinds):
            tally.add(df)  # (before --columns: the statistics read their own columns)
            writer.add(df)
        config = self.args.config
        made = self.provenance.record(
            self.fmt, paths, config=config, tally=tally, vantage=decisions, settings=self.settings
        )
        writer.close(made, attrs)
        write_weird_log(diag, self.weird_out)
        if not self.quiet:
            print_key_notes(self.args.keys, False)
            for line in [*decision_lines(decisions), *notes, counts_line(kinds, stats)]:
                err(line)
            print_diagnostics(diag, self.quiet)
        raise typer.Exit(final_status(diag, self.quiet))


def _tables(
    df: pd.DataFrame, summary: bool, settings: ClaimSettings, fmt: OutputFormat
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The table analyze computed (the episodes, or their summary with the clocks of
    merged views), the one it writes (a paper table for latex/markdown summaries) and
    its name."""
    from ebutool.analysis import summarize
    from ebutool.analysis.view_table import with_clocks

    if not summary:
        return df, df, EPISODES
    table = with_clocks(summarize(df, settings=settings), df)
    shown = table
    if fmt in (OutputFormat.latex, OutputFormat.markdown):
        from ebutool.report.paper import paper_table

        shown = paper_table(table)  # the compact table a paper prints
    return table, shown, "ebutool_summary"


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
    for line in df.attrs.get("notes", []):  # merged views, rotated captures
        err(line)
    err(summary_line(df, stats))
    if summary is not None:
        err(exclusion_statement(df))
        for line in claim_statement(summary, settings=settings).splitlines():
            err(line)
        for line in counterfactual_statement(df, settings=settings).splitlines():
            err(line)


def _follow(req, summary, merge, jobs, config, keys, esp_sas, weird_log, quiet) -> None:
    """analyze --follow (ebutool.cli.follow_run): rows as the episodes close."""
    from ebutool.cli.follow_run import FollowRequest, check_follow, run_follow
    from ebutool.records.from_packet import StreamStats

    files, fmt, output, columns, mn, cn, given = req
    check_follow(fmt, summary, merge, jobs)
    diag, stats = Diagnostics(), StreamStats()
    request = FollowRequest(input_paths(files, quiet), fmt, output, columns, mn, cn, given)
    kinds = run_follow(request, config, keys, esp_sas, diag, stats)
    write_weird_log(diag, weird_log)
    if not quiet:
        print_key_notes(keys, False)
        err(summary_line(_kinds_frame(kinds), stats))
        print_diagnostics(diag, quiet)
    raise typer.Exit(final_status(diag, quiet))


def _kinds_frame(kinds: Counter) -> pd.DataFrame:
    """A table with only the kind column of the episodes written (for summary_line)."""
    import pandas as pd

    return pd.DataFrame({"kind": [k for k, n in kinds.items() for _ in range(n)]}, dtype=object)


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
    return counts_line(_kinds(df), stats)


def _kinds(df: pd.DataFrame) -> Counter[str]:
    # kind is empty where the vantage point cannot tell it (ebutool.analysis.observable)
    return Counter(k if isinstance(k, str) else "kind not observable" for k in df["kind"])


def _counting(pieces: Iterable[pd.DataFrame], kinds: Counter[str]) -> Iterator[pd.DataFrame]:
    """``pieces`` passed on, their episodes counted by kind into ``kinds``."""
    for df in pieces:
        kinds.update(_kinds(df))
        yield df


def counts_line(kinds: Counter[str], stats: StreamStats) -> str:
    """:func:`summary_line` from the episodes counted by kind."""
    read = (
        f"{stats.frames} frames{stats.numbered_note()}, "
        f"{sum(stats.messages.values())} Mobility Header messages"
    )
    if stats.frames == 0:
        return f"{read}: the input holds no packets, so there are no episodes"
    if not stats.messages:
        return f"{read}: no Mobile IPv6 signalling, so there are no episodes"
    n = sum(kinds.values())
    if n == 0:
        return f"{read}: no episode could be reconstructed (see the warnings)"
    by_kind = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    note = ""
    if set(kinds) == {"incomplete"}:
        note = "; no episode completed inside the capture (see the diagnosis column)"
    return f"{read}: {n} episode{'s' if n != 1 else ''} ({by_kind}){note}"
