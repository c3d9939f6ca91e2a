"""Each episode's message sequence, compact, for the ladder diagrams the page draws on
demand (the draft's Figures 1 and 2 as ``ebutool timeline`` draws them:
:func:`ebutool.report.timeline.ladder_from_episode`).

The table's rows keep no timeline, so the inputs are read again
(:func:`ebutool.analysis.build_episodes`, at each input's vantage point as the
analysis decided it) and each Episode is matched to its row by MN, CN, care-of
address and handover time (and input, unless ``--merge``).  Views of one run merged
(``vantage`` ``multi``) are merged again as analyze merged them (their clocks
estimated, or as given), so each row's ladder is the MN view's timeline, not the
files' records interleaved on their own clocks.  A ladder is a list::

    [t0_known, first_frame, dt_us, dframe, code, dt_us, dframe, code, ...]

``dt_us``: the message's offset from t0 in microseconds (from the first message
when t0 is unknown); ``dframe``: its frame number minus ``first_frame``;
``code = ((msg * 2 + via_ha) * 4 + sender) * 4 + receiver`` with ``msg`` an index
into :data:`MESSAGES` and the lanes indices into :data:`LANES`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from ebutool.core.diagnostics import Diagnostics
from ebutool.report.timeline import LANES, MSG_NAMES, ladder_from_episode

if TYPE_CHECKING:
    from ebutool.report.html.settings import ReportOptions

MESSAGES = tuple(MSG_NAMES) + ("other",)
Key = tuple[str | None, str, str | None, str, int | None]


def _t0_us(t_handover: Any) -> int | None:
    try:
        t = float(t_handover)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(t) else round(t * 1e6)


def _key(source: str | None, mn: Any, cn: Any, coa: Any, t0: int | None) -> Key:
    return (source, str(mn), None if cn is None or pd.isna(cn) else str(cn), str(coa), t0)


def _row_keys(df: pd.DataFrame, by_file: bool) -> list[tuple[Key, int]]:
    """(key of a row's episode, its episode number) for the rows of ``df``."""
    keys = []
    # At a CN, the HA or on the path, t_handover is emptied and its value moved to
    # t_first_seen (ebutool.analysis.observable.MOVED): the episode's time all the same.
    seen = df["t_first_seen"] if "t_first_seen" in df.columns else [None] * len(df)
    cols = df[["source", "mn", "cn", "coa", "t_handover", "episode"]]
    for row, first_seen in zip(cols.itertuples(index=False), seen, strict=True):
        source = str(row.source) if by_file else None
        t0 = _t0_us(row.t_handover)
        if t0 is None:
            t0 = _t0_us(first_seen)
        key = _key(source, row.mn, row.cn, row.coa, t0)
        keys.append((key, int(str(row.episode))))
    return keys


class _Wanted(dict):
    """The encoded ladders of the wanted keys only (the others are not encoded).  Of
    episodes that share a key, the last put wins, or given their ``rank``s the
    highest: the last in build_episodes' order (issue 12: the episodes stream by)."""

    def __init__(self, wanted: list[tuple[Key, int]]):
        super().__init__()
        self.wanted = {key for key, _ in wanted}
        self.ranks: dict[Key, Any] = {}

    def put(self, key: Key, ep: Any, rank: Any = None) -> None:
        if key not in self.wanted:
            return
        if rank is not None:
            if key in self.ranks and self.ranks[key] > rank:
                return
            self.ranks[key] = rank
        self[key] = encode(ep)


def encode(ep: Any) -> list[int]:
    """One Episode's ladder as the compact list of the module doc."""
    ladder = ladder_from_episode(ep)
    steps = [s for s in ladder.rows() if s.kind != "handover"]
    first = min((s.frame for s in steps if s.frame is not None), default=0)
    out = [0 if ladder.handover_label is None else 1, first]
    for s in steps:
        msg = MESSAGES.index(s.msg) if s.msg in MESSAGES else len(MESSAGES) - 1
        via = 1 if "HA" in s.via else 0
        lane = LANES.index
        code = ((msg * 2 + via) * 4 + lane(s.sender)) * 4 + lane(s.receiver)
        frame = 0 if s.frame is None else s.frame - first
        out += [round(s.t_ms * 1000), frame, code]
    return out


def _roles(df: pd.DataFrame) -> dict[str, str]:
    """{source label: vantage role} as the analysis decided it."""
    return {
        str(d.get("source")): str(d.get("role"))
        for d in df.attrs.get("vantage", [])
        if d.get("role")
    }


def _episodes(
    paths: list[str], role: str | None, options: ReportOptions
) -> Iterator[tuple[Any, tuple]]:
    """(episode, its rank in build_episodes' order) as the episodes close: none is
    kept here, so reading the inputs again holds no more than analyze (issue 12)."""
    from ebutool.analysis import iter_episodes, merged_records, order_key

    records = merged_records(paths, Diagnostics(), esp_sas=list(options.esp_sas))
    for seq, ep in enumerate(iter_episodes(records, options.config, Diagnostics(), None, role)):
        yield ep, (order_key(ep), seq)  # (its stable sort: arrival breaks ties)


def _view_episodes(
    names: list[str], labels: list[str], roles: dict[str, str], options: ReportOptions
) -> list:
    """The episodes of views of one run merged as analyze merged them (module doc)."""
    from ebutool.analysis import build_episodes, merged_records
    from ebutool.analysis.merged_views import View, merge_views
    from ebutool.analysis.view_groups import MERGEABLE
    from ebutool.runner.views import offsets_of

    given = offsets_of(options.clock_offsets)
    by_role: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        if roles.get(label) in MERGEABLE:
            by_role.setdefault(roles[label], []).append(i)
    views, offsets = [], {}
    for role, members in by_role.items():
        label = ", ".join(labels[i] for i in members)
        paths = [names[i] for i in members]
        records = list(merged_records(paths, Diagnostics(), esp_sas=list(options.esp_sas)))
        views.append(View(label, role, records))
        for i in members:
            for key in (names[i], labels[i]):
                if key in given:
                    offsets[label] = given[key]
    if not views:
        return []
    merged = merge_views(views, offsets)
    placed = [(merged.records, merged.ref.role)] + [(v.records, v.role) for v in merged.apart]
    return [
        ep
        for records, role in placed
        for ep in build_episodes(records, options.config, Diagnostics(), check=False, vantage=role)
    ]


def episode_ladders(
    paths: Sequence[str], df: pd.DataFrame, options: ReportOptions
) -> tuple[dict[int, list[int]], list[str]]:
    """``({episode number: ladder}, [why some have none])`` for the rows of ``df``."""
    from ebutool.analysis import source_labels
    from ebutool.core.errors import EbutoolError
    from ebutool.store.layout import is_store

    names = list(paths)
    if df.empty:
        return {}, []
    notes: list[str] = []
    from ebutool.stream.sniff import read_once

    if any(n == "-" for n in names):
        return {}, ["standard input cannot be read twice: no ladder diagrams"]
    once = [n for n in names if read_once(n)]
    if once:
        return {}, [
            f"{once[0]}: not a regular file (a pipe), cannot be read twice: no ladder diagrams"
        ]
    if any(is_store(n) for n in names):
        return {}, ["a record store keeps no message sequences: no ladder diagrams"]
    labels = source_labels(names)
    roles = _roles(df)
    views = "vantage" in df.columns and bool((df["vantage"] == "multi").any())
    by_file = not (views or options.merge or len(names) == 1)
    # Only the ladders of df's rows are encoded and kept (the page embeds a bounded
    # number of rows: ReportOptions.max_rows), not one per episode of the inputs.
    found = _Wanted(_row_keys(df, by_file))
    try:
        if views:
            for ep in _view_episodes(names, labels, roles, options):
                found.put(_key(None, ep.mn, ep.cn, ep.coa, _t0_us(ep.t_handover)), ep)
        elif options.merge or len(names) == 1:
            role = roles.get(labels[0]) if len(names) == 1 else None
            role = role if role in ("mn", "ha", "cn", "path") else None
            for ep, rank in _episodes(names, role, options):
                found.put(_key(None, ep.mn, ep.cn, ep.coa, _t0_us(ep.t_handover)), ep, rank)
        else:
            with_rows = set(df["source"]) if "source" in df.columns else set(labels)
            for path, label in zip(names, labels, strict=True):
                if label not in with_rows:
                    continue  # no row of it on the page (an unreadable input, or none)
                role = roles.get(label)
                role = role if role in ("mn", "ha", "cn", "path") else None
                try:
                    for ep, rank in _episodes([path], role, options):
                        key = _key(label, ep.mn, ep.cn, ep.coa, _t0_us(ep.t_handover))
                        found.put(key, ep, rank)
                except EbutoolError as exc:  # (this input only: the others' ladders stay)
                    notes.append(
                        f"{label} could not be read again ({exc}): its ladders only so far"
                    )
    except EbutoolError as exc:
        # (an input of several that analyze could not read, read again for a merge):
        # the page keeps its rows and says why ladders are missing, never fails here
        notes.append(f"the inputs could not be read again ({exc}): ladders found so far only")
    out: dict[int, list[int]] = {}
    missing = 0
    for key, episode in _row_keys(df, by_file):
        ladder = found.get(key)
        if ladder is None:
            missing += 1
        else:
            out[episode] = ladder
    if missing:
        notes.append(f"{missing} episode(s) not found when the inputs were read again: no ladder")
    return out, notes
