"""ebutool.runner.forked: the tasks of ``analyze STORE -j N`` in this process and N-1
forked children (results in order, exceptions raised here, a lost child diagnosed, the
children ended when this process stops)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from ebutool.runner.forked import WorkerLost, fork_mapper, shares


def _where(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


@pytest.mark.parametrize("jobs", [1, 2, 3, 5])
@pytest.mark.parametrize("n", [0, 1, 2, 4, 7])
def test_results_in_order_shares_in_children(jobs, n):
    out = fork_mapper(jobs)(_where, range(n))
    assert [v for v, _ in out] == [x * x for x in range(n)]
    # the first share here, each other share in its own child
    pids = [pid for _, pid in out]
    cut = shares(n, jobs)
    assert all(pids[i] == os.getpid() for i in cut[0]) if n else True
    others = {pids[share[0]] for share in cut[1:]}
    assert os.getpid() not in others and len(others) == len(cut) - 1
    for share in cut:
        assert len({pids[i] for i in share}) <= 1


def test_shares_cover_the_tasks_in_order():
    for n in range(0, 12):
        for jobs in range(1, 6):
            cut = shares(n, jobs)
            assert [i for r in cut for i in r] == list(range(n))
            sizes = [len(r) for r in cut]
            assert max(sizes, default=0) - min(sizes, default=0) <= 1
            assert len(cut) == max(1, min(jobs, n))


class Odd(ValueError):
    pass


def _raise_in_child(x: int) -> int:
    if x == 1:
        raise Odd(f"task {x}")
    return x


def test_a_childs_exception_is_raised_here():
    with pytest.raises(Odd, match="task 1"):
        fork_mapper(2)(_raise_in_child, [0, 1])


def _unpicklable(x: int) -> int:
    if x == 1:
        raise ValueError(lambda: None)  # its argument cannot be pickled
    return x


def test_an_exception_that_cannot_be_pickled_comes_as_its_text():
    with pytest.raises(RuntimeError, match="ValueError"):
        fork_mapper(2)(_unpicklable, [0, 1])


def _killed(x: int) -> int:
    if x == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return x


def test_a_child_killed_is_a_worker_lost():
    with pytest.raises(WorkerLost, match="signal 9"):
        fork_mapper(2)(_killed, [0, 1])


def test_children_ended_when_this_process_stops(tmp_path):
    mark = tmp_path / "child.pid"

    def slow_child(x: int) -> int:
        if x == 1:
            # written whole then renamed: the parent, which goes on once the mark exists,
            # must not read it empty (this child is ended right after)
            (tmp_path / "child.tmp").write_text(str(os.getpid()))
            os.replace(tmp_path / "child.tmp", mark)
            time.sleep(60)
        while not mark.exists():  # (this process's share, once the child is running)
            time.sleep(0.01)
        raise KeyboardInterrupt  # as Ctrl-C would

    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        fork_mapper(2)(slow_child, [0, 1])
    assert time.monotonic() - start < 30  # the sleeping child was ended, not waited for
    pid = int(mark.read_text())
    with pytest.raises(ChildProcessError):  # and reaped
        os.waitpid(pid, os.WNOHANG)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_fork_that_fails_ends_the_children_already_forked(tmp_path, monkeypatch):
    """Review: the second fork failing (ENOMEM, EAGAIN) left the first child running,
    never waited for."""
    real_fork, forked = os.fork, []

    def fork_once():
        if forked:
            raise OSError(11, "Resource temporarily unavailable")
        pid = real_fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork_once)

    def sleepy(x: int) -> int:
        time.sleep(30 if os.getpid() != parent else 0)
        return x

    parent = os.getpid()
    start = time.monotonic()
    with pytest.raises(OSError, match="temporarily"):
        fork_mapper(3)(sleepy, [0, 1, 2])
    assert time.monotonic() - start < 20 and len(forked) == 1
    with pytest.raises(ChildProcessError):  # ended and reaped
        os.waitpid(forked[0], os.WNOHANG)


def test_a_child_killed_while_writing_is_a_worker_lost_not_a_cut_pickle(tmp_path):
    """Review: a child killed with part of its results in the pipe gave an
    UnpicklingError (an internal error) instead of the lost worker's diagnosis."""
    mark = tmp_path / "child.pid"
    parent = os.getpid()

    def big_or_kill(x: int):
        if os.getpid() != parent:
            (tmp_path / "child.tmp").write_text(str(os.getpid()))
            os.replace(tmp_path / "child.tmp", mark)  # (whole when the parent sees it)
            return b"x" * 4_000_000  # more than a pipe holds: the child blocks writing
        while not mark.exists():
            time.sleep(0.01)
        time.sleep(0.5)  # (the child pickles and blocks in its write)
        os.kill(int(mark.read_text()), signal.SIGKILL)
        return x

    with pytest.raises(WorkerLost, match="signal 9"):
        fork_mapper(2)(big_or_kill, [0, 1])


def test_meanwhile_runs_here_after_the_own_share_while_the_children_run(tmp_path):
    """``meanwhile`` (the caller's import of pandas for analyze STORE) runs once, in this
    process, after its own share and before a child's share is over."""
    parent, events = os.getpid(), []
    gate = tmp_path / "meanwhile.done"

    def task(x: int) -> tuple[int, bool]:
        if os.getpid() == parent:
            events.append(("share", x))
            return x, False
        end = time.monotonic() + 10  # a child: waits for meanwhile (not forever)
        while not gate.exists() and time.monotonic() < end:
            time.sleep(0.01)
        return x, gate.exists()

    def meanwhile() -> None:
        events.append(("meanwhile", None))
        gate.write_text("")

    assert fork_mapper(2, meanwhile=meanwhile)(task, [0, 1]) == [(0, False), (1, True)]
    assert events == [("share", 0), ("meanwhile", None)]


def test_no_meanwhile_without_children():
    called = []
    assert fork_mapper(2, meanwhile=lambda: called.append(1))(_where, [3]) == [_where(3)]
    assert fork_mapper(1, meanwhile=lambda: called.append(1))(_where, [1, 2])[0][0] == 1
    assert called == []
