"""Per vantage point, only what it can observe (issue 13 item 2, DESIGN.md "Vantage point").

The reconstruction measures every interval between the packets a capture holds; what
those intervals *mean* depends on where the capture was taken.  At a CN, "HoTI to HoT"
is the CN's processing time, not RTT_BT; "first packet from the new care-of address
to the first route-optimised data" is the send latency shifted by one-way delays.  The
contract columns keep the MN-view meaning, so :func:`apply_vantage` empties each one a
vantage point cannot observe (never 0), names the reason in the row's diagnosis
(``unobservable_at_<vantage>``, or ``vantage_unknown``), and moves what the interval
does measure there to its own column (:data:`MOVED`).  The table is docs/analysis.md's
"Vantage points" (:func:`markdown_table` writes it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ebutool.analysis.formulas import FORMULAS

if TYPE_CHECKING:
    import pandas as pd

MN_TIMES = ("t_handover",)  # the MN's own clock events
RTTS = ("rtt_ha_ms", "rtt_bt_ms", "rtt_ro_ms", "rtt_bt_pred_ms")
LATENCIES = ("send_latency_ms", "recv_latency_ms")
PREDICTIONS = tuple(f"{f}_ms" for f in FORMULAS)
NOT_AWAY = (*MN_TIMES, *RTTS, *LATENCIES, *PREDICTIONS)

# vantage -> the columns it cannot observe (emptied); "mode" keeps only `optimistic`
# (data seen before the acknowledgement passed this point can only have been sent
# before it arrived), "kind" loses only `home_only`, "prev_coa" only the home address.
UNOBSERVABLE: dict[str, tuple[str, ...]] = {
    "mn": (),
    "path": (*NOT_AWAY, "data_gap_send_ms", "data_gap_recv_ms", "mode"),
    "cn": (*NOT_AWAY, "data_gap_send_ms", "mode", "prev_coa"),
    "ha": (*NOT_AWAY, "data_gap_send_ms", "data_gap_recv_ms", "mode", "kind"),
}
AMBIGUOUS = tuple(dict.fromkeys(c for cols in UNOBSERVABLE.values() for c in cols))

# vantage -> {own column: the contract column whose interval it is at that vantage}
MOVED: dict[str, dict[str, str]] = {
    "cn": {
        "t_first_seen": "t_handover",
        "cn_send_interval_ms": "send_latency_ms",
        "cn_recv_interval_ms": "recv_latency_ms",
        "cn_home_test_proc_ms": "rtt_bt_ms",
        "cn_ro_proc_ms": "rtt_ro_ms",
    },
    "ha": {"t_first_seen": "t_handover", "ha_bu_proc_ms": "rtt_ha_ms"},
    "path": {"t_first_seen": "t_handover"},
}

# How each contract column is measured where it can be (docs/analysis.md).
HOW: dict[str, dict[str, str]] = {
    "mn": {c: "yes" for c in NOT_AWAY},
    "path": {},
    "cn": {
        "t_handover": "`t_first_seen`",
        "rtt_bt_ms": "`cn_home_test_proc_ms` (processing only)",
        "rtt_ro_ms": "`cn_ro_proc_ms` (processing only)",
        "send_latency_ms": "`cn_send_interval_ms`",
        "recv_latency_ms": "`cn_recv_interval_ms`",
    },
    "ha": {"t_handover": "`t_first_seen`", "rtt_ha_ms": "`ha_bu_proc_ms` (processing only)"},
}


# The columns only this module fills (declared at the end of ebutool.analysis.columns).
VANTAGE_COLUMNS = (
    "vantage",
    "t_first_seen",
    "cn_send_interval_ms",
    "cn_recv_interval_ms",
    "cn_home_test_proc_ms",
    "cn_ro_proc_ms",
    "ha_bu_proc_ms",
)


def reason(role: str | None) -> str:
    return "vantage_unknown" if role is None else f"unobservable_at_{role}"


def apply_vantage(df: pd.DataFrame, role: str | None) -> pd.DataFrame:
    """``df`` (one file's episode table) with its ``vantage`` column set to ``role``
    (None: ambiguous) and what that vantage cannot observe emptied (module doc).
    ``multi`` (merged views, not reconstructed as one run yet) is treated as ambiguous."""
    import pandas as pd

    df = df.copy()
    df["vantage"] = pd.Series([role] * len(df), index=df.index, dtype=object)
    if role == "mn" or df.empty:
        return df
    known = role if role in UNOBSERVABLE else None
    for own, contract in MOVED.get(role or "", {}).items():
        df[own] = df[contract].astype(df[own].dtype)
    emptied = UNOBSERVABLE[known] if known is not None else AMBIGUOUS
    for col in emptied:
        if col == "mode":
            df[col] = df[col].where(df[col] == "optimistic", None)
        elif col == "kind":
            df[col] = df[col].where(df[col] != "home_only", None)
        elif col == "prev_coa":
            df[col] = df[col].where(df[col] != df["mn"], None)
        elif df[col].dtype == object:
            df[col] = None
        else:
            df[col] = pd.Series(np.nan, index=df.index).astype(df[col].dtype)
    code = reason(known)
    df["diagnosis"] = [_with(d, code) for d in df["diagnosis"]]
    return df


def _with(diagnosis: object, code: str) -> str:
    notes = set(diagnosis.split(";")) if isinstance(diagnosis, str) and diagnosis else set()
    notes.add(code)
    return ";".join(sorted(notes))


def markdown_table() -> str:
    """Which contract column each vantage point measures, and how (docs/analysis.md)."""
    roles = ("mn", "path", "cn", "ha")
    lines = ["| column | " + " | ".join(roles) + " |", "| --- |" + " --- |" * len(roles)]
    for col in (*NOT_AWAY, "mode", "kind", "prev_coa", "data_gap_send_ms", "data_gap_recv_ms"):
        cells = []
        for role in roles:
            if col not in UNOBSERVABLE[role]:
                cells.append("yes")
            elif col == "mode":
                cells.append("`optimistic` only")
            elif col == "kind":
                cells.append("not `home_only`")
            elif col == "prev_coa":
                cells.append("a care-of address only")
            else:
                cells.append(HOW[role].get(col, "empty"))
        lines.append(f"| `{col}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
