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

import sys
from pathlib import Path

from doc_sections import between, run

from ebutool.analysis.summary_columns import markdown_table

DOC = Path(__file__).resolve().parent.parent / "docs" / "reports.md"
BEGIN = "<!-- summary columns: written by scripts/summary_columns_doc.py, do not edit -->\n"
END = "<!-- end of summary columns -->\n"


def with_columns(text: str) -> str:
    """``text`` (docs/reports.md) with the column list between the markers replaced."""
    return between(text, BEGIN, END, markdown_table(), DOC)


def main(argv: list[str] | None = None) -> int:
    return run(DOC, with_columns, "column list", __file__, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
