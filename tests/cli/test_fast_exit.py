"""ebutool.cli.run (the console script, ``python -m ebutool``): the process ends without
the interpreter's teardown once the command is over, after the atexit handlers and the
last flush, with the command's exit status; left to the interpreter when another
thread still runs."""

from __future__ import annotations

import subprocess
import sys

from tests.support.cli import SAMPLES
from tests.support.proc import env

PROGRAM = """
import atexit, sys, threading, time
from ebutool.cli import run

class Teardown:
    def __del__(self):
        sys.stdout.write("torn down\\n")

kept = Teardown()  # freed only by the interpreter's teardown
atexit.register(lambda: sys.stdout.write("atexit ran\\n"))
if sys.argv[1] == "thread":
    threading.Thread(target=time.sleep, args=(0.5,)).start()
sys.argv = ["ebutool", *sys.argv[2:]]
run()
"""


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", PROGRAM, *args],
        capture_output=True,
        text=True,
        env=env(),
        timeout=120,
    )


def test_ends_without_teardown_after_atexit_and_flush():
    p = _run("alone", "--version")
    assert p.returncode == 0
    assert p.stdout.splitlines() == [p.stdout.splitlines()[0], "atexit ran"]
    assert p.stdout.startswith("ebutool ")  # the command's output, flushed


def test_the_commands_exit_status():
    p = _run("alone", "analyze", str(SAMPLES / "no-such-file.pcap"))
    assert p.returncode == 3 and "atexit ran" in p.stdout and "torn down" not in p.stdout
    p = _run("alone", "analyze", str(SAMPLES / "mixed.pcap"), "-q", "-f", "csv")
    assert p.returncode == 0 and p.stdout.startswith("mn,ha,cn")
    assert p.stdout.endswith("atexit ran\n")


def test_another_thread_leaves_it_to_the_interpreter():
    p = _run("thread", "--version")
    assert p.returncode == 0
    assert "atexit ran" in p.stdout and p.stdout.endswith("torn down\n")
