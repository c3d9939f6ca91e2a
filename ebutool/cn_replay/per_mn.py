"""Replay's trace collected per mobile node, with bounded state (issue 12).

Everything the replay compares is keyed by the MN: its updates, the acknowledgements
addressed to it, the CN data sent for it, the model's binding cache entries (MN, CN).
So the trace is collected in one table of per-MN groups, least recently active first
(ebutool.core.bounded), holding at most ``--max-state-entries`` MNs.  At the end of the
input the groups left are merged back in capture order and replayed together: for an
input within the bound that is exactly the whole trace, and the outputs are those of
replaying it at once.  Beyond the bound, when a new MN finds the table full, the least
recently active tenth of the MNs is replayed as one batch with what the capture showed
so far, its rows are handed on (the CLI writes them at once) and the MNs are forgotten:
each one a counted ``state_evicted`` warning.  docs/replay.md "Bounded state" describes
the order of the rows this gives.

The tables shared by every MN are bounded too: round-trip samples per (CN, care-of
address) path, home agents, CNs sent updates (by count, oldest forgotten, counted).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ebutool.cn_replay.collected_trace import (
    ANSWER_TYPES,
    Authenticate,
    ObservedAck,
    Trace,
    _Data,
    _Sent,
    observe,
)
from ebutool.core.bounded import EVICTED, make_room, put, touch
from ebutool.core.diagnostics import Diagnostics
from ebutool.records.record import Record

EVICT_SHARE = 10  # a full MN table replays and forgets 1/EVICT_SHARE of its MNs at once


@dataclass(slots=True)
class _Group:
    """One MN's part of the trace; every item with its arrival number (capture order)."""

    sent: list[_Sent] = field(default_factory=list)  # _Sent.index = arrival number
    acks: list[tuple[int, ObservedAck]] = field(default_factory=list)
    data: list[tuple[int, _Data]] = field(default_factory=list)


class _BatchTrace(Trace):
    """A batch's Trace whose round-trip samples go to the collector's bounded table."""

    collector: Collector | None = None

    def add_rtt(self, key: tuple[str, str], sample: tuple[int, int]) -> None:
        assert self.collector is not None
        self.collector.add_rtt(key, sample)


class Collector:
    """A :class:`~ebutool.cn_replay.collected_trace.Sink` that groups the trace by MN, bounded."""

    def __init__(self, diag: Diagnostics, limit: int | None) -> None:
        self.diag, self.limit = diag, limit
        self.groups: dict[str, _Group] = {}
        self.ready: list[list[_Group]] = []  # evicted batches not yet replayed
        self.rtt: dict[tuple[str, str], list[tuple[int, int]]] = {}
        self.home_agents: dict[str, bool] = {}
        self.cns: dict[str, bool] = {}
        self.first_ns: int | None = None
        self.last_ns: int | None = None
        self._n = 0  # arrival number of the next item
        self._frame: int | None = None
        self.peak_groups = 0  # the most MNs held at once (the bound's tests)

    # -- the Sink protocol -----------------------------------------------------------

    def sent_count(self) -> int:
        return self._n

    def add_sent(self, s: _Sent) -> None:
        self._frame = s.rec.frame
        put(self.cns, s.cn, True, self.limit, self.diag, "replay correspondents", s.rec.frame)
        self._group(s.mn).sent.append(s)
        self._n += 1

    def add_home_agent(self, addr: str) -> None:
        put(self.home_agents, addr, True, self.limit, self.diag, "replay home agents")

    def add_ack(self, ack: ObservedAck) -> None:
        self._frame = ack.frame
        self._group(ack.rh2 or ack.dst).acks.append((self._n, ack))
        self._n += 1

    def add_data(self, d: _Data) -> None:
        self._frame = d.frame
        self._group(d.mn).data.append((self._n, d))
        self._n += 1

    def add_rtt(self, key: tuple[str, str], sample: tuple[int, int]) -> None:
        samples = self.rtt.get(key)
        if samples is None:  # (insertion order kept: the nearest-sample ties of estimate_rtt)
            make_room(self.rtt, self.limit, self.diag, "replay round-trip paths")
            samples = self.rtt[key] = []
        if self.limit is not None and len(samples) >= self.limit:
            del samples[0]
            self.diag.warn(
                EVICTED,
                f"replay round-trip samples of the path {key[0]}, {key[1]}: more than "
                f"{self.limit} (--max-state-entries): the oldest was forgotten",
            )
        samples.append(sample)

    # -- groups and batches ----------------------------------------------------------

    def _group(self, mn: str) -> _Group:
        g = touch(self.groups, mn)
        if g is None:
            if self.limit is not None and len(self.groups) >= self.limit:
                self._evict()
            g = self.groups[mn] = _Group()
            self.peak_groups = max(self.peak_groups, len(self.groups))
        return g

    def _evict(self) -> None:
        assert self.limit is not None
        batch = []
        for mn in list(self.groups)[: max(1, self.limit // EVICT_SHARE)]:
            batch.append(self.groups.pop(mn))
            where = "" if self._frame is None else f"frame {self._frame}: "
            self.diag.warn(
                EVICTED,
                f"{where}replay mobile nodes table full ({self.limit} entries, "
                f"--max-state-entries): the least recently active MN ({mn}) was replayed "
                "with what the capture had shown so far and forgotten",
                self._frame,
            )
        self.ready.append(batch)

    def trace_of(self, groups: list[_Group]) -> Trace:
        """The Trace of ``groups`` in capture order (updates numbered from 0)."""
        sent = sorted((s for g in groups for s in g.sent), key=lambda s: s.index)
        for i, s in enumerate(sent):
            s.index = i
        acks = [a for _, a in sorted((x for g in groups for x in g.acks), key=_first)]
        data = [d for _, d in sorted((x for g in groups for x in g.data), key=_first)]
        tr = _BatchTrace(
            sent,
            acks,
            data,
            set(self.home_agents),
            self.rtt,
            self.first_ns,
            self.last_ns,
            known_cns=set(self.cns),
        )
        tr.collector = self
        return tr


def _first(item: tuple) -> int:
    return item[0]


def batches(
    items: Iterable,
    authenticate: Authenticate | None,
    diag: Diagnostics,
    default_basis: str,
    limit: int | None,
    col: Collector | None = None,
    answers: frozenset[int] = ANSWER_TYPES,
) -> Iterator[Trace]:
    """The traces to replay one after the other: those of evicted MNs as the table fills,
    then the rest at the end (one Trace, the whole input, when it stays within ``limit``).
    ``col``: the collector to use (a test's, to look at its tables)."""
    col = col if col is not None else Collector(diag, limit)
    coti: dict = {}
    for rec in items:
        if not isinstance(rec, Record):
            continue
        observe(rec, col, coti, authenticate, diag, default_basis, answers)
        while col.ready:
            yield col.trace_of(col.ready.pop(0))
    rest = list(col.groups.values())
    col.groups.clear()
    yield col.trace_of(rest)
