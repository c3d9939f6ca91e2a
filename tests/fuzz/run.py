"""``python -m tests.fuzz.run --runs 20000``: a fuzz campaign (tests/fuzz/harness.py).

Prints a JSON summary (runs, exit statuses, max RSS, failures); exit status 1 when a
run failed.  --save keeps every failing input in tests/fuzz/regressions/."""

from __future__ import annotations

import argparse
import json
import sys

from tests.fuzz.harness import campaign, limit_memory


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.fuzz.run", description=__doc__)
    ap.add_argument("--runs", type=int, default=1000, help="number of runs [1000]")
    ap.add_argument("--seed", type=int, default=0, help="random seed [0]")
    ap.add_argument("--seconds", type=float, default=None, help="stop after this long")
    ap.add_argument("--save", action="store_true", help="keep failing inputs as regressions")
    ap.add_argument("--workdir", default="/tmp", help="where the runs' files go [/tmp]")
    ap.add_argument("--progress", action="store_true", help="a summary line every 500 runs")
    args = ap.parse_args(argv)
    limit_memory()
    result = campaign(
        args.runs, args.seed, args.seconds, args.workdir, save=args.save, progress=args.progress
    )
    print(json.dumps({**result.summary(), "failed_runs": result.failures[:50]}, indent=1))
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
