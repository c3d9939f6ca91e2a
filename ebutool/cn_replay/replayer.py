"""Driving the reference CN model with a trace and comparing it with the trace's CN.

One pass collects what matters from the message stream (the MN's binding updates to
its CNs, the CNs' acknowledgements, CoTI/CoT pairs for round-trip times and the CNs'
route-optimised data packets); the authentication check (the oracle) sees every
record in order.  Then the model runs over the updates in the order the CN acts on
them, interleaved with the CNs' data packets in capture order, and every difference
between what the model says a conforming CN does and what the trace's CN did
becomes one :class:`Divergence`.  docs/replay.md is the user-facing description.

The pass is ebutool.cn_replay.collected_trace (:func:`collect`); the pairing of
answers with updates, what the trace's CN did and the comparison of its answers with
the model's are ebutool.cn_replay.answers; here the model is run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ebutool.cn_replay.answers import (
    compare_acks,
    follow_trace,
    match_acks,
    maybe_lost,
    resolve_observed,
)
from ebutool.cn_replay.binding_cache import (
    CNPolicies,
    CorrespondentModel,
    Outcome,
    Policy,
    Update,
    sort_updates,
)
from ebutool.cn_replay.collected_trace import (
    BASIS_INJECTED,
    BASIS_KEYLESS,
    BASIS_KEYS,
    BASIS_TRACE,
    Authenticate,
    Trace,
    _Sent,
    answer_types,
    collect,
    observe,
)
from ebutool.cn_replay.divergences import Divergence
from ebutool.cn_replay.exposure import count_packet
from ebutool.cn_replay.timing import estimate_rtt, keep_sending_order
from ebutool.core.constants import DEFAULT_CONFIG, ProtocolConfig
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.units import to_ns


@dataclass
class RunResult:
    outcomes: list[Outcome]
    sent: list[_Sent]
    basis: list[str]
    divergences: list[Divergence]
    model: CorrespondentModel
    trace: Trace
    prior_pairs: set
    policies: CNPolicies = field(default_factory=CNPolicies)


def run(
    items: Iterable,
    *,
    authenticate: Authenticate | None = None,
    basis: str = BASIS_INJECTED,
    config: ProtocolConfig = DEFAULT_CONFIG,
    cn_policy: str | Policy | Mapping | CNPolicies = Policy.early,
    trusted: Iterable[str] | None = None,
    diag: Diagnostics | None = None,
) -> RunResult:
    diag = diag if diag is not None else Diagnostics()
    tr = collect(items, authenticate, diag, basis, answer_types(config))
    return run_trace(
        tr,
        authenticated=authenticate is not None,
        config=config,
        cn_policy=cn_policy,
        trusted=trusted,
        diag=diag,
    )


def run_trace(
    tr: Trace,
    *,
    authenticated: bool,
    config: ProtocolConfig = DEFAULT_CONFIG,
    cn_policy: str | Policy | Mapping | CNPolicies = Policy.early,
    trusted: Iterable[str] | None = None,
    diag: Diagnostics | None = None,
) -> RunResult:
    """The model run over a collected trace (or one batch of it: ebutool.cn_replay.per_mn)."""
    diag = diag if diag is not None else Diagnostics()
    unmatched = match_acks(tr)
    policies = resolve_observed(tr, CNPolicies.coerce(cn_policy))
    model = CorrespondentModel(
        config, policies, frozenset(trusted) if trusted is not None else None
    )
    updates, bases = _updates(tr, authenticated, to_ns(config.initial_bindack_timeout))
    outcomes, divs, prior = _replay(tr, model, sort_updates(updates), diag)
    ordered = [outcomes[s.index] for s in tr.sent]
    divs += compare_acks(tr, ordered, unmatched, config)
    divs.sort(key=lambda x: (x.ts_ns, x.frame))
    return RunResult(ordered, tr.sent, bases, divs, model, tr, prior, policies)


def _updates(tr: Trace, authenticated: bool, grace_ns: int) -> tuple[list[Update], list[str]]:
    """The model's input: each update of the trace, when it takes effect at the CN and
    whether it is accepted there (the check's verdict, or what the trace's CN did when
    there is none); and the basis of each decision."""
    # When each update takes effect at the CN, on the capture clock (docs/replay.md "Time").
    at = {s.index: s.rec.ts_ns + estimate_rtt(tr, s)[0] for s in tr.sent}
    keep_sending_order(tr, at)
    # When the next update of the same pair takes effect: until then, CN data arriving at
    # the MN may have been caused by this update (for following the trace when no ack was
    # requested, and for telling a lost update from a lost answer).
    nxt: dict[int, int | None] = {}
    last_of_pair: dict[tuple[str, str], _Sent] = {}
    for s in tr.sent:
        prev = last_of_pair.get((s.mn, s.cn))
        if prev is not None:
            nxt[prev.index] = max(at[s.index], s.rec.ts_ns)
        last_of_pair[(s.mn, s.cn)] = s

    updates: list[Update] = []
    bases: list[str] = []
    for s in tr.sent:
        if s.verdict == "unverifiable" or not authenticated:
            ok, status, why = follow_trace(tr, s, nxt.get(s.index))
            s.reason = (f"{s.reason}; " if s.reason else "") + f"followed the trace: {why}"
            bases.append(BASIS_TRACE)
            lost = False  # following the trace already treats it as not accepted
        else:
            ok, status = s.verdict == "valid", s.status
            bases.append(s.basis)
            lost = maybe_lost(tr, s, nxt.get(s.index), grace_ns)
        updates.append(
            Update(
                s.index,
                s.rec.frame,
                at[s.index],
                s.mn,
                s.cn,
                s.coa,
                s.seq,
                s.lifetime_s,
                s.ack_requested,
                s.early,
                s.deregistration,
                ok,
                status,
                lost,
            )
        )
    return updates, bases


def _replay(
    tr: Trace, model: CorrespondentModel, queue: list[Update], diag: Diagnostics
) -> tuple[dict[int, Outcome], list[Divergence], set[tuple[str, str]]]:
    """Run the model over the updates (in the order the CN acts on them) interleaved
    with the CN's data packets in capture order: (outcome per update index, the data
    packets' divergences, the (MN, CN) pairs assumed bound before the capture)."""
    # Until when a CN packet shows a binding made before the capture: until the pair's
    # first update takes effect at the CN when its own acknowledgement measured that
    # time (a packet arriving before left the CN before the update reached it: in
    # flight, docs/replay.md "Time"); else until the update was sent (an estimated time
    # may be late, and the packet the update's effect).
    at_of = {u.index: u.at_ns for u in queue}
    first_effect: dict[tuple[str, str], int] = {}
    for s in tr.sent:  # (in sending order)
        first_effect.setdefault((s.mn, s.cn), at_of[s.index] if s.ack is not None else s.rec.ts_ns)

    outcomes: dict[int, Outcome] = {}
    divs: list[Divergence] = []
    prior: set[tuple[str, str]] = set()
    qi = 0
    for d in sorted(tr.data, key=lambda d: (d.ts_ns, d.frame)):
        while qi < len(queue) and queue[qi].at_ns <= d.ts_ns:
            outcomes[queue[qi].index] = model.process(queue[qi])
            qi += 1
        pair = (d.mn, d.cn)
        if d.ts_ns < first_effect.get(pair, 1 << 62) and not model.has_history(*pair):
            model.assume_prior(d.mn, d.cn, d.coa, d.ts_ns, d.frame)
            prior.add(pair)
            diag.warn(
                "replay_prior_binding",
                f"frame {d.frame}: {d.cn} sends to {d.coa} for {d.mn} "
                "before any binding update in the trace took effect at it: assumed a binding "
                "made before the capture began",
                d.frame,
            )
        div = count_packet(
            model.lookup(d.mn, d.cn, d.coa, d.ts_ns), d.frame, d.ts_ns, d.mn, d.cn, d.coa, d.ip_len
        )
        if div is not None:
            divs.append(div)
    while qi < len(queue):
        outcomes[queue[qi].index] = model.process(queue[qi])
        qi += 1
    if tr.last_ns is not None:
        model.close(tr.last_ns)
    return outcomes, divs, prior


__all__ = [
    "run",
    "run_trace",
    "observe",
    "RunResult",
    "Authenticate",
    "BASIS_KEYS",
    "BASIS_KEYLESS",
    "BASIS_INJECTED",
    "BASIS_TRACE",
    "collect",
    "match_acks",
]
