"""The state of an episode while it is being reconstructed, and the finished :class:`Episode`.

Memory: every object here is bounded.  Data packets only update the first-seen
timestamps; retransmissions keep at most ``MAX_SENDS`` times; a timeline keeps at
most ``MAX_STEPS`` steps (the rest are counted).  So the state of a run grows with
the number of open episodes, never with the number of packets.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from operator import sub
from typing import NamedTuple, TypeVar

from ebutool.core.bounded import make_room
from ebutool.core.constants import MAX_STATE_ENTRIES
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.units import seconds

MAX_SENDS = 16  # transmissions remembered per request (more are only counted)
MAX_STEPS = 256  # timeline steps kept per episode
MAX_EXCHANGES = 32  # requests remembered per episode and message type
GAP_PACKETS = 9  # data packets per (MN, CN, direction) kept for the gap before t0
HOME_TESTS_KEPT = 8  # answered home tests remembered per (MN, CN)

EVICTED_NOTE = "state_evicted"  # the episode's state was evicted (ebutool.core.bounded)
# The CN acknowledged an update from the handover's address that the capture lost: a BU
# or an EBU (a BA and an EBA look alike), so the episode's kind and mode cannot be told
UPDATE_NOT_CAPTURED = "cn_update_not_captured"
# A message from the MN to the CN (from the care-of address, not tunnelled) that the
# capture cut before it could be read, its MH type BU or not in the capture: it may be
# the episode's update (BU or EBU), which the capture does not show
UPDATE_CUT_NOTE = "update_cut_off"
# either: an update the capture does not show (mode unknown, the CN's data no refresh)
UPDATE_NOTES = frozenset((UPDATE_NOT_CAPTURED, UPDATE_CUT_NOTE))
# A message from the care-of address to the CN with no Home Address option (a CoTI's
# form) that the capture cut before its cookie: a care-of test was sent, its CoT cannot
# be paired with it
COTI_CUT_NOTE = "coti_cut_off"
# Likewise a HoTI (tunnelled to the HA): a home test was sent, its HoT cannot be paired
HOTI_CUT_NOTE = "hoti_cut_off"
# A BA from the CN that the capture (its snaplen) cut inside the BA's fixed fields: the CN
# answered, but whether it accepted, and which update it answered, is not in the capture
BA_CUT_NOTE = "ba_cut_off"
# Likewise the HA's BA: whether the home registration was accepted is not in the capture
HA_BA_CUT_NOTE = "ha_ba_cut_off"
# A Mobility Header message from the CN (the HA) that the capture cut before its MH type
# (or a trace record of one without its octets), after a request: it may be any answer
MH_CUT_NOTE = "mh_cut_off"
# A CoT from the CN the capture cut inside its fixed fields: its CoTI was answered, the
# CoT's cookie, nonce index and token are not in the capture
COT_CUT_NOTE = "cot_cut_off"
# Likewise a HoT (tunnelled by the HA): a home test was answered, its token not captured
HOT_CUT_NOTE = "hot_cut_off"
# A BU with care-of nonce index 0 whose class (standard or early) the capture cannot tell
INDEX0_AMBIGUOUS_NOTE = "care_of_index_0_ambiguous"
HA_MH_CUT_NOTE = "ha_mh_cut_off"

ACCEPTED_MAX_STATUS = 127  # BA status 0-127 = accepted (RFC 6275 6.1.8)

T = TypeVar("T", bound=Hashable)


def with_added(values: set[T] | None, value: T) -> set[T]:
    """``values`` with ``value`` added: a new set when None.  The states' sets that most
    episodes never fill (notes, refreshes) stay None until their first value: an empty
    set is 216 octets, ~860 an MN for four of them, times --max-state-entries MNs."""
    if values is None:
        values = set()
    values.add(value)
    return values


class Step(NamedTuple):
    """One line of a ladder diagram: a message as the MN saw it.

    ``msg`` is the Record label (HoTI, CoTI, HoT, CoT, BU, EBU, BA, BE, BRR, other),
    "EBA" for the BA that answers an EBU, or "data" for the first route-optimised
    data packet in each direction; ``sender``/``receiver`` are "MN", "HA" or "CN"."""

    ts_ns: int
    frame: int
    msg: str
    sender: str
    receiver: str
    esp: bool = False  # the message was ESP-protected (decrypted with a given SA)


@dataclass(slots=True)
class Exchange:
    """One request/response exchange (BU/BA, EBU/EBA, HoTI/HoT, CoTI/CoT) and its
    retransmissions.  Karn's rule: a response to a request that was sent more than
    once before the response arrived gives no RTT sample (which copy did it answer?)."""

    sends: list[int] = field(default_factory=list)  # ts_ns of each transmission (capped)
    n_sends: int = 0
    first_frame: int = 0
    reply_ts: int | None = None
    reply_frame: int | None = None
    status: int | None = None  # BA status
    nonce_index: int | None = None  # HoT/CoT nonce index
    coa: str | None = None  # the address the request was sent from
    ack_requested: bool = True  # BU/EBU with the A flag (else no BA is expected)
    steps: list[Step] = field(default_factory=list)  # for home tests (MN-level)
    verdicts: list[str] = field(default_factory=list)
    # when the MN first sent, while this CoTI/HoTI was open, one the capture cut before
    # its cookie (coti_cut_off, hoti_cut_off): a copy of this one, maybe, so Karn's rule
    # counts it as a second transmission
    cut_copy_ts: int | None = None

    def send(self, ts_ns: int, frame: int) -> None:
        if not self.n_sends:
            self.first_frame = frame
        self.n_sends += 1
        if len(self.sends) < MAX_SENDS:
            self.sends.append(ts_ns)

    def answer(self, ts_ns: int, frame: int, status: int | None = None) -> bool:
        """Record the (first) response; False for a duplicate response."""
        if self.reply_ts is not None:
            return False
        self.reply_ts, self.reply_frame, self.status = ts_ns, frame, status
        return True

    @property
    def first_ts(self) -> int | None:
        return self.sends[0] if self.sends else None

    @property
    def answered(self) -> bool:
        return self.reply_ts is not None

    @property
    def accepted(self) -> bool:
        return self.reply_ts is not None and (
            self.status is None or self.status <= ACCEPTED_MAX_STATUS
        )

    @property
    def ambiguous(self) -> bool:
        """Answered after more than one transmission: Karn's rule withholds the sample."""
        if self.reply_ts is None:
            return False
        if self.cut_copy_ts is not None and self.cut_copy_ts <= self.reply_ts:
            return True  # a cut request, maybe its copy, went before the reply
        sends = self.sends
        if len(sends) > 1:  # (most requests went once: nothing to count)
            reply = self.reply_ts
            if sum(1 for t in sends if t <= reply) > 1:
                return True
        return self.n_sends > len(sends)

    def rtt_ns(self) -> int | None:
        """The RTT sample, or None (no reply, Karn-ambiguous, or reply before request)."""
        if self.reply_ts is None or not self.sends or self.ambiguous:
            return None
        rtt = self.reply_ts - self.sends[0]
        return rtt if rtt >= 0 else None


