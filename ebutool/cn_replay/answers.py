"""The CNs' answers in a trace: which binding update each answers, what the trace's
CN did with an update (its answer, or the data it sent to the care-of address after
it), what its answers to EBUs show of it (``--cn-policy observed``), and how its
answers differ from what the reference model says a conforming CN sends.
"""

from __future__ import annotations

import bisect
from collections import defaultdict

from ebutool.cn_replay.binding_cache import (
    NONCE_STATUSES,
    STATUS_SEQ_OUT_OF_WINDOW,
    CNPolicies,
    ExpectedAck,
    Outcome,
    Policy,
    seq_greater,
)
from ebutool.cn_replay.collected_trace import CUT_OFF, ObservedAck, Trace, _Sent
from ebutool.cn_replay.divergences import (
    KIND_ACK_MISSING,
    KIND_ACK_STATUS,
    KIND_ACK_UNEXPECTED,
    KIND_EBA_MISSING,
    KIND_EBA_UNEXPECTED,
    Divergence,
)
from ebutool.core.constants import ProtocolConfig
from ebutool.core.units import to_ns

# an answer's statuses that do not show the CN checked the MAC (None: cut off, unknown)
_NOT_MAC_CHECKED = frozenset((*NONCE_STATUSES, None))


def match_acks(tr: Trace) -> list[ObservedAck]:
    """Pair each CN acknowledgement with the binding update it answers; returns the
    acknowledgements from CNs that answer no update in the trace.

    An acknowledgement answers the latest unanswered update from the same MN to the
    same CN with its sequence number.  A rejection with status 135 carries the last
    accepted number N instead (RFC 6275 9.5.1), so its number does not name the update
    it answers (an earlier accepted update with the A flag clear may have N too): it
    answers the latest unanswered update sent before it whose number is not greater
    than N modulo 2^16 (one the CN could have rejected with N; DESIGN.md 4: the newest
    outstanding update to that peer); none when no such update is in the capture."""
    cns = (tr.known_cns if tr.known_cns is not None else {s.cn for s in tr.sent}) - set(
        tr.home_agents
    )
    events: list[tuple[int, int, int, _Sent | ObservedAck]]
    events = [(s.rec.ts_ns, s.rec.frame, 0, s) for s in tr.sent]
    events += [(a.ts_ns, a.frame, 1, a) for a in tr.acks if a.src in cns]
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    pending: dict[tuple[str, str], list[_Sent]] = defaultdict(list)
    unmatched: list[ObservedAck] = []
    cut_picks: list[_Sent] = []  # updates a cut answer took: their samples at the end
    for _, _, _, obj in events:
        if isinstance(obj, _Sent):  # (updates sort before acknowledgements of the same frame)
            pending[(obj.mn, obj.cn)].append(obj)
            continue
        ack = obj
        cands = pending[(ack.rh2 or ack.dst, ack.src)]
        if ack.status is None or ack.sequence is None:  # cut off
            # No sequence number to match: it may answer the latest update still waiting
            # (DESIGN.md 4), which keeps waiting for a whole answer with its number; one
            # with none waiting is compared with nothing (no divergence from it).
            pick = next((s for s in reversed(cands) if s.ack is None), None)
            if pick is not None:
                pick.ack = ack
                cut_picks.append(pick)
            continue
        if ack.status == STATUS_SEQ_OUT_OF_WINDOW:
            # (none: the refused update came before the capture; the 135 answers none
            # of these, each of whose numbers is greater than the last accepted one)
            pick = next((s for s in reversed(cands) if not seq_greater(s.seq, ack.sequence)), None)
        else:
            pick = next((s for s in reversed(cands) if s.seq == ack.sequence), None)
        if pick is None:
            unmatched.append(ack)
            continue
        cands.remove(pick)
        pick.ack = ack
        tr.add_rtt((pick.cn, pick.coa), (pick.rec.ts_ns, ack.ts_ns - pick.rec.ts_ns))
    # A cut answer's time is a sample only when no whole answer with the update's number
    # replaced it (one sample per update: the whole one's pairing is sure)
    for pick in cut_picks:
        got = pick.ack
        if got is not None and got.cut:
            tr.add_rtt((pick.cn, pick.coa), (pick.rec.ts_ns, got.ts_ns - pick.rec.ts_ns))
    return unmatched


