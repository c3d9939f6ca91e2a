"""``analyze STORE --cluster``: a store's analysis split by mobile node, one task per group.

    from ebutool.store.grouped import analyze_store_grouped
    df = analyze_store_grouped("store/", mapper=map_in_order, groups=4)

The same table as :func:`ebutool.store.merged.analyze_store` (row order, episode
numbers, fallback causes, vantage, diagnostics counts), computed in pieces:

1. a pre-pass in this process reads the parts (only their records: a few percent of
   the captures), orders them by time across files exactly as the single run merges
   them, counts the parts' diagnostics and backwards timestamps, and splits the rows
   into groups of mobile nodes (:mod:`ebutool.store.groups`); the groups are packed
   into ``groups`` bins of about equal size;
2. what crosses mobile nodes is computed in the pre-pass and handed to every bin: the
   oracle's sweep times and per-CN nonce first uses (:mod:`ebutool.oracle.scheduled`),
   the home agents the run learns and where, the vantage point its beginning shows,
   and the capture's end;
3. each bin is analysed as a task (``mapper``, e.g. Dask's, ebutool.runner.cluster) by
   :func:`ebutool.analysis.by_group.run_group`; a task sent to a worker carries its
   bin's rows, one run by a forked child (``shared``) takes them from the run's table
   there, in parallel with the other bins (the takes were ~0.05 s before the fork);
4. the results are checked (no mobile node or care-of address in two bins, the home
   agents learnt where the pre-pass said, the run-wide table bounds not reached; a bin
   told the wrong home agents is run again) and put together
   (:func:`ebutool.analysis.by_group.merge_groups`): fallback causes over all bins, the
   run's episode order and numbers, the vantage decided on the evidence of all bins.

A store of several vantage points (views of one run, ebutool.store.vantages) is not split:
its clocks are estimated over the whole run; it is analysed in one process, with a note
on the ``log``.  When a check fails for good, the store is analysed in one process instead
(:func:`ebutool.store.merged.analyze_store`), with the reason on the ``log``: the table
is never a wrong one.  The kept examples of each diagnostic (not their counts) may be
other frames than the single run keeps.  An oracle object given by the caller cannot be
shared with tasks: the single-process path is used then.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ebutool.analysis import filter_address
from ebutool.analysis.by_group import BOUNDS, GroupResult, merge_groups, run_group, sum_evidence
from ebutool.analysis.observable import apply_vantage
from ebutool.analysis.vantage import LOOKAHEAD_RECORDS, Evidence, lookahead, resolve
from ebutool.core.bounded import EVICTED
from ebutool.core.constants import DEFAULT_CONFIG, ProtocolConfig
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.exact_time import TIME_DECIMALS
from ebutool.core.gc_tuning import fewer_collections
from ebutool.oracle.scheduled import Schedule, ScheduledOracle, run_schedule
from ebutool.oracle.tables import MAX_TABLE_ENTRIES
from ebutool.records.from_packet import StreamStats
from ebutool.store.arrow_numpy import arrow_of, numpy_of
from ebutool.store.groups import ADDRESSES, distinct, split_table
from ebutool.store.order import ordered_table
from ebutool.store.parts import store_parts
from ebutool.store.schema import _pylist, from_table
from ebutool.store.vantages import (
    VIEWS_NOT_SPLIT,
    given_roles,
    time_merged_role,
    views_in_store,
)

if TYPE_CHECKING:
    import pandas as pd

    from ebutool.oracle.keys import KeyTable

# mapper(function, tasks) -> the results, in the tasks' order
Mapper = Callable[[Callable[[Any], GroupResult], Sequence[Any]], list[GroupResult]]
HA_ROUNDS = 3  # runs of a bin told the wrong home agents before giving up on the split
ONCE_PER_RUN = "unknown_mh_type_refused"  # a warning given once per MH type and CN


@dataclass
class GroupTask:
    """One bin's work (picklable: sent to a worker)."""

    table: pa.Table  # its rows, run order, with the PART column (or the run's: ``whole``)
    rows: np.ndarray  # the run positions of its rows
    labels: list[str]
    config: ProtocolConfig
    keys: Any
    with_oracle: bool
    schedule: Schedule
    index: int
    role: str | None
    capture_end_ns: int
    ha_injected: list[tuple[int, str]]
    # ``table`` is the whole run's, the bin's ``rows`` taken where the task runs (a
    # forked child shares the run's table: the takes run in parallel)
    whole: bool = False


