"""``ebutool synth``: scenario file -> capture (and JSON trace, and keys)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ebutool.cli.option_groups import protocol_options
from ebutool.cli.options import QuietOpt, claim_inputs, err, guarded, output_file
from ebutool.core.errors import UsageError

if TYPE_CHECKING:
    from ebutool.core.output_file import OutputFile
    from ebutool.synth.simulator import SynthResult

SynthOutputOpt = Annotated[
    str, typer.Option("--output", "-o", help="Capture to write ('-' = stdout).")
]

JsonOutOpt = Annotated[
    str | None,
    typer.Option("--json", help="Also write the JSON Lines trace (with handover events) here."),
]

KeysOutOpt = Annotated[
    str | None,
    typer.Option(
        "--keys",
        help="Also write the CNs' Kcn and nonces here (for `ebutool verify --keys`).",
    ),
]

SeedOpt = Annotated[
    int | None,
    typer.Option(
        "--seed",
        help="Random seed (cookies, jitter, loss) [default: the scenario's]",
        min=0,
    ),
]

PcapngOpt = Annotated[
    bool,
    typer.Option(
        "--pcapng",
        help="Write pcapng (also chosen by a .pcapng output name); default pcap.",
    ),
]

EspOpt = Annotated[
    str | None,
    typer.Option(
        "--esp",
        metavar="ALGORITHM",
        help="ESP-protect the MN-HA signalling (BU/BA transport, HoTI/HoT tunnel "
        "mode, RFC 3776/4877) with ENCRYPTION/INTEGRITY, e.g. aes-cbc/hmac-sha1-96 or "
        "aes-gcm-16 (docs/esp.md lists them); needs --esp-sa-out.",
    ),
]

EspSaOutOpt = Annotated[
    str | None,
    typer.Option(
        "--esp-sa-out",
        metavar="PREFIX",
        help="With --esp: write the SAs as PREFIX.esp_sa (Wireshark), PREFIX.xfrm "
        "(ip xfrm state) and PREFIX.esp.json, mode 0600.",
    ),
]

ViewsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--view",
        metavar="ROLE=PATH",
        help="Also write the run as captured at the home agent (ha), the "
        "correspondents (cn) or the MN's access router (ar: both of its interfaces, "
        "ar_delay_ms from the MN) to PATH; repeatable.",
    ),
]

ClocksOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--clock",
        metavar="ROLE=OFFSET_MS[,DRIFT_PPM]",
        help="The clock of a view (mn, ha, cn, ar): stamps are true time + offset + "
        "drift x elapsed; repeatable.",
    ),
]


def register(app: typer.Typer) -> None:
    @app.command("synth")
    @guarded
    @protocol_options("synth", overrides=True)
    def synth_cmd(
        scenario: Annotated[str, typer.Argument(help="Scenario file (TOML, see docs/synth.md).")],
        overrides: dict[str, float],
        output: SynthOutputOpt,
        json_out: JsonOutOpt = None,
        keys_out: KeysOutOpt = None,
        seed: SeedOpt = None,
        pcapng: PcapngOpt = False,
        esp: EspOpt = None,
        esp_sa_out: EspSaOutOpt = None,
        views: ViewsOpt = None,
        clocks: ClocksOpt = None,
        quiet: QuietOpt = False,
    ) -> None:
        """Simulate a scenario and write the packets as captured at the mobile nodes.

        Real packets: MH checksums, keygen tokens and MACs from each CN's Kcn and
        nonces, so `ebutool verify` passes them; the same seed gives the same bytes.
        Protocol constants come from the scenario's [protocol] table, then the options.

        With --esp the capture has the MN-HA signalling ESP-protected (the JSON trace
        stays the run in clear); `ebutool analyze --esp-sa PREFIX.esp_sa` decrypts it.

        Example: ebutool synth samples/early-conservative.toml -o early.pcap --json early.jsonl

        Example: ebutool synth samples/standard.toml -o mn.pcap --view cn=cn.pcap --clock cn=700
        """
        from ebutool.synth import load_scenario, simulate, write_json, write_keys

        if sum(p == "-" for p in (output, json_out, keys_out)) > 1:
            raise UsageError("only one of --output, --json, --keys can be '-' (stdout)")
        if (esp is None) != (esp_sa_out is None):
            raise UsageError("--esp and --esp-sa-out go together (the capture needs its SAs)")
        view_paths, clock = _view_options(views or [], clocks or [])
        # every output checked before the work, put in place when the command ends
        claim_inputs([scenario])
        out = output_file(output)
        view_out = {role: output_file(path, "--view") for role, path in view_paths.items()}
        json_file = output_file(json_out, "--json") if json_out is not None else None
        keys_file = output_file(keys_out, "--keys", secret=True) if keys_out is not None else None
        sc = load_scenario(scenario)
        config = sc.config().with_(**overrides)  # the options over the [protocol] table
        result = simulate(sc, seed=seed, config=config, views=tuple(view_paths))
        capture = result
        if esp is not None and esp_sa_out is not None:
            from dataclasses import replace

            from ebutool.synth.protect import protect_run, write_sa_files

            run = protect_run(result, esp)
            capture = replace(result, packets=run.packets)
            # put in place with the other outputs when the command ends (atomically, 0600)
            written = write_sa_files(
                run.sas, esp_sa_out, lambda p: output_file(p, "--esp-sa-out", secret=True)
            )
            if not quiet:
                err(
                    f"synth: ESP {esp}: {sum(run.protected.values())} packets protected, "
                    f"SAs in {', '.join(written)}"
                )
        n = _write_view(capture, "mn", out, pcapng, clock, scenario)
        for role, path in view_paths.items():
            k = _write_view(capture, role, view_out[role], pcapng, clock, scenario)
            if not quiet:
                err(f"synth: the {role} view: {k} packets -> {path}")
        if json_file is not None:
            write_json(result, json_file.text())
        if keys_file is not None:  # mode 0600
            write_keys(result, keys_file.text())
        if not quiet:
            err(
                f"synth: {sc.name} (seed {result.seed}): {n} packets, {len(result.handovers)} "
                f"handovers, {result.lost} lost on the links -> {output}"
            )


def _write_view(
    capture: SynthResult,
    role: str,
    out: OutputFile,
    pcapng: bool,
    clock: dict[str, tuple[float, float]],
    scenario: str,
) -> int:
    """The capture at ``role`` into ``out`` (pcapng by option or name), on its --clock.
    A stamp its format cannot hold (a start after 2106 in pcap, a clock before 1970) is
    named by where it came from: the --clock, else the scenario's start (exit 3, as
    every scenario error), never dpkt's bare struct error (exit 4, as it was)."""
    from ebutool.synth import write_capture
    from ebutool.synth.output import CaptureTimeError
    from ebutool.synth.scenario import ScenarioError

    offset, drift = clock.get(role, (0.0, 0.0))
    try:
        return write_capture(
            capture,
            out.binary,
            pcapng=pcapng or out.path.lower().endswith(".pcapng"),
            view=role,
            clock_offset_ms=offset,
            clock_drift_ppm=drift,
        )
    except CaptureTimeError as exc:
        if offset or drift:
            raise UsageError(f"--clock {role}={offset:g},{drift:g}: {exc}") from None
        raise ScenarioError(f"{scenario}: [scenario]: 'start': {exc}") from None


