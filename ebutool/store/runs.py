"""Sorted runs of an Arrow table on disk, merged k-way: an external sort whose memory is
bounded by the rows of one read batch per run, not by the rows in all.

:class:`Runs` writes tables already sorted by its keys to Arrow IPC files (lz4, in
batches of :data:`RUN_BATCH_ROWS`) in a temporary directory of its own, removed when it
is closed; :meth:`Runs.merged` gives their rows merged in the keys' order as a sequence
of tables, each holding every row of any key it holds (so a caller can reduce the rows
of equal keys block by block).  More than :data:`MAX_FAN_IN` runs are first merged in
groups, so the batches held at a time stay at most that many.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from bisect import bisect_right
from collections.abc import Callable, Iterator

import pyarrow as pa
import pyarrow.ipc as ipc

RUN_BATCH_ROWS = 8_192  # rows read from a run at a time (its IPC record batches)
MAX_FAN_IN = 64  # runs merged at once (memory: a batch of each)
COMPRESSION = "lz4"  # temporary files: fast, not small

Keys = list[tuple[str, str]]  # [(column, "ascending")], as pyarrow's sort_by


class Runs:
    """Sorted runs in a temporary directory under ``folder`` (module doc).  A context
    manager: the directory and its files go when it is closed, whatever happened."""

    def __init__(self, folder: str, keys: Keys, prefix: str = ".runs-"):
        os.makedirs(folder, exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix=prefix, dir=folder)
        self.keys = keys
        self.files: list[str] = []
        self.rows = 0
        self.written = 0  # files written (runs and the merges of groups of them)

    def __enter__(self) -> Runs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        self.files = []

    def add(self, table: pa.Table) -> None:
        """Write ``table`` (sorted by the keys) as one run; an empty one is left out."""
        if table.num_rows:
            self.files.append(self._write(table.to_batches(max_chunksize=RUN_BATCH_ROWS)))
            self.rows += table.num_rows

    def _write(self, batches) -> str:
        path = os.path.join(self.dir, f"run-{self.written:06d}.arrow")
        self.written += 1
        options = ipc.IpcWriteOptions(compression=COMPRESSION)
        writer = None
        with pa.OSFile(path, "wb") as sink:
            for batch in batches:
                if writer is None:
                    writer = ipc.new_file(sink, batch.schema, options=options)
                writer.write_batch(batch)
            if writer is not None:
                writer.close()
        return path

    def merged(self, reduce: Callable[[pa.Table], pa.Table] | None = None) -> Iterator[pa.Table]:
        """The rows of every run in the keys' order (module doc); ``reduce`` is applied to
        each block (equal keys are never split between blocks) and to the blocks of the
        intermediate merges of more than :data:`MAX_FAN_IN` runs."""
        files = self.files
        while len(files) > MAX_FAN_IN:
            groups = [files[i : i + MAX_FAN_IN] for i in range(0, len(files), MAX_FAN_IN)]
            files = [self._write(_batches(_merge(g, self.keys), reduce)) for g in groups]
        return (reduce(t) if reduce else t for t in _merge(files, self.keys))


def _batches(tables: Iterator[pa.Table], reduce) -> Iterator[pa.RecordBatch]:
    for table in tables:
        yield from (reduce(table) if reduce else table).to_batches(max_chunksize=RUN_BATCH_ROWS)


class _Cursor:
    """One run being read: the rows of its current batch not yet given out."""

    def __init__(self, path: str, names: list[str]):
        self.reader = ipc.open_file(pa.OSFile(path, "rb"))
        self.names = names
        self.next = 0
        self.rows: pa.Table | None = None
        self.load()

    def load(self) -> None:
        if self.next < self.reader.num_record_batches:
            self.rows = pa.Table.from_batches([self.reader.get_batch(self.next)])
            self.next += 1
        else:
            self.rows = None

    @property
    def last_batch(self) -> bool:
        return self.next >= self.reader.num_record_batches

    def key(self, i: int) -> tuple:
        assert self.rows is not None
        return tuple(self.rows.column(n)[i].as_py() for n in self.names)

    def take_upto(self, bound: tuple | None) -> pa.Table:
        """The rows with keys at most ``bound`` (all when None), taken out of the batch."""
        assert self.rows is not None
        n = self.rows.num_rows
        cut = n if bound is None else bisect_right(range(n), bound, key=self.key)
        head, self.rows = self.rows.slice(0, cut), self.rows.slice(cut)
        if self.rows.num_rows == 0:
            self.load()
        return head


def _merge(files: list[str], keys: Keys) -> Iterator[pa.Table]:
    """The rows of the sorted runs ``files`` in ``keys`` order, a block at a time: each
    block is every row not later than the smallest last key of the batches held (of the
    runs that have more to read), so no later row of any run can sort before it."""
    names = [name for name, _ in keys]
    cursors = [_Cursor(f, names) for f in files]
    cursors = [c for c in cursors if c.rows is not None]
    while cursors:
        pending = [c for c in cursors if not c.last_batch]
        bound = min((c.key(c.rows.num_rows - 1) for c in pending), default=None)  # type: ignore[union-attr]
        heads = [c.take_upto(bound) for c in cursors]
        cursors = [c for c in cursors if c.rows is not None]
        block = pa.concat_tables([h for h in heads if h.num_rows])
        if block.num_rows:
            yield block.sort_by(keys)
