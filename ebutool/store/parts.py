"""A record store read like one capture: every part's records merged by time.

:func:`store_parts` lists the parts with their facts, ordered by the input's path (the
order ``analyze --merge DIR`` reads a directory's files in); :func:`store_records` gives
the message stream of all parts merged by time (:func:`heapq.merge`, stable: equal times
keep the parts' order), each part's own order checked first and its reading
diagnostics counted into the caller's Diagnostics under the part's label, exactly as
:func:`ebutool.analysis.merged_records` does for the captures themselves.  Each part is
read a row group at a time, so memory holds one batch per part.
"""

from __future__ import annotations

import heapq
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from itertools import chain

import pyarrow.parquet as pq

from ebutool.analysis import source_labels
from ebutool.analysis.episodes import check_order
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import InputError
from ebutool.core.exact_time import US_DECIMALS
from ebutool.records.from_packet import StreamStats
from ebutool.store.layout import check_store, part_files
from ebutool.store.schema import from_batch
from ebutool.store.writer import part_meta


@dataclass
class Part:
    file: str  # the Parquet file
    meta: dict  # its facts (ebutool.store.writer)
    label: str = ""  # the input's label (its base name unless two clash)

    @property
    def path(self) -> str:
        return self.meta["path"]


# The parts of the last store read, with what identified its files then: one command asks
# for them several times (whether they are views, the ESP note, the analysis), and a
# store of thousands of parts is thousands of Parquet footers to read each time.
_LAST: dict[str, tuple[tuple, list[Part]]] = {}


def store_parts(store: str) -> list[Part]:
    """The store's parts, ordered by their input's path, labelled (module doc).  Read
    once while the part files stay the same (path, inode, size and mtime)."""
    check_store(store)
    files = part_files(store)
    seen = _identity(files)
    key = os.path.abspath(store)
    cached = _LAST.get(key)
    if seen is not None and cached is not None and cached[0] == seen:
        return [replace(p) for p in cached[1]]  # copies: a caller may relabel its own
    parts = []
    for f in files:
        meta = part_meta(f)
        if meta is None:
            raise InputError(f"{f}: a damaged part (no ebutool metadata): extract it again")
        parts.append(Part(f, meta))
    parts.sort(key=lambda p: p.path)
    for part, label in zip(parts, source_labels([p.path for p in parts]), strict=True):
        part.label = label
    _LAST.clear()
    if seen is not None:
        _LAST[key] = (seen, [replace(p) for p in parts])
    return parts


def _identity(files: list[str]) -> tuple | None:
    """What tells the part files from others (a part extracted again is a new file: its
    inode and mtime change); None when one went away meanwhile (not cached)."""
    try:
        return tuple(
            (f, st.st_ino, st.st_size, st.st_mtime_ns) for f in files for st in [os.stat(f)]
        )
    except OSError:
        return None


def part_diagnostics(meta: dict, label: str) -> Diagnostics:
    """The reading diagnostics stored with a part, stamped with its label."""
    stored = meta.get("diagnostics", {})
    d = Diagnostics(source=label)
    for frame, code, message in stored.get("kept", []):
        d.warn(code, message, frame)
    d.counts = Counter(stored.get("counts", {}))  # every one, not only those kept
    return d


def add_part_stats(stats: StreamStats, meta: dict) -> None:
    stats.frames += meta["frames"]
    stats.numbered_blocks += meta.get("numbered_blocks", 0)  # (parts before it: none said)
    stats.ipv6 += meta["ipv6"]
    stats.relevant += meta["relevant"]
    stats.skipped.update(meta["skipped"])
    stats.messages.update(meta["messages"])
    # parts written before the resolution was recorded: microseconds, as then printed
    stats.time_decimals = max(stats.time_decimals, meta.get("time_decimals", US_DECIMALS))


def time_decimals(parts: list[Part]) -> int:
    """The finest time resolution of the parts' captures (ebutool.core.exact_time): 9 when
    one was taken in nanoseconds; parts written before it was recorded count as 6."""
    return max((p.meta.get("time_decimals", US_DECIMALS) for p in parts), default=US_DECIMALS)


PART_BATCH_ROWS = 8_192  # records made from the store at a time (a row group is 65,536)


def part_items(part: Part) -> Iterator:
    """The records of one part, in the input's order."""
    for batch in pq.ParquetFile(part.file).iter_batches(batch_size=PART_BATCH_ROWS):
        yield from from_batch(batch, part.label)


def store_records(
    store: str,
    diag: Diagnostics,
    stats: StreamStats | None = None,
    parts: list[Part] | None = None,
    check: bool = True,
) -> Iterator:
    """All records of ``store`` merged by time (module doc); ``stats`` gets the sums of
    the parts' counts and ``diag`` their reading diagnostics; ``check``: diagnose each
    part's backwards timestamps (replay reads a store without, as it reads a capture)."""
    parts = store_parts(store) if parts is None else parts
    streams = []
    several = len(parts) > 1
    for part in parts:
        if stats is not None:
            add_part_stats(stats, part.meta)
        diag.merge(part_diagnostics(part.meta, part.label if several else ""))
        view = diag.for_source(part.label) if several else diag
        items = part_items(part)
        streams.append(check_order(items, view) if check else items)
    if len(streams) == 1:
        return streams[0]
    if _one_after_another(parts):
        return chain.from_iterable(streams)
    return heapq.merge(*streams, key=lambda r: r.ts_ns)


def _one_after_another(parts: list[Part]) -> bool:
    """True when no record of a part is later than any record of a later part (rotated
    pieces of one capture): then heapq.merge, which takes the earliest part on equal
    times, gives the parts one after the other, and chaining them gives the same stream
    without its comparison per record.  Parts without records do not count; a part
    without its first/last times (an older store) makes it False."""
    latest = None
    for part in parts:
        if not part.meta.get("records"):
            continue
        first, last = part.meta.get("first_ts_ns"), part.meta.get("last_ts_ns")
        if first is None or last is None or (latest is not None and first < latest):
            return False
        latest = max(last, latest) if latest is not None else last
    return True
