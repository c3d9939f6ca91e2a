"""Several inputs' episode table in pieces, for a command to write them one by one (issue 12).

Each file's table is made in pieces while it is read (ebutool.analysis.record_pieces),
and the pieces wait in a temporary folder (``$TMPDIR``, removed at the end): the whole
table's text depends on what is known only once every input is read:

- its epoch columns take the finest time resolution of the files (6 or 9 decimals,
  ebutool.core.exact_time), known only when the last file is read;
- ``episode`` numbers count every episode of every file, and the pieces of one capture
  rotated over several files are analysed again merged by time
  (ebutool.runner.views.stitch_rotated), which is known only once every file's
  footprint is.

So :func:`analyze_files_streamed` reads every input (in up to ``jobs`` processes: a
worker writes its file's pieces, this process reads them back), and
:meth:`StreamedTable.pieces` hands the pieces out, each with its file's label in
``source``, the episodes numbered over all files, the ``--mn``/``--cn`` filter and the
finest resolution applied: the pieces concatenated are
:func:`ebutool.runner.analyze_inputs.analyze_files`' table, which memory never holds.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ebutool.analysis import make_oracle, record_pieces, source_labels
from ebutool.analysis import merged_records as streamed_records
from ebutool.analysis.footprint import Footprint
from ebutool.analysis.vantage import role_for
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.exact_time import TIME_DECIMALS, US_DECIMALS
from ebutool.records.from_packet import StreamStats
from ebutool.report.piece_spill import dump_piece
from ebutool.runner.multi import merged_records, per_file, readable, tagged

if TYPE_CHECKING:
    import pandas as pd

    from ebutool.core.constants import ProtocolConfig

MERGED_LABEL = "the merged inputs"  # the vantage decision's name of inputs merged by time


SPILL_PREFIX = "ebutool-inputs-"  # the pieces' folders in $TMPDIR


@contextmanager
def spill_root() -> Iterator[tempfile.TemporaryDirectory]:
    """A folder in $TMPDIR for the inputs' pieces, removed if the block raises (a signal
    included); kept when it ends, for the StreamedTable made in it, which removes it once
    its pieces are read (StreamedTable.pieces, StreamedTable.cleanup)."""
    root = tempfile.TemporaryDirectory(prefix=SPILL_PREFIX)
    try:
        yield root
    except BaseException:
        root.cleanup()
        raise


@dataclass
class Spilled:
    """One table's pieces pickled in ``folder``, in order: a plain handle (a worker
    process writes the pieces, the main process reads them back once).  ``attrs``:
    the table's vantage decisions, footprint and time resolution; ``label``: its
    ``source`` (None: each row keeps its own, as a rotated capture's rows do)."""

    folder: str
    count: int = 0
    attrs: dict[str, Any] = field(default_factory=dict)
    label: str | None = None
    rows: int = 0
    dtypes: list[str] = field(default_factory=list)  # the first piece with rows' (or the first's)

    @classmethod
    def into(cls, root: str, pieces: Iterable[pd.DataFrame]) -> Spilled:
        """``pieces`` kept in a new folder under ``root`` (one in memory at a time)."""
        out = cls(tempfile.mkdtemp(dir=root))
        for df in pieces:
            out.add(df)
        return out

    def add(self, df: pd.DataFrame) -> None:
        """``df`` kept as the next piece (several tables spilled side by side: replay)."""
        dump_piece(df, self._path(self.count))  # (disk full: an OutputError, exit 5)
        if not self.rows and (len(df) or not self.count):
            self.dtypes = [str(t) for t in df.dtypes]
        self.count += 1
        self.rows += len(df)

    def _path(self, i: int) -> str:
        return os.path.join(self.folder, f"{i:08d}.pickle")

    def read(self) -> Iterator[pd.DataFrame]:
        """The pieces back, in order, each file removed as it is read."""
        for i in range(self.count):
            with open(self._path(i), "rb") as f:
                df = pickle.load(f)
            os.unlink(self._path(i))
            yield df


def _spill_task(
    path: str,
    diag: Diagnostics,
    stats: StreamStats,
    root: str,
    config: ProtocolConfig,
    keys: Any,
    esp_sas: Any,
    given: dict[str, str],
    progress: Any = None,
) -> Spilled:
    """One file's table (what :func:`ebutool.analysis.analyze` gives for it, no filter)
    in pieces under ``root``, with the facts stitch_rotated reads in ``attrs``."""
    oracle = make_oracle(keys, config, diag)
    label = source_labels([path])[0]
    seen = Footprint()  # (how it relates to the other inputs: stitch_rotated)
    records = seen.watch(streamed_records([path], diag, stats, progress, esp_sas))
    pieces, decisions = record_pieces(
        records, label, None, None, config, diag, stats, oracle, role_for(path, given),
        relabel=True,
    )  # fmt: skip
    out = Spilled.into(root, pieces)
    out.attrs = {"vantage": decisions, "footprint": seen.as_dict()}
    out.attrs[TIME_DECIMALS] = stats.time_decimals
    return out


def merged_spilled(
    root: str,
    names: list[str],
    jobs: int,
    config: ProtocolConfig,
    keys: Any,
    esp_sas: Any,
    role: str | None = None,
    *,
    mn: str | None = None,
    cn: str | None = None,
    diag: Diagnostics | None = None,
    stats: StreamStats | None = None,
) -> Spilled:
    """``names`` merged by time and analysed as one capture (as
    ebutool.runner.analyze_inputs' ``_analyze_merged``), in pieces under ``root``; each row's
    ``source`` the input its episode began in.  Without ``diag``/``stats`` they are not
    kept (a rotated capture's pieces: their counts were taken when each was read on its
    own, their warnings are this analysis', ebutool.runner.views.PieceWarnings)."""
    diag = diag if diag is not None else Diagnostics()
    stats = stats if stats is not None else StreamStats()
    oracle = make_oracle(keys, config, diag)
    records = merged_records(names, jobs, diag=diag, stats=stats, esp_sas=esp_sas)
    pieces, decisions = record_pieces(
        records, MERGED_LABEL, mn, cn, config, diag, stats, oracle, role
    )
    out = Spilled.into(root, (merged_sources(df, names) for df in pieces))
    out.attrs = {"vantage": decisions, TIME_DECIMALS: stats.time_decimals}
    return out


def merged_sources(df: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """``df`` (of ``names`` merged by time) with each ``source`` path as its label."""
    import pandas as pd

    label_of = dict(zip(names, source_labels(names), strict=True))
    df["source"] = pd.Series(
        [label_of.get(s, s) or None if isinstance(s, str) else s for s in df["source"]],
        index=df.index,
        dtype=df["source"].dtype,
    )
    return df


class StreamedTable:
    """The table of several inputs as spilled tables (module doc): analyze's vantage
    ``decisions``, the stderr ``notes``, the whole table's ``attrs`` (those its pieces
    do not carry), then :meth:`pieces` once.  ``numbered``: analyze's episodes (each
    labelled, numbered over all, filtered); ``tag``: a column led by each table's label
    (as ebutool.runner.multi.tagged: decode's and verify's ``source``)."""

    def __init__(
        self,
        tables: list[Spilled],
        root: tempfile.TemporaryDirectory,
        mn: str | None = None,
        cn: str | None = None,
        notes: list[str] | None = None,
        numbered: bool = True,
        tag: str | None = None,
    ) -> None:
        self.tables, self._root = tables, root
        self.mn, self.cn, self.numbered, self.tag = mn, cn, numbered, tag
        self.notes = list(notes or [])
        self.decisions = [d for t in tables for d in t.attrs.get("vantage", [])]
        self.time_decimals = max(
            [US_DECIMALS, *(t.attrs.get(TIME_DECIMALS, US_DECIMALS) for t in tables)]
        )
        # (tables put together take the finest; one table keeps its own attrs: tagged)
        self._resolution = len(tables) > 1 or any(TIME_DECIMALS in t.attrs for t in tables)
        # An empty table's dtypes count when the tables are put together (pd.concat: an
        # empty table of object columns, as decode's of an input without messages, makes
        # a numeric column object): when they differ from the others', the tables are
        # put together (ebutool.runner.multi.tagged) and written whole: exact, not bounded.
        forms = {tuple(t.dtypes) for t in tables}
        self.whole = tag is not None and len(forms) > 1 and any(not t.rows for t in tables)

    def cleanup(self) -> None:
        """The pieces' folder removed now (also when :meth:`pieces` was never read:
        the command may end by os._exit, which runs no finalizer)."""
        self._root.cleanup()

    @property
    def attrs(self) -> dict[str, Any]:
        out: dict[str, Any] = {"vantage": self.decisions, TIME_DECIMALS: self.time_decimals}
        if self.numbered:  # (analysed each on its own: their notes; merged: none)
            out["notes"] = self.notes
        return out

    def pieces(self) -> Generator[pd.DataFrame, None, None]:
        """The whole table's pieces in order (module doc); the folder is removed after."""
        if self.whole:
            yield self._put_together()
            return
        try:
            episodes = 0
            for table in self.tables:
                for df in table.read():
                    if self.numbered:
                        df = self._numbered(df, table.label, episodes)
                        episodes += len(df)
                        df = self._filtered(df)
                    if self.tag is not None and table.label is not None:
                        df.insert(0, self.tag, table.label)
                    if self._resolution:
                        df.attrs[TIME_DECIMALS] = self.time_decimals
                    yield df
        finally:
            self._root.cleanup()

    def _put_together(self) -> pd.DataFrame:
        """The tables put together at once, as ebutool.runner.multi.tagged does."""
        import pandas as pd

        from ebutool.core.exact_time import merged_attrs

        try:
            frames = []
            for table in self.tables:
                parts = list(table.read())
                df = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
                df.attrs = merged_attrs(parts)  # (each file's resolution: once it was read)
                df.attrs[TIME_DECIMALS] = table.attrs.get(TIME_DECIMALS, US_DECIMALS)
                frames.append(df)
            labels = [str(t.label) for t in self.tables]
            return tagged(frames, labels, self.tag or "source", always=True)
        finally:
            self._root.cleanup()

    @staticmethod
    def _numbered(df: pd.DataFrame, label: str | None, before: int) -> pd.DataFrame:
        """The piece with its file's label and the episodes numbered over all files."""
        import pandas as pd

        if label is not None:
            df["source"] = pd.Series([label] * len(df), index=df.index, dtype=df["source"].dtype)
        numbers = range(before + 1, before + len(df) + 1)
        df["episode"] = pd.Series(numbers, index=df.index, dtype=df["episode"].dtype)
        return df

    def _filtered(self, df: pd.DataFrame) -> pd.DataFrame:
        return mn_cn_rows(df, self.mn, self.cn)


def mn_cn_rows(df: pd.DataFrame, mn: str | None, cn: str | None) -> pd.DataFrame:
    """The episodes of ``mn`` and ``cn`` (None: any), indexed from 0, ``df``'s attrs
    kept: the ``--mn``/``--cn`` filter, applied after the numbering (so an episode keeps
    its number among all of them), of the whole table and of each piece alike."""
    import pandas as pd

    if mn is None and cn is None:
        return df
    keep = pd.Series(True, index=df.index)
    if mn is not None:
        keep &= df["mn"] == mn
    if cn is not None:
        keep &= df["cn"] == cn
    out = df[keep].reset_index(drop=True)
    out.attrs = dict(df.attrs)
    return out


def tagged_spilled(
    task: Any, names: Sequence[str], *args: Any, jobs: int, diag: Diagnostics, stats: StreamStats
) -> StreamedTable:
    """``task(path, diag, stats, root, *args)`` (a Spilled of one input's table) for
    every input (ebutool.runner.multi.per_file), their tables one after the other with
    a ``source`` column first: ebutool.runner.multi.tagged's table of several inputs."""
    with spill_root() as root:
        results = per_file(task, names, root.name, *args, jobs=jobs, diag=diag, stats=stats)
        tables, labels = readable(results, source_labels(names))
        for table, label in zip(tables, labels, strict=True):
            table.label = label
        return StreamedTable(tables, root, numbered=False, tag="source")


def per_file_spilled(
    names: Sequence[str],
    jobs: int,
    *,
    config: ProtocolConfig,
    keys: Any,
    esp_sas: Any,
    given: dict[str, str],
    diag: Diagnostics,
    stats: StreamStats,
    mn: str | None,
    cn: str | None,
    no_merge: bool,
) -> StreamedTable:
    """Every input analysed on its own in pieces, a rotated capture's pieces merged by
    time (unless ``no_merge``), as ebutool.runner.analyze_inputs.analyze_files does."""
    from ebutool.runner.views import PieceWarnings, stitch_rotated

    with spill_root() as root:
        task_args = (root.name, config, keys, esp_sas, given)
        warnings = PieceWarnings(diag)
        results = per_file(
            _spill_task, names, *task_args, jobs=jobs, diag=diag, stats=stats,
            diags=warnings.per_file,
        )  # fmt: skip
        tables, labels = readable(results, source_labels(names))
        shown: list[str | None] = list(labels)
        notes: list[str] = []
        if not no_merge and len(tables) > 1:
            kept = [str(n) for n, r in zip(names, results, strict=True) if r is not None]

            def by_time(parts: list[str]) -> Spilled:
                # (the pieces' counts were taken when each was read on its own; their
                # warnings are the merged analysis', instead of the pieces' own)
                return merged_spilled(
                    root.name, parts, jobs=jobs, config=config, keys=keys,
                    esp_sas=esp_sas, diag=warnings.for_merged(parts),
                )  # fmt: skip

            tables, shown, notes = stitch_rotated(tables, kept, labels, by_time, diag)
        warnings.settle(names, results, shown)
        for table, label in zip(tables, shown, strict=True):
            table.label = label
        return StreamedTable(tables, root, mn, cn, notes)


__all__ = [
    "Spilled",
    "StreamedTable",
    "merged_sources",
    "merged_spilled",
    "per_file_spilled",
    "spill_root",
    "mn_cn_rows",
    "tagged_spilled",
    "MERGED_LABEL",
]
