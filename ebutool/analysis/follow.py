"""Following a live capture (``analyze --follow``): each episode's row as soon as it closes.

The batch analysis (:func:`ebutool.analysis.build_rows`) writes its table when the
input ends; a handover closes there when its MN moves on.  :class:`Follower` feeds the
same :class:`~ebutool.analysis.episodes.Reconstructor` and hands out an episode's row
as soon as the episode *closes*, in capture time (never the wall clock):

* **completed**: the episode's standard BU (or deregistration) took effect (the
  ``complete`` column) and route-optimised data was seen in both directions, so both
  observed latencies are known; checked on every record of its MN;
* **timed out**: no request or reply of its handover for MAX_BINDACK_TIMEOUT
  (``--max-bindack-timeout``, RFC 6275 11.8: the longest an MN waits before it sends a
  request again), checked every FOLLOW_SWEEP_S of capture time;
* **superseded**: the MN moved on, or the input ended (as in the batch analysis).

A followed row is computed exactly as the batch row, from what was known at close.
What needs later packets or other episodes holds what was known then (docs/outputs.md
"--follow"): ``episode`` (numbered in closing order), ``diagnosis``'s
``ebu_or_eba_lost`` (needs another episode of the same CN to have answered an EBU
before), counts of packets that come after the close (``n_retransmissions``,
``n_binding_errors``, ``karn_excluded``), ``vantage`` and the columns it empties (the
decision of the first records, ebutool.analysis.vantage.lookahead).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd

from ebutool.analysis.episodes import Reconstructor
from ebutool.analysis.metrics import finalize
from ebutool.analysis.observable import apply_vantage
from ebutool.analysis.rows import EpisodeRows
from ebutool.analysis.state import Episode, Handover, MNState
from ebutool.analysis.vantage import Evidence, VantageDecision, lookahead
from ebutool.core.constants import DEFAULT_CONFIG, ProtocolConfig
from ebutool.core.diagnostics import Diagnostics
from ebutool.records.retype import retyped

NS_PER_S = 1_000_000_000
FOLLOW_SWEEP_S = 1.0  # capture time between two looks for timed-out handovers


def last_activity(ho: Handover) -> int:
    """The time of the handover's last request or reply (its t0 when none)."""
    last = ho.t0_ns
    tables: list[dict] = [ho.ha_bus]
    for st in ho.all_cns():
        tables += [st.cotis, st.ebus, st.bus]
        for seen in (st.first_send, st.first_recv):
            if seen is not None and seen[0] > last:
                last = seen[0]
    for table in tables:
        for ex in table.values():
            if ex.sends and ex.sends[-1] > last:
                last = ex.sends[-1]
            if ex.reply_ts is not None and ex.reply_ts > last:
                last = ex.reply_ts
    return last


def _start_unsettled(ho: Handover) -> bool:
    """The MN's first handover of the capture, dated by its first packet, whose home
    registration the capture has not shown yet: a reply still to come may show that the
    capture began inside it (then that packet is no t0: ebutool.analysis.handlers
    ``_began_before_capture``), so its rows wait for its close (timed out or
    superseded), not its completion."""
    return ho.first_in_capture and ho.t0_source != "event" and not ho.ha_bus


def _key(ep: Episode) -> tuple:
    return (ep.cn, ep.t0_ns, ep.coa)


