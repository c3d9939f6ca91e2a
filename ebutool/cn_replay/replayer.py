"""Driving the reference CN model with a trace and comparing it with the trace's CN.

One pass collects what matters from the message stream (the MN's binding updates to
its CNs, the CNs' acknowledgements, CoTI/CoT pairs for round-trip times and the CNs'
route-optimised data packets); the authentication check (the oracle) sees every
record in order.  Then the model runs over the updates in the order the CN acts on
them, interleaved with the CNs' data packets in capture order, and every difference
between what the model says a conforming CN does and what the trace's CN did
becomes one :class:`Divergence`.  docs/replay.md is the user-facing description.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from ebutool.analysis.cut_messages import as_cut_ba, cut_ba, cut_type
from ebutool.analysis.handlers import MAX_OPEN_COTIS
from ebutool.cn_replay.binding_cache import (
    ANY_NONCE_STATUS,
    NONCE_STATUSES,
    STATUS_SEQ_OUT_OF_WINDOW,
    CNPolicies,
    CorrespondentModel,
    ExpectedAck,
    Outcome,
    Policy,
    Update,
    seq_greater,
    sort_updates,
)
from ebutool.cn_replay.divergences import (
    KIND_ACK_MISSING,
    KIND_ACK_STATUS,
    KIND_ACK_UNEXPECTED,
    KIND_EBA_MISSING,
    KIND_EBA_UNEXPECTED,
    Divergence,
)
from ebutool.cn_replay.exposure import count_packet
from ebutool.cn_replay.timing import estimate_rtt, keep_sending_order
from ebutool.core.constants import (
    DEFAULT_CONFIG,
    LIFETIME_UNIT_S,
    MH_BA,
    MH_NEXT_HEADERS,
    ProtocolConfig,
)
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.units import to_ns
from ebutool.records.record import Record
from ebutool.wire.mh.messages import (
    BU_FLAG_A,
    BU_FLAG_H,
    BindingAcknowledgement,
    BindingUpdate,
    HomeTest,
    HomeTestInit,
    OtherMobilityMessage,
)

# The ``basis`` column: what decided whether a binding update's authentication holds.
BASIS_KEYS = "kcn"  # the oracle with the CN's Kcn and nonce table (verify's basis "kcn")
BASIS_KEYLESS = "capture"  # the oracle without keys: the trace's own tokens (verify's "capture")
BASIS_INJECTED = "injected"  # a caller-supplied acceptance function (library use)
BASIS_TRACE = "trace"  # undecidable: followed what the CN in the trace did

# The names a binding update to a CN goes by (DESIGN.md 3: an EBU is a BU with care-of
# nonce index 0 MACed with the early key; the oracle tells the two apart).
MSG_BU = "BU"
MSG_EBU = "EBU"
_UPDATE_NAMES = (MSG_BU, MSG_EBU)
# an answer's statuses that do not show the CN checked the MAC (None: cut off, unknown)
_NOT_MAC_CHECKED = frozenset((*NONCE_STATUSES, None))

Authenticate = Callable[[Record], object]
"""Called with every record in capture order; returns None for records it does not
judge, else "valid" / "invalid" / "unverifiable" or an object with ``verdict`` and
``reason`` attributes (the oracle's Verdict; an int ``status`` of 136-138 marks a
nonce index the CN no longer knows)."""


class ObservedAck(NamedTuple):
    """A CN's acknowledgement as the trace shows it (what the replay compares)."""

    frame: int
    ts_ns: int
    src: str  # the CN
    dst: str  # where it went (the MN's care-of address)
    rh2: str | None  # the MN's home address (type 2 routing header)
    # None, None: a BA the capture cut inside its fixed fields (CUT_OFF): an answer came,
    # what it said is not in the capture
    status: int | None
    sequence: int | None

    @property
    def cut(self) -> bool:
        return self.status is None