@dataclass(slots=True)
class CNState:
    """One MN's binding-update procedure with one CN for one care-of address."""

    cn: str
    cotis: dict[bytes, Exchange] = field(default_factory=dict)
    ebus: dict[int, Exchange] = field(default_factory=dict)
    bus: dict[int, Exchange] = field(default_factory=dict)
    refresh_seqs: set[int] | None = None  # (None until the first: with_added)
    dereg: bool = False
    max_lifetime_s: float = 0.0  # the longest lifetime a BU/EBU to the CN asked for
    home_test: Exchange | None = None  # the HoTI/HoT that produced the home token used
    home_index: int | None = None  # home nonce index the first (E)BU carried
    first_send: tuple[int, int] | None = None  # (ts_ns, frame) of first RO data MN -> CN
    first_recv: tuple[int, int] | None = None  # ... CN -> MN
    be_cause_data: int | None = None  # first RO data frame since the last BE (status 1)
    be_cause_other: int | None = None  # first unknown-type MH frame since the last BE (status 2)
    binding_errors: list[tuple[int, int, int | None]] = field(
        default_factory=list
    )  # (frame, status, cause)
    n_binding_errors: int = 0
    steps: list[Step] = field(default_factory=list)
    steps_dropped: int = 0
    last_up_ts: int | None = None
    started_mid: bool = False
    refresh: bool = False  # the CN sent route-optimised data here before any (E)BU
    t0_ns: int | None = None  # an event of its own (a deregistration from the care-of
    # address, after the handover's binding): its own time, not the handover's
    # When the first BA from the CN arrived that the capture cut inside its fixed fields
    # (no status or sequence to read): an answer of unknown content (BA_CUT_NOTE).  The
    # first sets the mode (an MN that sent after it may have waited for it); the last
    # (cut_reply_last_ts) may answer every update sent before it
    cut_reply_ts: int | None = None
    cut_reply_last_ts: int | None = None
    # when the last message from the CN arrived that may answer a CoTI but was cut: of
    # unknown type, cut before its MH type (MH_CUT_NOTE: the answer, maybe, to any request
    # sent before it, so it sets cut_reply_ts too: it may be a BA), or a CoT cut inside
    # its fixed fields (COT_CUT_NOTE)
    cut_any_ts: int | None = None
    # when the last message from the CN cut before its MH type arrived (MH_CUT_NOTE): it
    # may be the HoT, tunnelled
    cut_mh_ts: int | None = None
    # when the last CoTI the capture cut (COTI_CUT_NOTE) left the MN
    cut_coti_ts: int | None = None
    # how many CoTIs the capture cut so, and the frame of the last while no CoT has been
    # paired with it (None once one is): a CoT answering no readable CoTI pairs with it
    # when it is the only one (handlers, _pair_cut_coti)
    cut_cotis: int = 0
    cut_coti_frame: int | None = None
    # the sequence numbers of its EBUs (care-of index 0) whose MAC the capture cut, so
    # that their class is ambiguous (INDEX0_AMBIGUOUS_NOTE) until an answer shows the CN
    # took them for EBUs: an EBA of the draft's own MH type, or one MACed with Kbm_early
    index0_cut: set[int] | None = None  # (with_added)
    # when a HoT from the CN arrived that the capture cut inside its fixed fields, within
    # MAX_TOKEN_LIFETIME before the handover (HomeTests.cut_ts, copied when it closes)
    cut_hot_ts: int | None = None
    # likewise a HoTI the capture cut (HOTI_CUT_NOTE; HomeTests.cut_hoti_ts)
    cut_hoti_ts: int | None = None

    @property
    def unknown_start(self) -> bool:
        """No handover start to measure from: the capture began inside the procedure,
        or this is a binding refresh (DESIGN.md section 4)."""
        return self.started_mid or self.refresh

    notes: set[str] | None = None  # (None until the first: with_added)
    verdicts: list[tuple[str, str]] = field(default_factory=list)  # ("request"|"reply", verdict)

    @property
    def final(self) -> Exchange | None:
        """The standard BU (or deregistration) that was accepted, else the last one sent."""
        for e in self.bus.values():  # (a loop, not a list: read several times per row)
            if e.accepted:
                return e
        return next(reversed(self.bus.values())) if self.bus else None

    @property
    def complete(self) -> bool:
        """The standard BU (or deregistration) took effect: accepted, or sent without
        asking for an acknowledgement (then the MN cannot know better either)."""
        f = self.final
        return f is not None and (f.accepted or (not f.ack_requested and f.reply_ts is None))

    def add_step(self, step: Step) -> None:
        if len(self.steps) < MAX_STEPS:
            self.steps.append(step)
        else:
            self.steps_dropped += 1


