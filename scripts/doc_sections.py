"""What the scripts that write generated sections into docs/*.md share: replacing the text
between two marker comments, and the ``--check`` / rewrite command line.

Used by episode_columns_doc.py, summary_columns_doc.py and architecture_map.py (each is run
as ``python scripts/NAME.py``, so this module is importable beside them).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path


def between(text: str, begin: str, end: str, body: str, doc: Path) -> str:
    """``text`` with what lies between the markers ``begin`` and ``end`` replaced by ``body``."""
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start:
        raise ValueError(f"{doc.name}: the markers {begin.strip()!r} are missing")
    return text[: start + len(begin)] + body + text[stop:]


def run(
    doc: Path,
    regenerate: Callable[[str], str],
    what: str,
    script: str,
    description: str,
    argv: Sequence[str] | None = None,
) -> int:
    """Rewrite ``doc`` with ``regenerate(text)``; with ``--check`` only say whether it is
    out of date (exit status 1)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="only check, write nothing")
    args = parser.parse_args(argv)
    text = doc.read_text(encoding="utf-8")
    new = regenerate(text)
    if new == text:
        return 0
    if args.check:
        print(f"{doc}: the {what} is out of date (run {Path(script).name})", file=sys.stderr)
        return 1
    doc.write_text(new, encoding="utf-8")
    print(f"{doc}: {what} rewritten", file=sys.stderr)
    return 0