CUT_OFF = "cut_off"  # observed_ack of an update whose answer the capture cut (docs/replay.md)
# the MH types of a CN's answer without the draft's own (answer_types adds those)
ANSWER_TYPES = frozenset((MH_BA,))


class _Rec(NamedTuple):
    """What the replay keeps of a binding update's record (not the packet itself)."""

    frame: int
    ts_ns: int
    msg: str  # "BU" or "EBU": the oracle's name when it judged the update, else the record's


@dataclass(slots=True)
class _Sent:
    """A binding update the MN sent to a CN, as seen in the trace."""

    index: int
    rec: _Rec
    mn: str
    cn: str
    coa: str
    seq: int
    lifetime_s: float
    ack_requested: bool
    early: bool
    deregistration: bool
    verdict: str = "unverifiable"
    reason: str = ""
    basis: str = ""
    status: int | None = None
    ack: ObservedAck | None = None  # the CN's acknowledgement matched to it


@dataclass(slots=True)
class _Data:
    frame: int
    ts_ns: int
    cn: str
    coa: str
    mn: str
    ip_len: int


@dataclass
class Trace:
    """What the replay needs from one message stream."""

    sent: list[_Sent] = field(default_factory=list)
    acks: list[ObservedAck] = field(default_factory=list)
    data: list[_Data] = field(default_factory=list)
    home_agents: set[str] = field(default_factory=set)
    rtt: dict = field(default_factory=lambda: defaultdict(list))  # key -> [(ts_ns, rtt_ns)]
    first_ns: int | None = None
    last_ns: int | None = None
    _times: dict | None = None
    known_cns: set[str] | None = None  # CNs sent updates (None: those of ``sent``)

    def add_sent(self, s: _Sent) -> None:
        self.sent.append(s)

    def sent_count(self) -> int:
        return len(self.sent)

    def add_home_agent(self, addr: str) -> None:
        self.home_agents.add(addr)

    def add_ack(self, ack: ObservedAck) -> None:
        self.acks.append(ack)

    def add_rtt(self, key: tuple[str, str], sample: tuple[int, int]) -> None:
        self.rtt[key].append(sample)

    def add_data(self, d: _Data) -> None:
        self.data.append(d)

    def data_times(self) -> dict[tuple[str, str, str], list[int]]:
        """Sorted arrival times of CN packets per (mn, cn, coa)."""
        if self._times is None:
            t: dict = defaultdict(list)
            for d in self.data:
                t[(d.mn, d.cn, d.coa)].append(d.ts_ns)
            self._times = {k: sorted(v) for k, v in t.items()}
        return self._times


def _verdict_of(v, default_basis: str) -> tuple[str, str, str, int | None]:
    """(verdict, reason, basis, nonce status) of what ``authenticate`` returned."""
    if v is None:
        return "unverifiable", "", default_basis, None
    if isinstance(v, str):
        return v, "", default_basis, None
    verdict = str(getattr(v, "verdict", "unverifiable"))
    reason = str(getattr(v, "reason", "") or "")
    basis = getattr(v, "basis", None) or default_basis
    status = getattr(v, "status", None)
    if not isinstance(status, int) or status not in NONCE_STATUSES:
        status = _nonce_status(v, verdict, reason)
    return verdict, reason, basis, status


def _nonce_status(v, verdict: str, reason: str) -> int | None:
    """The BA status a CN sends for an update the oracle found invalid because of a
    nonce index (RFC 6275 9.5.1: the CN cannot rebuild the token), from the oracle's
    reason: "unknown nonce index N" or "nonce older than MAX_NONCE_LIFETIME"."""
    if verdict != "invalid":
        return None
    if reason.startswith("unknown nonce index"):
        try:
            index = int(reason.rsplit(" ", 1)[1])
        except ValueError:
            return ANY_NONCE_STATUS
        if index == getattr(v, "home_index", None):
            return 136
        if index == getattr(v, "careof_index", None):
            return 137
        return ANY_NONCE_STATUS
    if reason.startswith("nonce older than"):
        return ANY_NONCE_STATUS
    return None