def analyze_group(task: GroupTask) -> GroupResult:
    """(On a worker) the unclosed rows of one bin."""
    oracle = None
    if task.with_oracle:
        oracle = ScheduledOracle(task.keys, task.config, task.schedule, task.index)
    table = task.table.take(arrow_of(task.rows)) if task.whole else task.table
    items = zip(task.rows.tolist(), from_table(table, task.labels), strict=True)
    with fewer_collections():  # as extract_file: see ebutool.core.gc_tuning
        return run_group(
            items, task.config, oracle, task.role, task.capture_end_ns, task.ha_injected
        )


def map_in_order(func: Callable[[Any], GroupResult], tasks: Sequence[Any]) -> list[GroupResult]:
    """The mapper of one process."""
    return [func(t) for t in tasks]


def _bins(group: list[int], n_groups: int, n_bins: int) -> list[int]:
    """Each group's bin: the largest groups first, each to the least loaded bin."""
    sizes = np.bincount(np.asarray(group, dtype=np.int64), minlength=n_groups)
    load = [0] * max(1, min(n_bins, n_groups))
    out = [0] * n_groups
    for g in sorted(range(n_groups), key=lambda g: (-sizes[g], g)):
        b = min(range(len(load)), key=lambda i: (load[i], i))
        out[g] = b
        load[b] += int(sizes[g])
    return out


def _facts(store: str) -> list[tuple[str, str]]:
    """The (coa, hoa) pairs of the store's binding facts (those of complete parts, as
    ebutool.store.facts.binding_facts), each once.  Only the pairs are used (the
    ties of the split, whose groups do not depend on their order), so they are read
    as Parquet files and made unique here, without the facts' pandas aggregation by
    pair and time (~0.03 s of the pre-pass on the 8 x 1 M-packet store)."""
    from ebutool.store.layout import BINDINGS, part_files

    folder = os.path.join(store, BINDINGS)
    files = [os.path.join(folder, os.path.basename(p)) for p in part_files(store)]
    pairs: dict[tuple[str, str], None] = {}
    for f in files:
        if not os.path.exists(f):  # (an interrupted run writes them before its part)
            continue
        t = pq.ParquetFile(f).read(columns=["coa", "hoa"]).combine_chunks()
        if t.num_rows:
            coa, hoa = _pylist(t["coa"].chunk(0)), _pylist(t["hoa"].chunk(0))
            pairs.update(dict.fromkeys(zip(coa, hoa, strict=True)))
    return [p for p in pairs if None not in p]  # (pandas' group-by drops a null key)


