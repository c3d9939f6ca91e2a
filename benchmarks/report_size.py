"""The HTML report of about 10,000 episodes: its size (the bound is 5 MB) and time.

    python benchmarks/report_size.py                 # 20 MNs x 2 CNs, 260 s -> ~10,000 episodes
    python benchmarks/report_size.py --mns 40 --seconds 260 --out /tmp/report-bench

``ebutool synth`` makes the capture from a scenario written here (every MN moves
every second between three networks; early and standard, conservative and optimistic
MNs in turn; one early-capable and one legacy correspondent), then ``ebutool report``
writes the page.  Prints the episodes, the page's size and the part of it each piece
takes (rows, ladders, figures), and exits 1 when the page is 5 MB or more.  Files go
to benchmarks/data/ (git-ignored) unless --out.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "benchmarks" / "data"
LIMIT = 5_000_000
KINDS = (("early", "conservative"), ("early", "optimistic"))
KINDS += (("standard", "conservative"), ("standard", "optimistic"))


def scenario(mns: int, seconds: int) -> str:
    """The scenario (TOML, docs/synth.md): samples/mixed.toml's network with ``mns``
    mobile nodes moving every second for ``seconds``."""
    head = (ROOT / "samples" / "mixed.toml").read_text().split("[[mobile_node]]")[0]
    head = re.sub(r"duration_ms = \d+", f"duration_ms = {seconds * 1000}", head)
    out = [head]
    for i in range(mns):
        procedure, mode = KINDS[i % len(KINDS)]
        out.append(
            f'[[mobile_node]]\nname = "mn{i}"\nhome_address = "2001:db8:1::{0x100 + i:x}"\n'
            f'procedure = "{procedure}"\nmode = "{mode}"\nstart = "wlan-a"\n'
            'correspondents = ["cn1", "cn2"]\n\n[mobile_node.mobility]\nmodel = "periodic"\n'
            f"first_ms = {500 + i * 37}\ninterval_ms = 1000\n"
            'networks = ["lte", "wlan-b", "wlan-a"]\n\n'
            f'[[flow]]\nmn = "mn{i}"\ncn = "cn1"\nrate_pps = 4\nsize = 20\ndirection = "both"\n\n'
        )
    return "".join(out)


def parts(page: str) -> dict[str, int]:
    """Octets of the page's pieces: the episode rows, the ladders, the figures."""
    m = re.search(r'<script id="ebutool-data" type="application/json">(.*?)</script>', page, re.S)
    data = json.loads(m.group(1)) if m else {}
    svgs = re.findall(r"<svg.*?</svg>", page, re.S)
    return {
        "rows": len(json.dumps(data.get("rows", []), separators=(",", ":"))),
        "ladders": len(json.dumps(data.get("ladders", {}), separators=(",", ":"))),
        "figures": sum(len(s) for s in svgs),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mns", type=int, default=20)
    ap.add_argument("--seconds", type=int, default=260)
    ap.add_argument("--out", type=Path, default=DATA_DIR)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    toml = args.out / f"report_{args.mns}x{args.seconds}.toml"
    pcap, html = toml.with_suffix(".pcap"), toml.with_suffix(".html")
    toml.write_text(scenario(args.mns, args.seconds))
    ebutool = [sys.executable, "-m", "ebutool"]
    subprocess.run([*ebutool, "synth", str(toml), "-o", str(pcap)], check=True)
    start = time.perf_counter()
    run = subprocess.run(
        [*ebutool, "report", str(pcap), "-o", str(html)], check=True, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    page = html.read_text("utf-8")
    size = len(page.encode("utf-8"))
    print(next((ln for ln in run.stderr.splitlines() if "episode(s)" in ln), run.stderr.strip()))
    print(f"{html}: {size:,} octets in {seconds:.1f} s wall")
    for name, n in parts(page).items():
        print(f"  {name:8} {n:>10,} octets")
    ok = size < LIMIT
    print(f"bound 5 MB: {'met' if ok else 'NOT MET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
