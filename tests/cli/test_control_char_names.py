"""File names holding control characters (a newline, ESC, a C1 control): every line
ebutool writes to stderr stays one line starting with "ebutool: ", and the name is
shown as ebutool.core.names documents it, each octet of a control character as
``\\xNN``, a backslash doubled.  A name ``a<newline>b.txt`` used to split the note of
``analyze DIR`` in two lines, and an ESC sequence in a name reached the terminal.

The commands run as a real process, given the names as octets, as a shell gives them."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys

import pytest

from ebutool.core.names import name_octets, readable_name
from tests.support.cli import ROOT, SAMPLES

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="octet file names: Linux")

# (name as octets, as it must be shown: written out by hand)
NAMES = [
    (b"a\nb.txt", "a\\x0ab.txt"),
    (b"esc\x1b[2Jx.txt", "esc\\x1b[2Jx.txt"),
    (b"nel\xc2\x85.txt", "nel\\xc2\\x85.txt"),  # U+0085, a C1 control: 2 octets
    (b"cr\rtab\t.txt", "cr\\x0dtab\\x09.txt"),
    (b"back\\x0a.txt", "back\\\\x0a.txt"),  # a literal backslash-x-0-a: not a newline
]


def _run(cwd, *args: str | bytes) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "ebutool", *args], capture_output=True, cwd=cwd, env=env
    )


def _lines(stderr: bytes) -> list[str]:
    text = stderr.decode("utf-8")  # strict
    assert text.endswith("\n")
    lines = text[:-1].split("\n")
    for line in lines:
        assert line.startswith("ebutool: "), lines
        assert "\x1b" not in line and "\r" not in line and "\x85" not in line, line
    return lines


@pytest.mark.parametrize(("octets", "shown"), NAMES)
def test_shown_name_round_trips(octets, shown):
    assert readable_name(octets) == shown == readable_name(os.fsdecode(octets))
    assert name_octets(shown) == octets


def test_directory_note_names_each_file_on_one_line(tmp_path):
    shutil.copy(SAMPLES / "standard.pcap", tmp_path / "standard.pcap")
    for octets, _ in NAMES[:3]:
        with open(os.path.join(os.fsencode(tmp_path), octets), "wb") as fh:
            fh.write(b"not a capture\n")
    done = _run(tmp_path, "analyze", "-o", os.devnull, ".")
    assert done.returncode == 0, done.stderr
    notes = [line for line in _lines(done.stderr) if "not read" in line]
    assert len(notes) == 1
    for _, shown in NAMES[:3]:
        assert shown in notes[0]


@pytest.mark.parametrize(("octets", "shown"), NAMES)
def test_missing_file_is_one_line(tmp_path, octets, shown):
    done = _run(tmp_path, "analyze", octets + b".pcap")
    assert done.returncode == 3
    assert _lines(done.stderr) == [f"ebutool: error: {shown}.pcap: no such file"]


def test_unreadable_input_of_several_is_one_warning_line(tmp_path):
    shutil.copy(SAMPLES / "standard.pcap", tmp_path / "standard.pcap")
    octets, shown = b"j\\u\nk.pcap", "j\\\\u\\x0ak.pcap"
    (tmp_path / os.fsdecode(octets)).write_bytes(b"junk")
    done = _run(tmp_path, "analyze", "-o", os.devnull, "standard.pcap", octets)
    assert done.returncode == 3, done.stderr  # (an input not read: README "Exit status")
    warned = [line for line in _lines(done.stderr) if "unreadable_input:" in line]
    assert len(warned) == 1 and warned[0].count(shown) == 1, warned


def test_empty_directory_error_is_one_line(tmp_path):
    (tmp_path / "e\nmpty").mkdir()
    done = _run(tmp_path, "analyze", "e\nmpty")
    assert done.returncode == 3
    (line,) = _lines(done.stderr)
    assert line.startswith("ebutool: error: e\\x0ampty: is a directory with no")


def test_a_capture_named_with_a_newline_is_its_source(tmp_path):
    octets, shown = b"run\n1.pcap", "run\\x0a1.pcap"
    shutil.copy(SAMPLES / "standard.pcap", os.path.join(os.fsencode(tmp_path), octets))
    done = _run(tmp_path, "analyze", "-f", "csv", octets)
    assert done.returncode == 0, done.stderr
    assert any(line.startswith(f"ebutool: vantage of {shown}:") for line in _lines(done.stderr))
    rows = list(csv.DictReader(io.StringIO(done.stdout.decode())))
    assert rows and {row["source"] for row in rows} == {shown}
