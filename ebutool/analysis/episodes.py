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
from ebutool.analysis.handlers import MessageHandlers
from ebutool.analysis.state import (
    EVICTED_NOTE,
    INDEX0_AMBIGUOUS_NOTE,
    CNState,
    Exchange,
    Handover,
    MNState,
    with_added,
)
from ebutool.core.bounded import make_room, put
from ebutool.core.constants import (
    DEFAULT_CONFIG,
    MH_BA,
    MH_BU,
    MH_COT,
    MH_HOT,
    MH_NEXT_HEADERS,
    MH_TYPE_AT,
    MOPT_AUTH_DATA,
    MOPT_NONCE_INDICES,
    NH_ESP,
    ProtocolConfig,
)
from ebutool.core.diagnostics import Diagnostics
from ebutool.records.record import HandoverEvent, Record
from ebutool.wire.mh.messages import BU_FLAG_H, BindingAcknowledgement, BindingUpdate, HomeTest
from ebutool.wire.mh.mobility_options import (
    BindingAuthorizationData,
    NonceIndices,
    malformed_length,
)

MAX_PENDING_PER_COA = 32  # CoTI/CoT held for a care-of address not yet mapped to an MN
MAX_PENDING_COAS = 1024
MAX_COT_ZERO = 4096  # (care-of address, CN) pairs that received a CoT with index 0
MAX_COT_CUT = 4096  # (care-of address, CN) pairs that received a CoT the capture cut
STANDARD_NOTE = "care_of_index_0_standard"  # a BU with care-of index 0 after a CoT with 0
AMBIGUOUS_NOTE = INDEX0_AMBIGUOUS_NOTE  # standard or early cannot be told
# the key forms of an EBU's Kbm (ebutool.oracle.crypto): a BA MACed with one answers an EBU
EARLY_KEY_FORMS = ("early", "early_rfc4866")
# A BU to a CN the capture cut before its Nonce Indices option: its care-of nonce index
# (0 in an EBU, DESIGN.md section 3) is not in the capture, so standard or early cannot
# be told; the reader labels it BU.
CUT_OFF_NOTE = "bu_cut_off"
MALFORMED_NOTE = "nonce_indices_malformed"  # likewise: its Nonce Indices have a wrong length
NS_PER_S = 1_000_000_000


