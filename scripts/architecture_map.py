"""Regenerate the module map of docs/architecture.md from the modules' docstrings.

    python scripts/architecture_map.py          # rewrite docs/architecture.md in place
    python scripts/architecture_map.py --check  # exit 1 if the map is out of date

The map lists every module of ``ebutool/``, package by package in the order data flows
through them, with the first sentence of the module's docstring as its role: the role is
written once, in the module, and the map cannot drift from the code.  The text between
the markers ``<!-- module map -->`` and ``<!-- end module map -->`` is replaced.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

from doc_sections import between, run

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
BEGIN, END = "<!-- module map -->", "<!-- end module map -->"

# Packages in data-flow order (docs/architecture.md's diagram); a package not listed
# here is an error, so a new package must be placed in the flow.
ORDER = (
    "ebutool",
    "ebutool/core",
    "ebutool/wire",
    "ebutool/wire/mh",
    "ebutool/capture",
    "ebutool/esp",
    "ebutool/trace",
    "ebutool/records",
    "ebutool/stream",
    "ebutool/analysis",
    "ebutool/oracle",
    "ebutool/cn_replay",
    "ebutool/synth",
    "ebutool/store",
    "ebutool/runner",
    "ebutool/annotate",
    "ebutool/report",
    "ebutool/report/html",
    "ebutool/cli",
    "ebutool/cli/commands",
)


def role(path: Path) -> str:
    """The first sentence of the module docstring, on one line ("" when there is none)."""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    para = " ".join(doc.strip().split("\n\n")[0].split())
    m = re.match(r"(.+?\.)(\s|$)", para)
    text = m.group(1) if m else para
    text = re.sub(r":(?:func|class|mod|meth):`", "`", text.replace("``", "`"))
    return text.replace("|", "/")


def module_map(root: Path = ROOT) -> str:
    """The markdown tables of the module map, one per package."""
    by_pkg: dict[str, list[Path]] = {}
    for f in sorted((root / "ebutool").rglob("*.py")):
        by_pkg.setdefault(f.parent.relative_to(root).as_posix(), []).append(f)
    unplaced = sorted(set(by_pkg) - set(ORDER))
    if unplaced:
        raise SystemExit(f"architecture_map: place these packages in ORDER: {unplaced}")
    out: list[str] = []
    for pkg in ORDER:
        if pkg not in by_pkg:
            continue
        out.append(f"### `{pkg}/`\n\n| module | role |\n| --- | --- |\n")
        out.extend(f"| `{f.name}` | {role(f)} |\n" for f in by_pkg[pkg])
        out.append("\n")
    return "".join(out)


def updated(text: str, root: Path = ROOT) -> str:
    """``text`` (docs/architecture.md) with its module map regenerated."""
    return between(text, BEGIN, END, f"\n\n{module_map(root)}", DOC)


def main(argv: list[str] | None = None) -> int:
    return run(DOC, updated, "module map", __file__, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
