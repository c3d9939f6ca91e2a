"""Several views of one run merged into one timeline (issue 13 item 3, DESIGN.md
"Vantage point").

:func:`merge_views` takes the record streams of the vantage points (a :class:`View`
each: its label, its role and its records on its own clock) and gives a
:class:`MergedViews`:

* every view's clock against the reference (the MN's view if there is one, else the
  first view): estimated offset and drift (ebutool.analysis.clock) or given
  by hand (:class:`ClockFix`), and every time converted to the reference clock;
* the same Mobility Header message seen at several points (ebutool.analysis.clock's
  invariant key) is one message, kept once per view (at the HA, the copy inside the
  tunnel faces the MN and the plain one faces the CN);
* the timeline: the reference view's own records, plus each message it lacks that
  another view saw, moved to the reference point by the one-way delay of the leg in
  between (:attr:`MergedViews.reconstructed`; data packets carry no invariant key and
  are taken from the reference view only);
* one-way delay samples (:class:`DelaySample`) per leg and direction, from every
  message two views saw; a sample below 0 (a packet seen arriving before it left,
  after correction) is a contradiction, counted per pair of views and message
  (:attr:`MergedViews.contradictions`) and not used.

Views that share no message with the reference (directly or through another view)
cannot be placed on its clock: they are in :attr:`MergedViews.apart`.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from ebutool.analysis.clock import AWAY, ORDER, TOWARDS, ClockEstimate, estimate_clock
from ebutool.analysis.clock import invariant_key as clock_key
from ebutool.wire.mh.messages import BU_FLAG_H

HOME_TESTS = ("HoTI", "HoT")  # between the MN and a CN they travel through the HA
# A corrected delay below 0 by more than this is a contradiction (capture stamps are
# often whole microseconds, and the fitted drift leaves a residue of a few of them).
CONTRADICTION_TOLERANCE_NS = 10_000
# A router on the MN's path (role "path") captures a packet arriving and leaving: two
# copies within this time are one packet forwarded, further apart a resend (_repeated).
# Far below the MN's first retransmission (INITIAL_BINDACK_TIMEOUT, 1 s), above a
# router's forwarding time.
PATH_COPY_WINDOW_NS = 100_000_000


@dataclass
class View:
    """One vantage point's records (Records and HandoverEvents, its own clock)."""

    label: str
    role: str
    records: list


@dataclass(frozen=True, slots=True)
class ClockFix:
    """A view's clock minus the reference's: ``offset_ms`` at reference time ``t0_ns``,
    changing by ``drift_ppm``; ``uncertainty_ms`` None when given by hand (``given``)."""

    label: str
    role: str
    offset_ms: float
    drift_ppm: float
    uncertainty_ms: float | None
    t0_ns: int
    pairs: int = 0
    given: bool = False

    def to_ref(self, t_ns: int) -> int:
        """A time of this view's clock on the reference clock."""
        t = t_ns - self.offset_ms * 1e6
        for _ in range(2):  # the drift term is tiny: two fixed-point steps are exact
            t = t_ns - self.offset_ms * 1e6 - self.drift_ppm * 1e-6 * (t - self.t0_ns)
        return round(t)

    def line(self) -> str:
        how = "given" if self.given else f"estimated from {self.pairs} messages"
        unc = "" if self.uncertainty_ms is None else f" +- {self.uncertainty_ms:.3f}"
        return (
            f"clock of {self.label} ({self.role}): {self.offset_ms:+.3f}{unc} ms, "
            f"drift {self.drift_ppm:+.1f} ppm against the reference ({how})"
        )


@dataclass(frozen=True, slots=True)
class DelaySample:
    """One message seen at both ends of a leg: its one-way delay (reference clock)."""

    leg: str  # "mn_ha", "ha_cn", "mn_cn" (direct), "mn_cn_home" (through the HA), ...
    away: bool  # travelling away from the MN
    t_ns: int  # when it passed the end nearer the MN (reference clock)
    delay_ns: int
    mn: str | None  # the home address it speaks for
    coa: str | None
    peer: str  # the address at the far end (HA or CN)
    views: tuple[str, str]  # the labels of the two views


@dataclass
class MergedViews:
    """What :func:`merge_views` gives (module doc)."""

    ref: View
    records: list  # the timeline, reference clock, in time order
    clocks: list[ClockFix] = field(default_factory=list)
    samples: list[DelaySample] = field(default_factory=list)
    contradictions: Counter = field(default_factory=Counter)  # (label, label, msg) -> n
    reconstructed: Counter = field(default_factory=Counter)  # label -> messages taken
    not_reconstructed: int = 0  # lacked by the reference, no delay to move it with
    # lacked by the reference because they never pass its point (_passes): a CoTI, say,
    # goes from the MN to the CN directly, not through the HA
    elsewhere: int = 0
    apart: list[View] = field(default_factory=list)
    unestimated: list[str] = field(default_factory=list)  # labels: shared, but no estimate


