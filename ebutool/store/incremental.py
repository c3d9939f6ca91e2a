"""Many inputs -> a record store, one part per file, only the new or changed ones.

:func:`extract` runs :func:`ebutool.store.writer.extract_file` for every input: in this
process, in ``jobs`` local processes, or through a ``mapper`` (ebutool.runner.cluster
gives one that runs each file as a Dask task).  An input that cannot be read is named
and counted in the report (``failed``) and the others are written; a part already in
the store for an unchanged input is kept, so running again on a grown directory, or
after an interruption, extracts only what is missing.  The part of an input that is
gone (it was in a directory given and is no longer among its inputs: deleted, renamed;
or named and no longer there) is kept and counted, since a campaign may delete its
captures once extracted; with ``prune`` it is removed, so that the store of a directory
answers for what ``analyze --merge DIR`` reads (:func:`gone_parts`).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from ebutool.core.errors import UsageError
from ebutool.records.from_packet import numbered_note
from ebutool.store.layout import (
    bindings_path,
    create_store,
    is_store,
    part_files,
    part_name,
    part_path,
)
from ebutool.store.leftovers import remove_leftovers
from ebutool.store.writer import PartResult, extract_file, part_meta

if TYPE_CHECKING:
    from ebutool.esp.sa import EspSA

# mapper(task, paths, store) -> the task's results, in any order (as they complete)
Mapper = Callable[[Callable[[str, str], PartResult], Sequence[str], str], Iterable[PartResult]]


@dataclass
class ExtractReport:
    """What one :func:`extract` run did (``results`` in input order)."""

    store: str
    results: list[PartResult] = field(default_factory=list)
    seconds: float = 0.0
    # the temporary files of this host's killed runs removed first (ebutool.store.leftovers)
    leftovers: list[str] = field(default_factory=list)
    # the parts of inputs that are gone (:func:`gone_parts`): removed (``prune``), or kept
    removed: list[str] = field(default_factory=list)
    kept_gone: list[str] = field(default_factory=list)
    # what a directory given holds that is not read (files that are no capture or trace,
    # a trace beside its capture, entries that are no regular file, subdirectories), as
    # ``analyze DIR`` names them
    left_out: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def failed(self) -> list[PartResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def frames(self) -> int:
        return sum(r.frames for r in self.results)

    @property
    def numbered_blocks(self) -> int:
        return sum(r.numbered_blocks for r in self.results)

    def summary(self) -> str:
        """One line: files extracted, unchanged and failed, frames and the rate."""
        rate = f", {self.frames / self.seconds:,.0f} packets/s" if self.seconds > 0 else ""
        swept = (
            f"; {len(self.leftovers)} temporary files of interrupted runs removed"
            if self.leftovers
            else ""
        )
        gone = ""
        if self.removed:
            n = len(self.removed)
            gone = f"; {n} part{'s' if n != 1 else ''} of inputs no longer there removed"
        elif self.kept_gone:
            n = len(self.kept_gone)
            gone = (
                f"; {n} part{'s' if n != 1 else ''} of inputs no longer there kept "
                "(--prune removes them)"
            )
        return (
            f"{len(self.results)} files: {self.count('extracted')} extracted, "
            f"{self.count('unchanged')} unchanged, {self.count('failed')} failed; "
            f"{self.frames:,} frames{numbered_note(self.numbered_blocks)} in "
            f"{self.seconds:.2f} s{rate}{swept}{gone}"
            f"{self._left_out()}"
        )

    def _left_out(self) -> str:
        if not self.left_out:
            return ""
        from ebutool.runner.inputs import left_out_note

        return f"; {left_out_note(self.left_out)}"


def expand_paths(
    args: Iterable[str | os.PathLike[str]], left_out: list[str] | None = None
) -> list[str]:
    """Files as given; a directory: the inputs ``analyze --merge DIR`` reads in it, by
    name (captures and JSON Lines traces, also compressed; a trace beside the capture it
    was converted from left out: ebutool.runner.inputs.expand_inputs), so that the store
    of a directory holds what the captures' analysis reads.  A directory's other files,
    its entries that are no regular file and its subdirectories are appended to
    ``left_out`` (the report names them, as ``analyze DIR`` does)."""
    from ebutool.core.errors import InputError
    from ebutool.runner.inputs import expand_inputs

    out: list[str] = []
    empty: InputError | None = None  # the first directory with nothing to read
    for a in args:
        name = os.fspath(a)
        if name == "-":
            raise UsageError("extract reads files, not standard input")
        if not os.path.isdir(name):
            out.append(name)
            continue
        if is_store(name):  # its parts would be read as captures, or it was left out unsaid
            raise UsageError(
                f"{name}: is a record store: extract reads captures and traces "
                f"(analyze {name} reads the store)"
            )
        try:
            out.extend(p for p in expand_inputs([name], left_out) if p != name)  # (not a store)
        except InputError as exc:  # a directory with nothing to read: the check below
            empty = empty or exc  # (its files are in left_out: the closing line names them)
    if not out:
        if empty is not None:  # as 'analyze DIR': unreadable input, its files named
            raise empty
        raise UsageError("extract needs at least one capture")
    return out


def _not_inside(store: str, inputs: Iterable[str]) -> None:
    """A usage error for an input inside ``store`` (a part read as a capture, counted
    unreadable, exit 3): a store holds only what extract writes.  A store inside an input
    directory is fine: a directory's subdirectories are not read."""
    root = os.path.join(os.path.realpath(store), "")
    for name in inputs:
        here = os.path.join(os.path.realpath(name), "")
        if here.startswith(root):
            where = "the store" if here == root else "inside the store"
            raise UsageError(
                f"input {name} is {where} -o {store}: extract reads captures and traces, "
                "a store holds only what extract writes"
            )


