"""When the reference CN acts on each binding update, on the capture clock (docs/replay.md "Time").

The capture is at the MN: the CN acts on an update sent at t at t + RTT, the RTT of the
update's own acknowledgement, else of the nearest exchange on its path or to its CN;
and on one MN's updates in the order the MN sent them.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

# (the replayer's Trace and _Sent: typed loosely here, that module imports this one)
Trace = Any
_Sent = Any


def estimate_rtt(tr: Trace, s: _Sent) -> tuple[int, str]:
    """The round-trip time that places the CN's action on the capture clock: the
    update's own acknowledgement, else the nearest-in-time exchange (CoTI/CoT or an
    acknowledged update) on the same CN/care-of address path, else on any path to the
    CN, else 0."""
    if s.ack is not None:
        return s.ack.ts_ns - s.rec.ts_ns, "acknowledgement"
    for key, label in (((s.cn, s.coa), "same path"), (None, "CN")):
        if key is None:
            samples = [x for (cn, _), xs in tr.rtt.items() if cn == s.cn for x in xs]
        else:
            samples = tr.rtt.get(key, [])
        if samples:
            t, rtt = min(samples, key=lambda x: abs(x[0] - s.rec.ts_ns))
            return rtt, f"nearest exchange on the {label}"
    return 0, "none measured"


def keep_sending_order(tr: Trace, at: dict[int, int]) -> None:
    """The CN acts on one MN's updates in the order the MN sent them (constant path
    delays: first in, first out).  An estimated time (no acknowledgement of its own)
    that would put an update after the MN's next one to that CN is moved back to that
    one's, then one before the previous update's is moved up to it; a time measured by
    the update's own acknowledgement stays (two measured times out of order are a real
    reordering).  Never before the update was sent."""
    by_pair: dict[tuple[str, str], list[_Sent]] = defaultdict(list)
    for s in tr.sent:
        by_pair[(s.mn, s.cn)].append(s)
    for group in by_pair.values():
        later: int | None = None
        for s in reversed(group):
            if s.ack is None and later is not None and at[s.index] > later:
                at[s.index] = max(s.rec.ts_ns, later)
            later = at[s.index]
        earlier: int | None = None
        for s in group:
            if s.ack is None and earlier is not None and at[s.index] < earlier:
                at[s.index] = earlier
            earlier = at[s.index]
