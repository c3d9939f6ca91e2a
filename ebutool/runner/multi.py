"""The one runner for several inputs: each file on its own, or all merged by time, in
up to N processes.

- :func:`per_file` runs a task on every input in argument order, in this process or in
  up to ``jobs`` processes (:func:`map_files`), with the same result either way: each
  file's warnings are counted into the caller's Diagnostics, and, when there are
  several files, every kept warning names its file (``Diagnostics.for_source``, the
  label of :func:`ebutool.analysis.source_labels`); StreamStats are summed.
- :func:`merged_records` is the message stream of all inputs merged by time (one
  capture split over several files): streamed in this process, or each file read in a
  worker and merged here.
- :func:`tagged` puts the per-file tables together, with a ``source`` column first only
  when there are several files, so that a single file's table is what it always was.

The commands' work on several inputs (analyze, compare, decode, verify, replay) is in
ebutool.runner.analyze_inputs, compare_inputs, decode_inputs, verify_inputs and replay_inputs.
"""

from __future__ import annotations

import heapq
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from ebutool.analysis import merged_records as streamed_records
from ebutool.analysis import source_labels
from ebutool.core.at_stop import at_stop
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import InputError, UsageError
from ebutool.core.keyfile import shown_path
from ebutool.core.names import readable_name
from ebutool.records.from_packet import StreamStats

if TYPE_CHECKING:
    import pandas as pd

    from ebutool.core.progress import NullProgress, Progress
    from ebutool.records.record import Record

T = TypeVar("T")

# task(path, diag, stats, *args, progress=...) -> result: a module-level function (it is
# sent to worker processes), reading ``path`` and warning into ``diag``.
Task = Callable[..., T]


def map_files(func: Callable[..., T], paths: Sequence[str], jobs: int = 1, *args: Any) -> list[T]:
    """``[func(p, *args) for p in paths]``, computed in up to ``jobs`` processes (a
    module-level, picklable ``func``); exceptions propagate (the first in argument order).
    Standard input (``-``) is always handled in this process."""
    jobs = max(1, min(jobs, len(paths)))
    if jobs == 1 or len(paths) <= 1:
        return [func(p, *args) for p in paths]
    results: dict[int, T] = {}
    remote = [i for i, p in enumerate(paths) if p != "-"]
    pool = ProcessPoolExecutor(
        max_workers=min(jobs, max(1, len(remote))), initializer=worker_signals
    )
    with workers_ended(pool):
        futures = submitted(pool, [(func, paths[i], *args) for i in remote])
        for i, p in enumerate(paths):
            if p == "-":
                results[i] = func(p, *args)
        for i, future in zip(remote, futures, strict=True):
            results[i] = future.result()
        # inside the block: a signal while the workers are joined must end them too (the
        # program ends by os._exit, which leaves live workers holding its stdout/stderr)
        pool.shutdown()
    return [results[i] for i in range(len(paths))]