@dataclass(slots=True)
class Handover:
    """One MN moving to one (care-of or home) address: the HA registration shared by
    all CN episodes of the handover, and one :class:`CNState` per CN."""

    mn: str
    coa: str
    prev_coa: str | None
    t0_ns: int
    t0_source: str  # "event" | "first_packet"
    first_in_capture: bool
    opened_by: str  # msg label of the packet that revealed the handover
    ha: str | None = None
    ha_bus: dict[int, Exchange] = field(default_factory=dict)
    ha_refresh_seqs: set[int] | None = None  # (None until the first: with_added)
    ha_dereg: bool = False
    ha_steps: list[Step] = field(default_factory=list)
    cns: dict[str, CNState] = field(default_factory=dict)
    refresh_cns: set[str] | None = None  # CNs with a binding before any (E)BU (with_added)
    done_cns: list[CNState] = field(default_factory=list)  # finished before a later event
    evicted: bool = False  # its MN's state was evicted (now, or before it began)
    # a reply to this address answered a request the capture does not hold, in the MN's
    # first handover of the capture: the request, and so the move, came before it began
    missed_start: bool = False
    # likewise in a later handover: the capture lost that request (its first packet here
    # may be later than the move)
    lost_request: bool = False
    # ESP-protected packets between the MN (this address) and its HA that ebutool could
    # not open (no SA given): a home registration it cannot see, not none
    ha_opaque: bool = False
    # a handover event dated or opened it whose line came after records with later times
    # (a trace out of time order): what those records did before it cannot be redone
    event_late: bool = False
    # when the first BA from the HA arrived that the capture cut inside its fixed fields
    # (HA_BA_CUT_NOTE): an answer to the home registration whose status is not captured
    # (the first sets the mode; the last, ha_cut_last_ts, may answer every BU before it)
    ha_cut_reply_ts: int | None = None
    ha_cut_last_ts: int | None = None
    ha_cut_notes: set[str] | None = None  # HA_BA_CUT_NOTE, HA_MH_CUT_NOTE (with_added)

    def all_cns(self) -> list[CNState]:
        """Every CN episode of the handover, finished ones first."""
        return [*self.done_cns, *self.cns.values()]

    source: str = ""
    # the first packet from prev_coa since the MN's last from coa (a straggler, or the
    # first of a return to prev_coa: ebutool.analysis.episodes)
    back_since: int | None = None
    # (cn, up) -> the data packet times before t0; their median gap is computed only for
    # the CNs that get an episode (most handovers in a long capture have none)
    recent_data: dict = field(default_factory=dict)

    def data_gap(self, key) -> float | int | None:
        """The median data gap before t0 for (cn, up), ns; None with fewer than 2 packets."""
        times = self.recent_data.get(key)
        return median_gap(times) if times else None

    @property
    def ha_final(self) -> Exchange | None:
        for e in self.ha_bus.values():  # (as CNState.final)
            if e.accepted:
                return e
        return next(reversed(self.ha_bus.values())) if self.ha_bus else None

    @property
    def ha_done(self) -> bool:
        f = self.ha_final
        return f is not None and f.accepted

    @property
    def mid_start(self) -> bool:
        """The capture began inside this handover: no event dates it, and it did not open
        with a request that starts a procedure -- for the MN's first handover in the
        capture; for any handover when it opened with a BU to the CN (that BU follows
        the procedure's tests, which the capture did not show).  Or a reply answered a
        request of it that the capture began after (``missed_start``): its first packet
        is not the move's."""
        return self.t0_source != "event" and (
            self.missed_start
            or (
                (self.first_in_capture or self.opened_by == "BU_CN")
                and self.opened_by not in ("BU", "EBU", "CoTI", "HoTI")
            )
        )  # BU = to the HA


