"""``analyze STORE -j N`` forks before anything imports pandas, and its children never
import it (the caller alone does, after the fork, while the children take the first
tasks: docs/performance.md, "pandas after the fork"); the table is the same."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import ebutool
from tests.support.cli import SAMPLES

pytest.importorskip("pyarrow")
ROOT = os.path.dirname(os.path.dirname(ebutool.__file__))  # (the ebutool under test)
INPUTS = [SAMPLES / "mixed.pcap", SAMPLES / "early-conservative.pcap"]  # 4 groups of MNs

# Runs the command line as `python -m ebutool` would, noting (one JSON line each, in
# the file argv[1]) whether pandas is loaded at each fork (in the forking process) and
# after each bin's analysis (in the process that ran it).
WRAPPER = """
import json, os, sys, time
notes = sys.argv.pop(1)

def note(what):
    with open(notes, "a") as fh:
        fh.write(json.dumps([what, os.getpid(), "pandas" in sys.modules]) + "\\n")

real_fork = os.fork
def fork():
    note("fork")
    return real_fork()
os.fork = fork

import ebutool.store.grouped as grouped
real_group = grouped.analyze_group
def analyze_group(task):
    result = real_group(task)
    note("group")
    return result
grouped.analyze_group = analyze_group

# the caller's import of pandas (before it takes any task) waits until a child has
# analysed a bin: the children's tasks are then certain to be checked
real_import = grouped.import_for_frame
def import_for_frame():
    end = time.monotonic() + 20
    while time.monotonic() < end:
        with open(notes) as fh:
            # (a line a child is appending may be cut: only whole lines are read)
            if any(line.endswith("\\n") and '"group"' in line for line in fh):
                break
        time.sleep(0.01)
    real_import()
grouped.import_for_frame = import_for_frame

from ebutool.cli import main
sys.argv[0] = "ebutool"
main()
"""


def _run(args: list[str], cwd, wrapper: str | None = None, notes: str = "") -> str:
    head = [sys.executable, wrapper, notes] if wrapper else [sys.executable, "-m", "ebutool"]
    env = {**os.environ, "PYTHONPATH": ROOT}
    done = subprocess.run(head + args, cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stderr


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    where = tmp_path_factory.mktemp("forked")
    _run(["extract", *map(str, INPUTS), "-o", "store", "-q"], where)
    return where


@pytest.mark.parametrize("jobs", [2, 3])
def test_no_pandas_at_the_fork_nor_in_the_children(store, jobs):
    wrapper, notes = store / "wrapper.py", store / f"notes{jobs}.jsonl"
    wrapper.write_text(WRAPPER)
    args = ["analyze", "store", "-f", "csv", "-j", str(jobs)]
    err = _run([*args, "-o", f"wrapped{jobs}.csv"], store, str(wrapper), str(notes))
    seen = [json.loads(line) for line in notes.read_text().splitlines()]
    forks = [s for s in seen if s[0] == "fork"]
    groups = [s for s in seen if s[0] == "group"]
    caller = forks[0][1]
    assert len(forks) == jobs - 1 and {pid for _, pid, _ in forks} == {caller}
    assert not any(loaded for _, _, loaded in forks), "pandas imported before the fork"
    children = [s for s in groups if s[1] != caller]
    assert children  # (the caller's import waited for one)
    assert not any(loaded for _, _, loaded in children), "pandas imported in a child"
    mine = [s for s in groups if s[1] == caller]  # (its tasks: after its import)
    assert all(loaded for _, _, loaded in mine)
    # the output: that of the same command without the wrapper, and of one process
    _run([*args, "-o", f"plain{jobs}.csv"], store)
    _run(["analyze", "store", "-f", "csv", "-o", "one.csv"], store)
    wrapped = (store / f"wrapped{jobs}.csv").read_bytes()
    assert wrapped == (store / f"plain{jobs}.csv").read_bytes()
    assert wrapped == (store / "one.csv").read_bytes()
    assert len(wrapped.splitlines()) > 1 and "episodes" in err
