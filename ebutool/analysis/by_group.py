"""One run's analysis split into groups of mobile nodes, and put together again.

The reconstruction's state is kept per mobile node (its handovers, care-of addresses,
pending CoTIs, open tests), so the records of a group of mobile nodes can be analysed
apart from the others' (ebutool.store.grouped splits a record store so, and runs each
group as a Dask task).  What crosses mobile nodes is handled so that the table is the
one the whole run gives:

* the home agents known so far (``AddressBook.home_agents``: an address is an HA for
  every MN once any MN showed it): each group is told, before each record, the HAs the
  other groups learnt before it (``ha_schedule``) and reports where it learnt each
  (:attr:`GroupResult.learnt`); the caller checks the two agree and runs a group again
  when they do not;
* the oracle's per-CN nonce first-use table and its sweeps
  (:class:`ebutool.oracle.scheduled.ScheduledOracle`);
* the CNs that answered an EBA anywhere (the fallback cause ``ebu_or_eba_lost``) and
  the order and numbering of the episodes: each group's rows come back unclosed and
  :func:`merge_groups` closes them together (:meth:`EpisodeRows.close`);
* the vantage evidence: counted per group and summed (:func:`sum_evidence`);
* the capture's end (``capture_end_ns``, the run's last time, for open handovers).

The run-wide bounds of the reconstruction's tables (MAX_PENDING_COAS, MAX_OPEN_COTIS,
MAX_COT_ZERO) act per group here: :attr:`GroupResult.peak` reports the most entries
each held, and a caller whose groups together reach a bound runs the analysis in one
piece instead (the single run would have dropped entries); so for the tables of every
MN that --max-state-entries bounds (:attr:`GroupResult.sizes`, :func:`run_wide_tables`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields

from ebutool.analysis.addressing import AddressBook
from ebutool.analysis.early_or_standard import MAX_COT_ZERO
from ebutool.analysis.episodes import MAX_PENDING_COAS, Reconstructor
from ebutool.analysis.handlers import MAX_OPEN_COTIS
from ebutool.analysis.rows import EpisodeRows
from ebutool.analysis.vantage import Evidence
from ebutool.core.bounded import put
from ebutool.core.constants import ProtocolConfig
from ebutool.core.diagnostics import Diagnostics
from ebutool.records.record import HandoverEvent, Record
from ebutool.records.retype import retyper

NEVER = 1 << 62  # a position after every record
# The run-wide table bounds (see the module doc), by the name GroupResult.peak uses.
BOUNDS = {"pending": MAX_PENDING_COAS, "coti_index": MAX_OPEN_COTIS, "cot_zero": MAX_COT_ZERO}


@dataclass
class ScheduledBook(AddressBook):
    """An AddressBook told the HAs other groups learnt (``injected``: (position, HA),
    in run order), which records where it learnt each HA itself (``learnt``).  Before
    each record the caller sets ``pos`` and, when ``pos > due``, calls :meth:`advance`
    (the test inline: it runs for every record)."""

    injected: list[tuple[int, str]] = field(default_factory=list)
    learnt: dict[str, int] = field(default_factory=dict)
    pos: int = -1
    due: int = -1  # the position of the next HA to inject is after this one
    _next: int = 0

    def advance(self, pos: int) -> None:
        self.pos = pos
        while self._next < len(self.injected) and self.injected[self._next][0] < pos:
            ha = self.injected[self._next][1]
            put(self.home_agents, ha, None, self.limit, self.diag, "home agent")
            self._next += 1
        self.due = self.injected[self._next][0] if self._next < len(self.injected) else NEVER

    def learn_ha(self, mn: str, ha: str) -> None:
        self.learnt.setdefault(ha, self.pos)
        AddressBook.learn_ha(self, mn, ha)  # (super() without its lookup: per tunnelled packet)


@dataclass
class GroupResult:
    """What one group gives back (picklable: sent back by a worker)."""

    rows: EpisodeRows  # not closed
    evidence: Evidence
    diag: Diagnostics
    learnt: dict[str, int]  # HA -> the run position where this group first learnt it
    peak: dict[str, int]  # the most entries each bounded table held (BOUNDS)
    oracle_peak: int = 0
    mns: set[str] = field(default_factory=set)  # the mobile nodes it reconstructed
    coas: set[str] = field(default_factory=set)  # the care-of addresses it mapped
    # entries of the run-wide tables --max-state-entries bounds, at the end (RUN_WIDE;
    # they only shrink by evictions, so without one this is their peak)
    sizes: dict[str, int] = field(default_factory=dict)


def run_group(
    items: Iterable[tuple[int, Record | HandoverEvent]],
    config: ProtocolConfig,
    oracle,
    vantage: str | None,
    capture_end_ns: int,
    ha_schedule: list[tuple[int, str]],
) -> GroupResult:
    """The unclosed episode rows of one group's records (``items``: (run position,
    record), in run order), as the whole run's build_rows would make them."""
    diag = Diagnostics()
    rc = Reconstructor(config, diag, oracle)
    rc.vantage = vantage
    book = rc.book = ScheduledBook(injected=ha_schedule)
    evidence = Evidence()
    rows = EpisodeRows()
    add = rows.add_handover
    advance = getattr(oracle, "advance", None)
    # the draft's own MH types (config.ebu_mh_type, config.eba_mh_type) read as EBU/EBA
    retype = retyper(config.mh_types, diag)
    count, feed = evidence.add, rc.feed
    most_pending = most_coti = most_zero = 0
    pending, coti_index, cot_zero = rc.pending, rc.coti_index, rc.cot_zero
    # One loop per record, what a stack of generators (positions, evidence, retyped)
    # did in turn: the run's state before this record, then the record.
    for pos, item in items:
        book.pos = pos
        if pos > book.due:
            book.advance(pos)
        if getattr(item, "mh", None) is not None:
            # (the oracle sees only decoded messages: its schedule is applied before them)
            if advance is not None:
                advance(pos)
            count(item)
            item = retype(item)  # type: ignore[arg-type]  # (a HandoverEvent has no message)
        elif item.msg == "handover":  # (Evidence counts the events; data: nothing)
            count(item)
        closed = feed(item)
        if closed:
            for ho, _ in closed:
                add(ho, config, None)
        # (the tables are the reconstructor's own, never replaced: sizes read inline)
        if len(pending) > most_pending:
            most_pending = len(pending)
        if len(coti_index) > most_coti:
            most_coti = len(coti_index)
        if len(cot_zero) > most_zero:
            most_zero = len(cot_zero)
    peak = {"pending": most_pending, "coti_index": most_coti, "cot_zero": most_zero}
    book.advance(NEVER)
    for ho, _ in rc.finish():
        add(ho, config, capture_end_ns)
    return GroupResult(
        rows,
        evidence,
        diag,
        dict(book.learnt),
        peak,
        getattr(oracle, "largest", 0),
        set(rc.mns),
        set(book.coa_to_mn),
        {name: len(table) for name, table in run_wide_tables(rc).items()},
    )