@dataclass
class Episode:
    """A finished episode: one MN, one peer (one CN, or the HA alone), one new address.

    :mod:`ebutool.analysis.columns` turns it into the output columns;
    ``timeline`` the messages for a ladder diagram, in capture-time order."""

    id: int
    mn: str
    ha: str | None
    cn: str | None
    prev_coa: str | None
    coa: str
    kind: str
    mode: str
    t0_ns: int | None
    t0_source: str | None
    complete: bool
    rtt_ha_ms: float | None
    rtt_bt_ms: float | None
    rtt_ro_ms: float | None
    rtt_ro_from: str | None
    send_latency_ms: float | None
    recv_latency_ms: float | None
    predicted: dict[str, float | None]
    auth: str
    n_retransmissions: int
    karn_excluded: list[str]
    home_test_before_handover: bool | None
    n_binding_errors: int
    binding_errors: list[tuple[int, int, int | None]]  # (BE frame, status, frame it answered)
    diagnosis: list[str]
    timeline: list[Step]
    source: str = ""
    rtt_bt_basis: str | None = None  # which RTT_BT the predictions use (metrics._bt_for_prediction)
    rtt_bt_pred_ms: float | None = None
    data_gap_send_ms: float | None = None  # median MN -> CN data interval before t0
    data_gap_recv_ms: float | None = None  # median CN -> MN data interval before t0
    quality: str = "ok"  # ebutool.analysis.quality: ok, or why statistics leave it out
    eba_accepted: bool = False  # the CN accepted an EBU here (evidence that it supports them)
    esp_protected: str | None = None  # ";"-joined labels of its ESP-protected messages

    @property
    def t_handover(self) -> float | None:
        return None if self.t0_ns is None else seconds(self.t0_ns)  # the exact map's key


