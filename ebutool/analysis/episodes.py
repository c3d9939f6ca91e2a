"""Episode reconstruction: a streaming state machine over the message stream.

Feed it Records and HandoverEvents in capture order; it keeps, per mobile node, the
current handover (one :class:`Handover` with the HA registration and one
:class:`CNState` per CN) and the recent home tests, and hands back a handover when
the MN moves on (or at the end).  Matching rules (DESIGN.md section 4):

* HoTI/HoT by (MN, CN, init cookie); CoTI/CoT by (care-of address, CN, init cookie);
* BU/BA and EBU/EBA by (MN, peer, sequence number), per handover;
* a BE to the first route-optimised data packet (status 1) or unknown-type MH (status 2)
  the MN sent to that CN since the previous BE;
* a CoTI carries no home address: it waits (bounded) until some packet maps its
  care-of address to an MN, then is processed in order;
* the home test an (E)BU used is the HoT whose nonce index the (E)BU carries.

Nothing here raises on odd input: every anomaly becomes a ``Diagnostics`` warning
or an episode note.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace

from ebutool.analysis.addressing import AddressBook, Resolved
from ebutool.analysis.cut_messages import as_cut_ba, cut_ba, cut_type
from ebutool.analysis.early_or_standard import (  # (notes, EARLY_KEY_FORMS: still here)
    AMBIGUOUS_NOTE,  # noqa: F401
    CUT_OFF_NOTE,  # noqa: F401
    EARLY_KEY_FORMS,  # noqa: F401
    MALFORMED_NOTE,  # noqa: F401
    STANDARD_NOTE,  # noqa: F401
    EarlyOrStandard,
)
from ebutool.analysis.handlers import MessageHandlers
from ebutool.analysis.lifecycle import HandoverLifecycle
from ebutool.analysis.state import (
    CNState,
    Exchange,
    Handover,
    MNState,
)
from ebutool.core.constants import (
    DEFAULT_CONFIG,
    MH_BA,
    MH_HOT,
    MH_NEXT_HEADERS,
    MOPT_AUTH_DATA,
    NH_ESP,
    ProtocolConfig,
)
from ebutool.core.diagnostics import Diagnostics
from ebutool.records.record import HandoverEvent, Record
from ebutool.wire.mh.messages import BU_FLAG_H, BindingAcknowledgement, BindingUpdate
from ebutool.wire.mh.mobility_options import (
    BindingAuthorizationData,
    malformed_length,
)

MAX_PENDING_PER_COA = 32  # CoTI/CoT held for a care-of address not yet mapped to an MN
MAX_PENDING_COAS = 1024


class Reconstructor(EarlyOrStandard, HandoverLifecycle, MessageHandlers):
    """``feed()`` records and events in capture order, then ``finish()``; both return
    the handovers that closed (finalise them with :func:`ebutool.analysis.metrics.finalize`)."""

    def __init__(
        self, config: ProtocolConfig = DEFAULT_CONFIG, diag: Diagnostics | None = None, oracle=None
    ):
        self.config = config
        # the draft's own EBA type(s), --eba-mh-type (read with the BA layout)
        self.eba_types = frozenset(t for t, std in config.mh_types.items() if std == MH_BA)
        self.diag = diag if diag is not None else Diagnostics()
        self.oracle = oracle
        # Every table keyed by addresses or cookies keeps at most this many entries
        # (ebutool.core.bounded; docs/analysis.md "Limits").
        self.limit = int(config.max_state_entries)
        self.book = AddressBook(limit=self.limit, diag=self.diag)
        self.mns: dict[str, MNState] = {}  # least recently active first
        self.evicted_mns: dict[str, None] = {}  # MNs whose state was evicted (bounded too)
        self.pending: dict[str, list[tuple[Record, str | None]]] = {}
        self.coti_index: dict[tuple[str, str, bytes], tuple[CNState | None, Exchange]] = {}
        self.cot_zero: dict[tuple[str, str], int] = {}  # (care-of address, CN) -> CoT time
        self.cot_cut: dict[tuple[str, str], int] = {}  # likewise, a CoT cut: index unread
        self.closed: list[tuple[Handover, MNState]] = []
        self.first_ts: int | None = None
        self.last_ts: int = 0
        # The capture's vantage point (ebutool.analysis.vantage): at the HA or a CN, an
        # untunnelled HoTI/HoT of a home address went through the HA, it does not mean
        # the MN is at home (see _forwarded).
        self.vantage: str | None = None

    # -- input -----------------------------------------------------------------------
    def feed(self, item: Record | HandoverEvent) -> Sequence[tuple[Handover, MNState]]:
        """The handovers ``item`` closed (most records close none: no new list then)."""
        ts = item.ts_ns
        if self.first_ts is None:
            self.first_ts = ts
        if ts > self.last_ts:
            self.last_ts = ts
        if isinstance(item, HandoverEvent):
            self._event(item)
            return self._closed()
        if self.eba_types and item.mh_wire is not None:
            # an EBA of the draft's own type the capture cut: read as a cut BA
            item = as_cut_ba(item, self.eba_types) or item
        if item.mh is None and item.msg == "data":
            if item.proto in MH_NEXT_HEADERS:
                # A Mobility Header the reader could not decode (cut inside its fixed
                # fields): signalling, never the first route-optimised data of a latency;
                # a BA cut in its Lifetime still shows its status and sequence number
                ba = cut_ba(item)
                if ba is None:
                    self._record(replace(item, msg="other"))
                else:
                    self._record(replace(item, msg="BA", mh=ba))
            else:
                self._data(item)  # most records: no verdict, no note (one call less here)
        else:
            self._record(item)
        return self._closed()

    def _closed(self) -> Sequence[tuple[Handover, MNState]]:
        """The handovers closed since the last call (most records close none)."""
        if not self.closed:
            return ()
        out, self.closed = self.closed, []
        return out

    def finish(self) -> list[tuple[Handover, MNState]]:
        for coa, held in self.pending.items():
            self.diag.warn(
                "unmapped_care_of_address",
                f"frame {held[0][0].frame}: {len(held)} CoTI/CoT for {coa}, which no packet "
                "ties to a mobile node (no HAO, tunnel or BU from it)",
                held[0][0].frame,
            )
        self.pending.clear()
        for mst in self.mns.values():
            if mst.current is not None:
                self._close(mst)
        out, self.closed = self.closed, []
        return out

    def _event(self, ev: HandoverEvent) -> None:
        mst = self._mn(ev.mn, ev.frame)
        # this MN's records with later times came before it: its handover is flagged
        # (the MN's own: another MN's records do not change what this one's did)
        late = ev.ts_ns < mst.last_ts
        if ev.ts_ns > mst.last_ts:
            mst.last_ts = ev.ts_ns
        cur = mst.current
        if cur is not None and cur.coa == ev.coa:
            if cur.t0_source != "event":  # the simulator knows better than the first packet
                cur.t0_ns, cur.t0_source = ev.ts_ns, "event"
                cur.event_late = cur.event_late or late
            return
        ho = self._start(mst, ev.coa, ev.ts_ns, "event", prev=ev.prev_coa, source=ev.source)
        ho.event_late = late
        if self.book.learn_coa(ev.coa, ev.mn):
            self._flush(ev.coa)

    def _record(self, rec: Record) -> None:
        """A record other than a data packet without a message (feed: :meth:`_data`)."""
        res = self.book.resolve(rec)
        rec, note, checked, mac_cut = self._classify(rec, res)
        verdict = getattr(checked, "verdict", None)
        if res is None:
            if rec.mh is not None:
                self.diag.warn(
                    "unattributed_message",
                    f"frame {rec.frame}: {rec.msg} {rec.src} -> "
                    f"{rec.dst} cannot be tied to a mobile node",
                    rec.frame,
                )
            return
        if res.mn is None:  # CoTI/CoT of a care-of address not mapped yet
            self._hold(res.coa, rec, verdict)
            return
        if self.vantage in FORWARDING_VANTAGES and _home_test_via_ha(rec, res):
            self._forwarded(rec, res, verdict)
            return
        if res.coa and self.book.learn_coa(res.coa, res.mn):
            self._flush(res.coa)
        self._process(rec, res, verdict)
        cur = self.mns[res.mn].current
        ep = cur.cns.get(res.peer) if cur is not None else None
        if ep is None:
            return
        self._mark(ep, rec, note, mac_cut, checked)

    def _data(self, rec: Record) -> None:
        """:meth:`_record` of a data packet, whose verdict and note are None (and never a
        forwarded home test): the same steps without their tests."""
        res = self.book.resolve(rec)
        if res is None:
            return
        if res.mn is None:
            self._hold(res.coa, rec, None)
            return
        # (learn_coa's first test inline: the address is almost always known already)
        coa = res.coa
        if coa and self.book.coa_to_mn.get(coa) != res.mn and self.book.learn_coa(coa, res.mn):
            self._flush(coa)
        self._process(rec, res, None)

    def _forwarded(self, rec: Record, res: Resolved, verdict: str | None) -> None:
        """An untunnelled HoTI/HoT between a home address and a CN, seen at the HA or
        the CN: the home test of the MN wherever it is (at the CN its only copy, at the
        HA the decapsulated copy of a tunnelled one, already counted: dropped)."""
        if self.vantage != "cn":
            return
        mst = self._mn(res.mn or rec.src, rec.frame)
        cur = mst.current
        res.coa, res.tunnelled = (cur.coa if cur is not None else ""), True
        if rec.msg == "HoT":
            self._hot(rec, res, mst, "CN")
        elif cur is not None:
            self._up(rec, res, mst, cur, "CN", verdict)
        else:  # no handover yet: the test is still kept for the episode that uses it
            self._home_test_init(rec, res, mst)

    def _hold(self, coa: str, rec: Record, verdict: str | None) -> None:
        held = self.pending.get(coa)
        if held is None:
            if len(self.pending) >= MAX_PENDING_COAS:
                self.diag.warn(
                    "unmapped_care_of_address",
                    f"frame {rec.frame}: too many unmapped "
                    f"care-of addresses; {rec.msg} from {rec.src} dropped",
                    rec.frame,
                )
                return
            held = self.pending[coa] = []
        if len(held) < MAX_PENDING_PER_COA:
            held.append((rec, verdict))
        else:
            self.diag.warn(
                "unmapped_care_of_address",
                f"frame {rec.frame}: {rec.msg} for unmapped "
                f"{coa} dropped ({MAX_PENDING_PER_COA} already held)",
                rec.frame,
            )

    def _flush(self, coa: str) -> None:
        for rec, verdict in self.pending.pop(coa, []):
            res = self.book.resolve(rec)
            if res is not None and res.mn is not None:
                self._process(rec, res, verdict)

    def _check(self, rec: Record):
        """The oracle's Verdict of ``rec`` (None without an oracle, or when it failed)."""
        if self.oracle is None:
            return None
        try:
            return self.oracle.check(rec)
        except Exception as exc:  # the oracle must never end an analysis
            self.diag.warn(
                "oracle_error",
                f"frame {rec.frame}: oracle failed: {type(exc).__name__}: {exc}",
                rec.frame,
            )
            return None

    # -- one record ------------------------------------------------------------------
    def _process(self, rec: Record, res: Resolved, verdict: str | None) -> None:
        mn = res.mn
        assert mn is not None  # records of unmapped care-of addresses wait (_hold)
        # (self._mn(mn, rec.frame) for a known MN, inline: this runs for every record)
        mst = self.mns.pop(mn, None)
        if mst is None:
            mst = self._mn(mn, rec.frame)
        else:
            self.mns[mn] = mst
        if rec.ts_ns > mst.last_ts:
            mst.last_ts = rec.ts_ns
        if (
            not res.up
            and rec.msg == "BA"
            and mn not in self.book.ha_of
            and isinstance(rec.mh, BindingAcknowledgement)
            and rec.mh.status < 128
            and rec.mh.option(BindingAuthorizationData) is None
            and not rec.mh.truncated
            and malformed_length(rec.mh.options, MOPT_AUTH_DATA) is None
        ):
            # A CN's accepting BA carries Binding Authorization Data (RFC 6275 6.1.8; only
            # its refusals for expired nonces may lack it), an HA's does not (IPsec
            # protects it): the HA of an MN whose BU to it the capture missed.  Not a BA
            # the capture cut short or whose option has a wrong length: its Binding
            # Authorization Data may be past the cut, or there but unreadable.
            self.book.learn_ha(mn, res.peer)
        book = self.book
        # Roles inline (AddressBook.is_ha): this runs for every record.
        role = "HA" if book.ha_of.get(mn) == res.peer or res.peer in book.home_agents else "CN"
        msg = rec.msg
        if res.up:
            cur = mst.current
            t_open = rec.ts_ns
            if cur is not None and res.coa == cur.prev_coa:
                if not _moved_back(rec, cur, self.vantage, role):
                    # A straggler, or make-before-break: the MN still sends from the address
                    # it left.  That neither opens nor splits a handover; only a home
                    # registration from there (A -> B -> A) shows it moved back.
                    self.diag.warn(
                        "packet_from_old_address",
                        f"frame {rec.frame}: {msg} from {res.coa}, which {mn} left for "
                        f"{'its home link' if cur.coa == mn else cur.coa}; not a handover",
                        rec.frame,
                    )
                    if cur.back_since is None:
                        cur.back_since = rec.ts_ns
                    return
                # moved back: t0 is its first packet from there since its last from cur.coa
                t_open = cur.back_since if cur.back_since is not None else t_open
            elif cur is not None and res.coa == cur.coa:
                cur.back_since = None
            if cur is None or cur.coa != res.coa:
                cur = self._start(mst, res.coa, t_open, _opening(rec), source=rec.source)
            if msg == "data":
                if role == "HA" and rec.proto == NH_ESP:
                    cur.ha_opaque = True  # (an ESP-protected BU to the HA, no SA to open it)
                mst.note_data(res.peer, True, rec.ts_ns)
            self._up(rec, res, mst, cur, role, verdict)
            return
        if msg == "data":
            mst.note_data(res.peer, False, rec.ts_ns)
        if msg == "HoT":
            self._hot(rec, res, mst, role)
            return
        if msg == "other" and rec.mh is None and cut_type(rec) == MH_HOT:
            mst.tests(res.peer).cut_ts = rec.ts_ns  # a HoT the capture cut (hot_cut_off)
            return
        cur = mst.current
        if cur is None:
            # The first we see of this MN is something sent to it: the capture began
            # after the handover, whose start is unknown.
            cur = self._start(mst, res.coa, rec.ts_ns, f"{msg}_received", source=rec.source)
        elif cur.coa != res.coa:
            if rec.mh is not None:
                self.diag.warn(
                    "message_to_old_address",
                    f"frame {rec.frame}: {msg} to {res.coa}, "
                    f"which {res.mn} left for {cur.coa}; ignored",
                    rec.frame,
                )
            return
        if msg == "data" and role == "HA" and rec.proto == NH_ESP:
            cur.ha_opaque = True  # (the HA's ESP-protected BA, no SA to open it)
        self._down(rec, res, cur, role, verdict)