def _view_options(
    views: list[str], clocks: list[str]
) -> tuple[dict[str, str], dict[str, tuple[float, float]]]:
    """``--view ROLE=PATH`` and ``--clock ROLE=OFFSET_MS[,DRIFT_PPM]`` values."""
    from ebutool.synth.simulator import VIEWS

    paths: dict[str, str] = {}
    for value in views:
        role, sep, path = value.partition("=")
        if not sep or role not in VIEWS or not path:
            raise UsageError(
                f"--view {value!r}: expected ROLE=PATH, ROLE one of {', '.join(VIEWS)}"
            )
        paths[role] = path
    clock: dict[str, tuple[float, float]] = {}
    for value in clocks:
        role, sep, rest = value.partition("=")
        offset, _, drift = rest.partition(",")
        try:
            clock[role] = (float(offset), float(drift or 0.0))
        except ValueError:
            raise UsageError(f"--clock {value!r}: expected ROLE=OFFSET_MS[,DRIFT_PPM]") from None
        if not sep or role not in ("mn", *VIEWS):
            raise UsageError(f"--clock {value!r}: ROLE is one of mn, {', '.join(VIEWS)}")
        if role != "mn" and role not in paths:
            raise UsageError(f"--clock {value!r}: no --view {role}=PATH to apply it to")
    return paths, clock
