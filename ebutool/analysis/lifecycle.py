"""The handovers of episode reconstruction as they open and close (mixed into Reconstructor).

One :class:`MNState` per mobile node, its current :class:`Handover` and that
handover's :class:`CNState` per CN: made on first sight, opened and closed as the MN
moves, and evicted, least recently active first, when a table reaches
``--max-state-entries`` (docs/analysis.md "Limits"; the episodes are flagged
state_evicted).  Closing a handover settles what only the end can tell (:meth:`settle`).
Kept apart from the matching of messages (ebutool.analysis.handlers) and from the
stream itself (ebutool.analysis.episodes), which both call it.
"""

from __future__ import annotations

from dataclasses import replace

from ebutool.analysis.addressing import AddressBook
from ebutool.analysis.state import EVICTED_NOTE, CNState, Handover, MNState, with_added
from ebutool.core.bounded import make_room, put
from ebutool.core.constants import ProtocolConfig
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.units import NS_PER_S


class HandoverLifecycle:
    """Needs from its host: ``config``, ``diag``, ``book``, ``limit``, ``mns``,
    ``evicted_mns`` and ``closed`` (the handovers closed, handed out by the host)."""

    config: ProtocolConfig
    diag: Diagnostics
    book: AddressBook
    limit: int
    mns: dict[str, MNState]  # least recently active first
    evicted_mns: dict[str, None]
    closed: list[tuple[Handover, MNState]]

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
