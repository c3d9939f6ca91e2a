"""``ebutool replay``: the trace through a reference correspondent node (wiring only)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from typing import TYPE_CHECKING, Annotated

import typer

from ebutool.cli.option_groups import esp_options, key_options, protocol_options, reading_options
from ebutool.cli.options import (
    ColumnsOpt,
    FormatOpt,
    InputsArg,
    JobsOpt,
    OutputOpt,
    PieceWriter,
    QuietOpt,
    WeirdLogOpt,
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
from ebutool.core.constants import ProtocolConfig
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import UsageError
from ebutool.report import OutputFormat

if TYPE_CHECKING:
    from ebutool.esp.sa import EspSA
    from ebutool.oracle.keys import KeyTable
    from ebutool.runner.replay_inputs import ReplayRuns

CNPolicyOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--cn-policy",
        metavar="[ADDR=]POLICY",
        help="The CN modelled: 'early' supports Early Binding Updates (the draft), 'standard' is "
        "RFC 6275 only (EBUs silently dropped), 'observed' = as the trace shows (early if the "
        "CN ever answered an EBU). A bare POLICY is the default for every CN; ADDR=POLICY sets "
        "one CN (repeatable). Default: early.",
    ),
]
TrustedOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--early-trusted",
        metavar="HOA",
        help="Grant EBUs only to this home address (repeatable; draft 6.2). Default: every MN.",
    ),
]
StrictOpt = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="Exit 1 also for unobservable rows (an answer the model sends that never "
        "reached the MN: the update or the answer may have been lost).",
    ),
]
DivergencesOpt = Annotated[
    str | None,
    typer.Option(
        "--divergences",
        metavar="PATH",
        help="Also write the divergences table (same format) to PATH ('-' = stdout, then -o PATH).",
    ),
]
DecisionsOpt = Annotated[
    str | None,
    typer.Option(
        "--decisions",
        metavar="PATH",
        help="Also write the per-binding-update decisions table (same format) to PATH.",
    ),
]


def register(app: typer.Typer) -> None:
    @app.command("replay")
    @guarded
    @reading_options
    @protocol_options("cn_replay", "oracle")
    @key_options
    @esp_options
    @provenance_option
    def replay_cmd(
        esp_sas: list[EspSA],
        provenance: Provenance,
        files: InputsArg,
        config: ProtocolConfig,
        keys: KeyTable,
        cn_policy: CNPolicyOpt = None,
        early_trusted: TrustedOpt = None,
        fmt: FormatOpt = OutputFormat.table,
        output: OutputOpt = "-",
        columns: ColumnsOpt = None,
        weird_log: WeirdLogOpt = None,
        divergences: DivergencesOpt = None,
        decisions: DecisionsOpt = None,
        jobs: JobsOpt = 1,
        quiet: QuietOpt = False,
        strict: StrictOpt = False,
    ) -> None:
        """Replay a trace through a reference correspondent node (RFC 6275 9.5 + the draft).

        The MN's binding updates drive a model CN's binding cache (none -> tentative ->
        regular, sequence numbers, deregistration); the oracle decides which updates
        authenticate (keys as for 'ebutool verify'; without them the trace's own
        tokens; where even that cannot decide, what the trace's CN did is followed and
        the decisions table says so).  Prints the flooding exposure, one row per
        tentative binding: packets and octets (IPv6 length) the CN sent to the care-of
        address while it was unverified and after the tentative lifetime ran out.
        Every difference between the model and the trace's CN is a divergence
        (--divergences PATH); the summary on stderr counts them by kind.  An answer
        that never reached the MN is an unobservable_* row (the update or the answer
        may have been lost).  Exit status 1 if there is any divergence (with --strict,
        also an unobservable row).  Key material is never printed.

        Example: ebutool replay samples/early-conservative.pcap --tentative-lifetime 1
        --divergences div.csv -f csv
        """
        from ebutool.cn_replay import parse_cn_policies

        outs = [p for p in (output, divergences, decisions) if p is not None]
        if outs.count("-") > 1:
            raise UsageError(
                "only one table can go to stdout: give -o PATH, --divergences PATH "
                "or --decisions PATH"
            )
        if fmt is OutputFormat.parquet and "-" in outs:
            raise UsageError(
                "--format parquet needs a file for every table: give -o PATH "
                "(and PATH for --divergences/--decisions)"
            )
        out = output_file(output)
        div_out = output_file(divergences, "--divergences") if divergences is not None else None
        dec_out = output_file(decisions, "--decisions") if decisions is not None else None
        trusted = _addresses(early_trusted, "--early-trusted")
        policies = parse_cn_policies(cn_policy or ())
        weird = weird_log_output(weird_log)  # before any input is read, like -o
        paths = input_paths(files, quiet)
        diag = Diagnostics()
        run = {
            "keys": keys if keys else None,
            "config": config,
            "cn_policy": policies,
            "diag": diag,
            "trusted": trusted,
            "esp_sas": esp_sas,
        }
        outs3 = {"exposure": out, "divergences": div_out, "decisions": dec_out}
        result = _replay_written(paths, jobs, fmt, outs3, columns, quiet, provenance, run)
        if not quiet:
            print_key_notes(keys, False)
            for line in result.summary_lines():
                err("replay: " + line)
        print_diagnostics(diag, quiet)
        write_weird_log(diag, weird)
        raise typer.Exit(final_status(diag, quiet, result.exit_status(strict)))


def _replay_written(
    paths: list[str],
    jobs: int,
    fmt: OutputFormat,
    outs: dict,
    columns: str | None,
    quiet: bool,
    provenance: Provenance,
    run: dict,
) -> ReplayRuns:
    """Replay ``paths`` and write the tables ``outs`` names (name -> OutputFile or None):
    one input batch by batch as it is replayed (docs/replay.md "Bounded state"), several
    spilled then written piece by piece; the table on a terminal whole at the end."""
    from ebutool.runner.replay_inputs import replay_files, replay_written

    config = run["config"]
    if all(in_pieces(fmt, w, parquet=True) for w in outs.values() if w is not None):
        writers = {
            what: PieceWriter(
                fmt, w, columns=columns if what == "exposure" else None, name=f"ebutool_{what}"
            )
            for what, w in outs.items()
            if w is not None
        }
        if len(paths) > 1:  # (written once every input is read: docs/outputs.md)
            return _several_written(paths, jobs, fmt, writers, provenance, run)
        result = replay_written(paths[0], {what: w.add for what, w in writers.items()}, **run)
        made = provenance.record(fmt, paths, config=config)
        for w in writers.values():
            w.close(made)
        return result
    result = replay_files(paths, jobs, **run)
    # all put in place when the command ends
    made = provenance.record(fmt, paths, config=config)
    for what, w in outs.items():
        if w is not None:
            write_table(
                getattr(result, what),
                fmt,
                w,
                columns=columns if what == "exposure" else None,
                name=f"ebutool_{what}",
                quiet=quiet if what == "exposure" else False,
                provenance=made,
            )
    return result


def _several_written(
    paths: list[str],
    jobs: int,
    fmt: OutputFormat,
    writers: dict[str, PieceWriter],
    provenance: Provenance,
    run: dict,
) -> ReplayRuns:
    """Several inputs replayed each on its own, their tables spilled, then each table
    ``writers`` names written piece by piece (ebutool.runner.replay_spilled)."""
    from ebutool.runner.replay_spilled import replay_files_streamed

    result, tables = replay_files_streamed(paths, jobs, tables=list(writers), **run)
    made = provenance.record(fmt, paths, config=run["config"])
    try:
        for what, writer in writers.items():
            with closing(tables[what].pieces()) as pieces:
                for df in pieces:
                    writer.add(df)
            writer.close(made)
    finally:  # every table's spill, written or not, gone before a signal's os._exit
        for table in tables.values():
            table.cleanup()
    return result


def _addresses(values: Sequence[str] | None, option: str) -> list[str] | None:
    if not values:
        return None
    from ebutool.core.addr import canonical

    out = []
    for v in values:
        try:
            out.append(canonical(v.strip()))
        except ValueError:
            raise UsageError(f"{option} {v!r}: not an IPv6 address") from None
    return out