class Reconstructor(MessageHandlers):
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
        note = None
        if rec.msg == "CoT" and isinstance(rec.mh, HomeTest) and rec.mh.nonce_index == 0:
            self._cot_zero(rec.dst, rec.src, rec.ts_ns)
        elif rec.mh is None and cut_type(rec) == MH_COT:
            # a CoT the capture cut: its nonce index, perhaps 0, is not in the capture
            put(self.cot_cut, (rec.dst, rec.src), rec.ts_ns, MAX_COT_CUT, self.diag, "cut CoT")
        elif rec.msg == "EBU" and res is not None and res.mn is not None and not self._own(rec):
            rec, note = self._early_or_standard(rec, res)
        # (_check gives None without an oracle: not called then)
        checked = self._check(rec) if rec.mh is not None and self.oracle is not None else None
        if note == STANDARD_NOTE and getattr(checked, "msg", None) == "EBU":
            # taken for standard by a CoT with care-of index 0 before it, but only Kbm_early
            # authenticates it (the oracle): an EBU, e.g. of an MN back at that address
            rec, note = replace(rec, msg="EBU"), None
        verdict = getattr(checked, "verdict", None)
        # its early MAC fails (invalid, or keyless: a standard BU not ruled out)
        undecided = verdict == "invalid" or getattr(checked, "care_of_index_0_undecided", False)
        if rec.msg == "EBU" and note is None and undecided:
            note = AMBIGUOUS_NOTE  # its early MAC fails: forged, or a standard BU
        if note == AMBIGUOUS_NOTE and verdict == "valid":
            note = None  # its MAC verified with the early Kbm: an EBU
        # neither Kbm can be tried on its MAC: presumed early, ambiguous unless its answer
        # shows the CN took it for an EBU (CNState.index0_cut)
        mac_cut = note is None and rec.msg == "EBU" and _index0_mac_cut(rec)
        if note is None and rec.msg == "BU" and _care_of_index_unread(rec):
            note = CUT_OFF_NOTE if rec.mh is not None and rec.mh.truncated else MALFORMED_NOTE
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
        if note is not None:
            ep.notes = with_added(ep.notes, note)
        m = rec.mh
        if mac_cut and isinstance(m, BindingUpdate):
            ep.index0_cut = with_added(ep.index0_cut, m.sequence)
        elif ep.index0_cut and isinstance(m, BindingAcknowledgement):
            if self._early_answer(rec, m, checked, ep):
                ep.index0_cut.discard(m.sequence)

    def _early_answer(self, rec: Record, ba: BindingAcknowledgement, checked, ep: CNState) -> bool:
        """``ba`` (of ``rec``) answered an EBU of ``ep`` (by its sequence number) and shows
        that the CN took it for an EBU: it has the draft's own EBA type (--eba-mh-type),
        or the oracle verified its MAC with Kbm_early (a standard BU's BA has the
        standard Kbm)."""
        ex = ep.ebus.get(ba.sequence)
        if ex is None or ex.reply_frame != rec.frame:
            return False
        own = self.config.eba_mh_type
        wire = rec.mh_wire
        verdict = getattr(checked, "verdict", None)
        if own is not None and wire is not None and wire[MH_TYPE_AT] == own:
            return verdict != "invalid"  # (a forged one shows nothing)
        return verdict == "valid" and getattr(checked, "key_form", None) in EARLY_KEY_FORMS

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

    # -- care-of nonce index 0 (DESIGN.md section 3) ------------------------------------
    def _cot_zero(self, coa: str, cn: str, ts_ns: int) -> None:
        """A CoT with care-of nonce index 0 reached ``coa``: a later BU from it with
        care-of index 0 may be a standard BU (RFC 6275 does not reserve index 0)."""
        put(self.cot_zero, (coa, cn), ts_ns, MAX_COT_ZERO, self.diag, "care-of index 0 CoT")

    def _standard_mac_verifies(self, rec: Record, cn: str) -> bool:
        """With the CN's keys (Kcn and nonces), the BU's MAC verifies with the standard
        Kbm of its nonce indices (RFC 6275 5.2.5): then it is a standard BU.  (The
        oracle then checks it again as an EBU; the later check is the one it keeps.)"""
        keys = getattr(self.oracle, "keys", None)
        if keys is None or not keys.usable(cn):
            return False
        checked = self._check(replace(rec, msg="BU"))
        # (valid as a BU: the oracle tries Kbm_early too for a care-of index 0 BU that
        # fails the standard key, and names it EBU then: that is no standard MAC)
        return getattr(checked, "verdict", None) == "valid" and checked.msg == "BU"

    def _own(self, rec: Record) -> bool:
        """``rec`` has the draft's own EBU type (--ebu-mh-type): an EBU by its type
        (DESIGN.md section 2), whatever its care-of nonce index or MAC, so the rule for a
        BU with care-of index 0 (:meth:`_early_or_standard`) is not applied to it."""
        own, wire = self.config.ebu_mh_type, rec.mh_wire
        return own is not None and wire is not None and wire[MH_TYPE_AT] == own

    def _early_or_standard(self, rec: Record, res: Resolved) -> tuple[Record, str | None]:
        """(the record, a diagnosis code or None) for a BU with care-of nonce index 0
        (labelled EBU by the reader).  It is a standard BU (relabelled, STANDARD_NOTE)
        when the MN received, for that care-of address and CN, a CoT with care-of index
        0 less than MAX_TOKEN_LIFETIME before it, or when the CN's keys are known and its
        MAC verifies with the standard Kbm.  Otherwise it is an EBU, AMBIGUOUS_NOTE
        when a CoT the capture cut (its index unread) came within MAX_TOKEN_LIFETIME
        before it, or when the capture does not show the MN's arrival at that address (a
        token from before the capture could exist): the BU is its first packet from
        there, or the capture began mid-handover (the caller clears that when the MAC
        verifies with the early Kbm)."""
        got = self.cot_zero.get((res.coa, res.peer))
        if got is not None and rec.ts_ns - got <= self.config.max_token_lifetime * NS_PER_S:
            # (its care-of token is usable for MAX_TOKEN_LIFETIME, RFC 6275 5.2.7)
            return replace(rec, msg="BU"), STANDARD_NOTE
        if self._standard_mac_verifies(rec, res.peer):
            return replace(rec, msg="BU"), STANDARD_NOTE
        cut = self.cot_cut.get((res.coa, res.peer))
        if cut is not None and rec.ts_ns - cut <= self.config.max_token_lifetime * NS_PER_S:
            return rec, AMBIGUOUS_NOTE  # that CoT's care-of index may have been 0
        mst = self.mns.get(res.mn or "")
        cur = mst.current if mst is not None else None
        unseen = cur is None or cur.coa != res.coa
        if unseen and (mst is None or mst.n_handovers == 0) or (cur is not None and cur.mid_start):
            return rec, AMBIGUOUS_NOTE
        return rec, None

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

    # -- state -----------------------------------------------------------------------
    def _mn(self, mn: str, frame: int | None = None) -> MNState:
        """The state of ``mn``, made its most recently active (a new one may evict the
        least recently active MN: :meth:`_evict`)."""
        mst = self.mns.pop(mn, None)
        if mst is None:
            make_room(self.mns, self.limit, self.diag, "mobile node", frame, self._evict)
            mst = MNState(mn, limit=self.limit, diag=self.diag)
            mst.evicted_before = mn in self.evicted_mns
        self.mns[mn] = mst
        return mst

    def _evict(self, mn: str, mst: MNState) -> None:
        """An MN evicted from the table: its open handover closes now, every episode of
        it flagged state_evicted (what came later is not in it); if the MN shows up
        again, its episodes are flagged too (its home tests and history are gone)."""
        put(self.evicted_mns, mn, None, self.limit, None, "evicted mobile node")
        ho = mst.current
        if ho is not None:
            ho.evicted = True
            self._close(mst)

    def _start(
        self,
        mst: MNState,
        coa: str,
        ts_ns: int,
        opened_by: str,
        prev: str | None = None,
        source: str = "",
    ) -> Handover:
        old = mst.current
        if old is not None:
            self._close(mst)
        ho = Handover(
            mn=mst.mn,
            coa=coa,
            prev_coa=prev or (old.coa if old else None),
            t0_ns=ts_ns,
            t0_source="event" if opened_by == "event" else "first_packet",
            first_in_capture=mst.n_handovers == 0,
            opened_by=opened_by,
            ha=self.book.ha_of.get(mst.mn),
            source=source,
            recent_data=mst.recent_data(),
        )
        ho.evicted = mst.evicted_before
        mst.current = ho
        mst.n_handovers += 1
        return ho

    def _close(self, mst: MNState) -> None:
        ho = mst.current
        mst.current = None
        if ho is None:
            return
        self.settle(ho, mst)
        self.closed.append((ho, mst))

    def settle(self, ho: Handover, mst: MNState, cns: set[str] | None = None) -> None:
        """What closing ``ho`` fills in: its HA when learnt after it began, and the home
        test of each CN episode (of ``cns`` only, if given) whose (E)BU named none.
        Also for a handover still open whose episodes are written early (--follow)."""
        if ho.ha is None:  # learnt after the handover began (e.g. from a tunnel)
            ho.ha = self.book.ha_of.get(mst.mn)
        if ho.evicted:
            for ep in ho.all_cns():
                ep.notes = with_added(ep.notes, EVICTED_NOTE)
        window = int(self.config.initial_bindack_timeout * NS_PER_S)
        token_ns = self.config.max_token_lifetime * NS_PER_S
        for ep in ho.cns.values():
            tests = mst.home_tests.get(ep.cn)
            cut = tests.cut_ts if tests is not None else None
            if cut is not None and cut >= ho.t0_ns - token_ns:  # (its token still usable)
                ep.cut_hot_ts = cut
            cut = tests.cut_hoti_ts if tests is not None else None
            if cut is not None and cut >= ho.t0_ns - token_ns:
                ep.cut_hoti_ts = cut
            if ep.home_test is None and (cns is None or ep.cn in cns):
                # No (E)BU named a home token (e.g. the HoT was lost): take the home test
                # sent from this address alongside the episode's own requests.
                last = (ep.last_up_ts or ho.t0_ns) + window
                tests = mst.tests(ep.cn)
                for ex in [*(tests.done or ()), *tests.open.values()]:
                    if (
                        ex.coa == ho.coa
                        and ex.first_ts is not None
                        and ho.t0_ns <= ex.first_ts <= last
                    ):
                        ep.home_test = ex
                        break

    def _cn(self, ho: Handover, cn: str) -> CNState:
        ep = ho.cns.get(cn)
        if ep is None:
            make_room(
                ho.cns,
                self.limit,
                self.diag,
                "correspondent of one handover",
                None,
                lambda _, old: self._evict_cn(ho, old),
            )
            refresh = cn in (ho.refresh_cns or ())
            ep = ho.cns[cn] = CNState(cn, started_mid=ho.mid_start, refresh=refresh)
        return ep

    def _evict_cn(self, ho: Handover, ep: CNState) -> None:
        """The oldest CN episode of a handover with too many CNs closes now, on its own
        (with the handover's home registration as it is), flagged state_evicted."""
        ep.notes = with_added(ep.notes, EVICTED_NOTE)
        mst = self.mns.get(ho.mn)
        if mst is not None:
            self.closed.append((replace(ho, cns={ep.cn: ep}, done_cns=[]), mst))

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


def _care_of_index_unread(rec: Record) -> bool:
    """A BU to a CN (not a home registration, not a deregistration, which needs no care-of
    nonce) whose Nonce Indices option is not readable: the capture cut the message short
    with no Nonce Indices in what it holds, or the option has a wrong length."""
    bu = rec.mh
    if not isinstance(bu, BindingUpdate) or bu.flags & BU_FLAG_H or rec.deregistration:
        return False
    if any(isinstance(o, NonceIndices) for o in bu.options):
        return False
    return bu.truncated or malformed_length(bu.options, MOPT_NONCE_INDICES) is not None


def _index0_mac_cut(rec: Record) -> bool:
    """A BU with care-of nonce index 0 (labelled EBU by the reader, not an EBU of the
    draft's own MH type) whose authenticator the capture cut (snaplen; the Binding
    Authorization Data option is always last).  Unless a CoT with care-of index 0 made it
    standard, its class rests on its MAC (the standard Kbm, or the early one failing:
    docs/analysis.md "Early or standard"), which cannot be checked."""
    bu = rec.mh
    return (
        isinstance(bu, BindingUpdate)
        and bu.truncated
        and (rec.mh_wire is None or rec.mh_wire[MH_TYPE_AT] == MH_BU)
    )
