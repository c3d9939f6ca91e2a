"""``timeline``'s hints to run it again (several episodes: choose one with --episode N)
on an input read once: standard input or a FIFO was read to its end, so the hint says the
input must be given again; it read ``(e.g. ebutool timeline - --episode 1)`` as if ``-``
could be read a second time.  A file's hints are as they were."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import threading

import pytest

from tests.support.cli import ROOT, SAMPLES, run_cli

CAPTURE = SAMPLES / "mixed.pcap"  # 11 episodes
READ_ONCE = "is read once: give it again, or save it to a file first"


@pytest.mark.parametrize(
    ("extra", "status", "hint"),
    [
        ((), 0, "11 episodes; draw one with --episode N (e.g. ebutool timeline - --episode 1)"),
        (("-o", "x.svg"), 2, "11 episodes: choose one with --episode N"),
        (("--episode", "99"), 2, "no episode 99: episodes are numbered 1-11"),
    ],
)
def test_standard_input_hints_say_to_give_it_again(tmp_path, extra, status, hint):
    extra = tuple(str(tmp_path / a) if a.endswith(".svg") else a for a in extra)
    result = run_cli("timeline", "-", *extra, input=CAPTURE.read_bytes())
    assert result.exit_code == status, result.output
    line = next(x for x in result.stderr.splitlines() if hint in x)
    assert line.endswith(f"; standard input {READ_ONCE}"), line
    assert not (tmp_path / "x.svg").exists()


def test_a_file_hint_is_unchanged():
    result = run_cli("timeline", CAPTURE, "--episode", "99")
    assert result.exit_code == 2
    assert result.stderr.strip().endswith("(run without --episode to list them)"), result.stderr
    assert "read once" not in result.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_fifo_hint_names_it(tmp_path):
    fifo = tmp_path / "cap.fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "wb") as fh:
            fh.write(CAPTURE.read_bytes())

    writer = threading.Thread(target=feed)
    writer.start()
    done = subprocess.run(
        [sys.executable, "-m", "ebutool", "timeline", str(fifo)],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    writer.join()
    assert done.returncode == 0, done.stderr
    assert f"{fifo} (not a regular file) {READ_ONCE}".encode() in done.stderr, done.stderr


@pytest.mark.parametrize(
    ("extra", "status", "before", "after"),
    [
        ((), 0, "(e.g. ", ")"),  # the list, then: draw one with --episode N
        (("-o", "x.svg"), 2, "(list them: ", ")"),  # a figure of which episode?
    ],
)
def test_a_hint_names_its_file_so_a_shell_reads_it_back(tmp_path, extra, status, before, after):
    """A name with spaces or a quote was pasted bare into the command the hint suggests
    (`ebutool timeline my run's.pcap --episode 1`): now quoted for a POSIX shell."""
    path = tmp_path / "my run's capture.pcap"
    path.write_bytes(CAPTURE.read_bytes())
    extra = tuple(str(tmp_path / a) if a.endswith(".svg") else a for a in extra)
    result = run_cli("timeline", path, *extra)
    assert result.exit_code == status, result.output
    line = next(x for x in result.stderr.splitlines() if before + "ebutool timeline" in x)
    command = line.split(before, 1)[1].rsplit(after, 1)[0]
    words = shlex.split(command)
    assert words[:3] == ["ebutool", "timeline", str(path)], command
    assert words[3:] in (["--episode", "1"], []), command
