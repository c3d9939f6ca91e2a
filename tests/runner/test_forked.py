"""ebutool.runner.forked: the tasks of ``analyze STORE -j N`` in this process and N-1
forked children, each taking the next task left (results in order, exceptions raised
here, a lost child diagnosed, the children ended when this process stops)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from ebutool.runner.forked import MAX_TASKS, WorkerLost, fork_mapper


def _where(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


@pytest.mark.parametrize("jobs", [1, 2, 3, 5])
@pytest.mark.parametrize("n", [0, 1, 2, 4, 7, 40])
def test_results_in_order_each_task_once(jobs, n):
    calls = []
    out = fork_mapper(jobs)(lambda x: (calls.append(x), _where(x))[1], range(n))
    assert [v for v, _ in out] == [x * x for x in range(n)]
    # the children's tasks are not in this process's calls: each task ran once
    here = [i for i, (_, pid) in enumerate(out) if pid == os.getpid()]
    assert calls == here
    assert len({pid for _, pid in out}) <= min(jobs, n)


def _wait_for(path, seconds: float = 20) -> None:
    end = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < end:
        time.sleep(0.005)
    assert path.exists(), f"{path} never came"


def test_each_process_takes_the_next_task_left(tmp_path):
    """A process busy with a long task leaves the next ones to the others: with one slow
    task, the other process takes every other task (a static cut would give each half)."""
    parent = os.getpid()

    def task(x: int) -> int:
        if x == 0:  # the slow one, whoever takes it: until every other task is done
            for y in range(1, 12):
                _wait_for(tmp_path / f"done{y}")
        else:
            (tmp_path / f"done{x}").write_text("")
        return os.getpid()

    pids = fork_mapper(2)(task, range(12))
    assert len(set(pids[1:])) == 1 and pids[0] not in pids[1:]  # one process took them all
    assert parent in pids


def test_too_many_tasks_for_the_tickets():
    # (all tickets are written at once before the forks: they must fit in the pipe)
    assert len(fork_mapper(2)(_where, range(MAX_TASKS))) == MAX_TASKS
    with pytest.raises(ValueError, match=f"at most {MAX_TASKS}"):
        fork_mapper(2)(_where, range(MAX_TASKS + 1))


class Odd(ValueError):
    pass


def _barrier(folder, n: int = 2, seconds: float = 20) -> bool:
    """Wait until ``n`` processes have called this (each with its own task): with n
    tasks over n processes, each process has exactly one.  True in the forked child."""
    (folder / f"{os.getpid()}.{time.monotonic_ns()}").write_text("")
    end = time.monotonic() + seconds
    while len({p.name.split(".")[0] for p in folder.iterdir()}) < n:
        assert time.monotonic() < end, "the processes never all had a task"
        time.sleep(0.005)
    return os.getpid() != PARENT


PARENT = os.getpid()


@pytest.fixture
def gate(tmp_path):
    folder = tmp_path / "barrier"
    folder.mkdir()
    return folder


def test_three_processes_take_one_task_each(gate):
    assert len(set(fork_mapper(3)(lambda x: (_barrier(gate, 3), os.getpid())[1], range(3)))) == 3


def _in_the_child(gate, act):
    """A task that, in the child (each of two processes holding one task), does ``act``."""

    def task(x: int) -> int:
        if _barrier(gate):
            act(x)
        return x

    return task


def _raise_odd(x: int) -> None:
    raise Odd(f"task {x} in the child")


def _raise_unpicklable(x: int) -> None:
    raise ValueError(lambda: None)  # its argument cannot be pickled


def _killed(x: int) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _child_pid(gate) -> int:
    """The other process that passed the barrier."""
    (pid,) = {int(p.name.split(".")[0]) for p in gate.iterdir()} - {os.getpid()}
    return pid


@pytest.mark.parametrize(
    "act, raised, match",
    [
        (_raise_odd, Odd, "in the child"),  # a child's exception is raised here
        (_raise_unpicklable, RuntimeError, "ValueError"),  # as its text, if not picklable
        (_killed, WorkerLost, "signal 9"),  # a child killed is a worker lost
    ],
)
def test_what_befalls_a_childs_task_is_raised_here(gate, act, raised, match):
    with pytest.raises(raised, match=match):
        fork_mapper(2)(_in_the_child(gate, act), [0, 1])


def test_a_childs_failure_is_raised_after_the_task_running_here(tmp_path):
    """A child that fails leaves its tasks to this process, which raises its error after
    the task it was running, not after running all the tasks left."""
    here: list[int] = []

    def task(x: int) -> int:
        if os.getpid() != PARENT:
            # (written whole, then renamed: the parent may look the moment the name exists;
            # a plain write_text let it read an empty file once, CI of stop 32)
            (tmp_path / "child.part").write_text(str(os.getpid()))
            os.replace(tmp_path / "child.part", tmp_path / "child")
            raise Odd(f"task {x} in the child")
        if not here:  # this process's first task: until the child has ended (not reaped)
            _wait_for(tmp_path / "child")
            pid = int((tmp_path / "child").read_text())
            os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        here.append(x)
        return x

    with pytest.raises(Odd, match="in the child"):
        fork_mapper(2)(task, range(40))
    assert len(here) == 1  # (before: the 38 or 39 tasks left, then the error)


def test_children_ended_when_this_process_stops(gate):
    def task(x: int) -> int:
        if _barrier(gate):
            time.sleep(60)
        raise KeyboardInterrupt  # as Ctrl-C would (here, once the child has its task)

    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        fork_mapper(2)(task, [0, 1])
    assert time.monotonic() - start < 30  # the sleeping child was ended, not waited for
    pid = _child_pid(gate)
    with pytest.raises(ChildProcessError):  # and reaped
        os.waitpid(pid, os.WNOHANG)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_fork_that_fails_ends_the_children_already_forked(tmp_path, monkeypatch):
    """Review: the second fork failing (ENOMEM, EAGAIN) left the first child running,
    never waited for."""
    real_fork, children = os.fork, []

    def fork_once():
        if children:
            raise OSError(11, "Resource temporarily unavailable")
        pid = real_fork()
        if pid:
            children.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork_once)

    def sleepy(x: int) -> int:
        time.sleep(30 if os.getpid() != PARENT else 0)
        return x

    start = time.monotonic()
    with pytest.raises(OSError, match="temporarily"):
        fork_mapper(3)(sleepy, [0, 1, 2])
    assert time.monotonic() - start < 20 and len(children) == 1
    with pytest.raises(ChildProcessError):  # ended and reaped
        os.waitpid(children[0], os.WNOHANG)


def _blocked_in_pipe_write(pid: int, seconds: float = 20) -> None:
    """Wait until ``pid`` sleeps in a write to a full pipe (Linux's /proc/PID/wchan:
    "pipe_write", "anon_pipe_write"); where the kernel does not say, half a second."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
            with open(f"/proc/{pid}/wchan") as fh:
                where = fh.read()
        except (OSError, IndexError):
            state, where = "S", "0"
        if state == "S" and "pipe_write" in where:
            return
        if state == "S" and where in ("", "0"):  # (not told: kptr_restrict, or not Linux)
            time.sleep(0.5)
            return
        time.sleep(0.005)  # (still pickling, or in the barrier's sleep)
    raise AssertionError(f"process {pid} never blocked writing its results")


