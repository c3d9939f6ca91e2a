"""Write the episode table's column list into docs/analysis.md from the code.

    python scripts/episode_columns_doc.py          # rewrite the list in place
    python scripts/episode_columns_doc.py --check  # exit 1 if the doc is out of date

The list sits between two HTML comments (:data:`BEGIN`, :data:`END`) in the
"Columns" section; everything else in the file is left alone.  The columns come from
:data:`ebutool.analysis.columns.COLUMNS` (tests/analysis/test_columns_doc.py checks that
the two agree).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ebutool.analysis import quality
from ebutool.analysis.columns import markdown_table

DOC = Path(__file__).resolve().parent.parent / "docs" / "analysis.md"
BEGIN = "<!-- episode columns: written by scripts/episode_columns_doc.py, do not edit -->\n"
END = "<!-- end of episode columns -->\n"
Q_BEGIN = "<!-- quality codes: written by scripts/episode_columns_doc.py, do not edit -->\n"
Q_END = "<!-- end of quality codes -->\n"


def _between(text: str, begin: str, end: str, table: str) -> str:
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start:
        raise ValueError(f"{DOC.name}: the markers {begin.strip()!r} are missing")
    return text[: start + len(begin)] + table + text[stop:]


def with_columns(text: str) -> str:
    """``text`` (docs/analysis.md) with the column list and the quality codes between
    their markers replaced."""
    text = _between(text, BEGIN, END, markdown_table())
    return _between(text, Q_BEGIN, Q_END, quality.markdown_table())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check, write nothing")
    args = parser.parse_args(argv)
    text = DOC.read_text(encoding="utf-8")
    new = with_columns(text)
    if new == text:
        return 0
    if args.check:
        print(f"{DOC}: the column list is out of date (run {Path(__file__).name})", file=sys.stderr)
        return 1
    DOC.write_text(new, encoding="utf-8")
    print(f"{DOC}: column list rewritten", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
