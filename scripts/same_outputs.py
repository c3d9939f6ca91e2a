"""Do two checkouts of ebutool give byte-identical outputs?

    python scripts/same_outputs.py BEFORE_CHECKOUT AFTER_CHECKOUT [--bench-packets N]

Runs every command on every bundled sample (and on a generated benchmark capture) with
each checkout's code (``PYTHONPATH=CHECKOUT python -m ebutool ...``), in one scratch
directory so that file names in the outputs are the same, and compares stdout, stderr,
the exit status and every file written.  Prints the differing runs and exits 1 if any.
Used to show that a refactoring changed no output (issue 10: "every output
byte-identical"); commands or options that only the newer checkout has are not run.
"""

from __future__ import annotations

import argparse
import difflib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SAMPLES = ("standard", "early-conservative", "early-optimistic", "mixed")
FORMATS = ("csv", "json", "markdown", "latex", "table")


def command_lines(bench: str | None) -> list[list[str]]:
    """Every run to compare: (argv after ``ebutool``)."""
    runs: list[list[str]] = []
    for s in SAMPLES:
        for ext in ("pcap", "jsonl"):
            f = f"samples/{s}.{ext}"
            keys = ["--keys", f"samples/{s}.keys.json"]
            for fmt in FORMATS:
                runs.append(["decode", f, "-f", fmt])
                runs.append(["analyze", f, "-f", fmt])
            runs.append(["analyze", f, "--summary", "-f", "csv"])
            runs.append(["analyze", f, "-f", "csv", *keys])
            runs.append(["verify", f, "-f", "csv"])
            runs.append(["verify", f, "-f", "csv", *keys])
            runs.append(
                [
                    "replay",
                    f,
                    "-f",
                    "csv",
                    "--divergences",
                    "div.csv",
                    "--decisions",
                    "dec.csv",
                ]
            )
            runs.append(["replay", f, "-f", "csv", "--cn-policy", "observed", *keys])
            runs.append(["timeline", f])
            runs.append(["timeline", f, "--episode", "1"])
            runs.append(["timeline", f, "--episode", "1", "-f", "csv"])
            runs.append(["convert", f, "-o", "out.jsonl"])
        runs.append(
            [
                "synth",
                f"samples/{s}.toml",
                "-o",
                "syn.pcap",
                "--json",
                "syn.jsonl",
                "--keys",
                "syn.keys.json",
            ]
        )
    runs += [
        ["analyze", "samples", "-f", "csv"],
        ["analyze", "samples", "--summary", "-f", "markdown"],
        [
            "analyze",
            "samples/standard.pcap",
            "samples/mixed.pcap",
            "--merge",
            "-f",
            "csv",
        ],
        ["analyze", "samples", "-j", "2", "-f", "csv"],
        [
            "compare",
            "samples/standard.pcap",
            "samples/early-conservative.pcap",
            "-f",
            "csv",
        ],
        ["compare", "samples/mixed.pcap", "--by", "mode", "-f", "markdown"],
        ["model", "--rtt-ha", "40", "--rtt-bt", "120", "--rtt-ro", "30", "-f", "csv"],
        ["model", "--rtt-ha", "40", "--rtt-ro", "30", "--sweep", "rtt_bt=0:400:50"],
        ["analyze", "-", "-f", "csv"],  # stdin: samples/mixed.pcap
    ]
    if bench:
        runs += [
            ["decode", bench, "-f", "csv"],
            ["analyze", bench, "-f", "csv"],
            ["verify", bench, "-f", "csv"],
            ["replay", bench, "-f", "csv"],
        ]
    return runs


def run_all(checkout: Path, work: Path, runs: list[list[str]]) -> list[dict]:
    env = dict(os.environ, PYTHONPATH=str(checkout), EBUTOOL_NO_PROGRESS="1", COLUMNS="200")
    env.pop("EBUTOOL_KCN", None)
    results = []
    for argv in runs:
        for name in (
            "out.jsonl",
            "div.csv",
            "dec.csv",
            "syn.pcap",
            "syn.jsonl",
            "syn.keys.json",
        ):
            (work / name).unlink(missing_ok=True)
        stdin = open(work / "samples" / "mixed.pcap", "rb") if "-" in argv else subprocess.DEVNULL
        p = subprocess.run(
            [sys.executable, "-m", "ebutool", *argv],
            cwd=work,
            env=env,
            stdin=stdin,
            capture_output=True,
            timeout=900,
        )
        files = {}
        for name in (
            "out.jsonl",
            "div.csv",
            "dec.csv",
            "syn.pcap",
            "syn.jsonl",
            "syn.keys.json",
        ):
            if (work / name).exists():
                files[name] = (work / name).read_bytes()
        results.append(
            {
                "argv": argv,
                "rc": p.returncode,
                "stdout": p.stdout,
                "stderr": p.stderr,
                "files": files,
            }
        )
    return results


def show_diff(label: str, a: bytes, b: bytes) -> None:
    la = a.decode("utf-8", "replace").splitlines()
    lb = b.decode("utf-8", "replace").splitlines()
    for line in list(difflib.unified_diff(la, lb, "before", "after", lineterm="", n=1))[:20]:
        print(f"    {label}: {line}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument(
        "--bench-packets",
        type=int,
        default=200_000,
        help="packets of the generated benchmark capture (0: none)",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(args.after / "samples", work / "samples")
        bench = None
        if args.bench_packets:
            subprocess.run(
                [
                    sys.executable,
                    str(args.after / "benchmarks" / "gen_capture.py"),
                    "--packets",
                    str(args.bench_packets),
                    "--out",
                    str(work),
                    "--format",
                    "pcap",
                ],
                check=True,
                capture_output=True,
            )
            bench = next(p.name for p in work.glob("*.pcap"))
        runs = command_lines(bench)
        before = run_all(args.before.resolve(), work, runs)
        after = run_all(args.after.resolve(), work, runs)
    bad = 0
    for a, b in zip(before, after, strict=False):
        same = (
            a["rc"] == b["rc"]
            and a["stdout"] == b["stdout"]
            and a["stderr"] == b["stderr"]
            and a["files"] == b["files"]
        )
        if not same:
            bad += 1
            print(f"DIFFERS: ebutool {' '.join(a['argv'])} (exit {a['rc']} -> {b['rc']})")
            show_diff("stdout", a["stdout"], b["stdout"])
            show_diff("stderr", a["stderr"], b["stderr"])
            for name in sorted(set(a["files"]) | set(b["files"])):
                if a["files"].get(name) != b["files"].get(name):
                    show_diff(name, a["files"].get(name, b""), b["files"].get(name, b""))
    print(f"{len(runs) - bad} of {len(runs)} runs byte-identical", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