def test_a_child_killed_while_writing_is_a_worker_lost_not_a_cut_pickle(gate):
    """Review: a child killed with part of its results in the pipe gave an
    UnpicklingError (an internal error) instead of the lost worker's diagnosis."""

    def big_or_kill(x: int):
        if _barrier(gate):
            return b"x" * 4_000_000  # more than a pipe holds: the child blocks writing
        pid = _child_pid(gate)
        _blocked_in_pipe_write(pid)  # (its results half in the pipe)
        os.kill(pid, signal.SIGKILL)
        return x

    with pytest.raises(WorkerLost, match="signal 9"):
        fork_mapper(2)(big_or_kill, [0, 1])


def test_no_descriptor_left_open(gate):
    before = set(os.listdir("/proc/self/fd"))
    fork_mapper(3)(_where, range(10))
    with pytest.raises(Odd):
        fork_mapper(2)(_in_the_child(gate, _raise_odd), [0, 1])
    assert set(os.listdir("/proc/self/fd")) == before


def test_first_runs_here_before_its_tasks_while_the_children_take_theirs(tmp_path):
    """``first`` (the caller's import of pandas for analyze STORE) runs once, in this
    process, before it takes any task, while a child already takes tasks."""
    events = []

    def task(x: int) -> tuple[int, bool]:
        if os.getpid() == PARENT:
            events.append(("task", x))
        else:
            (tmp_path / f"done{x}").write_text("")
        return x, os.getpid() == PARENT

    def first() -> None:
        events.append(("first", None))
        _wait_for(tmp_path / "done0")  # the child's first task, done while this runs

    out = fork_mapper(2, first=first)(task, range(4))
    assert [x for x, _ in out] == [0, 1, 2, 3] and out[0] == (0, False)
    assert events[0] == ("first", None) and len(events) == 1 + sum(here for _, here in out)


def test_no_first_without_children():
    called = []
    assert fork_mapper(2, first=lambda: called.append(1))(_where, [3]) == [_where(3)]
    assert fork_mapper(1, first=lambda: called.append(1))(_where, [1, 2])[0][0] == 1
    assert called == []
