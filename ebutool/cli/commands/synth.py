"""``ebutool synth``: scenario file -> capture (and JSON trace, and keys)."""

from __future__ import annotations

from typing import Annotated

import typer

from ebutool.cli.option_groups import protocol_options
from ebutool.cli.options import QuietOpt, err, guarded, output_file
from ebutool.core.errors import UsageError


def register(app: typer.Typer) -> None:
    @app.command("synth")
    @guarded
    @protocol_options("synth", overrides=True)
    def synth_cmd(
        scenario: Annotated[str, typer.Argument(help="Scenario file (TOML, see docs/synth.md).")],
        overrides: dict[str, float],
        output: Annotated[
            str, typer.Option("--output", "-o", help="Capture to write ('-' = stdout).")
        ],
        json_out: Annotated[
            str | None,
            typer.Option(
                "--json", help="Also write the JSON Lines trace (with handover events) here."
            ),
        ] = None,
        keys_out: Annotated[
            str | None,
            typer.Option(
                "--keys",
                help="Also write the CNs' Kcn and nonces here (for `ebutool verify --keys`).",
            ),
        ] = None,
        seed: Annotated[
            int | None,
            typer.Option(
                "--seed",
                help="Random seed (cookies, jitter, loss) [default: the scenario's]",
                min=0,
            ),
        ] = None,
        pcapng: Annotated[
            bool,
            typer.Option(
                "--pcapng",
                help="Write pcapng (also chosen by a .pcapng output name); default pcap.",
            ),
        ] = False,
        quiet: QuietOpt = False,
    ) -> None:
        """Simulate a scenario and write the packets as captured at the mobile nodes.

        Real packets: MH checksums, keygen tokens and MACs from each CN's Kcn and
        nonces, so `ebutool verify` passes them; the same seed gives the same bytes.
        Protocol constants come from the scenario's [protocol] table, then the options.

        Example: ebutool synth samples/early-conservative.toml -o early.pcap --json early.jsonl
        """
        from ebutool.synth import load_scenario, simulate, write_capture, write_json, write_keys

        if sum(p == "-" for p in (output, json_out, keys_out)) > 1:
            raise UsageError("only one of --output, --json, --keys can be '-' (stdout)")
        out = output_file(output)
        json_file = output_file(json_out, "--json") if json_out is not None else None
        keys_file = output_file(keys_out, "--keys", secret=True) if keys_out is not None else None
        sc = load_scenario(scenario)
        config = sc.config().with_(**overrides)  # the options over the [protocol] table
        result = simulate(sc, seed=seed, config=config)
        # all put in place when the command ends; the keys file is 0600
        n = write_capture(result, out.binary, pcapng=pcapng or output.lower().endswith(".pcapng"))
        if json_file is not None:
            write_json(result, json_file.text())
        if keys_file is not None:
            write_keys(result, keys_file.text())
        if not quiet:
            err(
                f"synth: {sc.name} (seed {result.seed}): {n} packets, {len(result.handovers)} "
                f"handovers, {result.lost} lost on the links -> {output}"
            )
