"""ebutool.store.leftovers: what a killed extraction leaves in the store (a part being
written, its spilled binding facts) is removed by the next run on the same host, and
nothing of another host, another PID namespace or a process still running is touched."""

from __future__ import annotations

import os
import signal
import socket
import time

import pytest

import ebutool
from ebutool.store import extract, leftovers
from ebutool.store import facts as store_facts
from ebutool.store.facts import BindingFacts
from ebutool.store.layout import BINDINGS, PARTS
from ebutool.store.leftovers import remove_leftovers, temp_tag
from tests.support.cli import SAMPLES


def _dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def _killed_mid_extract(store, mark, monkeypatch) -> int:
    """A forked process extracting mixed.pcap, killed (SIGKILL) once its part and its
    spilled binding facts are on disk; its pid."""
    monkeypatch.setattr(store_facts, "SPILL_ROWS", 1)  # (the facts spill at once)
    real_add = BindingFacts.add

    def add_then_wait(self, items):
        real_add(self, items)
        if self.runs is not None:
            mark.write_text("")
            time.sleep(60)

    monkeypatch.setattr(BindingFacts, "add", add_then_wait)
    pid = os.fork()
    if pid == 0:
        try:
            extract([SAMPLES / "mixed.pcap"], store)
        finally:
            os._exit(1)
    end = time.monotonic() + 30
    while not mark.exists():
        assert time.monotonic() < end, "the extraction never reached its facts' spill"
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    monkeypatch.undo()
    return pid


def _hidden(store) -> list[str]:
    return sorted(n for sub in (PARTS, BINDINGS) for n in os.listdir(store / sub) if n[0] == ".")


def test_a_killed_extractions_files_go_with_the_next_run(tmp_path, monkeypatch):
    store = tmp_path / "s"
    pid = _killed_mid_extract(store, tmp_path / "mark", monkeypatch)
    space = leftovers._space()
    left = _hidden(store)
    # the part being written and the facts' spill directory, named by space and pid
    assert any(n.endswith(f".{space}.{pid}.tmp") for n in left), left
    assert any(n.startswith(f".facts-{space}.{pid}-") for n in left), left
    report = extract([SAMPLES / "mixed.pcap"], store)
    assert _hidden(store) == []
    assert sorted(os.path.basename(p) for p in report.leftovers) == left
    assert f"{len(left)} temporary files of interrupted runs removed" in report.summary()
    assert [r.status for r in report.results] == ["extracted"]
    assert len(ebutool.analyze(store)) == len(ebutool.analyze(SAMPLES / "mixed.pcap"))
    again = extract([SAMPLES / "mixed.pcap"], store)
    assert again.leftovers == [] and "temporary" not in again.summary()


def test_another_space_a_running_process_and_unknown_names_are_kept(tmp_path):
    store = tmp_path / "s"
    extract([SAMPLES / "standard.pcap"], store)
    dead, space = _dead_pid(), leftovers._space()
    other = "0123abcd" if space != "0123abcd" else "4567cdef"
    kept = [
        f".x.pcap-0123.parquet.{other}.{dead}.tmp",  # another host's or container's
        f".x.pcap-0123.parquet.{space}.{os.getpid()}.tmp",  # this process's, running
        f".x.pcap-0123.parquet.{dead}.tmp",  # no space in it (written before the tag)
        f".x.pcap-0123.parquet.{socket.gethostname()}.{dead}.tmp",  # (a host's name)
        f".x.pcap-0123.parquet.{space}.99999999999999999999.tmp",  # no such pid
        f".x.pcap-0123.parquet.{space}.9999999999.tmp",  # too large for a pid
        f".facts-{other}.{dead}-abc123",
        ".notes",
    ]
    gone = [f".x.pcap-0123.parquet.{space}.{dead}.tmp", f".facts-{space}.{dead}-k9_x"]
    for name in kept + gone:
        path = store / PARTS / name
        if "facts" in name:
            path.mkdir()
            (path / "run-000000.arrow").write_bytes(b"")
        else:
            path.write_bytes(b"")
    removed = remove_leftovers(str(store))
    assert sorted(os.path.basename(p) for p in removed) == sorted(gone)
    assert _hidden(store) == sorted(kept)


