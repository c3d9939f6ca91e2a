"""Episode reconstruction: a streaming state machine over the message stream.

Feed it Records and HandoverEvents in capture order; it keeps, per mobile node, the
current handover (one :class:`Handover` with the HA registration and one
:class:`CNState` per CN) and the recent home tests, and hands back a handover when
the MN moves on (or at the end).  Matching rules (DESIGN.md section 4):

* HoTI/HoT by (MN, CN, init cookie); CoTI/CoT by (care-of address, CN, init cookie);
* BU/BA and EBU/EBA by (MN, peer, sequence number), per handover;
* a BE to the last route-optimised data packet (status 1) or unknown-type MH (status 2)
  the MN sent to that CN;
* a CoTI carries no home address: it waits (bounded) until some packet maps its
  care-of address to an MN, then is processed in order;
* the home test an (E)BU used is the HoT whose nonce index the (E)BU carries.

Nothing here raises on odd input: every anomaly becomes a ``Diagnostics`` warning
or an episode note.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from ..constants import DEFAULT_CONFIG, ProtocolConfig
from ..diagnostics import Diagnostics
from ..mh.messages import BU_FLAG_A, BU_FLAG_H
from ..mh.options import NonceIndices
from ..records import HandoverEvent, Record
from .addressing import AddressBook, Resolved
from .model import MAX_EXCHANGES, MAX_STEPS, CNState, Exchange, Handover, Step

MAX_PENDING_PER_COA = 32     # CoTI/CoT held for a care-of address not yet mapped to an MN
MAX_PENDING_COAS = 1024
MAX_OPEN_TESTS = 64          # index entries for unanswered CoTIs / HoTIs (oldest dropped)
HOME_TESTS_KEPT = 8          # answered home tests remembered per (MN, CN)
NS_PER_S = 1_000_000_000


@dataclass
class HomeTests:
    """The home tests of one MN with one CN: open ones by cookie, recent answered ones."""

    open: dict[bytes, Exchange] = field(default_factory=dict)
    done: deque = field(default_factory=lambda: deque(maxlen=HOME_TESTS_KEPT))

    def find(self, nonce_index: int | None, ts_ns: int) -> tuple[Exchange | None, bool]:
        """(the answered test that produced a token usable at ``ts_ns``, matched by index)."""
        usable = [e for e in self.done if e.reply_ts is not None and e.reply_ts <= ts_ns]
        for e in reversed(usable):
            if nonce_index is not None and e.nonce_index == nonce_index:
                return e, True
        return (usable[-1] if usable else None), False


@dataclass
class MNState:
    mn: str
    current: Handover | None = None
    n_handovers: int = 0
    home_tests: dict[str, HomeTests] = field(default_factory=dict)

    def tests(self, cn: str) -> HomeTests:
        return self.home_tests.setdefault(cn, HomeTests())


class Reconstructor:
    """``feed()`` records and events in capture order, then ``finish()``; both return
    the handovers that closed (finalise them with :func:`ebutool.analysis.metrics.finalize`)."""

    def __init__(self, config: ProtocolConfig = DEFAULT_CONFIG, diag: Diagnostics | None = None,
                 oracle=None):
        self.config = config
        self.diag = diag if diag is not None else Diagnostics()
        self.oracle = oracle
        self.book = AddressBook()
        self.mns: dict[str, MNState] = {}
        self.pending: dict[str, list[tuple[Record, str | None]]] = {}
        self.coti_index: dict[tuple[str, str, bytes], tuple[CNState | None, Exchange]] = {}
        self.closed: list[tuple[Handover, MNState]] = []
        self.first_ts: int | None = None
        self.last_ts: int = 0

    # -- input -----------------------------------------------------------------------
    def feed(self, item: Record | HandoverEvent) -> list[tuple[Handover, MNState]]:
        if self.first_ts is None:
            self.first_ts = item.ts_ns
        self.last_ts = max(self.last_ts, item.ts_ns)
        if isinstance(item, HandoverEvent):
            self._event(item)
        else:
            self._record(item)
        out, self.closed = self.closed, []
        return out

    def finish(self) -> list[tuple[Handover, MNState]]:
        for coa, held in self.pending.items():
            self.diag.warn("unmapped_care_of_address",
                           f"frame {held[0][0].frame}: {len(held)} CoTI/CoT for {coa}, which no packet "
                           "ties to a mobile node (no HAO, tunnel or BU from it)", held[0][0].frame)
        self.pending.clear()
        for mst in self.mns.values():
            if mst.current is not None:
                self._close(mst)
        out, self.closed = self.closed, []
        return out

    def _event(self, ev: HandoverEvent) -> None:
        mst = self._mn(ev.mn)
        cur = mst.current
        if cur is not None and cur.coa == ev.coa:
            if cur.t0_source != "event":   # the simulator knows better than the first packet
                cur.t0_ns, cur.t0_source = ev.ts_ns, "event"
            return
        self._start(mst, ev.coa, ev.ts_ns, "event", prev=ev.prev_coa)
        if self.book.learn_coa(ev.coa, ev.mn):
            self._flush(ev.coa)

    def _record(self, rec: Record) -> None:
        verdict = self._verdict(rec) if rec.mh is not None else None
        res = self.book.resolve(rec)
        if res is None:
            if rec.mh is not None:
                self.diag.warn("unattributed_message", f"frame {rec.frame}: {rec.msg} {rec.src} -> "
                               f"{rec.dst} cannot be tied to a mobile node", rec.frame)
            return
        if res.mn is None:      # CoTI/CoT of a care-of address not mapped yet
            self._hold(res.coa, rec, verdict)
            return
        if res.coa and self.book.learn_coa(res.coa, res.mn):
            self._flush(res.coa)
        self._process(rec, res, verdict)

    def _hold(self, coa: str, rec: Record, verdict: str | None) -> None:
        held = self.pending.get(coa)
        if held is None:
            if len(self.pending) >= MAX_PENDING_COAS:
                self.diag.warn("unmapped_care_of_address", f"frame {rec.frame}: too many unmapped "
                               f"care-of addresses; {rec.msg} from {rec.src} dropped", rec.frame)
                return
            held = self.pending[coa] = []
        if len(held) < MAX_PENDING_PER_COA:
            held.append((rec, verdict))
        else:
            self.diag.warn("unmapped_care_of_address", f"frame {rec.frame}: {rec.msg} for unmapped "
                           f"{coa} dropped ({MAX_PENDING_PER_COA} already held)", rec.frame)

    def _flush(self, coa: str) -> None:
        for rec, verdict in self.pending.pop(coa, []):
            res = self.book.resolve(rec)
            if res is not None and res.mn is not None:
                self._process(rec, res, verdict)

    def _verdict(self, rec: Record) -> str | None:
        if self.oracle is None:
            return None
        try:
            v = self.oracle.check(rec)
        except Exception as exc:  # noqa: BLE001 - the oracle must never end an analysis
            self.diag.warn("oracle_error", f"frame {rec.frame}: oracle failed: {type(exc).__name__}: {exc}",
                           rec.frame)
            return None
        return getattr(v, "verdict", None)

    # -- state -----------------------------------------------------------------------
    def _mn(self, mn: str) -> MNState:
        mst = self.mns.get(mn)
        if mst is None:
            mst = self.mns[mn] = MNState(mn)
        return mst

    def _start(self, mst: MNState, coa: str, ts_ns: int, opened_by: str,
               prev: str | None = None, source: str = "") -> Handover:
        old = mst.current
        if old is not None:
            self._close(mst)
        ho = Handover(mn=mst.mn, coa=coa, prev_coa=prev or (old.coa if old else None), t0_ns=ts_ns,
                      t0_source="event" if opened_by == "event" else "first_packet",
                      first_in_capture=mst.n_handovers == 0, opened_by=opened_by,
                      ha=self.book.ha_of.get(mst.mn), source=source)
        mst.current = ho
        mst.n_handovers += 1
        return ho

    def _close(self, mst: MNState) -> None:
        ho = mst.current
        mst.current = None
        if ho is None:
            return
        window = int(self.config.initial_bindack_timeout * NS_PER_S)
        for ep in ho.cns.values():
            if ep.home_test is None:
                # No (E)BU named a home token (e.g. the HoT was lost): take the home test
                # sent from this address alongside the episode's own requests.
                last = (ep.last_up_ts or ho.t0_ns) + window
                tests = mst.tests(ep.cn)
                for ex in list(tests.done) + list(tests.open.values()):
                    if ex.coa == ho.coa and ex.first_ts is not None and ho.t0_ns <= ex.first_ts <= last:
                        ep.home_test = ex
                        break
        self.closed.append((ho, mst))

    def _cn(self, ho: Handover, cn: str) -> CNState:
        ep = ho.cns.get(cn)
        if ep is None:
            ep = ho.cns[cn] = CNState(cn, started_mid=ho.mid_start)
        return ep

    # -- one record ------------------------------------------------------------------
    def _process(self, rec: Record, res: Resolved, verdict: str | None) -> None:
        mst = self._mn(res.mn)
        peer_role = "HA" if self.book.is_ha(res.mn, res.peer) else "CN"
        if res.up:
            step = Step(rec.ts_ns, rec.frame, rec.msg, "MN", peer_role)
            cur = mst.current
            if cur is None or (res.coa is not None and cur.coa != res.coa):
                cur = self._start(mst, res.coa, rec.ts_ns, rec.msg, source=rec.source)
            self._up(rec, res, mst, cur, step, verdict)
            return
        step = Step(rec.ts_ns, rec.frame, rec.msg, peer_role, "MN")
        if rec.msg == "HoT":
            self._hot(rec, res, mst, step)
            return
        cur = mst.current
        if cur is None:
            # The first we see of this MN is something sent to it: the capture began
            # after the handover, whose start is unknown.
            cur = self._start(mst, res.coa, rec.ts_ns, f"{rec.msg}_received", source=rec.source)
        elif cur.coa != res.coa:
            if rec.mh is not None:
                self.diag.warn("message_to_old_address", f"frame {rec.frame}: {rec.msg} to {res.coa}, "
                               f"which {res.mn} left for {cur.coa}; ignored", rec.frame)
            return
        self._down(rec, res, cur, step, verdict)

    def _up(self, rec: Record, res: Resolved, mst: MNState, ho: Handover, step: Step,
            verdict: str | None) -> None:
        msg, m = rec.msg, rec.mh
        if msg in ("BU", "EBU"):
            to_ha = bool(m.flags & BU_FLAG_H) or step.receiver == "HA"
            if to_ha:
                self._ha_bu(rec, res, ho, step, verdict)
            else:
                self._cn_bu(rec, res, mst, ho, step, verdict)
        elif msg == "CoTI":
            ep = self._cn(ho, res.peer)
            key = (res.coa, res.peer, m.init_cookie)
            if ep.complete:     # a refresh of a finished binding: absorb its CoT quietly
                self._index(key, None, Exchange())
                return
            ex = ep.cotis.get(m.init_cookie)
            if ex is None:
                if len(ep.cotis) >= MAX_EXCHANGES:
                    return
                ex = ep.cotis[m.init_cookie] = Exchange(coa=res.coa)
            ex.send(rec.ts_ns, rec.frame)
            self._index(key, ep, ex)
            ep.last_up_ts = rec.ts_ns
            ep.add_step(step)
        elif msg == "HoTI":
            tests = mst.tests(res.peer)
            ex = tests.open.get(m.init_cookie)
            if ex is None:
                if len(tests.open) >= MAX_OPEN_TESTS:
                    tests.open.pop(next(iter(tests.open)))
                ex = tests.open[m.init_cookie] = Exchange(coa=res.coa)
            ex.send(rec.ts_ns, rec.frame)
            if len(ex.steps) < MAX_STEPS:
                ex.steps.append(step._replace(receiver="CN"))
        elif msg == "data":
            ep = ho.cns.get(res.peer)
            if ep is None or res.tunnelled:     # reverse-tunnelled data is not route-optimised
                return
            ep.last_ro_send_frame = rec.frame
            if ep.first_send is None:
                ep.first_send = (rec.ts_ns, rec.frame)
                ep.add_step(step)
        else:                                   # other MH types an MN may send (BE, BRR, other)
            ep = ho.cns.get(res.peer)
            if ep is not None:
                ep.last_other_frame = rec.frame
                ep.add_step(step)

    def _index(self, key, ep: CNState | None, ex: Exchange) -> None:
        if key not in self.coti_index and len(self.coti_index) >= MAX_OPEN_TESTS * 64:
            self.coti_index.pop(next(iter(self.coti_index)))
        self.coti_index[key] = (ep, ex)

    def _ha_bu(self, rec: Record, res: Resolved, ho: Handover, step: Step, verdict: str | None) -> None:
        seq = rec.mh.sequence
        self.book.learn_ha(res.mn, res.peer)
        ho.ha = res.peer
        ex = ho.ha_bus.get(seq)
        if ex is None:
            if ho.ha_done or seq in ho.ha_refresh_seqs or len(ho.ha_bus) >= MAX_EXCHANGES:
                ho.ha_refresh_seqs.add(seq)     # a lifetime refresh, not part of the handover
                return
            ex = ho.ha_bus[seq] = Exchange(coa=res.coa)
        ex.send(rec.ts_ns, rec.frame)
        if verdict:
            ex.verdicts.append(verdict)
        ho.ha_dereg = ho.ha_dereg or rec.deregistration
        if len(ho.ha_steps) < MAX_STEPS:
            ho.ha_steps.append(step._replace(receiver="HA"))

    def _cn_bu(self, rec: Record, res: Resolved, mst: MNState, ho: Handover, step: Step,
               verdict: str | None) -> None:
        seq, early = rec.mh.sequence, rec.msg == "EBU"
        ep = self._cn(ho, res.peer)
        table = ep.ebus if early else ep.bus
        ex = table.get(seq)
        if ex is None:
            if ep.complete or seq in ep.refresh_seqs or len(table) >= MAX_EXCHANGES:
                ep.refresh_seqs.add(seq)
                return
            ex = table[seq] = Exchange(coa=res.coa, ack_requested=bool(rec.mh.flags & BU_FLAG_A))
        ex.send(rec.ts_ns, rec.frame)
        ep.dereg = ep.dereg or rec.deregistration
        ep.last_up_ts = rec.ts_ns
        if verdict:
            ep.verdicts.append(("request", verdict))
        ep.add_step(step)
        ni = rec.mh.option(NonceIndices)
        if ep.home_test is None:
            index = ni.home_index if ni is not None else None
            ep.home_test, matched = mst.tests(res.peer).find(index, rec.ts_ns)
            ep.home_index = index
            if ep.home_test is not None and not matched and index is not None:
                ep.notes.add("home_nonce_index_unmatched")

    def _hot(self, rec: Record, res: Resolved, mst: MNState, step: Step) -> None:
        tests = mst.tests(res.peer)
        ex = tests.open.pop(rec.mh.init_cookie, None)
        if ex is None:
            self.diag.warn("orphan_reply", f"frame {rec.frame}: HoT from {res.peer} to {res.mn} "
                           "answers no HoTI in the capture", rec.frame)
            return
        ex.answer(rec.ts_ns, rec.frame)
        ex.nonce_index = rec.mh.nonce_index
        if len(ex.steps) < MAX_STEPS:
            ex.steps.append(step._replace(sender="CN"))
        tests.done.append(ex)

    def _down(self, rec: Record, res: Resolved, ho: Handover, step: Step, verdict: str | None) -> None:
        msg, m = rec.msg, rec.mh
        if msg == "BA":
            if step.sender == "HA":
                self._ha_ba(rec, ho, step, verdict)
            else:
                self._cn_ba(rec, res, ho, step, verdict)
        elif msg == "CoT":
            ep, ex = self.coti_index.pop((res.coa, res.peer, m.init_cookie), (None, None))
            if ex is None:
                self.diag.warn("orphan_reply", f"frame {rec.frame}: CoT from {res.peer} to {res.coa} "
                               "answers no CoTI in the capture", rec.frame)
                if ho.mid_start:
                    ep = self._cn(ho, res.peer)
                    ex = ep.cotis.setdefault(m.init_cookie, Exchange(coa=res.coa))
                else:
                    return
            if ep is None:      # the CoT of a refresh
                return
            if ex.answer(rec.ts_ns, rec.frame):
                ex.nonce_index = m.nonce_index
                ep.add_step(step)
        elif msg == "BE":
            ep = ho.cns.get(res.peer)
            if ep is None:
                self.diag.warn("binding_error_outside_episode", f"frame {rec.frame}: BE status "
                               f"{m.status} from {res.peer} to {res.mn} outside any episode", rec.frame)
                return
            cause = ep.last_ro_send_frame if m.status == 1 else ep.last_other_frame
            ep.n_binding_errors += 1
            if len(ep.binding_errors) < MAX_EXCHANGES:
                ep.binding_errors.append((rec.frame, m.status, cause))
            ep.add_step(step)
        elif msg == "data":
            ep = ho.cns.get(res.peer)
            if ep is None or res.tunnelled:     # HA-tunnelled data is not route-optimised
                return
            if ep.first_recv is None:
                ep.first_recv = (rec.ts_ns, rec.frame)
                ep.add_step(step)
        else:                                   # BRR, other
            ep = ho.cns.get(res.peer)
            if ep is not None:
                ep.add_step(step)

    def _ha_ba(self, rec: Record, ho: Handover, step: Step, verdict: str | None) -> None:
        seq = rec.mh.sequence
        ex = ho.ha_bus.get(seq)
        if ex is None:
            if seq in ho.ha_refresh_seqs:
                return
            self.diag.warn("orphan_reply", f"frame {rec.frame}: BA seq {seq} from HA {rec.src} "
                           "answers no BU in the capture", rec.frame)
            if not ho.mid_start or ho.ha_bus:
                return
            ex = ho.ha_bus[seq] = Exchange(coa=ho.coa)
            ho.ha = rec.src
        if ex.answer(rec.ts_ns, rec.frame, rec.mh.status):
            if verdict:
                ex.verdicts.append(verdict)
            if len(ho.ha_steps) < MAX_STEPS:
                ho.ha_steps.append(step)

    def _cn_ba(self, rec: Record, res: Resolved, ho: Handover, step: Step, verdict: str | None) -> None:
        seq = rec.mh.sequence
        ep = ho.cns.get(res.peer)
        ex = label = None
        if ep is not None:
            if seq in ep.ebus:
                ex, label = ep.ebus[seq], "EBA"
            elif seq in ep.bus:
                ex, label = ep.bus[seq], "BA"
            elif seq in ep.refresh_seqs:
                return
        if ex is None:
            self.diag.warn("orphan_reply", f"frame {rec.frame}: BA seq {seq} from {res.peer} to "
                           f"{res.mn} answers no BU in the capture", rec.frame)
            if not ho.mid_start:
                return
            ep = self._cn(ho, res.peer)
            ex, label = ep.bus.setdefault(seq, Exchange(coa=ho.coa)), "BA"
        if ex.answer(rec.ts_ns, rec.frame, rec.mh.status):
            if verdict:
                ep.verdicts.append(("reply", verdict))
            ep.add_step(step._replace(msg=label))


def check_order(items: Iterable, diag: Diagnostics) -> Iterator:
    """Pass ``items`` through, diagnosing timestamps that go backwards (never fatal:
    the episode logic works in capture order and flags negative intervals)."""
    last_ts, last_frame = None, None
    for it in items:
        if last_ts is not None and it.ts_ns < last_ts:
            diag.warn("timestamp_out_of_order", f"frame {it.frame}: timestamp "
                      f"{(last_ts - it.ts_ns) / 1e6:.3f} ms earlier than frame {last_frame}", it.frame)
        else:
            last_ts, last_frame = it.ts_ns, it.frame
        yield it
