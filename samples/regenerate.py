#!/usr/bin/env python3
"""Regenerate every sample from its scenario: for each samples/NAME.toml write
NAME.pcap (capture at the mobile nodes), NAME.jsonl (JSON Lines trace with handover
events) and NAME.keys.json (the CNs' Kcn and nonces, for `ebutool verify --keys`).

    python samples/regenerate.py           # rewrite the files that changed
    python samples/regenerate.py --check   # exit 1 if a committed sample is out of date

ESP_SAMPLES adds ESP-protected variants: esp/NAME.pcap (the MN-HA signalling
encrypted, RFC 3776/4877) with its SAs in esp/NAME.esp_sa (Wireshark), esp/NAME.xfrm
(ip xfrm state) and esp/NAME.esp.json (a directory of their own: the samples beside
this script each come with a JSON trace and keys that read like their capture).

Deterministic: the scenarios fix their seeds, so two runs give identical bytes.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing

from ebutool.synth import load_scenario, simulate, write_capture, write_json, write_keys  # noqa: E402
from ebutool.synth.protect import json_sas, protect_run, wireshark_table, xfrm_state  # noqa: E402

# esp/NAME samples: scenario stem -> ESP algorithm (ebutool synth --esp)
ESP_SAMPLES = {"early-conservative": "aes-cbc/hmac-sha1-96"}


def render(scenario: Path) -> dict[Path, bytes]:
    """The files one scenario produces, by path, as bytes."""
    result = simulate(load_scenario(str(scenario)))
    pcap = io.BytesIO()
    write_capture(result, pcap)
    trace, keys = io.StringIO(), io.StringIO()
    write_json(result, trace, source_name=scenario.stem)
    write_keys(result, keys)
    stem = scenario.with_suffix("")
    files = {
        stem.with_suffix(".pcap"): pcap.getvalue(),
        stem.with_suffix(".jsonl"): trace.getvalue().encode("utf-8"),
        Path(f"{stem}.keys.json"): keys.getvalue().encode("utf-8"),
    }
    algorithm = ESP_SAMPLES.get(scenario.stem)
    if algorithm is not None:
        run = protect_run(result, algorithm)
        esp_pcap = io.BytesIO()
        write_capture(dataclasses.replace(result, packets=run.packets), esp_pcap)
        esp = stem.parent / "esp" / stem.name
        files[Path(f"{esp}.pcap")] = esp_pcap.getvalue()
        files[Path(f"{esp}.esp_sa")] = wireshark_table(run.sas).encode("utf-8")
        files[Path(f"{esp}.xfrm")] = xfrm_state(run.sas).encode("utf-8")
        files[Path(f"{esp}.esp.json")] = json_sas(run.sas).encode("utf-8")
    return files


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--check",
        action="store_true",
        help="only compare; exit 1 if a sample differs from what its scenario gives",
    )
    ap.add_argument("--dir", type=Path, default=HERE, help="samples directory [%(default)s]")
    args = ap.parse_args(argv)
    stale = 0
    for scenario in sorted(args.dir.glob("*.toml")):
        for path, data in render(scenario).items():
            current = path.read_bytes() if path.exists() else None
            if current == data:
                continue
            stale += 1
            if args.check:
                print(f"out of date: {path.name}", file=sys.stderr)
            else:
                path.parent.mkdir(exist_ok=True)
                path.write_bytes(data)
                print(f"wrote {path.name} ({len(data)} octets)", file=sys.stderr)
    if args.check and stale:
        print(
            f"{stale} sample file(s) out of date: run python samples/regenerate.py", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