def _moved_back(
    rec: Record, cur: Handover, vantage: str | None = None, role: str | None = None
) -> bool:
    """A packet from the previous address that means the MN is back there: a BU to the
    HA, or an ESP-protected packet with a Home Address option to the HA (RFC 3776: a
    home registration without the SA to open it; ``role`` "HA"), when no handover event
    dates the move, or any packet after an event said so.  Where
    the home registration cannot be seen (a capture at the CN), a return routability
    procedure from there (CoTI, or a BU/EBU to the CN) is what shows the move back."""
    if cur.t0_source == "event":
        return False
    if rec.msg == "BU" and isinstance(rec.mh, BindingUpdate) and rec.mh.flags & BU_FLAG_H:
        return True
    if role == "HA" and rec.mh is None and rec.proto == NH_ESP and rec.hoa is not None:
        return True
    return vantage == "cn" and rec.msg in ("CoTI", "BU", "EBU")


FORWARDING_VANTAGES = ("ha", "cn")


def _home_test_via_ha(rec: Record, res: Resolved) -> bool:
    """A HoTI/HoT without tunnel and without mobility headers, home address <-> CN."""
    return rec.tunnel_src is None and rec.msg in ("HoTI", "HoT") and rec.hoa is None


def _opening(rec: Record) -> str:
    """How a handover became visible: the label of the MN's first packet from the new
    address; a BU to a CN ("BU_CN") does not open a procedure, so the capture began later."""
    if rec.msg == "BU" and isinstance(rec.mh, BindingUpdate) and not rec.mh.flags & BU_FLAG_H:
        return "BU_CN"
    return rec.msg


def check_order(items: Iterable, diag: Diagnostics) -> Iterator:
    """Pass ``items`` through, diagnosing timestamps that go backwards (never fatal:
    the episode logic works in capture order and flags negative intervals)."""
    last_ts, last_frame = None, None
    for it in items:
        if last_ts is not None and it.ts_ns < last_ts:
            diag.warn(
                "timestamp_out_of_order",
                f"frame {it.frame}: timestamp "
                f"{(last_ts - it.ts_ns) / 1e6:.3f} ms earlier than frame {last_frame}",
                it.frame,
            )
        else:
            last_ts, last_frame = it.ts_ns, it.frame
        yield it
