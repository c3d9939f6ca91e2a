"""The ``quality`` column: whether an episode row may enter statistics (DESIGN.md section 4).

``ok``, or the one reason (the first of :data:`QUALITY_CODES` that applies) why the row
must be left out of summaries, comparisons and the claim test.  The row itself stays in
the table: its observed values are right, only their meaning for statistics is not
what a handover's would be.  docs/analysis.md has the table of codes.

    from ebutool.analysis.quality import is_ok
    ok_rows = df[df["quality"] == "ok"]       # or: df[[is_ok(r) for _, r in df.iterrows()]]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

OK = "ok"
MID_START = "capture_began_mid_procedure"
REFRESH = "refresh"
AMBIGUOUS = "ambiguous_classification"
INCOMPLETE = "incomplete"
EBA_ONLY = "eba_only"
INCONSISTENT_TIMES = "inconsistent_times"
STATE_EVICTED = "state_evicted"
LATE_CORRESPONDENT = "not_this_handover"
LOST_REQUEST = "t0_uncertain"
UPDATE_NOT_CAPTURED = "update_not_captured"
HA_BU_UNANSWERED = "ha_bu_unanswered"
HA_BA_REJECTED = "ha_ba_rejected"
TENTATIVE_EXPIRED = "tentative_binding_expired"

# code -> what it means; checked in this order (a row gets the first that applies)
QUALITY_CODES: dict[str, str] = {
    STATE_EVICTED: "ebutool evicted the state of this MN (or of this CN episode) to stay "
    "within --max-state-entries (diagnosis `state_evicted`), or dropped requests beyond the "
    "32 kept per episode (`exchange_limit`): what came later is not in it",
    REFRESH: "a binding refresh (the CN sent route-optimised data to the care-of address "
    "before the binding update, `binding_refresh`), not a handover",
    MID_START: "the capture began inside the procedure: t0 and what ran before are unknown",
    LOST_REQUEST: "a reply of the handover answered a request the capture lost "
    "(`request_not_captured`): the move may have come before the handover's first packet "
    "in the capture, so t0 and the latencies may be late",
    UPDATE_NOT_CAPTURED: "the CN acknowledged an update from this care-of address that the "
    "capture does not hold (`cn_update_not_captured`): a BU or an EBU (a BA and an EBA look "
    "alike), so the episode's kind may be wrong (an early handover whose EBU was lost reads "
    "as standard) and its mode cannot be told",
    LATE_CORRESPONDENT: "the MN's first request to this CN came more than "
    "INITIAL_BINDACK_TIMEOUT after the handover's home registration "
    "(`cn_first_request_late`): a correspondent it took up later, not this handover's",
    AMBIGUOUS: "a BU with care-of nonce index 0 that may be standard or early "
    "(`care_of_index_0_ambiguous`; also when the capture cut its MAC), or a BU the "
    "capture cut before its Nonce Indices option, so its care-of nonce index (0 in an "
    "EBU) is unknown (`bu_cut_off`), or whose Nonce Indices option has a wrong length "
    "(`nonce_indices_malformed`), or a BA from the CN the capture cut inside its fixed "
    "fields, so whether it accepted, and which update it answered, is unknown "
    "(`ba_cut_off`), or such a BA from the HA: whether the home registration was accepted "
    "is unknown (`ha_ba_cut_off`), or a message from the CN or the HA cut before its MH "
    "type, which may be any answer (`mh_cut_off`, `ha_mh_cut_off`), or a message from the "
    "MN to the CN cut before it could be read, which may be the episode's update "
    "(`update_cut_off`)",
    INCOMPLETE: "the procedure did not complete inside the capture (`complete` is false)",
    EBA_ONLY: "an early MN that waited for the EBA but not the HA's BA (mode `eba_only`): "
    "neither of the draft's modes",
    INCONSISTENT_TIMES: "timestamps run backwards (`reply_before_request`, `data_before_handover`, "
    "`handover_event_out_of_order`)",
    HA_BU_UNANSWERED: "the home registration was never acknowledged in the capture "
    "(`ha_bu_unanswered`): the handover did not run as the formulas assume",
    HA_BA_REJECTED: "the home agent refused the home registration (`ha_ba_rejected_<status>`)",
    TENTATIVE_EXPIRED: "the early binding's tentative lifetime (TENTATIVE_BINDING_LIFETIME) "
    "ran out before the care-of address was verified (`tentative_binding_expired`)",
}

# diagnosis code -> quality code
_BY_NOTE = (
    ("state_evicted", STATE_EVICTED),
    ("exchange_limit", STATE_EVICTED),
    ("binding_refresh", REFRESH),
    ("capture_started_mid_episode", MID_START),
    ("request_not_captured", LOST_REQUEST),
    ("cn_update_not_captured", UPDATE_NOT_CAPTURED),
    ("cn_first_request_late", LATE_CORRESPONDENT),
    ("care_of_index_0_ambiguous", AMBIGUOUS),
    ("bu_cut_off", AMBIGUOUS),
    ("nonce_indices_malformed", AMBIGUOUS),
    ("ba_cut_off", AMBIGUOUS),
    ("ha_ba_cut_off", AMBIGUOUS),
    ("mh_cut_off", AMBIGUOUS),
    ("ha_mh_cut_off", AMBIGUOUS),
    ("update_cut_off", AMBIGUOUS),
)
_TIME_NOTES = frozenset(
    {"reply_before_request", "data_before_handover", "handover_event_out_of_order"}
)
# Checked last, by prefix (a rejection's diagnosis carries its status): the home
# registration failed, or the tentative binding expired.  Such a row's latencies are
# observed right but are not a handover's as the draft's formulas model it (summary.py
# left these out of statistics by diagnosis while quality said ok: now quality says why).
_LAST_BY_PREFIX = (
    (HA_BU_UNANSWERED, HA_BU_UNANSWERED),
    ("ha_ba_rejected_", HA_BA_REJECTED),
    (TENTATIVE_EXPIRED, TENTATIVE_EXPIRED),
)


def quality(complete: bool, mode: str, notes: Iterable[str]) -> str:
    """The quality code of an episode from its ``complete`` flag, ``mode`` and diagnosis."""
    codes = set(notes)
    for note, code in _BY_NOTE:
        if note in codes:
            return code
    if not complete:
        return INCOMPLETE
    if mode == EBA_ONLY:
        return EBA_ONLY
    if codes & _TIME_NOTES:
        return INCONSISTENT_TIMES
    for prefix, code in _LAST_BY_PREFIX:
        if any(c.startswith(prefix) for c in codes):
            return code
    return OK


def is_ok(row: Mapping) -> bool:
    """True for a row (a dict, or a DataFrame row) that may enter statistics; a table
    without a ``quality`` column (older output) counts every row."""
    return row.get("quality", OK) == OK


def markdown_table() -> str:
    """The table of quality codes for docs/analysis.md."""
    lines = ["| quality | meaning |", "| --- | --- |", f"| `{OK}` | may enter statistics |"]
    lines += [f"| `{code}` | {meaning} |" for code, meaning in QUALITY_CODES.items()]
    return "\n".join(lines) + "\n"