def follow_trace(tr: Trace, s: _Sent, next_ns: int | None) -> tuple[bool, int | None, str]:
    """(accepted, nonce status, reason) from what the trace's CN did with ``s``."""
    if s.ack is not None and not s.ack.cut:
        st = s.ack.status
        if st in NONCE_STATUSES:
            return False, st, f"the CN answered status {st}"
        return True, None, f"the CN answered status {st}"
    if s.ack is None and s.ack_requested:
        return False, None, "the CN sent no acknowledgement although the A flag was set"
    used = cn_used_coa(tr, s, next_ns)
    why = (
        "the CN sent data to the care-of address afterwards"
        if used
        else "the CN sent no data to the care-of address"
    )
    if s.ack is not None:  # cut: that it answered does not say how
        return used, None, f"the CN's answer was cut off by the capture (status unknown); {why}"
    return used, None, why if used else f"no acknowledgement requested and {why}"


def resolve_observed(tr: Trace, policies: CNPolicies) -> CNPolicies:
    """Replace the ``observed`` policy of every CN the MN sent binding updates to by what
    the trace shows: **early** if the CN ever answered an EBU with a status other than
    136-138 (it checked the EBU's MAC, which a CN without EBU support cannot: DESIGN.md 3;
    RFC 6275 9.5.1 checks nonce indices before the MAC, so 136-138 prove nothing),
    **standard** if it was sent EBUs and never answered one that way.  A CN sent no EBU,
    or whose only answers beyond 136-138 the capture cut (status unknown), keeps
    ``observed`` (treated as early; the reason says which)."""
    cns = [cn for cn in dict.fromkeys(s.cn for s in tr.sent) if policies.of(cn) is Policy.observed]
    if not cns:
        return policies
    per, inferred = dict(policies.per_cn), dict(policies.inferred)
    for cn in cns:
        ebus = [s for s in tr.sent if s.cn == cn and s.early]
        # (a cut answer's status is unknown: 136-138 maybe, so it is no evidence)
        answered = [s for s in ebus if s.ack is not None and s.ack.status not in _NOT_MAC_CHECKED]
        if not ebus:
            inferred[cn] = "no EBU in the trace"
            continue
        cut = [s for s in ebus if s.ack is not None and s.ack.cut]
        if not answered and cut:
            # an answer came but the capture cut it: 136-138 (any CN) or accepted (an
            # early CN) cannot be told apart, so the CN stays undecided (modelled early)
            inferred[cn] = (
                f"answered 0 of {len(ebus)} EBUs readably; {len(cut)} answer(s) cut by the "
                "capture (status unknown): undecided"
            )
            continue
        per[cn] = Policy.early if answered else Policy.standard
        inferred[cn] = f"answered {len(answered)} of {len(ebus)} EBUs"
    return CNPolicies(policies.default, per, inferred)


def cn_used_coa(tr: Trace, s: _Sent, next_ns: int | None) -> bool:
    """Did the CN send data to ``s``'s care-of address after ``s`` and before the MN's
    next update to it (or the end of the capture)?"""
    hi = next_ns if next_ns is not None else (tr.last_ns or s.rec.ts_ns)
    times = tr.data_times().get((s.mn, s.cn, s.coa), [])
    return bisect.bisect_right(times, hi) > bisect.bisect_right(times, s.rec.ts_ns)


def maybe_lost(tr: Trace, s: _Sent, next_ns: int | None, grace_ns: int) -> bool:
    """An update the MN wanted answered, whose answer never reached the MN although the
    capture went on INITIAL_BINDACK_TIMEOUT, and after which the CN sent nothing to its
    care-of address before the MN's next update: from the MN nothing shows the CN got it."""
    return (
        s.ack is None
        and s.ack_requested
        and tr.last_ns is not None
        and tr.last_ns - s.rec.ts_ns >= grace_ns
        and not cn_used_coa(tr, s, next_ns)
    )


