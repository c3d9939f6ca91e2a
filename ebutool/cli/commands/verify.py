"""``ebutool verify``: the stateless correspondent-node oracle (wiring only)."""

from __future__ import annotations

from typing import Annotated

import typer

from ebutool.cli.options import (
    FormatOpt,
    KcnFileOpt,
    KcnOpt,
    KeysOpt,
    MaxNonceLifetimeOpt,
    MaxTokenLifetimeOpt,
    NoncesOpt,
    OutputOpt,
    QuietOpt,
    err,
    guarded,
    key_table,
    make_config,
    print_diagnostics,
    print_key_notes,
    write_table,
)
from ebutool.core.diagnostics import Diagnostics
from ebutool.report import OutputFormat


def register(app: typer.Typer) -> None:
    @app.command("verify")
    @guarded
    def verify_cmd(
        file: Annotated[str, typer.Argument(help="pcap, pcapng or JSON Lines trace; '-' = stdin.")],
        kcn: KcnOpt = None,
        kcn_file: KcnFileOpt = None,
        nonces: NoncesOpt = None,
        keys: KeysOpt = None,
        fmt: FormatOpt = OutputFormat.table,
        output: OutputOpt = "-",
        quiet: QuietOpt = False,
        max_nonce_lifetime: MaxNonceLifetimeOpt = None,
        max_token_lifetime: MaxTokenLifetimeOpt = None,
    ) -> None:
        """Check keygen tokens and binding MACs as a stateless correspondent node would.

        One row per HoT, CoT, BU, EBU, BA and EBA of a correspondent registration:
        frame, time, msg, mn, cn, coa, seq, verdict (valid, invalid, unverifiable),
        reason, key_form, basis, home_index, careof_index, tokens_from.  With a CN's
        Kcn (--kcn, --kcn-file, --keys or the EBUTOOL_KCN environment variable) and
        its nonce table (--nonces) tokens and MACs are recomputed; without them the
        tokens the capture's own HoT/CoT carried are used (keyless mode).  Key
        material is never printed.  Exit status 1 if any message is invalid.

        Example: ebutool verify samples/early-conservative.pcap
        --keys samples/early-conservative.keys.json
        """
        from ebutool.oracle.verify import VERDICTS, verify
        from ebutool.records.from_packet import StreamStats

        config = make_config(
            max_nonce_lifetime=max_nonce_lifetime, max_token_lifetime=max_token_lifetime
        )
        table = key_table(kcn, kcn_file, nonces, keys)
        diag, stats = Diagnostics(), StreamStats()
        df = verify(file, keys=table, config=config, diag=diag, stats=stats)
        write_table(df, fmt, output)
        if not quiet:
            print_key_notes(table, False)
            counts = df["verdict"].value_counts()
            err(
                f"verify: {len(df)} messages checked: "
                + ", ".join(f"{v} {int(counts.get(v, 0))}" for v in VERDICTS)
                + f"; keys: {table.describe()}"
            )
        print_diagnostics(diag, quiet)
        raise typer.Exit(1 if (df["verdict"] == "invalid").any() else 0)
