"""Write the summary table's column list into docs/reports.md from the code.

    python scripts/summary_columns_doc.py          # rewrite the list in place
    python scripts/summary_columns_doc.py --check  # exit 1 if the doc is out of date

The list sits between two HTML comments (:data:`BEGIN`, :data:`END`) in the
summary section; everything else in the file is left alone.  The columns come from
:data:`ebutool.analysis.summary_columns.SUMMARY_COLUMN_DOCS`
(tests/analysis/test_summary_claim_stats.py checks that
the two agree).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ebutool.analysis.summary_columns import markdown_table

DOC = Path(__file__).resolve().parent.parent / "docs" / "reports.md"
BEGIN = "<!-- summary columns: written by scripts/summary_columns_doc.py, do not edit -->\n"
END = "<!-- end of summary columns -->\n"


def with_columns(text: str) -> str:
    """``text`` (docs/reports.md) with the column list between the markers replaced."""
    start, stop = text.find(BEGIN), text.find(END)
    if start < 0 or stop < start:
        raise ValueError(f"{DOC.name}: the column list's markers are missing")
    return text[: start + len(BEGIN)] + markdown_table() + text[stop:]


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