def submitted(pool: ProcessPoolExecutor, calls: Sequence[tuple[Any, ...]]) -> list[Future[Any]]:
    """``pool.submit(*call)`` of each call, in order.  The workers are forked during
    submit: a signal handled in the middle of a fork (in an at-fork hook) would print
    "Exception ignored ... Traceback".  Held back until the forks are done (the workers
    unblock it in worker_signals)."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        return [pool.submit(*call) for call in calls]
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


@contextmanager
def workers_ended(pool: ProcessPoolExecutor) -> Iterator[None]:
    """The block's ``pool`` workers terminated when it raises (Ctrl-C, SIGTERM, a failure:
    their work is of no use any more; a generator closed inside it too), and when the
    program ends inside it with no way out (ebutool.core.at_stop).  Without this, a
    ``with ProcessPoolExecutor`` waits on the way out for every task submitted."""

    def end() -> None:
        # taken before shutdown, which forgets them (sets _processes to None)
        workers = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in workers:
            proc.terminate()

    try:
        with at_stop(end):
            yield
    except BaseException:
        end()
        raise


STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}  # held back while forking (a child half set up)


def worker_signals() -> None:
    """A worker leaves Ctrl-C and SIGTERM to the main process (which ends it): no
    KeyboardInterrupt traceback from every worker.  (Forked with both blocked, see
    map_files: unblocked here, once its own dispositions are set.)"""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def merge_stats(into: StreamStats, other: StreamStats) -> StreamStats:
    into.frames += other.frames
    into.numbered_blocks += other.numbered_blocks
    into.ipv6 += other.ipv6
    into.relevant += other.relevant
    into.skipped.update(other.skipped)
    into.messages.update(other.messages)
    into.time_decimals = max(into.time_decimals, other.time_decimals)
    return into


def check_paths(paths: Sequence[str | os.PathLike[str]], what: str) -> list[str]:
    """``paths`` as strings; at least one, standard input at most once."""
    names = [os.fspath(p) for p in paths]
    if not names:
        raise UsageError(f"{what} needs at least one capture or trace")
    if names.count("-") > 1:
        raise UsageError("'-' (standard input) can be given only once")
    return names


UNREADABLE = "unreadable_input"  # the diagnosis of an input of several that cannot be read


def _in_worker(
    path: str, task: Task[T], *args: Any
) -> tuple[T | None, Diagnostics, StreamStats, InputError | None]:
    diag, stats = Diagnostics(), StreamStats()
    try:
        return task(path, diag, stats, *args), diag, stats, None
    except InputError as exc:
        text = str(exc)  # the file is named by the diagnosis' source label
        for named in (f"{readable_name(path)}: ", f"{path}: "):  # (how messages name it)
            text = text.removeprefix(named)
        diag.warn(UNREADABLE, text)
        return None, diag, stats, exc


def readable(values: Sequence[T | None], labels: Sequence[str]) -> tuple[list[T], list[str]]:
    """The results of :func:`per_file` for the inputs that could be read, and their labels."""
    pairs = [(v, label) for v, label in zip(values, labels, strict=True) if v is not None]
    return [v for v, _ in pairs], [label for _, label in pairs]


def per_file(
    task: Task[T],
    paths: Sequence[str],
    *args: Any,
    jobs: int = 1,
    diag: Diagnostics,
    stats: StreamStats,
    progress: Progress | NullProgress | None = None,
    diags: list[Diagnostics] | None = None,
) -> list[T]:
    """``task(path, diag, stats, *args)`` for every input, in argument order (module
    doc); ``progress`` follows a single input's reading.  ``diags``: of several inputs,
    each one's diagnostics (labelled with it) are appended there instead of going to
    ``diag`` (ebutool.runner.views.PieceWarnings).  Of several inputs, one that
    cannot be read (InputError) is counted as an ``unreadable_input`` warning naming it
    and its result is None (:func:`readable`); when none can be read, the first one's
    error is raised."""
    if not paths:
        return []
    several = len(paths) > 1
    labels = source_labels(paths)
    if not several:
        return [task(paths[0], diag, stats, *args, progress=progress)]
    out: list[T | None] = []
    errors: list[InputError] = []
    runs: Iterator[tuple[Any, Diagnostics, StreamStats, InputError | None]]
    if jobs <= 1:
        runs = (_in_worker(p, task, *args) for p in paths)
    else:
        runs = iter(map_files(_in_worker, paths, jobs, task, *args))
    for label, (value, d, s, error) in zip(labels, runs, strict=True):
        d = d.labelled(shown_path(label))  # a mistyped Kcn is no file name to show
        if diags is not None:
            diags.append(d)
        else:
            diag.merge(d)
        merge_stats(stats, s)
        out.append(value)
        if error is not None:
            errors.append(error)
    if len(errors) == len(paths):
        for d in diags or ():  # (no table to stitch: the caller's ``diag`` has them all)
            diag.merge(d)
        raise errors[0]
    return out  # type: ignore[return-value]


def _read_one(
    path: str, diag: Diagnostics, stats: StreamStats, esp_sas: Any = None, progress: None = None
) -> list:
    from ebutool.analysis.episodes import check_order
    from ebutool.stream.reader import read_records

    return list(check_order(read_records(path, diag, stats, esp_sas=esp_sas), diag))


def merged_records(
    paths: Sequence[str],
    jobs: int = 1,
    *,
    diag: Diagnostics,
    stats: StreamStats,
    progress: Progress | NullProgress | None = None,
    esp_sas: Any = None,
) -> Iterator[Record]:
    """The inputs' records merged by time, each file's own order checked first (module
    doc); with ``jobs`` > 1 every file is read whole in a worker, then merged here.
    ``esp_sas``: ESP SAs to decrypt with (ebutool.esp)."""
    if jobs <= 1 or len(paths) == 1:
        return streamed_records(list(paths), diag, stats, progress, esp_sas)
    streams = per_file(_read_one, paths, esp_sas, jobs=jobs, diag=diag, stats=stats)
    return heapq.merge(*streams, key=lambda r: r.ts_ns)


def tagged(
    frames: Sequence[pd.DataFrame],
    labels: Sequence[str],
    column: str = "source",
    always: bool = False,
) -> pd.DataFrame:
    """The per-file tables one after the other, each row led by its file's label in
    ``column`` when there are several (or ``always``); one file's table as it is."""
    import pandas as pd

    if len(frames) == 1 and not always:
        return frames[0]
    from ebutool.core.exact_time import merged_attrs

    parts = []
    for df, label in zip(frames, labels, strict=True):
        df = df.copy()
        df.insert(0, column, label)
        parts.append(df)
    if len(parts) == 1:
        return parts[0]
    out = pd.concat(parts, ignore_index=True)
    out.attrs.update(merged_attrs(frames))  # concat drops attrs that differ
    return out


__all__ = [
    "map_files",
    "merge_stats",
    "check_paths",
    "per_file",
    "merged_records",
    "tagged",
    "readable",
    "UNREADABLE",
    "source_labels",
]
