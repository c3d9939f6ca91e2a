"""Per-message matching rules of episode reconstruction (mixed into Reconstructor).

``_up`` handles what the MN sent, ``_down`` what it received; each finds the exchange
the message belongs to (DESIGN.md section 4 matching rules) and updates it.  A reply
that matches nothing is an ``orphan_reply`` warning; only when the capture began
inside the handover does it open an episode (flagged capture_started_mid_episode).
"""

from __future__ import annotations

from collections.abc import Iterable

from ebutool.analysis.addressing import AddressBook, Resolved
from ebutool.analysis.cut_messages import cut_type
from ebutool.analysis.state import (
    BA_CUT_NOTE,
    COT_CUT_NOTE,
    COTI_CUT_NOTE,
    HA_BA_CUT_NOTE,
    HA_MH_CUT_NOTE,
    MAX_EXCHANGES,
    MAX_STEPS,
    MH_CUT_NOTE,
    UPDATE_CUT_NOTE,
    UPDATE_NOT_CAPTURED,
    UPDATE_NOTES,
    CNState,
    Exchange,
    Handover,
    MNState,
    Step,
    with_added,
)
from ebutool.core import constants as C
from ebutool.core.bounded import make_room, put
from ebutool.core.diagnostics import Diagnostics
from ebutool.records.record import Record
from ebutool.wire.mh.messages import (
    BU_FLAG_A,
    BU_FLAG_H,
    BindingAcknowledgement,
    BindingError,
    BindingUpdate,
    HomeTest,
    HomeTestInit,
)
from ebutool.wire.mh.mobility_options import NonceIndices

LIFETIME_UNIT_S = 4  # BU lifetime field unit (RFC 6275 6.1.7)
MAX_OPEN_TESTS = 64  # unanswered HoTIs kept per (MN, CN) (oldest dropped)
MAX_OPEN_COTIS = 4096  # unanswered CoTIs kept over all MNs (oldest dropped)

# (care-of address, CN, init cookie) of a CoTI -> (its episode, None for a refresh; the exchange)
CotiKey = tuple[str, str, bytes]
_NO_COTI: tuple[None, None] = (None, None)


