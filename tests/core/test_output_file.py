"""ebutool.core.output_file: atomic regular files, in-place devices, FIFOs and symbolic
links, the mode of new files (issue 12 items 4, 5, 7)."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from ebutool.core.errors import OutputError, UsageError
from ebutool.core.output_file import OutputFile


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_old_file_kept_until_commit(tmp_path):
    target = tmp_path / "t.csv"
    target.write_bytes(b"old")
    out = OutputFile(str(target)).prepare()
    out.write(b"new")
    assert target.read_bytes() == b"old"
    out.commit()
    assert target.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["t.csv"]


def test_discard_keeps_old_file_and_leaves_nothing(tmp_path):
    target = tmp_path / "t.csv"
    target.write_bytes(b"old")
    out = OutputFile(str(target)).prepare()
    out.write(b"half")
    out.discard()
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["t.csv"]


def test_bad_paths_refused_before_any_write(tmp_path):
    with pytest.raises(UsageError, match="no such directory"):
        OutputFile(str(tmp_path / "nodir" / "x.csv"))
    with pytest.raises(UsageError, match="is a directory"):
        OutputFile(str(tmp_path), "--divergences")


def test_new_file_follows_umask_and_secret_is_0600(tmp_path):
    old = os.umask(0o027)
    try:
        for name, secret, mode in (("a", False, 0o640), ("k", True, 0o600)):
            out = OutputFile(str(tmp_path / name), secret=secret)
            out.write(b"x")
            out.commit()
            assert _mode(tmp_path / name) == mode
    finally:
        os.umask(old)


def test_existing_file_keeps_its_mode_but_keys_are_0600(tmp_path):
    for name, secret, mode in (("a", False, 0o640), ("k", True, 0o600)):
        p = tmp_path / name
        p.write_bytes(b"old")
        os.chmod(p, 0o640 if not secret else 0o644)
        out = OutputFile(str(p), secret=secret)
        out.write(b"x")
        out.commit()
        assert _mode(p) == mode


def test_symlink_followed_and_kept(tmp_path):
    (tmp_path / "real").write_bytes(b"old")
    (tmp_path / "link").symlink_to("real")
    out = OutputFile(str(tmp_path / "link"))
    out.write(b"new")
    out.commit()
    assert (tmp_path / "link").is_symlink()
    assert (tmp_path / "real").read_bytes() == b"new"


def test_fifo_written_in_place(tmp_path):
    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    out = OutputFile(str(fifo))
    out.write(b"through the fifo")
    out.commit()
    reader.join(10)
    assert got == [b"through the fifo"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_dev_null_never_replaced():
    before = os.stat("/dev/null")
    out = OutputFile("/dev/null")
    out.write(b"x" * 100)
    out.commit()
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_dev_full_is_an_output_error():
    out = OutputFile("/dev/full")
    with pytest.raises(OutputError, match="-o /dev/full"):
        out.write(b"x" * 100_000)
        out.commit()
    out.discard()
