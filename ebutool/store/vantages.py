"""A record store of several vantage points: its parts analysed as views of one run,
exactly as ``analyze --merge`` analyses the captures (issue 16 with issue 13 item 3).

Each part records its vantage point (given to ``extract --vantage`` or detected), its
footprint and link type (``view`` in its metadata, ebutool.store.writer); a part
written before these facts has them worked out from its records here.

- :func:`part_roles`: each part's role, ``--vantage`` given to analyze first, then the
  one given to extract, then the detected one;
- :func:`time_merged_role`: the role of a store that is not views of one run, read
  merged by time (given to analyze or extract);
- :func:`views_in_store`: the parts are views of one run when two of different vantage
  points share messages (ebutool.analysis.view_groups.share_across_roles, the test
  ``--merge`` applies to captures), or when the roles given (to analyze or extract)
  name two vantage points or more (as ``--vantage`` does for captures);
- :func:`analyze_store_views`: the parts' records, each part's order checked and its
  reading diagnostics and counts taken as for the captures, handed to
  ebutool.analysis.view_groups.views_table in the order mn, path, ha, cn (the pieces of
  one vantage point, in the store's path order, merged by time into one view).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ebutool.analysis.clock import ORDER
from ebutool.analysis.episodes import check_order
from ebutool.analysis.footprint import Footprint
from ebutool.analysis.vantage import Evidence, role_for
from ebutool.analysis.view_groups import share_across_roles, views_table
from ebutool.core.diagnostics import Diagnostics
from ebutool.records.from_packet import StreamStats
from ebutool.store.parts import Part, add_part_stats, part_diagnostics, part_items

if TYPE_CHECKING:
    import pandas as pd

# (the split path's note, ebutool.runner.cluster and ebutool.store.grouped)
VIEWS_NOT_SPLIT = (
    "analysis: the store holds views of one run (several vantage points): merged in one "
    "process, not split by mobile node (the clocks are estimated over the whole run)"
)


def part_view(part: Part) -> dict:
    """The part's ``view`` facts (module doc), from its records for an older part."""
    stored = part.meta.get("view")
    if stored is not None:
        return stored
    evidence, footprint = Evidence(), Footprint()
    for item in part_items(part):
        evidence.add(item)
        footprint.add(item)
    decision = evidence.decide()
    part.meta["view"] = {  # (in memory only: the part is read once)
        "role": decision.role,
        "evidence": decision.evidence,
        "given": False,
        "given_role": None,
        "footprint": footprint.as_dict(),
        "linktype": None,  # (the capture may be gone: only the views test needs no more)
    }
    return part.meta["view"]


def given_roles(parts: Sequence[Part], vantage: dict[str, str] | str | None) -> dict[str, str]:
    """{part's input path: role} given to analyze (``vantage`` by path or base name, or
    one role for every part), else to extract."""
    if isinstance(vantage, str):
        vantage = {p.path: vantage for p in parts}
    out = {}
    for part in parts:
        role = role_for(part.path, vantage or {}) or part_view(part).get("given_role")
        if role is not None:
            out[part.path] = role
    return out


def part_roles(parts: Sequence[Part], given: dict[str, str]) -> list[str | None]:
    return [given.get(p.path) or part_view(p)["role"] for p in parts]


def time_merged_role(parts: Sequence[Part], given: dict[str, str]) -> str | None:
    """The vantage of a store read merged by time, as ``analyze --merge`` gives it to
    files so read: the one role given to every part, ``multi`` when it is given to
    some parts only, None when none is (detected)."""
    roles = {given.get(p.path) for p in parts}
    if not roles:  # an empty store: nothing given, nothing to detect
        return None
    return roles.pop() if len(roles) == 1 else "multi"


def views_in_store(parts: Sequence[Part], given: dict[str, str]) -> bool:
    """Whether the parts are views of one run (module doc): also, as for captures given
    ``--vantage``, when the roles given name two vantage points or more."""
    if len(parts) < 2:
        return False
    if len(set(given.values())) >= 2:
        return True
    keys = [set(part_view(p)["footprint"].get("keys", [])) for p in parts]
    return share_across_roles(zip(part_roles(parts, given), keys, strict=True))


def analyze_store_views(
    parts: Sequence[Part],
    given: dict[str, str],
    *,
    diag: Diagnostics,
    stats: StreamStats | None,
    clock_offsets: dict[str, tuple[float, float]] | None = None,
    **options: Any,
) -> pd.DataFrame:
    """The parts as views of one run (module doc); ``options``: ``mn``, ``cn``,
    ``config``, ``oracle`` (ebutool.analysis.view_groups.views_table)."""
    roles = part_roles(parts, given)
    order = sorted(range(len(parts)), key=lambda i: ORDER.get(roles[i] or "", len(ORDER)))
    streams = []
    for i in order:
        part = parts[i]
        if stats is not None:
            add_part_stats(stats, part.meta)
        diag.merge(part_diagnostics(part.meta, part.label))
        streams.append(list(check_order(part_items(part), diag.for_source(part.label))))
    return views_table(
        streams,
        [parts[i].label for i in order],
        [parts[i].path for i in order],
        given=given,
        clock_offsets=clock_offsets or {},
        diag=diag,
        **options,
    )


__all__ = [
    "VIEWS_NOT_SPLIT",
    "analyze_store_views",
    "given_roles",
    "part_roles",
    "part_view",
    "time_merged_role",
    "views_in_store",
]
