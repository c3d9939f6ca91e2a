"""`analyze DIR` reads the captures and traces directly in DIR: its subdirectories are
not read, and were left out without a word (a folder of runs, run1/ run2/ beside a
capture, analysed as if they were not there).  Now named in the same note as the files
not read, counted; extract's closing line names them too."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.cli import SAMPLES, run_cli
from tests.support.proc import env


@pytest.fixture
def folder(tmp_path):
    """One capture, one file that is none, two subdirectories holding captures, one hidden."""
    d = tmp_path / "runs"
    d.mkdir()
    (d / "a.pcap").write_bytes((SAMPLES / "standard.pcap").read_bytes())
    (d / "notes.txt").write_text("x\n")
    for sub in ("run1", "run2", ".hidden"):
        (d / sub).mkdir()
        (d / sub / "b.pcap").write_bytes((SAMPLES / "mixed.pcap").read_bytes())
    return d


def _notes(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("ebutool: note:")]


def test_analyze_dir_names_the_subdirectories_it_does_not_read(folder):
    res = run_cli("analyze", folder, "-f", "csv")
    assert res.exit_code == 0, res.stderr
    assert _notes(res.stderr) == [
        "ebutool: note: 1 file in the directory not read (no capture or trace, or a trace "
        "beside its capture): notes.txt; 2 subdirectories not read (only the files directly "
        "in a directory are; give a subdirectory as an argument to read it): run1/, run2/"
    ]
    assert "not read" not in run_cli("analyze", folder, "-f", "csv", "-q").stderr


def test_only_subdirectories_left_out(folder):
    (folder / "notes.txt").unlink()
    res = run_cli("decode", folder, "-f", "csv")
    assert res.exit_code == 0, res.stderr
    assert _notes(res.stderr) == [
        "ebutool: note: 2 subdirectories not read (only the files directly in a directory "
        "are; give a subdirectory as an argument to read it): run1/, run2/"
    ]


def test_a_directory_of_subdirectories_only_says_so(tmp_path):
    d = tmp_path / "top"
    for n in range(5):
        (d / f"run{n}").mkdir(parents=True)
        (d / f"run{n}" / "a.pcap").write_bytes((SAMPLES / "standard.pcap").read_bytes())
    res = run_cli("analyze", d)
    assert res.exit_code == 3
    assert res.stderr.splitlines() == [
        f"ebutool: error: {d}: is a directory with no pcap or pcapng capture or JSON Lines "
        "trace in it (and no file; 5 subdirectories not read (only the files directly in a "
        "directory are; give a subdirectory as an argument to read it): run0/, run1/, run2/ "
        "and 2 more)"
    ]


def test_extract_names_them_in_its_closing_line(folder, tmp_path):
    res = run_cli("extract", folder, "-o", tmp_path / "store")
    assert res.exit_code == 0, res.stderr
    last = res.stderr.splitlines()[-1]
    assert "store: 1 files: 1 extracted" in last, last
    assert last.endswith(
        "; 1 file in the directory not read (no capture or trace, or a trace beside its "
        "capture): notes.txt; 2 subdirectories not read (only the files directly in a "
        "directory are; give a subdirectory as an argument to read it): run1/, run2/"
    ), last


def test_entries_that_are_no_regular_file_are_named(folder):
    """A named pipe and a broken link in the directory were passed over without a word
    (neither a file to sniff nor a subdirectory)."""
    os.mkfifo(folder / "live.pipe")
    (folder / "gone.pcap").symlink_to(folder / "nowhere.pcap")
    (folder / "notes.txt").unlink()
    res = run_cli("analyze", folder, "-f", "csv")
    assert res.exit_code == 0, res.stderr
    assert _notes(res.stderr) == [
        "ebutool: note: 2 entries not read (not a regular file: a named pipe, a socket, a "
        "device or a broken link): gone.pcap, live.pipe; 2 subdirectories not read (only the "
        "files directly in a directory are; give a subdirectory as an argument to read it): "
        "run1/, run2/"
    ]


def test_names_that_are_not_utf8_are_shown_as_everywhere_else(tmp_path):
    """The note showed the stray octet of b"n\\xffotes.txt" as Python's lone surrogate,
    `n\\udcffotes.txt`, where every other message and column shows `n\\xffotes.txt`."""
    d = os.fsencode(tmp_path)
    with open(os.path.join(d, b"a.pcap"), "wb") as fh:
        fh.write((SAMPLES / "standard.pcap").read_bytes())
    with open(os.path.join(d, b"n\xffotes.txt"), "wb") as fh:
        fh.write(b"x\n")
    os.mkdir(os.path.join(d, b"sub\xff"))
    res = subprocess.run(
        [sys.executable, "-m", "ebutool", "analyze", tmp_path, "-f", "csv"],
        env=env(),
        capture_output=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    note = next(x for x in res.stderr.splitlines() if x.startswith(b"ebutool: note:"))
    assert note.endswith(
        b"capture): n\\xffotes.txt; 1 subdirectory not read (only the files "
        b"directly in a directory are; give a subdirectory as an argument to "
        b"read it): sub\\xff/"
    ), note
