"""How long ``ebutool --help`` (and so every shell-completion TAB) takes, against the bare
interpreter's start and against importing pandas (issue 15 item 7).

    python benchmarks/help_timing.py --repeat 5

CPU seconds (user + system of the child, ``RUSAGE_CHILDREN``: on a shared machine
wall-clock time measures the neighbours), best of ``--repeat`` runs, each in a fresh
process started with this interpreter: ``python -c pass`` (the floor: interpreter and
site start-up), ``python -m ebutool --help`` and ``python -c "import pandas"`` (what --help used to
import).  The ratio help / floor says how much ebutool adds to starting Python; the
target is --help in under MAX_HELP_S seconds.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MAX_HELP_S = 0.15  # issue 15 item 7: --help and completion answer in under 0.15 s

COMMANDS = {
    "floor": ["-c", "pass"],
    "help": ["-m", "ebutool", "--help"],
    "pandas": ["-c", "import pandas"],
}


def _best(args: list[str], repeat: int) -> float:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), str(REPO)) if p)
    best = float("inf")
    for _ in range(max(1, repeat)):
        before = _children_cpu()
        subprocess.run(
            [sys.executable, *args], check=True, stdout=subprocess.DEVNULL, env=env, cwd=REPO
        )
        best = min(best, _children_cpu() - before)
    return best


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def measure_help(repeat: int = 3) -> dict[str, float]:
    """Best CPU seconds of each of COMMANDS (module doc)."""
    return {name: _best(args, repeat) for name, args in COMMANDS.items()}


def help_lines(r: dict[str, float]) -> list[str]:
    """The report: seconds of each and the ratios, then the target."""
    floor = r["floor"]
    ok = r["help"] < MAX_HELP_S
    return [
        f"start-up (CPU s, best): python {floor:.3f}, ebutool --help {r['help']:.3f} "
        f"(x{r['help'] / floor:.2f} the bare interpreter), import pandas {r['pandas']:.3f} "
        f"(x{r['pandas'] / floor:.2f})",
        f"  {'ebutool --help CPU s':44} {r['help']:8.3f}  {'< ' + format(MAX_HELP_S, 'g'):8}  "
        f"{'met' if ok else 'NOT MET'}",
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs of each (best time)")
    args = ap.parse_args(argv)
    print("\n".join(help_lines(measure_help(args.repeat))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
