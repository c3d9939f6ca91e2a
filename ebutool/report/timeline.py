"""An episode's message sequence as a ladder diagram (the draft's Figures 1 and 2,
drawn from a capture).

:class:`Ladder` is the diagram as data: lanes (MN, HA, CN), one :class:`Step` per
message with its time offset from t0 in ms, and the handover marked at 0.  It is
rendered as text by :func:`render_text` (terminal) and as a figure by
:func:`ebutool.report.plots.ladder_figure`.  :func:`ladder_from_events` builds one from
``(ts_ns, frame, msg, sender, receiver)`` tuples, the shape of an analysis
episode's timeline.

Times are those of the capture (by default taken at the MN: a message the MN
sends is drawn at its departure, one it receives at its arrival).  A capture
taken at one point gives one time per message, so each arrow is drawn
horizontally at that time, as in the draft's figures.  HoTI and HoT, which travel
through the MN-HA tunnel, and other tunnelled packets, are drawn through the HA
lane.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ebutool.core.exact_time import (
    EXACT_NS,
    MS_SHIFT,
    NS_DECIMALS,
    TIME_DECIMALS,
    US_DECIMALS,
    exact_map,
    ns_text,
)
from ebutool.core.units import seconds

if TYPE_CHECKING:
    import pandas as pd

LANES = ("MN", "HA", "CN")
LANE_NAMES = {"MN": "Mobile Node", "HA": "Home Agent", "CN": "Correspondent Node"}
VIA_HA = ("HoTI", "HoT")  # always through the bidirectional tunnel
MSG_NAMES = {
    "HoTI": "Home Test Init",
    "HoT": "Home Test",
    "CoTI": "Care-of Test Init",
    "CoT": "Care-of Test",
    "BU": "Binding Update",
    "BA": "Binding Acknowledgement",
    "EBU": "Early Binding Update",
    "EBA": "Early Binding Acknowledgement",
    "BE": "Binding Error",
    "BRR": "Binding Refresh Request",
    "data": "data",
}


@dataclass(frozen=True)
class Step:
    """One row of the ladder: a message (or data packet) or the handover marker."""

    t_ms: float  # offset from t0, ms (negative: before the handover)
    frame: int | None
    msg: str  # HoTI, BU, EBA, data, ... or "handover"
    sender: str = ""  # lane
    receiver: str = ""  # lane
    via: tuple[str, ...] = ()  # lanes the message passes through (HA for the tunnel)
    label: str = ""
    ts_ns: int | None = None

    @property
    def kind(self) -> str:
        if self.msg == "handover":
            return "handover"
        return "data" if self.msg == "data" else "message"


@dataclass
class Ladder:
    """The ladder diagram of one episode, as data."""

    t0_ns: int
    steps: list[Step]
    lanes: tuple[str, ...] = LANES
    title: str = ""
    subtitle: str = ""
    addresses: dict[str, str] = field(default_factory=dict)  # lane -> IPv6 address
    lane_names: dict[str, str] = field(default_factory=lambda: dict(LANE_NAMES))
    handover_label: str | None = "handover (t0)"  # None: t0 unknown, no marker
    # the capture's resolution: 6, or 9 for nanosecond timestamps (ebutool.core.exact_time):
    # t0 printed with as many decimals, offsets in ms with 3 fewer
    time_decimals: int = US_DECIMALS

    def rows(self) -> list[Step]:
        """The steps in time order with the handover marker before the first step
        at or after t0 (a message at exactly t0, the first from the new care-of
        address, comes after the handover)."""
        steps = sorted(self.steps, key=lambda s: (s.t_ms, s.frame if s.frame is not None else -1))
        if self.handover_label is None:
            return steps
        marker = Step(0.0, None, "handover", label=self.handover_label, ts_ns=self.t0_ns)
        i = next((k for k, s in enumerate(steps) if s.t_ms >= 0), len(steps))
        return steps[:i] + [marker] + steps[i:]

    def table(self):
        """The ladder as a DataFrame (t_ms, frame, msg, sender, receiver, via, time in epoch s),
        with the times' exact ns and the resolution in its attrs (ebutool.core.exact_time)."""
        import pandas as pd

        ns = self.time_decimals >= NS_DECIMALS  # a float keyed by its exact ns, not rounded

        rows = [
            {
                "t_ms": s.t_ms,
                "frame": s.frame,
                "msg": s.msg,
                "sender": s.sender or None,
                "receiver": s.receiver or None,
                "via": ",".join(s.via) or None,
                "time": None if s.ts_ns is None else _epoch(s.ts_ns, ns),
            }
            for s in self.rows()
        ]
        df = pd.DataFrame(
            rows, columns=["t_ms", "frame", "msg", "sender", "receiver", "via", "time"]
        )
        df["frame"] = df["frame"].astype("Int64")
        if ns:
            df.attrs[EXACT_NS] = exact_map(s.ts_ns for s in self.rows())
        df.attrs[TIME_DECIMALS] = self.time_decimals
        return df


