"""Finished episode rows beyond a bound kept on disk, in sorted runs, merged at the end.

:class:`ebutool.analysis.rows.EpisodeRows` keeps rows as compact columns, about 270
octets a row: a capture with millions of episodes (one BU per home address is enough)
would still hold hundreds of MB.  Beyond :data:`SPILL_ROWS` rows it sorts what it holds
by the table's order (handover time, MN, CN, care-of address) and appends it to an
anonymous temporary file as one *run* (pickled batches of rows); at the end the runs are
merged (``heapq.merge``, stable, so rows with equal keys keep their order of arrival,
as the in-memory sort does) and the episode numbers are given in that order: the
table is the one the in-memory path gives, octet for octet, while memory holds one
batch per run.  What needs the whole capture (the CNs that accepted an EBU anywhere,
for the cause of an early fallback) is kept in memory (a set of CNs) and applied as
the rows are merged.  docs/outputs.md "Streaming".
"""

from __future__ import annotations

import heapq
import pickle
import tempfile
from collections.abc import Iterator
from typing import Any

SPILL_ROWS = 25_000  # finished rows held in memory before a run goes to disk
# Rows per pickled batch: what each run's reader holds during the merge.  A held row is
# ~1.5 KB of Python objects (its tuple, floats and strings no longer shared), and there
# is one run per SPILL_ROWS rows: with 500 a batch, the merge held 40 x 500 rows (~30 MB)
# at 1M episodes, growing with them (issue 12); with 50, ~3 bytes per episode.
BATCH_ROWS = 50

# A spilled row: (sort key, fallback, values): fallback None for a row that is not an
# early_fallback, else whether its CN refused the EBU with a Binding Error status 2.
Row = tuple[tuple, Any, tuple]


class RowSpill:
    """Sorted runs of rows in one temporary file (deleted when closed or collected)."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile(prefix="ebutool-rows-")
        self.runs: list[tuple[int, int]] = []  # (offset of the first batch, batches)
        self.rows = 0

    def add_run(self, rows: list[Row]) -> None:
        """Append one run (``rows`` already sorted by their key)."""
        f = self.file
        f.seek(0, 2)
        start, batches = f.tell(), 0
        for i in range(0, len(rows), BATCH_ROWS):
            pickle.dump(rows[i : i + BATCH_ROWS], f, protocol=pickle.HIGHEST_PROTOCOL)
            batches += 1
        self.runs.append((start, batches))
        self.rows += len(rows)

    def _run(self, start: int, batches: int) -> Iterator[Row]:
        pos = start
        for _ in range(batches):
            self.file.seek(pos)
            batch = pickle.load(self.file)
            pos = self.file.tell()
            yield from batch

    def merged(self) -> Iterator[Row]:
        """Every row of every run, in key order (stable across runs)."""
        runs = [self._run(start, n) for start, n in self.runs]
        return heapq.merge(*runs, key=lambda row: row[0])

    def close(self) -> None:
        self.file.close()