class _Split:
    """The pre-pass (module doc, 1 and 2), on the table's columns."""

    def __init__(self, store: str, diag: Diagnostics, stats: StreamStats, n_bins: int):
        self.table, self.labels = ordered_table(store, diag, stats)
        facts = split_table(self.table, _facts(store))
        self.n_groups = facts.n_groups
        self.bin_of_group = _bins(facts.group, facts.n_groups, n_bins)
        by_group = np.asarray(self.bin_of_group, dtype=np.int64)
        self.bins = by_group[np.asarray(facts.group, dtype=np.int64)]
        self.n_bins = max(self.bin_of_group, default=0) + 1
        ts = numpy_of(self.table.column("ts_ns"))
        self.capture_end_ns = max(0, int(ts.max())) if len(ts) else 0
        self._oracle = (facts.oracle_pos, facts.oracle_cn, facts.oracle_index, ts)
        self.ha = {ha: (pos, int(self.bins[pos])) for pos, ha in facts.ha_seeds}

    def oracle_messages(self) -> Iterator[tuple[int, int, int, str | None, int | None]]:
        """(position, bin, time, CN, nonce index) of each message the oracle checks, in
        run order: run_schedule's input."""
        pos, cn, index, ts = self._oracle
        return zip(
            pos.tolist(),
            self.bins[pos].tolist(),
            ts[pos].tolist(),
            cn,
            [None if i < 0 else i for i in index.tolist()],
            strict=True,
        )

    def rows_of(self, b: int) -> np.ndarray:
        """The run positions of bin ``b``'s rows."""
        return np.flatnonzero(self.bins == b)

    def _head(self, chunk: int = 256):
        """The first records, converted a few at a time (the lookahead stops early)."""
        for start in range(0, min(len(self.table), LOOKAHEAD_RECORDS), chunk):
            yield from from_table(self.table.slice(start, chunk), self.labels)

    def concerned(self, addresses: set[str]) -> list[int]:
        """The bins whose records name one of ``addresses``."""
        names = pa.array(sorted(addresses), pa.string())
        named = np.zeros(len(self.table), bool)
        for c in ADDRESSES:
            named |= np.asarray(pc.is_in(self.table.column(c), value_set=names).fill_null(False))
        return distinct(self.bins[named]).tolist()

    def injected(self, b: int) -> list[tuple[int, str]]:
        return sorted((pos, ha) for ha, (pos, owner) in self.ha.items() if owner != b)

    def early(self, vantage: str | None):
        from ebutool.analysis.vantage import VantageDecision

        if vantage is not None:
            return VantageDecision(vantage, "--vantage", given=True)
        decision, _ = lookahead(self._head(), Evidence())
        return decision


def _split_is_sound(results: list[GroupResult], limit: int) -> str | None:
    """Why the bins' results cannot be put together (None: they can); ``limit``: the
    bound of the tables of the single run (--max-state-entries)."""
    for what in ("mns", "coas"):
        seen: set[str] = set()
        for r in results:
            mine = getattr(r, what)
            if seen & mine:
                return f"{sorted(seen & mine)[0]} in two groups"
            seen |= mine
    for name, bound in BOUNDS.items():
        if sum(r.peak[name] for r in results) >= bound:
            return f"the run-wide bound of {name} reached"
    # A group that evicted had a table full, so had the run's (evicting other entries).
    if any(r.diag.counts.get(EVICTED) for r in results):
        return "a table of a group reached --max-state-entries"
    for name in results[0].sizes if results else ():
        if sum(r.sizes[name] for r in results) >= limit:
            return f"the run-wide bound of the {name} table reached (--max-state-entries)"
    # (the single run's oracle is bounded by --max-state-entries, a group's by both)
    if sum(r.oracle_peak for r in results) >= min(limit, MAX_TABLE_ENTRIES):
        return "the oracle's table bound reached"
    if sum(1 for r in results if r.diag.counts.get(ONCE_PER_RUN)) > 1:
        return f"{ONCE_PER_RUN} in several groups (said once per type and CN in a run)"
    return None


def _learnt(results: list[GroupResult]) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for b, r in enumerate(results):
        for ha, pos in r.learnt.items():
            if ha not in out or pos < out[ha][0]:
                out[ha] = (pos, b)
    return out


def _run_bins(
    sp: _Split, bins: list[int], results: list, make: Callable[[int], GroupTask], mapper: Mapper
) -> None:
    for b, r in zip(bins, mapper(analyze_group, [make(b) for b in bins]), strict=True):
        results[b] = r


