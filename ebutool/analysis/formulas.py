"""The draft's latency formulas (section 5; DESIGN.md section 2), all in one unit.

Each function takes the three round-trip times (RTT_HA: BU/BA with the home agent,
RTT_BT: HoTI/HoT through the bidirectional tunnel, RTT_RO: CoTI/CoT or EBU/EBA on
the direct path) and returns a latency in the same unit.  A missing input (None
or NaN) gives None, never a guess.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeGuard

Num = float | None


def _known(x: Num) -> TypeGuard[float]:
    """An input the formulas can use: neither None nor NaN."""
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def std_send_conserv(rtt_ha: Num, rtt_bt: Num, rtt_ro: Num) -> Num:
    """Standard procedure, conservative MN: waits for BA<-CN before sending."""
    if _known(rtt_ha) and _known(rtt_bt) and _known(rtt_ro):
        return max(rtt_ha, rtt_bt, rtt_ro) + rtt_ro
    return None


def std_send_optimst(rtt_ha: Num, rtt_bt: Num, rtt_ro: Num) -> Num:
    """Standard procedure, optimistic MN: sends as soon as the BU->CN is out."""
    if _known(rtt_ha) and _known(rtt_bt) and _known(rtt_ro):
        return max(rtt_ha, rtt_bt, rtt_ro)
    return None


def std_recv(rtt_ha: Num, rtt_bt: Num, rtt_ro: Num) -> Num:
    """Standard procedure: the CN sends to the new CoA once it has the BU."""
    if _known(rtt_ha) and _known(rtt_bt) and _known(rtt_ro):
        return max(rtt_ha, rtt_bt, rtt_ro) + rtt_ro
    return None


def early_send_conserv(rtt_ha: Num, rtt_bt: Num, rtt_ro: Num) -> Num:
    """Early procedure, conservative MN: waits for BA<-HA and EBA<-CN."""
    return max(rtt_ha, rtt_ro) if _known(rtt_ha) and _known(rtt_ro) else None


def early_send_optimst(rtt_ha: Num, rtt_bt: Num, rtt_ro: Num) -> Num:
    """Early procedure, optimistic MN: sends right after the EBU.  0, but only where the
    early procedure's inputs exist (RTT_RO, the EBU/EBA or CoTI/CoT RTT, as for the
    other early formulas): a constant for every row would inflate n."""
    return 0.0 if _known(rtt_ro) else None


def early_recv(rtt_ha: Num, rtt_bt: Num, rtt_ro: Num) -> Num:
    """Early procedure: the CN sends to the new CoA once it has the EBU (half an
    RTT_RO) and the first packet takes the other half."""
    return rtt_ro if _known(rtt_ro) else None


# name (as in DESIGN.md, output columns add "_ms") -> function
FORMULAS: dict[str, Callable[[Num, Num, Num], Num]] = {
    "std_send_conserv": std_send_conserv,
    "std_send_optimst": std_send_optimst,
    "std_recv": std_recv,
    "early_send_conserv": early_send_conserv,
    "early_send_optimst": early_send_optimst,
    "early_recv": early_recv,
}


# name -> the formula as DESIGN.md section 2 writes it (the docs' column list shows these)
FORMULA_TEXT: dict[str, str] = {
    "std_send_conserv": "max(RTT_HA, RTT_BT, RTT_RO) + RTT_RO",
    "std_send_optimst": "max(RTT_HA, RTT_BT, RTT_RO)",
    "std_recv": "max(RTT_HA, RTT_BT, RTT_RO) + RTT_RO",
    "early_send_conserv": "max(RTT_HA, RTT_RO)",
    "early_send_optimst": "0",
    "early_recv": "RTT_RO",
}


# The RTTs are milliseconds of nanosecond timestamps: six decimals at most.  A sum of
# two of them is rounded to those (110 + 19.9995 is 129.99949999999998 in binary
# floating point, which a CSV would print so).
MS_DECIMALS = 6


def predict(rtt_ha: Num, rtt_bt: Num, rtt_ro: Num) -> dict[str, Num]:
    """All six predicted latencies, keyed by formula name (to the nanosecond)."""
    out: dict[str, Num] = {}
    for name, f in FORMULAS.items():
        v = f(rtt_ha, rtt_bt, rtt_ro)
        out[name] = None if v is None else round(v, MS_DECIMALS)
    return out


# Which formula predicts an episode's observed latency.  An early_fallback ran the
# standard procedure in the end, so the standard formulas predict it (with RTT_BT 0:
# its home token was already there, draft 5.1; see ebutool.analysis.metrics).
PROCEDURE_OF_KIND = {"standard": "standard", "early_fallback": "standard", "early": "early"}
_PREDICTING: dict[tuple[str | None, str, str | None], str] = {
    ("standard", "send_latency", "conservative"): "std_send_conserv",
    ("standard", "send_latency", "optimistic"): "std_send_optimst",
    ("early", "send_latency", "conservative"): "early_send_conserv",
    ("early", "send_latency", "optimistic"): "early_send_optimst",
}
_RECEIVE: dict[str | None, str] = {"standard": "std_recv", "early": "early_recv"}


def predicting_formula(procedure: str | None, quantity: str, mode: str | None) -> str | None:
    """The formula name (a key of FORMULAS) that predicts ``quantity`` ("send_latency" or
    "recv_latency") for ``procedure`` ("standard" or "early") and the MN's ``mode``;
    None when none does (send latency of an unknown mode, another procedure).  The
    receive latency does not depend on the mode."""
    if quantity == "recv_latency":
        return _RECEIVE.get(procedure)
    return _PREDICTING.get((procedure, quantity, mode))
