"""``analyze STORE -j N``: the tasks run in this process and N-1 forked children, which
find their tasks in the memory they were forked with.

    from ebutool.runner.forked import fork_mapper
    results = fork_mapper(2)(func, tasks)  # [func(t) for t in tasks], in 2 processes

The tasks are cut into ``jobs`` shares of consecutive tasks (the caller makes one task
per process: ebutool.store.grouped balances the groups of mobile nodes into them).  Each
child is forked with the tasks already built, runs its share and writes its results,
pickled, to a pipe; this process runs the first share meanwhile, then reads the
children's results in order.  Against a ProcessPoolExecutor of N workers (what
``analyze STORE -j N`` used before), nothing is pickled on the way out (a bin of the
8 x 1 M-packet store is ~3 MB of records), there is one process fewer to fork, and
this process, idle while the pool ran, does a share of the work (docs/performance.md,
"the fork mapper").

A task that raises in a child raises the same exception here; a child that ends
without its results (killed) is a :class:`WorkerLost`.  When this process stops (an
exception, Ctrl-C, SIGTERM), the children still running are ended and waited for.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
from collections.abc import Callable, Sequence
from typing import Any

from ebutool.core.errors import EXIT_INTERNAL, EbutoolError
from ebutool.runner.multi import STOP_SIGNALS, worker_signals


class WorkerLost(EbutoolError):
    """A child process ended without its results (killed, out of memory): exit 4."""

    exit_code = EXIT_INTERNAL


def shares(n_tasks: int, jobs: int) -> list[range]:
    """``n_tasks`` cut into ``jobs`` ranges of consecutive tasks, sizes within one."""
    jobs = max(1, min(jobs, n_tasks))
    cuts = [n_tasks * k // jobs for k in range(jobs + 1)]
    return [range(cuts[k], cuts[k + 1]) for k in range(jobs)]


def fork_mapper(jobs: int, meanwhile: Callable[[], object] | None = None):
    """A mapper (``run(func, tasks)`` -> ``[func(t) for t in tasks]``) over ``jobs``
    processes: this one and ``jobs - 1`` forked children (module doc).  ``meanwhile``:
    called in this process after its own share, while the children still run theirs
    (when there are children): work of the next step taken off the critical path (the
    caller's share is made smaller by as much, ebutool.store.grouped.CALLER_IMPORT_RECORDS)."""

    def run(func: Callable[[Any], Any], tasks: Sequence[Any]) -> list[Any]:
        tasks = list(tasks)
        parts = shares(len(tasks), jobs)
        if len(parts) <= 1:
            return [func(t) for t in tasks]
        children: list[tuple[int, int]] = []
        try:
            # A signal handled in the middle of a fork would leave a child half set up
            # (as ebutool.runner.multi.map_files): held back until the forks are done.
            held = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
            try:
                for share in parts[1:]:  # (one appended as soon as forked: a later fork
                    children.append(_fork(func, tasks, share))  # that fails ends it too)
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, held)
            results = [func(tasks[i]) for i in parts[0]]
            if meanwhile is not None:
                meanwhile()
            while children:
                # out of the list before it is collected: whatever _collect raises, its
                # pipe is closed and it is waited for, and _end must not touch it again
                results.extend(_collect(*children.pop(0)))
            return results
        finally:
            _end(children)

    return run


def _fork(func: Callable[[Any], Any], tasks: list[Any], share: range) -> tuple[int, int]:
    """(pid, read end of its pipe) of a child running ``share`` of ``tasks``."""
    read, write = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read)
        os.close(write)
        raise
    if pid:
        os.close(write)
        return pid, read
    status = 1  # (the child) never returns: os._exit, no atexit handler, no flush
    try:
        os.close(read)
        worker_signals()  # Ctrl-C is the main process's (it ends the children); SIGTERM ends us
        try:
            data = pickle.dumps(("ok", [func(tasks[i]) for i in share]), pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # raised again in the main process
            data = _error(exc)
        with os.fdopen(write, "wb") as out:
            out.write(data)
        status = 0
    finally:
        os._exit(status)


def _error(exc: Exception) -> bytes:
    try:
        return pickle.dumps(("error", exc), pickle.HIGHEST_PROTOCOL)
    except Exception:  # an exception that cannot be pickled: its text
        return pickle.dumps(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))


def _collect(pid: int, read: int) -> list[Any]:
    """A child's results (or its exception, raised), once it has ended."""
    try:
        with os.fdopen(read, "rb") as fh:
            data = fh.read()
    finally:
        _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    # a child writes its results then exits 0: anything else (killed, out of memory,
    # possibly while writing) leaves no results to trust, even if some octets came
    if not data or code != 0:
        how = f"signal {-code}" if code < 0 else f"exit status {code}"
        raise WorkerLost(f"a worker process of the analysis ended without its results ({how})")
    kind, value = pickle.loads(data)
    if kind == "error":
        raise value
    return value


def _end(children: list[tuple[int, int]]) -> None:
    """Stop the children not collected (this process is stopping) and wait for them."""
    for pid, read in children:
        # (one being collected when this process stopped may be gone, its pipe closed)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        with contextlib.suppress(OSError):
            os.close(read)