def median_gap(times) -> float | int | None:
    """The median interval between consecutive ``times``; None for fewer than two."""
    t = list(times)
    gaps = sorted(map(sub, t[1:], t))  # b - a for each consecutive (a, b)
    if not gaps:
        return None
    m = len(gaps) // 2
    return gaps[m] if len(gaps) % 2 else (gaps[m - 1] + gaps[m]) / 2


@dataclass(slots=True)
class HomeTests:
    """The home tests of one MN with one CN: open ones by cookie, recent answered ones."""

    open: dict[bytes, Exchange] = field(default_factory=dict)
    # made at the first answer: most MNs' tests with a peer have none (an empty deque is
    # ~600 octets, 12 MB at --max-state-entries MNs of a capture of distinct MNs)
    done: deque | None = None
    # when the last HoT from this CN arrived that the capture cut inside its fixed
    # fields (HOT_CUT_NOTE): it answered a HoTI, which one and with which token is unread
    cut_ts: int | None = None
    # when the MN last sent a HoTI to this CN that the capture cut before its cookie
    cut_hoti_ts: int | None = None
    # how many such HoTIs since the last HoT from this CN, and the frame of the last
    # (None once a HoT came): a HoT answering no readable HoTI pairs with it when it is
    # the only one (handlers, _pair_cut_hoti)
    cut_hotis: int = 0
    cut_hoti_frame: int | None = None

    def answered(self, ex: Exchange) -> None:
        """Remember an answered test (the last HOME_TESTS_KEPT)."""
        if self.done is None:
            self.done = deque(maxlen=HOME_TESTS_KEPT)
        self.done.append(ex)

    def find(self, nonce_index: int | None, ts_ns: int) -> tuple[Exchange | None, bool]:
        """(the answered test that produced a token usable at ``ts_ns``, matched by index)."""
        if self.done is None:
            return None, False
        usable = [e for e in self.done if e.reply_ts is not None and e.reply_ts <= ts_ns]
        for e in reversed(usable):
            if nonce_index is not None and e.nonce_index == nonce_index:
                return e, True
        return (usable[-1] if usable else None), False


@dataclass(slots=True)
class MNState:
    """Per mobile node: its current handover and its home tests with each CN (these
    outlive handovers: the early procedure uses a token obtained before the move)."""

    mn: str
    current: Handover | None = None
    n_handovers: int = 0
    home_tests: dict[str, HomeTests] = field(default_factory=dict)
    data_times: dict = field(default_factory=dict)  # (cn, up) -> deque of recent data ts_ns
    limit: int | None = MAX_STATE_ENTRIES  # entries of each table keyed by CN
    diag: Diagnostics | None = None  # where evictions are counted
    evicted_before: bool = False  # an earlier state of this MN was evicted
    last_ts: int = 0  # the latest time of its records and events so far

    def note_data(self, cn: str, up: bool, ts_ns: int) -> None:
        q = self.data_times.get((cn, up))
        if q is None:
            make_room(self.data_times, self.limit, self.diag, "data times per correspondent")
            q = self.data_times[(cn, up)] = deque(maxlen=GAP_PACKETS)
        q.append(ts_ns)

    def recent_data(self) -> dict:
        """(cn, up) -> the times of the last GAP_PACKETS data packets (a snapshot)."""
        return {key: tuple(q) for key, q in self.data_times.items()}

    def tests(self, cn: str) -> HomeTests:
        tests = self.home_tests.get(cn)
        if tests is None:  # not setdefault: that would build a HomeTests every call
            make_room(self.home_tests, self.limit, self.diag, "home tests per correspondent")
            tests = self.home_tests[cn] = HomeTests()
        return tests
