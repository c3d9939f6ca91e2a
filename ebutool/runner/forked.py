"""``analyze STORE -j N``: the tasks run in this process and N-1 forked children, which
find their tasks in the memory they were forked with, each process taking the next task left.

    from ebutool.runner.forked import fork_mapper
    results = fork_mapper(2)(func, tasks)  # [func(t) for t in tasks], in 2 processes

Every process takes the next task not yet taken until none is left (a ticket pipe: the
tasks' indices, all written before the forks; each process reads one at a time), so
the processes end within about one task of each other whatever each one's speed
(ebutool.store.grouped cuts the groups of mobile nodes into several tasks per process:
:data:`ebutool.runner.cluster.GROUPS_PER_PROCESS`).  Each child writes its results,
pickled, with their indices, to its own pipe once there is no task left; this process
reads them when it has no task left either, and returns all in the tasks' order.
Against a ProcessPoolExecutor of N workers (what ``analyze STORE -j N`` used before),
nothing is pickled on the way in (a bin of the 8 x 1 M-packet store is ~3 MB of
records), there is one process fewer to fork, and this process, idle while the pool
ran, takes tasks too (docs/performance.md, "the fork mapper").

A task that raises in a child raises the same exception here, as soon as this process
has ended the task it is running (it looks at the children's pipes after each task: a
child writes only at its end); a child that ends without its results (killed) is a
:class:`WorkerLost`, as soon too.  When this process stops (an
exception, Ctrl-C, SIGTERM), the children still running are ended and waited for.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import struct
from collections.abc import Callable, Sequence
from typing import Any

from ebutool.core.at_stop import at_stop
from ebutool.core.errors import EXIT_INTERNAL, EbutoolError
from ebutool.runner.multi import STOP_SIGNALS, worker_signals

TICKET = struct.Struct("=I")  # a task's index in the ticket pipe
# All tickets are written before the forks, so they must fit in a pipe's buffer
# (64 KiB on Linux, unless the system has made it smaller) without a reader.
MAX_TASKS = 4096 // TICKET.size


class WorkerLost(EbutoolError):
    """A child process ended without its results (killed, out of memory): exit 4."""

    exit_code = EXIT_INTERNAL


def fork_mapper(jobs: int, first: Callable[[], object] | None = None):
    """A mapper (``run(func, tasks)`` -> ``[func(t) for t in tasks]``) over ``jobs``
    processes: this one and ``jobs - 1`` forked children, each taking the next task
    left (module doc).  ``first``: called in this process before it takes any task,
    while the children take theirs (when there are children): work of the next step
    (the caller's import of pandas for the table) that the others' tasks make up for."""

    def run(func: Callable[[Any], Any], tasks: Sequence[Any]) -> list[Any]:
        tasks = list(tasks)
        n_children = min(jobs, len(tasks)) - 1
        if n_children <= 0:
            return [func(t) for t in tasks]
        if len(tasks) > MAX_TASKS:
            raise ValueError(f"fork_mapper: {len(tasks)} tasks, at most {MAX_TASKS}")
        tickets = _tickets(len(tasks))
        children: list[tuple[int, int]] = []
        # (also when the program ends from a callback, with no way out: ebutool.cli.ending)
        with at_stop(lambda: _end(children)):
            try:
                return _run(func, tasks, tickets, n_children, first, children)
            finally:
                _end(children)
                os.close(tickets)

    return run


def _run(
    func: Callable[[Any], Any],
    tasks: list[Any],
    tickets: int,
    n_children: int,
    first: Callable[[], object] | None,
    children: list[tuple[int, int]],
) -> list[Any]:
    """The tasks' results, in ``n_children`` children and this process (``children``:
    each forked one's (pid, pipe) as long as it is not collected)."""
    # A signal handled in the middle of a fork would leave a child half set up
    # (as ebutool.runner.multi.map_files): held back until the forks are done.
    held = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        for _ in range(n_children):  # (one appended as soon as forked: a later
            children.append(_fork(func, tasks, tickets))  # fork that fails ends it)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
    if first is not None:
        first()
    results: dict[int, Any] = {}
    while True:
        took, ended = _take(func, tasks, tickets, [read for _, read in children])
        results.update(took)
        if not ended:  # no task left
            break
        # a child that ended while tasks were left failed (its error, or lost): raised
        # now, not once this process has run the tasks it left (or, ending just as
        # the last ticket went, it is collected early and the taking goes on)
        for child in [c for c in children if c[1] in ended]:
            children.remove(child)
            results.update(_collect(*child))
    while children:
        # out of the list before it is collected: whatever _collect raises, its
        # pipe is closed and it is waited for, and _end must not touch it again
        results.update(_collect(*children.pop(0)))
    return [results[i] for i in range(len(tasks))]


def _tickets(n: int) -> int:
    """The read end of a pipe holding the indices 0..n-1, its write end closed (a
    process that reads nothing has no task left)."""
    read, write = os.pipe()
    try:
        data = b"".join(TICKET.pack(i) for i in range(n))
        # one write of at most PIPE_BUF octets: whole, and a reader's TICKET.size
        # octets are always one ticket (the tickets are all in before any read)
        if os.write(write, data) != len(data):
            raise OSError("fork_mapper: the tickets do not fit in a pipe")
    except BaseException:
        os.close(read)
        raise
    finally:
        os.close(write)
    return read


def _take(
    func: Callable[[Any], Any], tasks: list[Any], tickets: int, watch: Sequence[int] = ()
) -> tuple[list[tuple[int, Any]], list[int]]:
    """(index, result) of each task this process takes, until none is left or, after a
    task, one of the children's pipes ``watch`` has something to read (that child has
    ended: it writes only at its end): (the pairs, those pipes; none when no task is left)."""
    out = []
    while data := os.read(tickets, TICKET.size):
        (i,) = TICKET.unpack(data)
        out.append((i, func(tasks[i])))
        if watch:  # (one poll per task, no wait)
            ended, _, _ = select.select(watch, [], [], 0)
            if ended:
                return out, ended
    return out, []


def _fork(func: Callable[[Any], Any], tasks: list[Any], tickets: int) -> tuple[int, int]:
    """(pid, read end of its pipe) of a child taking tasks from ``tickets``."""
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
            data = pickle.dumps(("ok", _take(func, tasks, tickets)[0]), pickle.HIGHEST_PROTOCOL)
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


def _collect(pid: int, read: int) -> list[tuple[int, Any]]:
    """A child's (index, result) pairs (or its exception, raised), once it has ended."""
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
