"""The clock of one view against another's, from the messages both saw (issue 13 item 3,
a first part: the estimate, not yet the merged timeline).

The same Mobility Header message seen at two vantage points is recognised by its
invariant content (:func:`invariant_key`: the inner addresses after tunnel removal,
the Home Address option and routing header addresses, and the Mobility Header octets,
whose type, sequence number, cookies, nonce indices and checksum do not change on the
way; hop limits and outer headers do).  For a message travelling away from the MN
(HoTI, CoTI, BU, EBU) from the view nearer the MN (``ref``) to the other,
``t_other - t_ref = delay + offset``; for one travelling towards the MN,
``t_ref - t_other = delay - offset``.  Under the NTP assumption of symmetric paths,
with the minimum-delay filter, each window of traffic (pairs closer than
:data:`WINDOW_GAP_NS`) gives ``offset = (min_away - min_towards) / 2`` with an
uncertainty of ``(min_away + min_towards) / 2`` (the paths' true asymmetry is at most
that); a straight line through the windows' offsets gives the offset at the start of
the reference capture and the drift.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ebutool.core.constants import MH_FIXED_LEN

AWAY = ("HoTI", "CoTI", "BU", "EBU")  # travelling away from the MN
TOWARDS = ("HoT", "CoT", "BA", "BE")  # travelling towards it
ORDER = {"mn": 0, "path": 1, "ha": 2, "cn": 3}  # nearness to the MN along the messages
WINDOW_GAP_NS = 500_000_000  # pairs further apart than this start a new window


@dataclass(frozen=True, slots=True)
class ClockEstimate:
    """``other``'s clock minus ``ref``'s: ``offset_ms`` at the reference's first paired
    message, changing by ``drift_ppm``; ``uncertainty_ms`` bounds the offset (None
    values: not enough pairs in both directions)."""

    offset_ms: float | None
    drift_ppm: float | None
    uncertainty_ms: float | None
    pairs: int
    windows: int

    def offset_at(self, t_ref_ns: int, t0_ns: int) -> float | None:
        """The offset (ms) at reference time ``t_ref_ns`` (``t0_ns``: the fit's origin)."""
        if self.offset_ms is None:
            return None
        return self.offset_ms + (self.drift_ppm or 0.0) * 1e-6 * (t_ref_ns - t0_ns) / 1e6


def invariant_key(rec) -> tuple | None:
    """What stays the same of a Mobility Header message between two vantage points."""
    wire = getattr(rec, "mh_wire", None)
    if wire is None or len(wire) < MH_FIXED_LEN:
        # (a message the capture cut before its checksum: 3 to 5 octets, the same for
        # every message of its type between two nodes, so no key of one packet)
        return None
    return (rec.src, rec.dst, rec.hoa, rec.rh2, bytes(wire))


def paired(ref: Iterable, other: Iterable) -> list[tuple[int, int, str]]:
    """(t_ref, t_other, msg) of every message both saw (the first sighting in each)."""
    first: dict[tuple, int] = {}
    for rec in ref:
        key = invariant_key(rec)
        if key is not None and key not in first:
            first[key] = rec.ts_ns
    out, done = [], set()
    for rec in other:
        key = invariant_key(rec)
        if key is not None and key in first and key not in done:
            done.add(key)
            out.append((first[key], rec.ts_ns, rec.msg))
    out.sort()
    return out


def estimate_clock(
    ref: Iterable, other: Iterable, ref_role: str = "mn", other_role: str = "cn"
) -> tuple[ClockEstimate, int | None]:
    """``other``'s clock against ``ref``'s (module doc), and the fit's origin (the
    reference time of the first pair, ns; None without pairs)."""
    sign = 1 if ORDER[ref_role] <= ORDER[other_role] else -1
    pairs = paired(ref, other)
    if not pairs:
        return ClockEstimate(None, None, None, 0, 0), None
    points = []  # (t_ref of the window, offset ns, uncertainty ns)
    for window in _windows(pairs):
        away = [(to - tr) * sign for tr, to, msg in window if msg in AWAY]
        back = [(tr - to) * sign for tr, to, msg in window if msg in TOWARDS]
        if away and back:
            up, down = min(away), min(back)
            t = sum(tr for tr, _, _ in window) / len(window)
            points.append((t, sign * (up - down) / 2, (up + down) / 2))
    t0 = pairs[0][0]
    if not points:
        return ClockEstimate(None, None, None, len(pairs), 0), t0
    offset, slope = _line([(t - t0, y) for t, y, _ in points])
    worst = max(u for _, _, u in points)
    return ClockEstimate(offset / 1e6, slope * 1e6, worst / 1e6, len(pairs), len(points)), t0


def _windows(pairs: list[tuple[int, int, str]]) -> list[list[tuple[int, int, str]]]:
    out: list[list[tuple[int, int, str]]] = [[pairs[0]]]
    for p in pairs[1:]:
        if p[0] - out[-1][-1][0] > WINDOW_GAP_NS:
            out.append([])
        out[-1].append(p)
    return out


def _line(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares intercept and slope (slope 0 with a single point)."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return my, 0.0
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx
    return my - slope * mx, slope
