"""When a scenario's data flows send their packets (used by both ends of a flow)."""

from __future__ import annotations

from ebutool.core.units import ms_to_ns_us
from ebutool.synth.scenario import Flow


def flow_times(flow: Flow) -> list[int]:
    """Scenario times (ns, whole microseconds) of a flow's packets."""
    period_us = 1e6 / flow.rate_pps
    start, stop = ms_to_ns_us(flow.start_ms), ms_to_ns_us(flow.stop_ms)
    out, k = [], 0
    while (t := start + round(k * period_us) * 1000) < stop:
        out.append(t)
        k += 1
    return out