def reference(views: Sequence[View]) -> View:
    """The MN's view, else the first one (DESIGN.md "Vantage point")."""
    return next((v for v in views if v.role == "mn"), views[0])


def merge_views(
    views: Sequence[View], given: dict[str, tuple[float, float]] | None = None
) -> MergedViews:
    """The views (roles in ebutool.analysis.clock.ORDER) merged into one timeline
    (module doc); ``given``: {label: (offset s, drift ppm)} instead of the estimate."""
    given = given or {}
    ref = reference(views)
    out = MergedViews(ref, [])
    placed = [ref]
    for view in views:
        if view is ref:
            continue
        fix = _clock(ref, view, given.get(view.label))
        if fix is None:
            out.apart.append(view)
            if _shares(ref, view):
                out.unestimated.append(view.label)
            continue
        out.clocks.append(fix)
        placed.append(view)
    fixes = {c.label: c for c in out.clocks}
    sightings = {v.label: _sightings(v, fixes.get(v.label)) for v in placed}
    repeated = {v.label: _repeated(v) for v in placed}
    _delays(placed, sightings, out, repeated)
    out.records = _timeline(ref, placed, sightings, out)
    return out


def _shares(a: View, b: View) -> bool:
    keys = {k for k in map(clock_key, a.records) if k is not None}
    return any(clock_key(r) in keys for r in b.records)


def _clock(ref: View, view: View, given: tuple[float, float] | None) -> ClockFix | None:
    t0 = next((r.ts_ns for r in ref.records), 0)
    if given is not None:
        return ClockFix(view.label, view.role, given[0] * 1e3, given[1], None, t0, given=True)
    est, origin = estimate_clock(ref.records, view.records, ref.role, view.role)
    if not _usable(est) or origin is None:
        return None
    assert est.offset_ms is not None and est.drift_ppm is not None
    return ClockFix(
        view.label,
        view.role,
        est.offset_ms,
        est.drift_ppm,
        est.uncertainty_ms,
        origin,
        pairs=est.pairs,
    )


def _usable(est: ClockEstimate) -> bool:
    return est.offset_ms is not None and est.drift_ppm is not None


# key -> {"tunnel": (t_ref, rec), "plain": (t_ref, rec)}: the first copy of each kind
Sightings = dict[tuple, dict[str, tuple[int, object]]]


def _sightings(view: View, fix: ClockFix | None) -> Sightings:
    out: Sightings = {}
    for rec in view.records:
        key = clock_key(rec)
        if key is None:
            continue
        t = fix.to_ref(rec.ts_ns) if fix is not None else rec.ts_ns
        copies = out.setdefault(key, {})
        copies.setdefault("tunnel" if rec.tunnel_src is not None else "plain", (t, rec))
    return out


def _repeated(view: View) -> set[tuple]:
    """The keys of the messages ``view`` holds more than one copy of the same kind of: a
    request resent unchanged (same cookie, same sequence number: RFC 6275 11.8) or a
    reply repeated.  Which copy the other view's sighting belongs to cannot be told (a
    lost first copy paired with the far end's arrival of the second adds the
    retransmission interval to the delay), so they give no delay sample (Karn's rule).
    A router on the path (role ``path``) sees each packet arrive and leave: copies
    within PATH_COPY_WINDOW_NS of the first are that one packet, not a resend."""
    window = PATH_COPY_WINDOW_NS if view.role == "path" else None
    first: dict[tuple, int] = {}
    again: set[tuple] = set()
    for rec in view.records:
        key = clock_key(rec)
        if key is None:
            continue
        kind = (key, rec.tunnel_src is not None)
        t = first.get(kind)
        if t is None:
            first[kind] = rec.ts_ns
        elif window is None or abs(rec.ts_ns - t) > window:
            again.add(key)
    return again


def _facing(copies: dict[str, tuple[int, object]], towards_mn: bool) -> tuple[int, object]:
    """The copy facing the MN (inside the HA's tunnel) or facing away from it."""
    first, second = ("tunnel", "plain") if towards_mn else ("plain", "tunnel")
    return copies.get(first) or copies[second]


def leg_of(near: str, far: str, msg: str) -> str:
    """The leg between two vantage points a message crossed (``mn_cn_home``: a home
    test between the MN and a CN, through the HA)."""
    leg = f"{near}_{far}"
    if msg in HOME_TESTS and ORDER[near] < ORDER["ha"] < ORDER[far]:
        leg += "_home"
    return leg