class MessageHandlers:
    """Needs from its host: ``diag``, ``book``, ``coti_index`` and ``_cn(ho, cn)``.

    The message classes follow from ``rec.msg`` (the readers label a record by its
    message): each branch states the class it handles, for the type checker."""

    diag: Diagnostics
    book: AddressBook
    coti_index: dict[CotiKey, tuple[CNState | None, Exchange]]

    def _cn(self, ho: Handover, cn: str) -> CNState:
        raise NotImplementedError  # the host's

    def _up(
        self, rec: Record, res: Resolved, mst: MNState, ho: Handover, role: str, verdict: str | None
    ) -> None:
        """``role``: the peer's, "HA" or "CN" (steps are made only where they are kept)."""
        msg, m = rec.msg, rec.mh
        if msg == "data":  # first: most records are data
            ep = ho.cns.get(res.peer)
            if ep is None or res.tunnelled:  # reverse-tunnelled data is not route-optimised
                return
            if ep.be_cause_data is None:
                ep.be_cause_data = rec.frame
            if ep.first_send is None:
                ep.first_send = (rec.ts_ns, rec.frame)
                ep.add_step(Step(rec.ts_ns, rec.frame, msg, "MN", role, rec.esp_spi is not None))
        elif msg in ("BU", "EBU"):
            assert isinstance(m, BindingUpdate)
            to_ha = bool(m.flags & BU_FLAG_H) or role == "HA"
            if to_ha:
                self._ha_bu(rec, m, res, ho, verdict)
            else:
                step = Step(rec.ts_ns, rec.frame, msg, "MN", role, rec.esp_spi is not None)
                self._cn_bu(rec, m, res, mst, ho, step, verdict)
        elif msg == "CoTI":
            assert isinstance(m, HomeTestInit)  # CareOfTestInit
            ep = self._cn(ho, res.peer)
            key = (res.coa, res.peer, m.init_cookie)
            if ep.complete:  # a refresh of a finished binding: absorb its CoT quietly
                self._index(key, None, Exchange())
                return
            ex = ep.cotis.get(m.init_cookie)
            if ex is None:
                if len(ep.cotis) >= MAX_EXCHANGES:
                    self._over_limit(ep, "CoTIs", rec.frame)
                    return
                ex = ep.cotis[m.init_cookie] = Exchange(coa=res.coa)
            ex.send(rec.ts_ns, rec.frame)
            self._index(key, ep, ex)
            ep.last_up_ts = rec.ts_ns
            ep.add_step(Step(rec.ts_ns, rec.frame, msg, "MN", role, rec.esp_spi is not None))
        elif msg == "HoTI":
            self._home_test_init(rec, res, mst)
        else:  # other MH types an MN may send (BE, BRR, other)
            ep = ho.cns.get(res.peer)
            if m is None and role == "CN" and res.tunnelled:
                if cut_type(rec) in _MAY_BE_HOTI:
                    # a HoTI, maybe, the capture cut before its cookie (hoti_cut_off)
                    tests = mst.tests(res.peer)
                    tests.cut_hoti_ts = rec.ts_ns
                    tests.cut_hotis += 1
                    tests.cut_hoti_frame = rec.frame
                    _maybe_copies(rec.ts_ns, tests.open.values())
            elif m is None and role == "CN" and rec.hoa is None:
                if cut_type(rec) in _MAY_BE_COTI and (ep is None or not ep.complete):
                    # a CoTI, maybe, the capture cut before its cookie (coti_cut_off): sent
                    # from the care-of address with no Home Address option, as a CoTI is
                    ep = self._cn(ho, res.peer)
                    ep.notes = with_added(ep.notes, COTI_CUT_NOTE)
                    ep.cut_coti_ts = ep.last_up_ts = rec.ts_ns
                    ep.cut_cotis += 1
                    ep.cut_coti_frame = rec.frame
                    _maybe_copies(
                        rec.ts_ns,
                        (
                            ex
                            for (coa, cn, _), (_, ex) in self.coti_index.items()
                            if coa == res.coa and cn == res.peer
                        ),
                    )
            elif m is None and role == "CN" and not res.tunnelled and cut_type(rec) in _MAY_BE_BU:
                # A message the capture cut before it could be read, sent from the care-of
                # address as a BU is (a HoTI comes tunnelled): the episode's update, maybe
                # (update_cut_off; not after its binding is done: a refresh's, then)
                if ep is None or not ep.complete:
                    ep = self._cn(ho, res.peer)
                    ep.notes = with_added(ep.notes, UPDATE_CUT_NOTE)
                    ep.last_up_ts = rec.ts_ns
            if ep is not None:
                # (an undecodable MH, mh None, is no unknown MH type a BE could answer)
                if ep.be_cause_other is None and rec.mh is not None:
                    ep.be_cause_other = rec.frame
                ep.add_step(Step(rec.ts_ns, rec.frame, msg, "MN", role, rec.esp_spi is not None))

    def _over_limit(self, ep: CNState | None, what: str, frame: int) -> None:
        """A request not kept because its episode holds MAX_EXCHANGES of its kind already:
        a counted warning, and the episode's row says it is incomplete."""
        self.diag.warn(
            "exchange_limit",
            f"frame {frame}: more than {MAX_EXCHANGES} {what} in one episode: not kept",
            frame,
        )
        if ep is not None:
            ep.notes = with_added(ep.notes, "exchange_limit")

    def _index(self, key: CotiKey, ep: CNState | None, ex: Exchange) -> None:
        put(self.coti_index, key, (ep, ex), MAX_OPEN_COTIS, self.diag, "open CoTI", ex.first_frame)

    def _ha_bu(
        self, rec: Record, bu: BindingUpdate, res: Resolved, ho: Handover, verdict: str | None
    ) -> None:
        seq = bu.sequence
        assert res.mn is not None  # _process has only mapped records
        self.book.learn_ha(res.mn, res.peer)
        ho.ha = res.peer
        ex = ho.ha_bus.get(seq)
        if ex is None:
            if ho.ha_done or seq in (ho.ha_refresh_seqs or ()):
                # a lifetime refresh, not part of the handover
                ho.ha_refresh_seqs = with_added(ho.ha_refresh_seqs, seq)
                return
            if len(ho.ha_bus) >= MAX_EXCHANGES:
                self._over_limit(None, "BUs to the HA", rec.frame)
                # (its retransmissions: not warned again)
                ho.ha_refresh_seqs = with_added(ho.ha_refresh_seqs, seq)
                return
            ex = ho.ha_bus[seq] = Exchange(coa=res.coa)
        ex.send(rec.ts_ns, rec.frame)
        if verdict:
            ex.verdicts.append(verdict)
        ho.ha_dereg = ho.ha_dereg or rec.deregistration
        if len(ho.ha_steps) < MAX_STEPS:
            ho.ha_steps.append(
                Step(rec.ts_ns, rec.frame, rec.msg, "MN", "HA", rec.esp_spi is not None)
            )

    def _cn_bu(
        self,
        rec: Record,
        bu: BindingUpdate,
        res: Resolved,
        mst: MNState,
        ho: Handover,
        step: Step,
        verdict: str | None,
    ) -> None:
        seq, early = bu.sequence, rec.msg == "EBU"
        ep = self._cn(ho, res.peer)
        if rec.deregistration and ep.complete and not ep.dereg and seq not in ep.bus:
            # A lifetime-0 BU from the care-of address deletes the CN's binding without
            # returning home: a deregistration of its own, not a refresh (RFC 6275 11.7.2).
            if len(ho.done_cns) < MAX_EXCHANGES:
                ho.done_cns.append(ep)
            else:  # its row is lost: say so
                self._over_limit(None, "finished CN episodes", rec.frame)
            ep = ho.cns[res.peer] = CNState(res.peer, t0_ns=rec.ts_ns)
        table = ep.ebus if early else ep.bus
        ex = table.get(seq)
        if ex is None:
            if ep.complete or seq in (ep.refresh_seqs or ()):
                ep.refresh_seqs = with_added(ep.refresh_seqs, seq)
                return
            if len(table) >= MAX_EXCHANGES:
                self._over_limit(ep, f"{rec.msg}s", rec.frame)
                # (its retransmissions: not warned again)
                ep.refresh_seqs = with_added(ep.refresh_seqs, seq)
                return
            ex = table[seq] = Exchange(coa=res.coa, ack_requested=bool(bu.flags & BU_FLAG_A))
        ex.send(rec.ts_ns, rec.frame)
        ep.dereg = ep.dereg or rec.deregistration
        ep.max_lifetime_s = max(ep.max_lifetime_s, bu.lifetime * LIFETIME_UNIT_S)
        ep.last_up_ts = rec.ts_ns
        if verdict:
            ep.verdicts.append(("request", verdict))
        ep.add_step(step)
        ni = bu.option(NonceIndices)
        index = ni.home_index if ni is not None else None
        if ep.home_test is None:
            ep.home_test, matched = mst.tests(res.peer).find(index, rec.ts_ns)
            ep.home_index = index
            if ep.home_test is not None and not matched and index is not None:
                ep.notes = with_added(ep.notes, "home_nonce_index_unmatched")
        elif index is not None and index != ep.home_index and ex.n_sends == 1:
            # A new home token (after a refusal for an expired home nonce index, status
            # 136/138): the exchange the later, accepted BU used is the episode's.
            test, matched = mst.tests(res.peer).find(index, rec.ts_ns)
            if matched:
                ep.home_test, ep.home_index = test, index

    def _home_test_init(self, rec: Record, res: Resolved, mst: MNState) -> None:
        m = rec.mh
        assert isinstance(m, HomeTestInit)
        tests = mst.tests(res.peer)
        ex = tests.open.get(m.init_cookie)
        if ex is None:
            make_room(tests.open, MAX_OPEN_TESTS, self.diag, "open HoTI per MN and CN", rec.frame)
            ex = tests.open[m.init_cookie] = Exchange(coa=res.coa)
        ex.send(rec.ts_ns, rec.frame)
        if len(ex.steps) < MAX_STEPS:
            ex.steps.append(
                Step(rec.ts_ns, rec.frame, rec.msg, "MN", "CN", rec.esp_spi is not None)
            )

    def _hot(self, rec: Record, res: Resolved, mst: MNState, role: str) -> None:
        hot = rec.mh
        assert isinstance(hot, HomeTest)
        tests = mst.tests(res.peer)
        ex = tests.open.pop(hot.init_cookie, None)
        frame, cut_ts, only = tests.cut_hoti_frame, tests.cut_hoti_ts, tests.cut_hotis == 1
        tests.cut_hotis, tests.cut_hoti_frame = 0, None  # (a HoT came: count afresh)
        if ex is None:
            self.diag.warn(
                "orphan_reply",
                f"frame {rec.frame}: HoT from {res.peer} to {res.mn} "
                "answers no HoTI in the capture",
                rec.frame,
            )
            if not only or frame is None or cut_ts is None or cut_ts > rec.ts_ns:
                return
            # The only HoTI the capture cut (hoti_cut_off) since the last HoT: this HoT,
            # answering no readable HoTI, can only answer it (it went once: an RTT_BT
            # sample by Karn's rule; a second cut HoTI may be its copy and pairs none)
            ex = Exchange(coa=res.coa)
            ex.send(cut_ts, frame)
        ex.answer(rec.ts_ns, rec.frame)
        ex.nonce_index = hot.nonce_index
        if len(ex.steps) < MAX_STEPS:
            ex.steps.append(
                Step(rec.ts_ns, rec.frame, rec.msg, "CN", "MN", rec.esp_spi is not None)
            )
        tests.answered(ex)

    def _down(
        self, rec: Record, res: Resolved, ho: Handover, role: str, verdict: str | None
    ) -> None:
        """``role``: the peer's, "HA" or "CN" (steps are made only where they are kept)."""
        msg, m = rec.msg, rec.mh
        if msg == "data":  # first: most records are data
            ep = ho.cns.get(res.peer)
            if res.tunnelled:  # HA-tunnelled data is not route-optimised
                return
            if ep is None or not (ep.bus or ep.ebus or not UPDATE_NOTES.isdisjoint(ep.notes or ())):
                # The CN already has a binding for this address, before any (E)BU: a
                # refresh, not a handover (the capture began after the move).
                if ep is not None:
                    ep.refresh = True
                elif len(ho.refresh_cns or ()) < MAX_EXCHANGES:
                    ho.refresh_cns = with_added(ho.refresh_cns, res.peer)
                return
            if ep.first_recv is None:
                ep.first_recv = (rec.ts_ns, rec.frame)
                ep.add_step(Step(rec.ts_ns, rec.frame, msg, role, "MN", rec.esp_spi is not None))
        elif msg == "BA":
            assert isinstance(m, BindingAcknowledgement)
            step = Step(rec.ts_ns, rec.frame, msg, role, "MN", rec.esp_spi is not None)
            if role == "HA":
                self._ha_ba(rec, m, ho, step, verdict)
            else:
                self._cn_ba(rec, m, res, ho, step, verdict)
        elif msg == "CoT":
            assert isinstance(m, HomeTest)  # CareOfTest
            ep, ex = self.coti_index.pop((res.coa, res.peer, m.init_cookie), _NO_COTI)
            if ex is None:
                self.diag.warn(
                    "orphan_reply",
                    f"frame {rec.frame}: CoT from {res.peer} to {res.coa} "
                    "answers no CoTI in the capture",
                    rec.frame,
                )
                ep = ho.cns.get(res.peer)
                # (a second CoT of a CoTI the capture holds, already answered, shows
                # nothing of when the capture began)
                seen = ep is not None and m.init_cookie in ep.cotis
                if ep is not None and ep.cut_coti_ts is not None and ep.cut_coti_ts <= rec.ts_ns:
                    # the answer, maybe, to a CoTI the capture cut (coti_cut_off)
                    ex = None if seen else self._pair_cut_coti(ep, m.init_cookie, res.coa)
                    if ex is None:
                        return
                elif not seen and self._began_before_capture(ho, res.coa):
                    ep = self._cn(ho, res.peer)
                    ex = ep.cotis.setdefault(m.init_cookie, Exchange(coa=res.coa))
                else:
                    return
            if ep is None:  # the CoT of a refresh
                return
            if ex.answer(rec.ts_ns, rec.frame):
                ex.nonce_index = m.nonce_index
                ep.add_step(Step(rec.ts_ns, rec.frame, msg, role, "MN", rec.esp_spi is not None))
        elif msg == "BE":
            assert isinstance(m, BindingError)
            ep = ho.cns.get(res.peer)
            if ep is None:
                self.diag.warn(
                    "binding_error_outside_episode",
                    f"frame {rec.frame}: BE status "
                    f"{m.status} from {res.peer} to {res.mn} outside any episode",
                    rec.frame,
                )
                return
            # A CN answers the first offending packet (BEs are rate-limited, RFC 6275
            # 9.3.3): the first since the previous BE, data for status 1, an unknown MH type
            # for status 2.
            if m.status == C.BE_STATUS_UNKNOWN_BINDING:
                cause, ep.be_cause_data = ep.be_cause_data, None
            else:
                cause, ep.be_cause_other = ep.be_cause_other, None
            ep.n_binding_errors += 1
            if len(ep.binding_errors) < MAX_EXCHANGES:
                ep.binding_errors.append((rec.frame, m.status, cause))
            ep.add_step(Step(rec.ts_ns, rec.frame, msg, role, "MN", rec.esp_spi is not None))
        elif m is None and role == "HA" and ho.ha_bus and cut_type(rec) in _MAY_BE_BA:
            # The HA's BA cut inside its fixed fields, or a message cut before its type
            # (docs/analysis.md, ha_ba_cut_off, ha_mh_cut_off): the home registration was
            # answered, maybe, its status is not in the capture
            ba = cut_type(rec) == C.MH_BA
            if ho.ha_cut_reply_ts is None:
                ho.ha_cut_reply_ts = rec.ts_ns
            ho.ha_cut_last_ts = rec.ts_ns
            ho.ha_cut_notes = with_added(ho.ha_cut_notes, HA_BA_CUT_NOTE if ba else HA_MH_CUT_NOTE)
            if len(ho.ha_steps) < MAX_STEPS:
                label = "BA" if ba else msg
                esp = rec.esp_spi is not None
                ho.ha_steps.append(Step(rec.ts_ns, rec.frame, label, role, "MN", esp))
        else:  # BRR, other
            ep = ho.cns.get(res.peer)
            if ep is not None:
                if m is None and role == "CN":
                    msg = self._cut_reply(rec, res, ep) or msg
                ep.add_step(Step(rec.ts_ns, rec.frame, msg, role, "MN", rec.esp_spi is not None))

    def _cut_reply(self, rec: Record, res: Resolved, ep: CNState) -> str | None:
        """A message from the CN the reader could not decode, after the episode's
        requests: its BA cut inside its fixed fields ("BA": an answer whose status and
        sequence are not in the capture, ba_cut_off), its CoT likewise ("CoT",
        cot_cut_off), or one cut before its MH type (the answer, maybe, to any request:
        mh_cut_off); docs/analysis.md.  The step's label, None: none of these."""
        mh_type = cut_type(rec)
        if mh_type == C.MH_COT and ep.cotis:
            # a CoT cut inside its fixed fields: a CoTI was answered (cot_cut_off)
            ep.notes = with_added(ep.notes, COT_CUT_NOTE)
            ep.cut_any_ts = rec.ts_ns
            self._pair_cut_cot(rec, res, ep)
            return "CoT"
        if mh_type == C.MH_BA and (ep.bus or ep.ebus):
            ep.notes = with_added(ep.notes, BA_CUT_NOTE)
        elif mh_type is None and (ep.cotis or ep.bus or ep.ebus):
            ep.notes = with_added(ep.notes, MH_CUT_NOTE)
            ep.cut_any_ts = ep.cut_mh_ts = rec.ts_ns
        else:
            return None
        # (every cut reply counts: the first for the mode, the last for what it may answer)
        if ep.cut_reply_ts is None:
            ep.cut_reply_ts = rec.ts_ns
        ep.cut_reply_last_ts = rec.ts_ns
        return "BA" if mh_type == C.MH_BA else None

    def _pair_cut_cot(self, rec: Record, res: Resolved, ep: CNState) -> None:
        """A CoT cut inside its fixed fields (its cookie unread) answers the CoTI of
        ``ep`` it can only answer: the one CoTI from its destination to its CN still open
        (in the capture), sent before it.  That CoTI takes the CoT's arrival as its reply
        (an RTT_RO sample when it went once, Karn's rule); its nonce index stays unread,
        and it stays open for the whole CoT, should a copy come.  With two or more open
        (or none), which one it answered is unknown: none is paired (cot_cut_off says it)."""
        open_here = [
            ex
            for (coa, cn, _), (_, ex) in self.coti_index.items()
            if coa == res.coa and cn == res.peer and not ex.answered
        ]
        if len(open_here) != 1:
            return
        ex = open_here[0]
        if ex.first_ts is None or ex.first_ts > rec.ts_ns:
            return
        if any(e is ex for e in ep.cotis.values()):
            ex.answer(rec.ts_ns, rec.frame)

    @staticmethod
    def _pair_cut_coti(ep: CNState, cookie: bytes, coa: str) -> Exchange | None:
        """A CoT (its cookie ``cookie``) that answers no CoTI the capture can read, after
        a CoTI the capture cut before its cookie (coti_cut_off): when that cut CoTI is the
        episode's only one and no CoT was paired with it yet, the CoT can only answer it
        (or a CoTI before the capture, which the cut one then resent).  The cut CoTI
        becomes the CoT's request, sent once at its capture time (an RTT_RO sample: Karn's
        rule needs nothing more, a second cut CoTI may be its copy and pairs none); None
        when it is not so."""
        frame, ts = ep.cut_coti_frame, ep.cut_coti_ts
        if ep.cut_cotis != 1 or frame is None or ts is None or len(ep.cotis) >= MAX_EXCHANGES:
            return None
        ep.cut_coti_frame = None  # (one CoT only)
        ex = ep.cotis[cookie] = Exchange(coa=coa)
        ex.send(ts, frame)
        return ex

    def _began_before_capture(self, ho: Handover, coa: str) -> bool:
        """An orphan reply to ``coa`` in handover ``ho``: True when the capture began
        inside ``ho``.  In the MN's first handover of the capture, a reply to its address
        answering a request the capture does not hold shows that the request -- and so
        the move -- came before the capture's first packet of it: its t0 is not
        observed (DESIGN.md section 4), even though a later request opened it here.  Its
        CN episodes so far are flagged so too (capture_started_mid_episode).  In a later
        handover the capture lost the request: ``ho.lost_request`` (request_not_captured;
        False is returned)."""
        if not ho.mid_start and coa == ho.coa and ho.t0_source != "event":
            if ho.first_in_capture:
                ho.missed_start = True
                for ep in ho.all_cns():
                    ep.started_mid = True
            else:  # the MN's earlier traffic is in the capture: it lost the request
                ho.lost_request = True
        return ho.mid_start

    def _ha_ba(
        self,
        rec: Record,
        ba: BindingAcknowledgement,
        ho: Handover,
        step: Step,
        verdict: str | None,
    ) -> None:
        seq = ba.sequence
        ex = _out_of_window(ba, ho.ha_bus) or ho.ha_bus.get(seq)
        if ex is None:
            if seq in (ho.ha_refresh_seqs or ()):
                return
            self.diag.warn(
                "orphan_reply",
                f"frame {rec.frame}: BA seq {seq} from HA {rec.src} answers no BU in the capture",
                rec.frame,
            )
            if ho.ha_bus:
                return
            # (kept when the capture began inside the handover or lost its BU: the home
            # registration happened, only its request is not in the capture)
            if not self._began_before_capture(ho, ho.coa) and not ho.lost_request:
                return
            ex = ho.ha_bus[seq] = Exchange(coa=ho.coa)
            ho.ha = rec.src
        if ex.answer(rec.ts_ns, rec.frame, ba.status):
            if verdict:
                ex.verdicts.append(verdict)
            if len(ho.ha_steps) < MAX_STEPS:
                ho.ha_steps.append(step)

    def _cn_ba(
        self,
        rec: Record,
        ba: BindingAcknowledgement,
        res: Resolved,
        ho: Handover,
        step: Step,
        verdict: str | None,
    ) -> None:
        seq = ba.sequence
        ep = ho.cns.get(res.peer)
        ex: Exchange | None = None
        label = "BA"
        late = None if ep is None else _out_of_window(ba, ep.ebus, ep.bus)
        if ep is not None and late is not None:
            ex, label = late, "EBA" if any(e is late for e in ep.ebus.values()) else "BA"
        elif ep is not None:
            if seq in ep.ebus:
                ex, label = ep.ebus[seq], "EBA"
            elif seq in ep.bus:
                ex, label = ep.bus[seq], "BA"
            elif seq in (ep.refresh_seqs or ()):
                return
        if ep is None or ex is None:  # (ex is None whenever ep is)
            self.diag.warn(
                "orphan_reply",
                f"frame {rec.frame}: BA seq {seq} from {res.peer} to "
                f"{res.mn} answers no BU in the capture",
                rec.frame,
            )
            if not ho.mid_start:
                if ep is None or not (ep.bus or ep.ebus):
                    # The CN answered an update sent from this address that the capture
                    # lost, the episode's only one: it says so (kind and mode unknown,
                    # quality incomplete), and the CN's route-optimised data that follows
                    # is this binding's, not a refresh of an older one.  (One it cut,
                    # update_cut_off, says so already.)
                    ep = self._cn(ho, res.peer)
                    if UPDATE_CUT_NOTE not in (ep.notes or ()):
                        ep.notes = with_added(ep.notes, UPDATE_NOT_CAPTURED)
                return
            ep = self._cn(ho, res.peer)
            ex, label = ep.bus.setdefault(seq, Exchange(coa=ho.coa)), "BA"
        if ex.answer(rec.ts_ns, rec.frame, ba.status):
            if verdict:
                ep.verdicts.append(("reply", verdict))
            ep.add_step(step._replace(msg=label))