def test_the_space_is_the_host_and_the_pid_namespace(monkeypatch):
    """Containers on one host can share its name but not their process ids: each PID
    namespace is a space of its own (a reviewer's run in `unshare -pf` lost a live
    extraction's files when only the host's name was in them)."""
    here = leftovers._space()
    real_stat = os.stat

    def other_namespace(path, *a, **k):
        st = real_stat(path, *a, **k)
        if str(path) == "/proc/self/ns/pid":
            return os.stat_result((st.st_mode, st.st_ino + 1, *tuple(st)[2:]))
        return st

    monkeypatch.setattr(os, "stat", other_namespace)
    assert leftovers._space() != here and len(here) == leftovers.SPACE_CHARS
    monkeypatch.undo()
    monkeypatch.setattr(socket, "gethostname", lambda: "db1.example.org")
    assert leftovers._space() != here


def test_one_that_cannot_be_removed_stays(tmp_path, monkeypatch):
    store = tmp_path / "s"
    extract([SAMPLES / "standard.pcap"], store)
    name = f".x.pcap-0123.parquet.{leftovers._space()}.{_dead_pid()}.tmp"
    (store / PARTS / name).write_bytes(b"")

    def read_only(path, *a, **k):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(os, "unlink", read_only)
    assert remove_leftovers(str(store)) == []
    monkeypatch.undo()
    assert _hidden(store) == [name]


def test_temp_tag_is_this_space_and_process():
    assert temp_tag() == f"{leftovers._space()}.{os.getpid()}"


@pytest.mark.parametrize("missing", [PARTS, BINDINGS])
def test_a_store_without_a_folder(tmp_path, missing):
    store = tmp_path / "s"
    extract([SAMPLES / "standard.pcap"], store)
    for p in (store / missing).iterdir():
        p.unlink()
    (store / missing).rmdir()
    assert remove_leftovers(str(store)) == []


@pytest.mark.parametrize("stem", ["x" * 225, "é" * 110])
def test_an_input_with_a_long_name(tmp_path, stem):
    """Whatever part name fits in a file name, its temporary name fits too (the review:
    the host and pid in it made a 190-character input name fail with ENAMETOOLONG)."""
    long = tmp_path / f"{stem}.pcap"
    long.write_bytes((SAMPLES / "mixed.pcap").read_bytes())
    report = extract([long], tmp_path / "s")
    assert [r.status for r in report.results] == ["extracted"], report.results[0].error
    (part,) = os.listdir(tmp_path / "s" / PARTS)
    assert len(os.fsencode(part)) > 240 and _hidden(tmp_path / "s") == []
    assert len(ebutool.analyze(tmp_path / "s")) == len(ebutool.analyze(SAMPLES / "mixed.pcap"))


def test_inputs_whose_names_only_just_fit_in_a_file_name(tmp_path):
    """A part's name is the input's base name and a hash of its path: for a base name of
    more than 234 octets it is cut so that it fits, the hash telling apart two inputs
    whose names are cut alike (both were an ENAMETOOLONG, exit 5, before)."""
    a, b = tmp_path / ("x" * 244 + "a.pcap"), tmp_path / ("x" * 244 + "b.pcap")
    a.write_bytes((SAMPLES / "mixed.pcap").read_bytes())
    b.write_bytes((SAMPLES / "standard.pcap").read_bytes())
    report = extract([a, b], tmp_path / "s")
    assert [r.status for r in report.results] == ["extracted"] * 2, report.failed
    parts = sorted(os.listdir(tmp_path / "s" / PARTS))
    assert len(parts) == 2 and all(len(os.fsencode(p)) == 255 for p in parts)
    assert parts[0][:234] == parts[1][:234]  # (cut alike, told apart by the hash)
    assert len(ebutool.analyze(tmp_path / "s")) == len(
        ebutool.analyze(SAMPLES / "mixed.pcap")
    ) + len(ebutool.analyze(SAMPLES / "standard.pcap"))