def _delays(
    placed: list[View],
    sightings: dict[str, Sightings],
    out: MergedViews,
    repeated: dict[str, set[tuple]],
) -> None:
    ordered = sorted(placed, key=lambda v: ORDER[v.role])
    for i, near in enumerate(ordered):
        for far in ordered[i + 1 :]:
            if near.role == far.role:
                continue
            a, b = sightings[near.label], sightings[far.label]
            again = repeated[near.label] | repeated[far.label]  # (this pair's views only)
            for key in a.keys() & b.keys():
                if key in again:
                    continue  # (_repeated: which copy arrived cannot be told)
                sample = _sample(near, far, a[key], b[key])
                if sample is None:
                    continue
                if sample.delay_ns < -CONTRADICTION_TOLERANCE_NS:
                    msg = _facing(a[key], False)[1].msg  # type: ignore[attr-defined]
                    out.contradictions[(near.label, far.label, msg)] += 1
                else:
                    out.samples.append(sample)


def _sample(near: View, far: View, a: dict, b: dict) -> DelaySample | None:
    t_near, rec = _facing(a, towards_mn=False)
    t_far, _ = _facing(b, towards_mn=True)
    msg = rec.msg  # type: ignore[attr-defined]
    if msg in AWAY:
        away, delay = True, t_far - t_near
    elif msg in TOWARDS:
        away, delay = False, t_near - t_far
    else:
        return None
    peer = rec.dst if away else rec.src  # type: ignore[attr-defined]
    return DelaySample(
        leg_of(near.role, far.role, msg),
        away,
        t_near,
        delay,
        home_of(rec, away),
        rec.care_of_address,  # type: ignore[attr-defined]
        peer,
        (near.label, far.label),
    )


def home_of(rec, away: bool) -> str | None:
    """The MN's home address a message speaks for: its Home Address option or routing
    header, and for a home test the inner source (HoTI) or destination (HoT)."""
    if rec.home_address is not None:
        return rec.home_address
    if rec.msg in HOME_TESTS:
        return rec.src if away else rec.dst
    return None


def _timeline(
    ref: View, placed: list[View], sightings: dict[str, Sightings], out: MergedViews
) -> list:
    """The reference's records and, moved to it, the messages only other views saw."""
    have = sightings[ref.label]
    records = list(ref.records)
    index: dict[tuple, list[int]] = {}  # (leg, away[, coa]) -> delays (ns)
    for smp in out.samples:
        index.setdefault((smp.leg, smp.away), []).append(smp.delay_ns)
        index.setdefault((smp.leg, smp.away, smp.coa), []).append(smp.delay_ns)
    taken: set[tuple] = set()
    ends = _ends(ref)
    for view in sorted(placed, key=lambda v: ORDER[v.role]):
        if view is ref:
            continue
        for key, copies in sightings[view.label].items():
            if key in have or key in taken:
                continue
            t, rec = _facing(copies, towards_mn=True)
            if not _passes(ref.role, rec, ends):
                out.elsewhere += 1
                continue
            moved = _moved(ref, view, t, rec, index)
            if moved is None:
                out.not_reconstructed += 1
                continue
            taken.add(key)
            out.reconstructed[view.label] += 1
            records.append(moved)
    records.sort(key=lambda r: r.ts_ns)
    return records


def _ends(ref: View) -> set[str]:
    """The addresses of the reference point's host (an HA's, a CN's) as its own view
    shows them: where the MN's BUs to its HA, or its CoTIs and BUs to a CN, went."""
    if ref.role not in ("ha", "cn"):
        return set()
    out: set[str] = set()
    for rec in ref.records:
        msg = getattr(rec, "msg", None)
        if ref.role == "ha" and msg == "BU":
            mh = rec.mh
            if mh is not None and mh.flags & BU_FLAG_H:
                out.add(rec.dst)
        elif ref.role == "cn" and msg in AWAY:
            out.add(rec.dst)
    return out


def _passes(role: str, rec, ends: set[str]) -> bool:
    """Whether ``rec`` (a message another view saw) passes the reference point: at the
    MN or a router on its path everything the MN sends and receives does; at the HA the
    home tests (through its tunnel) and the MN's BUs to it and its BAs; at a CN what goes
    to and from that CN.  A message that does not (a CoTI at the HA) is not moved there:
    the reference point could never have seen it (it was moved by the HA-CN delay as if
    it had, and dated the HA's first sight of a handover before the BU's arrival)."""
    if role in ("mn", "path"):
        return True
    if role == "ha":
        return rec.msg in HOME_TESTS or rec.dst in ends or rec.src in ends
    return rec.dst in ends or rec.src in ends


def _moved(ref: View, view: View, t: int, rec, index: dict[tuple, list[int]]):
    """``rec`` as the reference point would have seen it: its time on the reference
    clock, less (away from the MN) or plus (towards it) the leg's one-way delay (the
    mean of the leg's samples in that direction for the same care-of address, else of
    all of them); None without any sample."""
    if rec.msg not in AWAY and rec.msg not in TOWARDS:
        return None
    away = rec.msg in AWAY
    leg = leg_of(ref.role, view.role, rec.msg)
    use = index.get((leg, away, rec.care_of_address)) or index.get((leg, away))
    if not use:
        return None
    delay = sum(use) / len(use)
    return dataclasses.replace(rec, ts_ns=round(t - delay if away else t + delay))