def collect(
    items: Iterable,
    authenticate: Authenticate | None,
    diag: Diagnostics,
    default_basis: str = "injected",
    answers: frozenset[int] = ANSWER_TYPES,
) -> Trace:
    """One pass over the stream (Records; HandoverEvents are skipped); ``answers``:
    :func:`answer_types`."""
    tr = Trace()
    # CoTI/CoT matched by (care-of address, CN, cookie), the rule of ebutool/analysis
    # (handlers.py, ``coti_index``): a cookie is only unique per MN, not per capture.
    coti: dict[tuple[str, str, bytes], Record] = {}
    for rec in items:
        if isinstance(rec, Record):
            observe(rec, tr, coti, authenticate, diag, default_basis, answers)
    return tr


class Sink(Protocol):
    """Where :func:`observe` puts what a record contributes (a :class:`Trace`, or the
    bounded per-MN collector of ebutool.cn_replay.per_mn)."""

    first_ns: int | None
    last_ns: int | None

    def add_sent(self, s: _Sent) -> None: ...
    def sent_count(self) -> int: ...
    def add_home_agent(self, addr: str) -> None: ...
    def add_ack(self, ack: ObservedAck) -> None: ...
    def add_rtt(self, key: tuple[str, str], sample: tuple[int, int]) -> None: ...
    def add_data(self, d: _Data) -> None: ...


def observe(
    rec: Record,
    tr: Sink,
    coti: dict,
    authenticate: Authenticate | None,
    diag: Diagnostics,
    default_basis: str,
    answers: frozenset[int] = ANSWER_TYPES,
) -> None:
    """What one record contributes to the replay, put into ``tr``.  ``answers``:
    the MH types of a CN's answer (:func:`answer_types`: the BA's, and the draft's own
    EBA type when named), to tell a cut one by its type octet."""
    tr.first_ns = rec.ts_ns if tr.first_ns is None else min(tr.first_ns, rec.ts_ns)
    tr.last_ns = rec.ts_ns if tr.last_ns is None else max(tr.last_ns, rec.ts_ns)
    verdict = None
    if authenticate is not None:
        try:
            verdict = authenticate(rec)
        except Exception as exc:  # one packet never stops a run
            diag.warn(
                "replay_auth_failed",
                f"frame {rec.frame}: the authentication check "
                f"failed ({type(exc).__name__}); decided from the trace",
                rec.frame,
            )
    msg = rec.mh
    if rec.msg in _UPDATE_NAMES and isinstance(msg, BindingUpdate):
        if msg.flags & BU_FLAG_H:
            tr.add_home_agent(rec.dst)
            return
        tr.add_sent(_sent(rec, msg, tr.sent_count(), verdict, default_basis))
    elif rec.msg == "BA" and isinstance(msg, BindingAcknowledgement):
        tr.add_ack(
            ObservedAck(rec.frame, rec.ts_ns, rec.src, rec.dst, rec.rh2, msg.status, msg.sequence)
        )
    elif rec.proto in MH_NEXT_HEADERS and (cut := _cut_ack(rec, answers)) is not None:
        tr.add_ack(cut)
    elif rec.msg == "CoTI" and isinstance(msg, HomeTestInit):
        # At most MAX_OPEN_COTIS (episode analysis's bound) await their CoT: the oldest
        # is forgotten, with a counted warning, so lost CoTs cannot grow memory unbounded.
        key = (rec.src, rec.dst, msg.init_cookie)
        if key not in coti and len(coti) >= MAX_OPEN_COTIS:
            old = coti.pop(next(iter(coti)))
            diag.warn(
                "replay_coti_forgotten",
                f"frame {old.frame}: CoTI unanswered while "
                f"{MAX_OPEN_COTIS} others were open; forgotten (no RTT sample from it)",
                old.frame,
            )
        coti[key] = rec
    elif rec.msg == "CoT" and isinstance(msg, HomeTest):
        init = coti.pop((rec.dst, rec.src, msg.init_cookie), None)
        if init is not None and rec.ts_ns >= init.ts_ns:
            tr.add_rtt((rec.src, init.src), (init.ts_ns, rec.ts_ns - init.ts_ns))
    elif (
        rec.msg == "data"
        and rec.rh2 is not None
        and rec.dst != rec.rh2
        and rec.hoa is None
        and rec.proto not in MH_NEXT_HEADERS
    ):
        # (a Mobility Header the reader could not decode, cut inside its fixed fields,
        # is signalling of unknown type, a CN's BA say, never route-optimised data: as
        # the analysis takes it, docs/analysis.md)
        tr.add_data(_Data(rec.frame, rec.ts_ns, rec.src, rec.dst, rec.rh2, rec.ip_len))


