"""``ebutool analyze``: one row per binding-update episode (wiring only; see ebutool.analysis)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Annotated

import typer

from ebutool.analysis.summary import MIN_CLAIM_SAMPLES
from ebutool.cli.option_groups import key_options, protocol_options, reading_options
from ebutool.cli.options import (
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
    print_key_notes,
    write_table,
)
from ebutool.core.constants import ProtocolConfig
from ebutool.core.diagnostics import Diagnostics
from ebutool.records.from_packet import StreamStats
from ebutool.report import OutputFormat

if TYPE_CHECKING:
    import pandas as pd

    from ebutool.oracle.keys import KeyTable

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
SummaryOpt = Annotated[
    bool,
    typer.Option(
        "--summary",
        help="Per kind x mode: counts, median/mean/p95 of observed and predicted latencies, "
        "early/standard ratio (instead of the episode rows).",
    ),
]


def register(app: typer.Typer) -> None:
    @app.command("analyze")
    @guarded
    @reading_options
    @protocol_options("analysis", "oracle")
    @key_options
    def analyze_cmd(
        files: FilesArg,
        config: ProtocolConfig,
        keys: KeyTable,
        fmt: FormatOpt = OutputFormat.table,
        output: OutputOpt = "-",
        mn: MnOpt = None,
        cn: CnOpt = None,
        summary: SummaryOpt = False,
        merge: MergeOpt = False,
        jobs: JobsOpt = 1,
        min_claim_samples: MinClaimOpt = MIN_CLAIM_SAMPLES,
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
        data_gap_recv_ms.  Each file is analysed on its own unless --merge.  The capture is
        assumed to be taken at the mobile node.  A one-line
        summary (episodes by kind) and warnings go to stderr.  The auth column comes
        from the CN oracle (`ebutool verify`): with the key options it checks against
        each CN's Kcn and nonces, without them against the capture's own tokens.

        Example: ebutool analyze samples/early-conservative.pcap --format markdown -o episodes.md
        """
        from ebutool.analysis import claim_statement, summarize
        from ebutool.analysis.summary import counterfactual_statement
        from ebutool.core.progress import NullProgress, reading_progress
        from ebutool.runner.tasks import analyze_files

        check_output(fmt, output)
        out = output_file(output)
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
            )
        table = summarize(df, min_claim_samples=min_claim_samples) if summary else df
        write_table(table, fmt, out)
        if not quiet:
            print_key_notes(keys, False)
            err(summary_line(df, stats))
            if summary:
                for line in claim_statement(table, min_claim_samples).splitlines():
                    err(line)
                for line in counterfactual_statement(df, min_claim_samples).splitlines():
                    err(line)
            print_diagnostics(diag, quiet)
        raise typer.Exit(final_status(diag, quiet))


def summary_line(df: pd.DataFrame, stats: StreamStats) -> str:
    """One line for stderr: what was read and how many episodes of each kind it gave."""
    read = f"{stats.frames} frames, {sum(stats.messages.values())} Mobility Header messages"
    if stats.frames == 0:
        return f"{read}: the input holds no packets, so there are no episodes"
    if not stats.messages:
        return f"{read}: no Mobile IPv6 signalling, so there are no episodes"
    if df.empty:
        return f"{read}: no episode could be reconstructed (see the warnings)"
    kinds = Counter(df["kind"])
    by_kind = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    note = ""
    if set(kinds) == {"incomplete"}:
        note = "; no episode completed inside the capture (see the diagnosis column)"
    return f"{read}: {len(df)} episode{'s' if len(df) != 1 else ''} ({by_kind}){note}"