def _out_of_window(ba: BindingAcknowledgement, *tables: dict[int, Exchange]) -> Exchange | None:
    """A BA with status 135 carries the last *accepted* sequence number, not the refused
    BU's (RFC 6275 9.5.1): it answers the newest unanswered BU/EBU to that peer."""
    if ba.status != C.BA_STATUS_SEQ_OUT_OF_WINDOW:
        return None
    waiting = [e for t in tables for e in t.values() if not e.answered and e.first_ts is not None]
    return max(waiting, key=lambda e: e.first_ts or 0) if waiting else None


_MAY_BE_BA = (C.MH_BA, None)
_MAY_BE_BU = (C.MH_BU, None)
_MAY_BE_COTI = (C.MH_COTI, None)
_MAY_BE_HOTI = (C.MH_HOTI, None)


def _maybe_copies(ts_ns: int, open_requests: Iterable[Exchange]) -> None:
    """A CoTI/HoTI the capture cut before its cookie, sent at ``ts_ns``: a copy, maybe,
    of each request of its kind still open from that address to that CN (sent before it,
    unanswered), so Karn's rule withholds their RTT samples (Exchange.cut_copy_ts)."""
    for ex in open_requests:
        first = ex.first_ts
        if not ex.answered and ex.cut_copy_ts is None and first is not None and first <= ts_ns:
            ex.cut_copy_ts = ts_ns