def answer_types(config: ProtocolConfig) -> frozenset[int]:
    """The MH types a CN's answer to a binding update may have: the BA's, and those the
    user named as the draft's EBA (``--eba-mh-type``, read with the BA layout)."""
    return ANSWER_TYPES | {t for t, layout in config.mh_types.items() if layout == MH_BA}


def _cut_ack(rec: Record, answers: frozenset[int]) -> ObservedAck | None:
    """A CN's answer the capture cut, as the analysis reads one (docs/analysis.md): a BA
    (an EBA of the draft's own type, ``answers``, read as a BA) cut in its Lifetime, by
    its Status and Sequence Number; one cut inside its fixed fields (ba_cut_off), or a
    message to the MN cut before its MH type (mh_cut_off), an answer maybe whose status
    and sequence are not in the capture.  None: no such record."""
    if rec.mh is not None and not isinstance(rec.mh, OtherMobilityMessage):
        return None
    r = as_cut_ba(rec, answers - ANSWER_TYPES) or rec
    if r.mh is not None:  # an "other" message, whole or of no answer type
        return None
    ba = cut_ba(r)
    if ba is not None:
        return ObservedAck(rec.frame, rec.ts_ns, rec.src, rec.dst, rec.rh2, ba.status, ba.sequence)
    if _may_answer(r, ANSWER_TYPES):
        return ObservedAck(rec.frame, rec.ts_ns, rec.src, rec.dst, rec.rh2, None, None)
    return None


def _may_answer(rec: Record, types: frozenset[int]) -> bool:
    """An undecodable Mobility Header (``mh`` None) that may be a CN's answer: its type
    octet, in the capture, is an answer's; or the capture cut it before that octet and
    it went to the MN's care-of address with a type 2 routing header, as a BA does
    (RFC 6275 6.1.8; a CoT carries none, a HoT comes tunnelled to the home address)."""
    mh_type = cut_type(rec)
    if mh_type is None:
        return rec.rh2 is not None and rec.dst != rec.rh2
    return mh_type in types


def _sent(rec: Record, msg: BindingUpdate, index: int, verdict, default_basis: str) -> _Sent:
    # the oracle's name wins: a BU with care-of index 0 may be a standard one (docs/verify.md)
    name = getattr(verdict, "msg", None)
    if name not in _UPDATE_NAMES:
        name = rec.msg
    s = _Sent(
        index,
        _Rec(rec.frame, rec.ts_ns, name),
        rec.hoa or rec.src,
        rec.dst,
        rec.care_of_address or rec.src,
        msg.sequence,
        float(msg.lifetime * LIFETIME_UNIT_S),
        bool(msg.flags & BU_FLAG_A),
        name == MSG_EBU,
        rec.deregistration,
    )
    s.verdict, s.reason, s.basis, s.status = _verdict_of(verdict, default_basis)
    if s.verdict == "stale_token":
        # the token's age is the MN's rule (RFC 6275 5.2.7): a CN accepts the MAC
        s.verdict = "valid"
    elif s.verdict not in ("valid", "invalid", "unverifiable"):
        s.verdict = "unverifiable"
    return s


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
]
