"""The page itself: the episode rows and ladders as JSON for the page's script, and the
one self-contained HTML document (styles, script and figures inline).

The JSON sits in a ``<script type="application/json">`` element with ``<``, ``>``,
``&`` and the JavaScript line separators escaped, so no value (a file name, an
address) can end the element or be read as markup; the script puts every value
into the page as text (``textContent``), never as HTML.
"""

from __future__ import annotations

import json
import math
import re
from html import escape
from importlib import resources
from typing import TYPE_CHECKING, Any

from ebutool.report.compare import predicted_recv_ms, predicted_send_ms
from ebutool.report.html.ladders import MESSAGES
from ebutool.report.timeline import LANE_NAMES, LANES

if TYPE_CHECKING:
    import pandas as pd

# (name, source column or None: computed, decimals; None: a string, interned)
COLUMNS: tuple[tuple[str, int | None], ...] = (
    ("episode", 0),
    ("source", None),
    ("mn", None),
    ("cn", None),
    ("kind", None),
    ("mode", None),
    ("quality", None),
    ("t_handover", 6),
    ("rtt_ro_ms", 3),
    ("send_latency_ms", 3),
    ("predicted_send_ms", 3),
    ("recv_latency_ms", 3),
    ("predicted_recv_ms", 3),
    ("auth", None),
    ("diagnosis", None),
    ("ha", None),
    ("prev_coa", None),
    ("coa", None),
    ("t0_source", None),
)
PAGE_SIZE = 50
MARKER = re.compile(r"<!--EBUTOOL:([A-Z]+)-->")


def _number(v: Any, digits: int) -> float | int | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    if math.isnan(f) or math.isinf(f):
        return None
    return int(f) if digits == 0 else round(f, digits)


def rows_payload(df: pd.DataFrame) -> dict[str, Any]:
    """The episode table for the script: strings interned (addresses repeat)."""
    import pandas as pd

    strings: dict[str, int] = {}

    def intern(v: Any) -> int | None:
        try:
            if v is None or pd.isna(v):
                return None
        except (TypeError, ValueError):  # not a scalar: kept as its text
            pass
        return strings.setdefault(str(v), len(strings))

    rows = []
    for r in df.to_dict("records"):
        r["predicted_send_ms"] = predicted_send_ms(r)
        r["predicted_recv_ms"] = predicted_recv_ms(r)
        rows.append(
            [
                intern(r.get(name)) if digits is None else _number(r.get(name), digits)
                for name, digits in COLUMNS
            ]
        )
    return {
        "columns": [name for name, _ in COLUMNS],
        "text": [i for i, (_, digits) in enumerate(COLUMNS) if digits is None],
        "strings": list(strings),
        "rows": rows,
    }


def script_json(value: Any) -> str:
    """JSON that can sit inside a ``<script>`` element (module doc)."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _template(name: str) -> str:
    return (resources.files("ebutool.report.html") / "templates" / name).read_text("utf-8")


def document(title: str, sections: list[str], payload: dict[str, Any], record: Any = None) -> str:
    """The whole page: ``sections`` (HTML fragments), the script's data ``payload`` and
    the provenance ``record`` (ebutool.report.provenance) as JSON elements."""
    payload = {
        **payload,
        "messages": list(MESSAGES),
        "lanes": list(LANES),
        "lane_names": dict(LANE_NAMES),
        "page_size": PAGE_SIZE,
    }
    parts = {
        "TITLE": escape(title),
        "CSS": _template("report.css"),
        "SECTIONS": "\n".join(sections),
        "DATA": script_json(payload),
        "PROVENANCE": script_json(record),
        "JS": _template("report.js"),
    }
    # one pass: a marker inside an inserted part is never replaced
    return MARKER.sub(lambda m: parts[m.group(1)], _template("page.html"))