def _epoch(ts_ns: int, ns: bool) -> float:
    """A time in epoch seconds: the exact map's key at nanosecond resolution, else rounded
    to the microsecond (as the table always had it)."""
    return seconds(ts_ns) if ns else round(seconds(ts_ns), US_DECIMALS)


def ladder_from_events(
    events: Iterable[Sequence],
    t0_ns: int,
    *,
    title: str = "",
    subtitle: str = "",
    addresses: dict[str, str] | None = None,
    labels: dict[int, str] | None = None,
    tunnelled: set[int] | None = None,
    handover_label: str | None = "handover (t0)",
    time_decimals: int = US_DECIMALS,
) -> Ladder:
    """A Ladder from ``(ts_ns, frame, msg, sender, receiver)`` tuples (roles MN/HA/CN).

    ``labels`` maps a frame number to the text drawn on its arrow (default: the
    message name); ``tunnelled`` lists frames that went through the MN-HA tunnel
    (HoTI/HoT always do) and are drawn through the HA lane.  Lanes that no step
    uses are dropped, except MN and HA.  ``time_decimals``: the capture's resolution (6 or 9)."""
    labels = labels or {}
    tunnelled = tunnelled or set()
    steps = []
    for ev in events:
        ts_ns, frame, msg, sender, receiver = ev[:5]
        via: tuple[str, ...] = ()
        if {sender, receiver} == {"MN", "CN"} and (msg in VIA_HA or frame in tunnelled):
            via = ("HA",)
        steps.append(
            Step(
                (ts_ns - t0_ns) / 1e6,
                frame,
                msg,
                sender,
                receiver,
                via,
                labels.get(frame, msg),
                ts_ns,
            )
        )
    used = (
        {s.sender for s in steps} | {s.receiver for s in steps} | {v for s in steps for v in s.via}
    )
    lanes = tuple(lane for lane in LANES if lane in ("MN", "HA") or lane in used)
    unknown = used - set(LANES) - {""}
    if unknown:
        raise ValueError(f"unknown lane(s) {sorted(unknown)}; expected {', '.join(LANES)}")
    return Ladder(
        t0_ns,
        steps,
        lanes,
        title,
        subtitle,
        dict(addresses or {}),
        handover_label=handover_label,
        time_decimals=time_decimals,
    )


# --------------------------------------------------------------------------- episodes


def load_episodes(path, config=None, diag=None, esp_sas=None) -> list:
    """The numbered episodes (``ebutool.analysis.Episode``, ids from 1 in handover
    order, the same numbers as the ``episode`` column of ``analyze``) of one
    capture or trace."""
    from ebutool.analysis import build_episodes, merged_records
    from ebutool.core.constants import DEFAULT_CONFIG
    from ebutool.core.diagnostics import Diagnostics

    diag = diag if diag is not None else Diagnostics()
    records = merged_records([path], diag, esp_sas=esp_sas)
    return build_episodes(records, config or DEFAULT_CONFIG, diag, check=False)


