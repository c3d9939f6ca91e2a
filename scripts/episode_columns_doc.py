"""Write the episode table's column list into docs/analysis.md from the code.

    python scripts/episode_columns_doc.py          # rewrite the list in place
    python scripts/episode_columns_doc.py --check  # exit 1 if the doc is out of date

The list sits between two HTML comments (:data:`BEGIN`, :data:`END`) in the
"Columns" section; everything else in the file is left alone.  The columns come from
:data:`ebutool.analysis.columns.COLUMNS` (tests/analysis/test_columns_doc.py checks that
the two agree).
"""

from __future__ import annotations

import sys
from pathlib import Path

from doc_sections import between, run

from ebutool.analysis import quality
from ebutool.analysis.columns import markdown_table

DOC = Path(__file__).resolve().parent.parent / "docs" / "analysis.md"
BEGIN = "<!-- episode columns: written by scripts/episode_columns_doc.py, do not edit -->\n"
END = "<!-- end of episode columns -->\n"
Q_BEGIN = "<!-- quality codes: written by scripts/episode_columns_doc.py, do not edit -->\n"
Q_END = "<!-- end of quality codes -->\n"


def with_columns(text: str) -> str:
    """``text`` (docs/analysis.md) with the column list and the quality codes between
    their markers replaced."""
    text = between(text, BEGIN, END, markdown_table(), DOC)
    return between(text, Q_BEGIN, Q_END, quality.markdown_table(), DOC)


def main(argv: list[str] | None = None) -> int:
    return run(DOC, with_columns, "column list", __file__, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
