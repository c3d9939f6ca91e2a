"""A file in a directory that cannot be opened or read (permission denied, an I/O
error) is not "no capture or trace": whether it is one is not known.  ``analyze DIR``'s
note names it apart, with why; the run goes on with the directory's captures and its
exit status is unchanged (docs/capture.md).  It used to be listed among the files that
are no capture or trace."""

from __future__ import annotations

import builtins
import errno
import os
import subprocess
import sys

import pytest

from ebutool.runner import inputs
from tests.support.cli import ROOT, SAMPLES

EIO = os.strerror(errno.EIO)
EACCES = os.strerror(errno.EACCES)


def _eio_link(path):
    """A link to /proc/self/mem: opens, and reading offset 0 fails with EIO."""
    os.symlink("/proc/self/mem", path)
    try:
        with open(path, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        if exc.errno == errno.EIO:
            return
    pytest.skip("reading /proc/self/mem at offset 0 does not fail with EIO here")


def _run(cwd, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "ebutool", *args], capture_output=True, cwd=cwd, env=env, text=True
    )


@pytest.mark.skipif(sys.platform != "linux", reason="/proc/self/mem: Linux")
def test_a_file_that_cannot_be_read_is_named_with_why(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "standard.pcap").write_bytes((SAMPLES / "standard.pcap").read_bytes())
    (d / "notes.txt").write_text("not a capture\n")
    _eio_link(d / "disk.pcap")
    done = _run(tmp_path, "analyze", "-f", "csv", "d")
    assert done.returncode == 0, done.stderr  # the directory's capture is read
    assert "standard.pcap" in done.stdout
    (note,) = [line for line in done.stderr.splitlines() if line.startswith("ebutool: note:")]
    assert f"could not be read, capture or not: disk.pcap ({EIO})" in note
    no_capture = note.split("(no capture or trace, or a trace beside its capture): ")[1]
    assert no_capture == "notes.txt"


@pytest.mark.skipif(sys.platform != "linux", reason="/proc/self/mem: Linux")
def test_a_directory_of_only_an_unreadable_file_says_why(tmp_path):
    (tmp_path / "d").mkdir()
    _eio_link(tmp_path / "d" / "disk.pcap")
    done = _run(tmp_path, "analyze", "d")
    assert done.returncode == 3
    assert done.stderr.count("\n") == 1
    assert f"could not be read, capture or not: disk.pcap ({EIO})" in done.stderr


def test_permission_denied_is_named(tmp_path, monkeypatch):
    (tmp_path / "standard.pcap").write_bytes((SAMPLES / "standard.pcap").read_bytes())
    secret = tmp_path / "secret.pcap"
    secret.write_bytes(b"\xff" * 32)  # (what it holds cannot be known to ebutool)
    if os.geteuid() != 0:
        secret.chmod(0)
    else:  # root opens anything: the refusal as the system gives it to another user
        real_open = builtins.open

        def refusing_open(path, *args, **kwargs):
            if os.fspath(path) == str(secret):
                raise PermissionError(errno.EACCES, EACCES, str(secret))
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", refusing_open)
    left_out: list[str] = []
    found = inputs.expand_inputs([str(tmp_path)], left_out)
    note = inputs.left_out_note(left_out)
    assert found == [str(tmp_path / "standard.pcap")]
    assert (
        note == f"1 file in the directory could not be read, capture or not: secret.pcap ({EACCES})"
    )