def gone_parts(store: str, args: Sequence[str | os.PathLike[str]], names: list[str]) -> list[str]:
    """The part files of ``store`` whose input is gone: named in ``names`` and no longer
    there, or directly in a directory of ``args`` and not among this run's inputs
    ``names`` (deleted, renamed, no longer read as a capture or trace).  A part whose
    recorded path does not give its own name (written from another working directory
    with a relative path) is never one of the latter: where its input was is not known."""
    gone = [
        part_path(store, part_name(p))
        for p in names
        if not os.path.lexists(p) and os.path.exists(part_path(store, part_name(p)))
    ]
    folders = {os.path.abspath(os.fspath(a)) for a in args if os.path.isdir(a)}
    if not folders:
        return gone
    kept = {part_name(p) for p in names}
    for f in part_files(store):
        name = os.path.basename(f)[: -len(".parquet")]
        if name in kept:
            continue
        path = (part_meta(f) or {}).get("path")
        if path and part_name(path) == name and os.path.dirname(os.path.abspath(path)) in folders:
            gone.append(f)
    return gone


def remove_part(store: str, part: str) -> None:
    """Remove a part and then its bindings (a part never lacks its bindings)."""
    name = os.path.basename(part)[: -len(".parquet")]
    for f in (part, bindings_path(store, name)):
        try:
            os.unlink(f)
        except FileNotFoundError:
            pass


def local_mapper(jobs: int) -> Mapper:
    """Run the task in this process (``jobs`` 1) or in up to ``jobs`` processes."""

    def run(task, paths: Sequence[str], store: str) -> Iterator[PartResult]:
        if jobs <= 1 or len(paths) <= 1:
            for p in paths:
                yield task(p, store)
            return
        from ebutool.runner.multi import submitted, worker_signals, workers_ended

        # the workers leave Ctrl-C and SIGTERM to this process, which ends them: a `with
        # ProcessPoolExecutor` waited on its way out for every file submitted, so a
        # SIGTERM ended `extract -j 2` only once all its files were extracted
        pool = ProcessPoolExecutor(max_workers=min(jobs, len(paths)), initializer=worker_signals)
        with workers_ended(pool):
            for fut in as_completed(submitted(pool, [(task, p, store) for p in paths])):
                yield fut.result()
            pool.shutdown()

    return run


def extract(
    paths: Iterable[str | os.PathLike[str]],
    store: str | os.PathLike[str],
    jobs: int = 1,
    *,
    mapper: Mapper | None = None,
    task: Callable[[str, str], PartResult] = extract_file,
    on_result: Callable[[PartResult, int, int], None] | None = None,
    esp_sas: Sequence[EspSA] | None = None,
    vantage: dict[str, str] | None = None,
    prune: bool = False,
) -> ExtractReport:
    """Extract the inputs (files or directories) into ``store`` (module doc).
    ``on_result(result, done, total)`` is called as each file finishes (progress).
    ``esp_sas``: ESP SAs (ebutool.esp) the task decrypts with (a keyword of ``task``);
    ``vantage``: {path or base name: role} instead of the detected vantage points (a
    keyword of ``task``, ebutool.store.writer.extract_file); ``prune``: remove the parts
    of inputs that are gone (:func:`gone_parts`) instead of keeping them."""
    if esp_sas:
        task = functools.partial(cast(Any, task), esp_sas=list(esp_sas))
    if vantage:
        task = functools.partial(cast(Any, task), vantage=dict(vantage))
    paths = list(paths)
    _not_inside(os.fspath(store), [os.fspath(p) for p in paths])
    left_out: list[str] = []
    names = expand_paths(paths, left_out)
    if len(set(map(os.path.abspath, names))) != len(names):
        raise UsageError("extract: an input is named twice")
    root = os.fspath(store)
    _not_inside(root, names)  # (also a directory's link into the store)
    create_store(root)
    leftovers = remove_leftovers(root)  # (before any task of this run writes its own)
    run = mapper if mapper is not None else local_mapper(jobs)
    start = time.perf_counter()
    by_path: dict[str, PartResult] = {}
    for result in run(task, names, root):
        by_path[result.path] = result
        if on_result is not None:
            on_result(result, len(by_path), len(names))
    gone = gone_parts(root, paths, names)
    if prune:
        for part in gone:
            remove_part(root, part)
    report = ExtractReport(
        root, [by_path[p] for p in names], leftovers=leftovers, left_out=left_out
    )
    if prune:
        report.removed = gone
    else:
        report.kept_gone = gone
    report.seconds = time.perf_counter() - start
    return report
