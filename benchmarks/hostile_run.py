"""Peak memory and time of every command on the hostile captures of issue 12.

    python benchmarks/hostile_run.py       # 1M BUs and 2M BUs (generated in a temp dir)
    python benchmarks/hostile_run.py --bus 100000 --commands analyze,decode
    python benchmarks/hostile_run.py --checkout /path/to/other/ebutool   # the same, older code

For N = ``--bus`` and 2N it writes the capture of ``gen_hostile.py`` (one BU per distinct
home address), then runs ``ebutool decode|analyze|verify|replay FILE -f csv -o OUT`` each in
its own process, and reports per command: peak RSS (the child's ``ru_maxrss`` from
``os.wait4``; this driver stays small, so the fork-time size carried over does not
matter), CPU seconds (user + system) and wall seconds at N and 2N, the output size, and
the ratio of CPU time at 2N to N (linear time: about 2).  Issue 12's target: every peak
under 400 MB at N = 1,000,000, ratio no worse than linear.  Figures: docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
COMMANDS = ("decode", "analyze", "verify", "replay")
TARGET_MB = 400.0
MAX_RATIO = 2.5


def run(checkout: Path, cmd: str, capture: Path, out: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(checkout), EBUTOOL_NO_PROGRESS="1")
    argv = [sys.executable, "-m", "ebutool", cmd, str(capture), "-f", "csv", "-o", str(out)]
    t = time.monotonic()
    with open(os.devnull, "wb") as null:
        # cwd: the capture's directory, so that ``-m`` does not import an ebutool package
        # from the current directory instead of ``checkout``
        p = subprocess.Popen(argv, env=env, stdout=null, stderr=subprocess.PIPE, cwd=capture.parent)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        tail = p.stderr.read().decode(errors="replace").strip().splitlines()[-2:]  # type: ignore[union-attr]
    return {
        "command": cmd,
        "exit": p.returncode,
        "peak_mb": ru.ru_maxrss / 1024,
        "cpu_s": ru.ru_utime + ru.ru_stime,
        "wall_s": time.monotonic() - t,
        "out_mb": out.stat().st_size / 1e6 if out.exists() else 0.0,
        "stderr_tail": tail,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bus", type=int, default=1_000_000, help="N (the runs are at N and 2N)")
    ap.add_argument("--commands", default=",".join(COMMANDS))
    ap.add_argument("--checkout", type=Path, default=HERE.parent, help="ebutool checkout to run")
    ap.add_argument("--no-double", action="store_true", help="only N (no time ratio)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    sizes = [args.bus] if args.no_double else [args.bus, 2 * args.bus]
    results: dict[int, list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            cap = Path(tmp) / f"hostile_{n}.pcap"
            subprocess.run(
                [sys.executable, str(HERE / "gen_hostile.py"), "--bus", str(n), "--out", str(cap)],
                check=True,
            )
            results[n] = []
            for cmd in args.commands.split(","):
                r = run(args.checkout.resolve(), cmd, cap, Path(tmp) / "out.csv")
                results[n].append(r)
                print(
                    f"{n:>9} {cmd:8} exit {r['exit']} peak {r['peak_mb']:7.1f} MB  "
                    f"cpu {r['cpu_s']:7.1f} s  wall {r['wall_s']:7.1f} s  out {r['out_mb']:.1f} MB",
                    file=sys.stderr,
                    flush=True,
                )
                (Path(tmp) / "out.csv").unlink(missing_ok=True)
            cap.unlink()
    ok = True
    print(f"| command | peak MB at {args.bus:,} | CPU s | wall s | CPU ratio 2N/N | target |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for i, r in enumerate(results[args.bus]):
        ratio = None
        if not args.no_double:
            ratio = results[2 * args.bus][i]["cpu_s"] / max(r["cpu_s"], 1e-9)
        fast = ratio is None or ratio <= MAX_RATIO
        met = r["peak_mb"] < TARGET_MB and r["exit"] in (0, 1) and fast
        ok &= met
        rs = "" if ratio is None else f"{ratio:.2f}"
        print(
            f"| {r['command']} | {r['peak_mb']:.0f} | {r['cpu_s']:.1f} | {r['wall_s']:.1f} "
            f"| {rs} | "
            f"{'met' if met else 'NOT MET'} |"
        )
    if args.json:
        args.json.write_text(json.dumps({str(k): v for k, v in results.items()}, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