class Follower:
    """``feed()`` records in capture order, then ``finish()``: each returns the episode
    rows that closed (an episode table, maybe empty), numbered in closing order.
    ``vantage``: the role the reconstruction and the rows use (ebutool.analysis.vantage;
    None: ambiguous); ``mn``/``cn`` keep only their rows; ``source`` labels them."""

    def __init__(
        self,
        config: ProtocolConfig = DEFAULT_CONFIG,
        diag: Diagnostics | None = None,
        oracle=None,
        vantage: str | None = None,
        *,
        mn: str | None = None,
        cn: str | None = None,
        source: str | None = None,
    ) -> None:
        self.config = config
        self.rc = Reconstructor(config, diag, oracle)
        self.rc.vantage = vantage
        self.vantage = vantage
        self.mn, self.cn, self.source = mn, cn, source
        self.timeout_ns = int(config.max_bindack_timeout * NS_PER_S)
        self.sweep_ns = int(FOLLOW_SWEEP_S * NS_PER_S)
        self.next_sweep: int | None = None
        # id(handover) -> (the handover, keys and CNs of its episodes already written)
        self.written: dict[int, tuple[Handover, set[tuple], set[str | None]]] = {}
        self.idle_at: dict[int, int] = {}  # id(handover) -> its activity when it timed out
        self.answering: set[str] = set()  # CNs that accepted an EBU so far
        self.count = 0  # episodes written (numbers them)

    def feed(self, item) -> pd.DataFrame | None:
        rows: list[Episode] = []
        for ho, _ in self.rc.feed(item):
            rows += self._closed(ho, None)
        now = self.rc.last_ts
        for mst in self._touched(item):
            rows += self._ready(mst, now)
        if self.next_sweep is None or now >= self.next_sweep:
            self.next_sweep = now + self.sweep_ns
            for mst in list(self.rc.mns.values()):
                cur = mst.current
                if cur is None:
                    continue
                last = last_activity(cur)
                if now - last > self.timeout_ns and self.idle_at.get(id(cur)) != last:
                    self.idle_at[id(cur)] = last  # looked at again only after new activity
                    self.rc.settle(cur, mst)
                    rows += self._emit(cur, lambda _: True)
        return self._table(rows) if rows else None

    def finish(self) -> pd.DataFrame | None:
        rows: list[Episode] = []
        for ho, _ in self.rc.finish():
            rows += self._closed(ho, self.rc.last_ts)
        return self._table(rows) if rows else None

    # -- which episodes close ----------------------------------------------------------
    def _touched(self, item) -> list[MNState]:
        """The MNs a record may concern (its addresses, mapped care-of addresses)."""
        mns, coa_to_mn = self.rc.mns, self.rc.book.coa_to_mn
        names = {getattr(item, "mn", None)}
        for attr in ("hoa", "rh2", "src", "dst", "tunnel_src", "tunnel_dst"):
            addr = getattr(item, attr, None)
            if addr is not None:
                names.add(addr)
                names.add(coa_to_mn.get(addr))
        return [mns[n] for n in names if n is not None and n in mns]

    def _ready(self, mst: MNState, now: int) -> list[Episode]:
        """The completed episodes of the MN's current handover (module doc)."""
        ho = mst.current
        if ho is None or _start_unsettled(ho):
            return []
        entry = self.written.get(id(ho))
        gone = entry[2] if entry is not None else ()
        done = {
            st.cn
            for st in ho.all_cns()
            if st.cn not in gone
            and st.complete
            and st.first_send is not None
            and st.first_recv is not None
        }
        if not done:
            return []
        self.rc.settle(ho, mst, done)
        return self._emit(ho, lambda ep: ep.cn in done)

    def _emit(self, ho: Handover, closes, capture_end: int | None = None) -> list[Episode]:
        """The episodes of ``ho`` that ``closes`` and were not written yet."""
        _, written, cns = self.written.setdefault(id(ho), (ho, set(), set()))
        out = []
        for ep in finalize(ho, self.config, capture_end, timeline=False):
            key = _key(ep)
            if key not in written and closes(ep):
                written.add(key)
                cns.add(ep.cn)
                out.append(ep)
        if out:
            for st in ho.all_cns():
                if any(e.accepted for e in st.ebus.values()):
                    self.answering.add(st.cn)
        return out

    def _closed(self, ho: Handover, capture_end: int | None) -> list[Episode]:
        """The Reconstructor closed ``ho``: its episodes not written yet."""
        out = self._emit(ho, lambda _: True, capture_end)
        self.written.pop(id(ho), None)
        self.idle_at.pop(id(ho), None)
        return out

    # -- rows --------------------------------------------------------------------------
    def _table(self, eps: list[Episode]) -> pd.DataFrame:
        rows = EpisodeRows()
        rows.answering_cns = self.answering  # shared: what is known so far
        for ep in eps:
            rows.add(ep)
        rows.close()  # the fallback causes known so far; time order within this batch
        if self.source is not None:
            label = self.source
            rows.relabel(lambda _: label)
        first = self.count + 1
        self.count += len(rows)
        df = rows.frame()
        df["episode"] = pd.array(range(first, first + len(df)), dtype="Int64")
        if self.mn is not None or self.cn is not None:
            keep = np.ones(len(df), dtype=bool)
            for column, value in (("mn", self.mn), ("cn", self.cn)):
                if value is not None:
                    keep &= (df[column] == value).to_numpy(dtype=bool)
            df = df.iloc[np.flatnonzero(keep)].reset_index(drop=True)
        return apply_vantage(df, self.vantage)


def follow(
    records: Iterable,
    config: ProtocolConfig = DEFAULT_CONFIG,
    diag: Diagnostics | None = None,
    oracle=None,
    vantage: str | None = None,
    *,
    mn: str | None = None,
    cn: str | None = None,
    source: str | None = None,
) -> Iterator[pd.DataFrame]:
    """The episode rows of a message stream as they close (module doc): non-empty
    tables of one or a few rows, as soon as the record that closes them was read.
    ``vantage`` None: detected from the first records (which are read before any row
    can close; give it to start at once)."""
    diag = diag if diag is not None else Diagnostics()
    if vantage is None:
        decision, records = lookahead(records, Evidence())
    else:
        decision = VantageDecision(vantage, "--vantage", given=True)
    fl = Follower(config, diag, oracle, decision.role, mn=mn, cn=cn, source=source)
    for item in retyped(records, config.mh_types, diag):
        df = fl.feed(item)
        if df is not None and len(df):
            yield df
    df = fl.finish()
    if df is not None and len(df):
        yield df