def episode_list(episodes, time_decimals: int = US_DECIMALS) -> pd.DataFrame:
    """One row per episode: the numbers ``--episode`` takes and what each one is;
    ``time_decimals`` 9 for a nanosecond capture (t_handover printed with 9 decimals)."""
    from ebutool.report.timeline_scan import list_frame, list_values

    return list_frame([list_values(e, e.id) for e in episodes], time_decimals)


def canonical_mn(mn: str) -> str:
    """``--mn`` in canonical form; UsageError if it is no IPv6 address."""
    from ebutool.core.addr import canonical
    from ebutool.core.errors import UsageError

    try:
        return canonical(mn)
    except ValueError:
        raise UsageError(f"--mn {mn!r} is not an IPv6 address") from None


def select_episodes(episodes, mn: str | None = None) -> list:
    """The episodes of one MN (home address in any IPv6 text form), or all."""
    if mn is None:
        return list(episodes)
    mn = canonical_mn(mn)
    return [e for e in episodes if e.mn == mn]


def find_episode(episodes, number: int, mn: str | None = None):
    """Episode ``number`` (as listed), checked against ``mn``; UsageError if absent."""
    from ebutool.core.errors import UsageError

    if not episodes:
        raise UsageError("the input holds no binding-update episode")
    ep = next((e for e in episodes if e.id == number), None)
    if ep is None:
        ids = [e.id for e in episodes]
        raise UsageError(
            f"no episode {number}: episodes are numbered {min(ids)}-{max(ids)} "
            "(run without --episode to list them)"
        )
    chosen = select_episodes([ep], mn)
    if not chosen:
        raise UsageError(f"episode {number} belongs to MN {ep.mn}, not to --mn {mn}")
    return ep


def numbered_episode(ep, number: int, total: int, mn: str | None = None):
    """:func:`find_episode` for one pass (ebutool.report.timeline_scan): ``ep`` is episode
    ``number`` of ``total`` (None: there are fewer), checked against ``mn``."""
    from ebutool.core.errors import UsageError

    if ep is None:
        raise UsageError(
            f"no episode {number}: episodes are numbered 1-{total} "
            "(run without --episode to list them)"
        )
    if mn is not None and ep.mn != canonical_mn(mn):
        raise UsageError(f"episode {number} belongs to MN {ep.mn}, not to --mn {mn}")
    return ep


def ladder_from_episode(ep, time_decimals: int = US_DECIMALS) -> Ladder:
    """The ladder of one analysis episode: its timeline (``Step(ts_ns, frame, msg,
    sender, receiver)``: the HA registration, the home test that produced the token,
    the CN exchanges and the first data packet each way), offsets from t0.  When t0
    is unknown (the capture began inside the episode), offsets count from the first
    message and no handover is drawn.  ``time_decimals``: the capture's resolution, 9 for
    nanosecond timestamps (t0 then printed with its 9 exact decimals)."""
    peer = f"CN {ep.cn}" if ep.cn else "HA only"
    title = f"episode {ep.id}: MN {ep.mn}, {peer} | {ep.kind}, {ep.mode}"
    if ep.t0_ns is not None:
        t0, label = ep.t0_ns, "handover (t0)"
        how = {
            "event": "handover event of the trace",
            "first_packet": "first packet from the new care-of address",
        }.get(ep.t0_source or "", ep.t0_source or "")
        t0_text = ns_text(ep.t0_ns) if time_decimals >= NS_DECIMALS else f"{seconds(ep.t0_ns):.6f}"
        when = f"t0 = {t0_text} s ({how})"
    else:
        t0 = min((s.ts_ns for s in ep.timeline), default=0)
        label = None
        when = "t0 unknown (capture began inside the episode): offsets from the first message"
    move = (
        f"care-of address {ep.prev_coa} -> {ep.coa}" if ep.prev_coa else f"care-of address {ep.coa}"
    )
    subtitle = f"{when}; {move}; times in ms from t0, as captured"
    labels = {s.frame: ("first data" if s.msg == "data" else s.msg) for s in ep.timeline}
    addresses = {"MN": ep.mn}
    if ep.ha:
        addresses["HA"] = ep.ha
    if ep.cn:
        addresses["CN"] = ep.cn
    return ladder_from_events(
        ep.timeline,
        t0,
        title=title,
        subtitle=subtitle,
        addresses=addresses,
        labels=labels,
        handover_label=label,
        time_decimals=time_decimals,
    )