def _sent_again(tr: Trace) -> dict[int, _Sent]:
    """Unanswered update index -> the MN's next update of the same kind (EBU or BU) to
    the same CN for the same care-of address: its retransmission (RFC 6275 11.8: the MN
    retransmits after INITIAL_BINDACK_TIMEOUT, with a new sequence number)."""
    out: dict[int, _Sent] = {}
    waiting: dict[tuple, _Sent] = {}
    for s in tr.sent:
        key = (s.mn, s.cn, s.coa, s.early, s.deregistration)
        prev = waiting.pop(key, None)
        if prev is not None:
            out[prev.index] = s
        if s.ack is None:
            waiting[key] = s
    return out


def describe_ack(ack: ObservedAck | None, early: bool) -> str:
    if ack is None:
        return "none"
    if ack.status is None:
        return CUT_OFF
    name = "EBA" if early and ack.status < 128 else "BA"
    return f"{name} status {ack.status} seq {ack.sequence}"


def compare_acks(
    tr: Trace, outcomes: list[Outcome], unmatched: list[ObservedAck], config: ProtocolConfig
) -> list[Divergence]:
    out: list[Divergence] = []
    grace_ns = to_ns(config.initial_bindack_timeout)
    again = _sent_again(tr)
    for s, oc in zip(tr.sent, outcomes, strict=False):
        exp: ExpectedAck | None = oc.ack
        got = s.ack
        what = "EBU" if s.early else "BU"
        if got is None:
            if exp is None:
                continue
            if tr.last_ns is not None and tr.last_ns - s.rec.ts_ns < grace_ns:
                continue  # the capture ends before the acknowledgement was due
            kind = KIND_EBA_MISSING if s.early and exp.status < 128 else KIND_ACK_MISSING
            nxt = again.get(s.index)
            seen = (
                f"the MN sent the {what} again (frame {nxt.rec.frame}, seq {nxt.seq})"
                if nxt
                else "the MN did not send it again"
            )
            out.append(
                Divergence(
                    s.rec.frame,
                    s.rec.ts_ns,
                    s.mn,
                    s.cn,
                    kind,
                    exp.describe(),
                    "none",
                    f"{what} seq {s.seq} ({oc.action.value}): {oc.detail}; no answer reached "
                    f"the MN: the {what} may have been lost on its way to the CN or the "
                    f"answer on its way back; {seen}",
                    s.coa,
                )
            )
        elif got.status is None:
            continue  # cut by the capture: nothing to compare (not missing either)
        elif exp is None:
            kind = KIND_EBA_UNEXPECTED if s.early and got.status < 128 else KIND_ACK_UNEXPECTED
            why = (
                oc.detail
                if oc.action.value in ("unsupported", "discarded")
                else f"{oc.detail}; A flag clear: RFC 6275 9.5.4 says no acknowledgement"
            )
            out.append(
                Divergence(
                    got.frame,
                    got.ts_ns,
                    s.mn,
                    s.cn,
                    kind,
                    "none",
                    describe_ack(got, s.early),
                    f"answers {what} frame {s.rec.frame} seq {s.seq} ({oc.action.value}): {why}",
                    s.coa,
                )
            )
        elif not exp.matches(got.status):
            out.append(
                Divergence(
                    got.frame,
                    got.ts_ns,
                    s.mn,
                    s.cn,
                    KIND_ACK_STATUS,
                    exp.describe(),
                    describe_ack(got, s.early),
                    f"answers {what} frame {s.rec.frame} seq {s.seq} ({oc.action.value}): "
                    f"{oc.detail}",
                    s.coa,
                )
            )
    for a in unmatched:
        out.append(
            Divergence(
                a.frame,
                a.ts_ns,
                a.rh2 or a.dst,
                a.src,
                KIND_ACK_UNEXPECTED,
                "none",
                describe_ack(a, False),
                f"answers no binding update in the trace (seq {a.sequence})",
                a.dst,
            )
        )
    return out
