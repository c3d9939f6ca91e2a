"""A trace as the CN replay reads it: one pass over the message stream.

What matters to the replay is kept of each record, in capture order: the MN's binding
updates to its CNs (with the authentication check's verdict: the oracle, or a
caller's function, sees every record in order), the CNs' acknowledgements (an answer
the capture cut included), CoTI/CoT pairs for round-trip times and the CNs'
route-optimised data packets.  ebutool.cn_replay.answers pairs the answers with the
updates; ebutool.cn_replay.replayer runs the model over the result.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from ebutool.analysis.cut_messages import as_cut_ba, cut_ba, cut_type
from ebutool.analysis.handlers import MAX_OPEN_COTIS
from ebutool.cn_replay.binding_cache import ANY_NONCE_STATUS, NONCE_STATUSES
from ebutool.core.constants import (
    LIFETIME_UNIT_S,
    MH_BA,
    MH_NEXT_HEADERS,
    ProtocolConfig,
)
from ebutool.core.diagnostics import Diagnostics
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
