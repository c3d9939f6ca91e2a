"""A signal's KeyboardInterrupt may come at any bytecode of the output's own steps: the
part file beside the target must still be known, and removed by the next discard.
(CI once left `.out.csv.XXXX.part` after `analyze -j 2` was interrupted 1 s in:
tests/cli/test_signals.py::test_signal_during_run.)  The interruptions are made here
deterministically, by raising KeyboardInterrupt from inside the system calls' wrappers."""

from __future__ import annotations

import os

import pytest

from ebutool.core.output_file import OutputFile


def _parts(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".part"))


def test_interrupted_as_the_part_file_is_created(tmp_path, monkeypatch):
    """The interrupt comes right after the part file is created, before its name reached
    the output (tempfile.mkstemp raised it from inside: the name was lost)."""
    target = tmp_path / "out.csv"
    target.write_bytes(b"old\n")
    real_open = os.open

    def open_then_interrupted(path, *args, **kwargs):
        fd = real_open(path, *args, **kwargs)
        if str(path).endswith(".part"):
            raise KeyboardInterrupt
        return fd

    out = OutputFile(str(target))
    monkeypatch.setattr(os, "open", open_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        out.prepare()
    monkeypatch.undo()
    assert len(_parts(tmp_path)) == 1  # (the interruption came after the creation)
    out.discard()
    assert _parts(tmp_path) == []
    assert target.read_bytes() == b"old\n"


def test_a_discard_interrupted_before_the_removal_is_done_again(tmp_path):
    """The interrupt comes inside discard, while the part's stream is closed: the
    discard is not done, and the next one removes the part."""
    target = tmp_path / "out.csv"
    out = OutputFile(str(target))
    out.write(b"new rows\n")
    assert len(_parts(tmp_path)) == 1
    fh = out._fh
    real_close = fh.close

    def close_interrupted():
        real_close()
        fh.close = real_close  # (once)
        raise KeyboardInterrupt

    fh.close = close_interrupted
    with pytest.raises(KeyboardInterrupt):
        out.discard()
    assert len(_parts(tmp_path)) == 1
    out.discard()
    assert _parts(tmp_path) == []
    assert not target.exists()