def run_wide_tables(rc: Reconstructor) -> dict[str, dict]:
    """The reconstruction's tables that hold entries of every mobile node of a run,
    bounded by --max-state-entries (the per-MN ones are whole in each group)."""
    book = rc.book
    return {
        "mobile node": rc.mns,
        "home address": book.mobile_nodes,
        "care-of address": book.coa_to_mn,
        "home agent of mobile node": book.ha_of,
        "home agent": book.home_agents,
        "evicted mobile node": rc.evicted_mns,
    }


def sum_evidence(parts: Iterable[Evidence]) -> Evidence:
    """The counts of several groups' Evidence added up (a HoTI's tunnelled and plain
    copies are of one MN, so they are paired within its group)."""
    total = Evidence()
    for ev in parts:
        for f in fields(Evidence):
            if not f.name.startswith("_"):
                setattr(total, f.name, getattr(total, f.name) + getattr(ev, f.name))
    return total


def merge_groups(results: Iterable[GroupResult], diag: Diagnostics) -> EpisodeRows:
    """The groups' rows as one closed table (fallback causes over all groups, the
    episode order and numbers of the whole run); their diagnostics go to ``diag``."""
    out = EpisodeRows()
    for r in results:
        offset = len(out)
        out.extend(r.rows)
        out.answering_cns |= r.rows.answering_cns
        out.fallbacks.extend((row + offset, refused) for row, refused in r.rows.fallbacks)
        diag.merge(r.diag)
    out.close()
    return out
