"""``ebutool verify``: the stateless correspondent-node oracle (wiring only)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import typer

from ebutool.cli.option_groups import esp_options, key_options, protocol_options, reading_options
from ebutool.cli.options import (
    ColumnsOpt,
    FormatOpt,
    InputsArg,
    JobsOpt,
    OutputOpt,
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
    write_pieces,
    write_table,
    write_weird_log,
)
from ebutool.cli.provenance_option import Provenance, provenance_option
from ebutool.core.constants import ProtocolConfig
from ebutool.core.diagnostics import Diagnostics
from ebutool.report import OutputFormat

if TYPE_CHECKING:
    from ebutool.esp.sa import EspSA
    from ebutool.oracle.keys import KeyTable


def register(app: typer.Typer) -> None:
    @app.command("verify")
    @guarded
    @reading_options
    @protocol_options("oracle")
    @key_options
    @esp_options
    @provenance_option
    def verify_cmd(
        esp_sas: list[EspSA],
        provenance: Provenance,
        files: InputsArg,
        config: ProtocolConfig,
        keys: KeyTable,
        fmt: FormatOpt = OutputFormat.table,
        output: OutputOpt = "-",
        columns: ColumnsOpt = None,
        weird_log: WeirdLogOpt = None,
        jobs: JobsOpt = 1,
        quiet: QuietOpt = False,
    ) -> None:
        """Check keygen tokens and binding MACs as a stateless correspondent node would.

        One row per HoT, CoT, BU, EBU, BA and EBA of a correspondent registration:
        frame, time, msg, mn, cn, coa, seq, verdict (valid, invalid, unverifiable,
        stale_token), reason, key_form, basis, home_index, careof_index, tokens_from,
        nonce_age_ms (from the nonce's first HoT/CoT in the capture).  With a CN's
        Kcn (--kcn, --kcn-file, --keys or the EBUTOOL_KCN environment variable) and
        its nonce table (--nonces) tokens and MACs are recomputed; without them the
        tokens the capture's own HoT/CoT carried are used (keyless mode).  Several
        files: each is checked on its own, one table with a source column first.  Key
        material is never printed.  Exit status 1 if any message is invalid.

        Example: ebutool verify samples/early-conservative.pcap
        --keys samples/early-conservative.keys.json
        """
        from ebutool.oracle.verify import VERDICTS
        from ebutool.records.from_packet import StreamStats
        from ebutool.runner.verify_inputs import verify_files, verify_files_streamed, verify_stream

        check_output(fmt, output)
        out = output_file(output)
        weird = weird_log_output(weird_log)  # before any input is read, like -o
        paths = input_paths(files, quiet)
        diag, stats = Diagnostics(), StreamStats()
        counts: Counter[str] = Counter()
        if in_pieces(fmt, out, parquet=True):
            # one input: the rows are written as they are checked; several: once every
            # input is read (docs/outputs.md)
            options: dict[str, Any] = dict(
                keys=keys, config=config, diag=diag, stats=stats, esp_sas=esp_sas
            )
            if len(paths) == 1:
                tables = verify_stream(paths[0], counts=counts, **options)
            else:
                tables = verify_files_streamed(paths, jobs, counts=counts, **options).pieces()
            write_pieces(
                tables,
                fmt,
                out,
                columns=columns,
                name="ebutool_verify",
                provenance=lambda: provenance.record(fmt, paths, config=config),
            )
        else:
            df = verify_files(
                paths, jobs, keys=keys, config=config, diag=diag, stats=stats, esp_sas=esp_sas
            )
            counts.update(df["verdict"])
            made = provenance.record(fmt, paths, config=config)
            write_table(
                df, fmt, out, columns=columns, name="ebutool_verify", quiet=quiet, provenance=made
            )
        write_weird_log(diag, weird)
        if not quiet:
            print_key_notes(keys, False)
            err(
                f"verify: {sum(counts.values())} messages checked: "
                + ", ".join(f"{v} {counts.get(v, 0)}" for v in VERDICTS)
                + f"; keys: {keys.describe()}"
            )
        print_diagnostics(diag, quiet)
        raise typer.Exit(final_status(diag, quiet, 1 if counts.get("invalid") else 0))
