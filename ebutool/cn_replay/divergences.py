"""Divergences: one row per difference between the reference CN and the trace's CN."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ebutool.core.exact_time import EXACT_NS, exact_map
from ebutool.core.units import seconds

# Kinds (docs/replay.md "Divergences").
KIND_ACK_STATUS = "ack_status"  # both answered, with different statuses
KIND_ACK_UNEXPECTED = "ack_unexpected"  # the trace's CN answered, the model does not
KIND_EBA_UNEXPECTED = "eba_unexpected"  # the trace's CN sent an EBA, the model does not
KIND_DATA_UNBOUND = "data_to_unbound_coa"  # data to a CoA not (or no longer) bound
KIND_DATA_OVERSTAY = "data_after_tentative_lifetime"  # data to an unverified CoA after its lifetime
# The model answers, no answer reached the MN: from the MN's vantage point the update may
# have been lost on its way to the CN or the answer on its way back, so these rows are not
# evidence against the CN and do not count for the exit status (docs/replay.md).
KIND_ACK_MISSING = "unobservable_ack_missing"  # a BA expected (A flag set, or a rejection)
KIND_EBA_MISSING = "unobservable_eba_missing"  # an EBA expected
UNOBSERVABLE_KINDS = (KIND_ACK_MISSING, KIND_EBA_MISSING)
DIVERGENCE_KINDS = (
    KIND_ACK_STATUS,
    KIND_ACK_UNEXPECTED,
    KIND_EBA_UNEXPECTED,
    KIND_DATA_UNBOUND,
    KIND_DATA_OVERSTAY,
) + UNOBSERVABLE_KINDS

DIVERGENCE_COLUMNS = ["frame", "time", "mn", "cn", "kind", "expected", "observed", "detail", "coa"]


@dataclass(frozen=True, slots=True)
class Divergence:
    frame: int  # the packet that shows it (the update itself when an answer is missing)
    ts_ns: int
    mn: str
    cn: str
    kind: str
    expected: str  # what the reference CN does
    observed: str  # what the trace's CN did
    detail: str
    coa: str | None = None


def divergence_frame(divs: list[Divergence]) -> pd.DataFrame:
    rows = [
        {
            "frame": d.frame,
            "time": seconds(d.ts_ns),
            "mn": d.mn,
            "cn": d.cn,
            "kind": d.kind,
            "expected": d.expected,
            "observed": d.observed,
            "detail": d.detail,
            "coa": d.coa,
        }
        for d in divs
    ]
    df = pd.DataFrame(rows, columns=DIVERGENCE_COLUMNS)
    df = df.astype({"frame": int}) if df.empty else df
    df.attrs[EXACT_NS] = exact_map(d.ts_ns for d in divs)  # the times' exact ns
    return df