# --------------------------------------------------------------------------- text

LANE_GAP = 26  # characters between two lanes
T_WIDTH = 11  # the offset column at microsecond resolution (3 decimals of a ms)
_PREFIX = "{t:>{tw}} {frame:>6}  "


def _prefix(t: str, frame: object, decimals: int) -> str:
    """A line's offset and frame columns; the offset column is as many characters wider
    as a nanosecond capture's offsets have decimals more (6 decimals of a ms, not 3)."""
    return _PREFIX.format(t=t, frame=frame, tw=T_WIDTH + decimals - US_DECIMALS)


def _fmt_t(t_ms: float, decimals: int = US_DECIMALS) -> str:
    return f"{t_ms:.{decimals - MS_SHIFT}f}" if not math.isnan(t_ms) else "?"


def _segment(width: int, label: str, rightwards: bool, dots: bool, head: bool) -> str:
    """``width`` characters between two lane bars: ``----- label ---->``."""
    fill = "." if dots else "-"
    inner = width - (1 if head else 0)
    text = f" {label} " if label else ""
    if len(text) > inner - 2:
        text = text[: max(inner - 2, 0)]
    left = (inner - len(text)) // 2
    body = fill * left + text + fill * (inner - left - len(text))
    if not head:
        return body
    return body + ">" if rightwards else "<" + body


def render_text(ladder: Ladder, gap: int = LANE_GAP) -> str:
    """The ladder as text: a header with the lanes, then one line per message with
    its time offset from t0 (ms) and frame number, the handover as ``~~~``."""
    decimals = ladder.time_decimals
    prefix_len = len(_prefix("", "", decimals))
    lanes = list(ladder.lanes)
    col = {lane: prefix_len + i * gap for i, lane in enumerate(lanes)}
    width = col[lanes[-1]] + 1
    out: list[str] = []
    if ladder.title:
        out.append(ladder.title)
    if ladder.subtitle:
        out.append(ladder.subtitle)
    if ladder.addresses:
        out.append(
            "  ".join(
                f"{lane} {ladder.addresses[lane]}" for lane in lanes if ladder.addresses.get(lane)
            )
        )
    if out:
        out.append("")

    def blank() -> list[str]:
        line = [" "] * width
        for c in col.values():
            line[c] = "|"
        return line

    header = list(_prefix("t-t0 (ms)", "frame", decimals)) + [" "] * (width - prefix_len + 2)
    for lane in lanes:
        start = col[lane] - (len(lane) - 1) // 2
        header[start : start + len(lane)] = list(lane)
    out.append("".join(header).rstrip())
    out.append("".join(blank()).rstrip())
    for step in ladder.rows():
        frame = "" if step.frame is None else step.frame
        prefix = _prefix(_fmt_t(step.t_ms, decimals), frame, decimals)
        if step.kind == "handover":
            lo, hi = col[lanes[0]] - 3, width + 2
            text = f" {step.label} "
            body = "~" * (hi - lo)
            mid = (len(body) - len(text)) // 2
            body = body[:mid] + text + body[mid + len(text) :]
            out.append(prefix + " " * (lo - prefix_len) + body)
            continue
        line = blank()
        path = [step.sender, *step.via, step.receiver]
        rightwards = col[step.receiver] > col[step.sender]
        segs = list(zip(path, path[1:], strict=False))
        for k, (a, b) in enumerate(segs):
            lo, hi = sorted((col[a], col[b]))
            # the label sits on the segment that leaves the sender
            seg = _segment(
                hi - lo - 1,
                step.label if k == 0 else "",
                rightwards,
                step.kind == "data",
                head=True,
            )
            line[lo + 1 : hi] = list(seg)
        out.append(prefix + "".join(line[prefix_len:]).rstrip())
    out.append("".join(blank()).rstrip())
    return "\n".join(out) + "\n"
