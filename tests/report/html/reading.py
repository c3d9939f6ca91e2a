"""Reading a report page back in tests: its embedded JSON and the ladder format of
ebutool.report.html.ladders' docstring (decoded here from that text, not with ebutool)."""

from __future__ import annotations

import json
import re
from typing import Any

DATA = re.compile(r'<script id="ebutool-data" type="application/json">(.*?)</script>', re.S)
MESSAGES = ("HoTI", "HoT", "CoTI", "CoT", "BU", "BA", "EBU", "EBA", "BE", "BRR", "data", "other")
LANES = ("MN", "HA", "CN")


def page_data(page: str) -> dict[str, Any]:
    m = DATA.search(page)
    assert m is not None, "the page has no data element"
    return json.loads(m.group(1))


def rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The episode rows as dicts, strings looked up."""
    out = []
    text = set(data["text"])
    for r in data["rows"]:
        out.append(
            {
                c: (data["strings"][v] if i in text and v is not None else v)
                for i, (c, v) in enumerate(zip(data["columns"], r, strict=True))
            }
        )
    return out


def ladder_steps(ladder: list[int]) -> list[tuple[float, int, str, str, str, bool]]:
    """(t_ms, frame, msg, sender, receiver, via_ha) per step."""
    first, out = ladder[1], []
    for i in range(2, len(ladder), 3):
        dt, dframe, code = ladder[i : i + 3]
        receiver, sender = code % 4, (code // 4) % 4
        via, msg = (code // 16) % 2, code // 32
        out.append(
            (dt / 1000, first + dframe, MESSAGES[msg], LANES[sender], LANES[receiver], via == 1)
        )
    return out