def analyze_store_grouped(
    store: str | os.PathLike[str],
    *,
    mapper: Mapper = map_in_order,
    groups: int = 4,
    shared: bool = False,
    mn: str | None = None,
    cn: str | None = None,
    config: ProtocolConfig = DEFAULT_CONFIG,
    keys: KeyTable | None = None,
    diag: Diagnostics | None = None,
    stats: StreamStats | None = None,
    oracle: Any = None,
    vantage: str | None = None,
    log: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """The table of :func:`ebutool.store.merged.analyze_store`, the analysis split into
    ``groups`` tasks run by ``mapper`` (module doc); ``shared``: ``mapper`` runs the tasks where
    this process's memory is (forked children): each task refers to the run's table and
    takes its own rows, instead of carrying them; options as analyze_store."""
    from ebutool.store.merged import analyze_store, vantage_label

    diag = diag if diag is not None else Diagnostics()
    mn, cn = filter_address(mn, "--mn"), filter_address(cn, "--cn")
    root = os.fspath(store)
    single: dict[str, Any] = dict(mn=mn, cn=cn, config=config, keys=keys, diag=diag, stats=stats)
    if oracle not in (None, False):  # an oracle object stays in this process
        return analyze_store(root, oracle=oracle, vantage=vantage, **single)
    parts = store_parts(root)
    given = given_roles(parts, vantage)
    if views_in_store(parts, given):
        if log is not None:
            log(VIEWS_NOT_SPLIT)
        return analyze_store(root, oracle=oracle, vantage=vantage, **single)
    vantage = time_merged_role(parts, given)  # (given to extract, when not here)
    mine, my_stats = Diagnostics(keep=diag.keep), StreamStats()
    sp = _Split(root, mine, my_stats, groups)
    early = sp.early(vantage)
    with_oracle = oracle is None and _oracle_available()
    schedule = run_schedule(sp.oracle_messages(), config) if with_oracle else Schedule()

    def make(b: int) -> GroupTask:
        rows = sp.rows_of(b)
        # (shared: each task takes its rows where it runs; else a task sent to a worker
        # carries its rows only)
        table = sp.table if shared else sp.table.take(arrow_of(rows))
        return GroupTask(
            table, rows, sp.labels, config, keys, with_oracle, schedule, b,
            early.role, sp.capture_end_ns, sp.injected(b), shared,
        )  # fmt: skip

    if log is not None:
        log(f"analysis: {sp.n_groups} groups of mobile nodes in {sp.n_bins} tasks")
    results: list = [None] * sp.n_bins
    _run_bins(sp, list(range(sp.n_bins)), results, make, mapper)
    problem = None
    for _ in range(HA_ROUNDS):
        problem = _split_is_sound(results, int(config.max_state_entries))
        learnt = _learnt(results)
        if problem is not None or learnt == sp.ha:
            break
        changed = {ha for ha in set(learnt) | set(sp.ha) if learnt.get(ha) != sp.ha.get(ha)}
        sp.ha = learnt
        again = sp.concerned(changed)
        _run_bins(sp, again, results, make, mapper)
    else:
        problem = problem or "the home agents of the groups do not settle"
    if problem is not None:
        if log is not None:
            log(f"analysis split by mobile node not possible ({problem}): in one process")
        return analyze_store(
            root, oracle=False if oracle is False else None, vantage=vantage, **single
        )
    diag.merge(mine)
    if stats is not None:
        _add_stats(stats, my_stats)
    rows = merge_groups(results, diag)
    evidence = sum_evidence(r.evidence for r in results)
    label = vantage_label(parts)  # (as analyze_store's)
    decision = resolve(vantage, evidence, early, diag, label, len(rows))
    df = apply_vantage(rows.frame(mn, cn), decision.role)
    df.attrs["vantage"] = [decision.as_dict(label)]
    df.attrs[TIME_DECIMALS] = my_stats.time_decimals  # as analyze_store's
    return df


def _add_stats(stats: StreamStats, more: StreamStats) -> None:
    stats.frames += more.frames
    stats.numbered_blocks += more.numbered_blocks
    stats.ipv6 += more.ipv6
    stats.relevant += more.relevant
    stats.skipped.update(more.skipped)
    stats.messages.update(more.messages)
    stats.time_decimals = max(stats.time_decimals, more.time_decimals)


def import_for_frame() -> None:
    """What this process imports to make the table once the bins are analysed (pandas):
    the fork mapper's ``first``, made while the children take the first tasks."""
    import pandas  # noqa: F401


def _oracle_available() -> bool:
    from ebutool.analysis import make_oracle

    return make_oracle() is not None
