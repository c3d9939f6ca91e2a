"""The draft's latency formulas (section 5; DESIGN.md section 2), all in one unit.

Each function takes the three round-trip times (RTT_HA: BU/BA with the home agent,
RTT_BT: HoTI/HoT through the bidirectional tunnel, RTT_RO: CoTI/CoT or EBU/EBA on
the direct path) and returns a latency in the same unit.  A missing input (None
or NaN) gives None, never a guess.
"""
from __future__ import annotations

import math
from typing import Callable, Optional

Num = Optional[float]


def _ok(*xs: Num) -> bool:
    return all(x is not None and not (isinstance(x, float) and math.isnan(x)) for x in xs)


def std_send_conserv(rtt_ha: Num, rtt_bt: Num, rtt_ro: Num) -> Num:
    """Standard procedure, conservative MN: waits for BA<-CN before sending."""
    return max(rtt_ha, rtt_bt, rtt_ro) + rtt_ro if _ok(rtt_ha, rtt_bt, rtt_ro) else None


def std_send_optimst(rtt_ha: Num, rtt_bt: Num, rtt_ro: Num) -> Num:
    """Standard procedure, optimistic MN: sends as soon as the BU->CN is out."""
    return max(rtt_ha, rtt_bt, rtt_ro) if _ok(rtt_ha, rtt_bt, rtt_ro) else None


def std_recv(rtt_ha: Num, rtt_bt: Num, rtt_ro: Num) -> Num:
    """Standard procedure: the CN sends to the new CoA once it has the BU."""
    return max(rtt_ha, rtt_bt, rtt_ro) + rtt_ro if _ok(rtt_ha, rtt_bt, rtt_ro) else None


def early_send_conserv(rtt_ha: Num, rtt_bt: Num, rtt_ro: Num) -> Num:
    """Early procedure, conservative MN: waits for BA<-HA and EBA<-CN."""
    return max(rtt_ha, rtt_ro) if _ok(rtt_ha, rtt_ro) else None


def early_send_optimst(rtt_ha: Num, rtt_bt: Num, rtt_ro: Num) -> Num:
    """Early procedure, optimistic MN: sends right after the EBU."""
    return 0.0


def early_recv(rtt_ha: Num, rtt_bt: Num, rtt_ro: Num) -> Num:
    """Early procedure: the CN sends to the new CoA once it has the EBU (half an
    RTT_RO) and the first packet takes the other half."""
    return rtt_ro if _ok(rtt_ro) else None


# name (as in DESIGN.md, output columns add "_ms") -> function
FORMULAS: dict[str, Callable[[Num, Num, Num], Num]] = {
    "std_send_conserv": std_send_conserv,
    "std_send_optimst": std_send_optimst,
    "std_recv": std_recv,
    "early_send_conserv": early_send_conserv,
    "early_send_optimst": early_send_optimst,
    "early_recv": early_recv,
}


def predict(rtt_ha: Num, rtt_bt: Num, rtt_ro: Num) -> dict[str, Num]:
    """All six predicted latencies, keyed by formula name."""
    return {name: f(rtt_ha, rtt_bt, rtt_ro) for name, f in FORMULAS.items()}
