"""annotate's memory does not grow with the number of episodes (issue 12): on
benchmarks/gen_hostile.py's capture (one BU per home address, raw bytes independent of
ebutool), with the reconstruction's own tables bounded by a small
``max_state_entries``, doubling the episodes leaves both the Python memory peak and the
objects alive while the capture is copied where they were.  Before the spool, every
Episode, every frame's verdict and every comment stayed in memory until the copy."""

from __future__ import annotations

import gc
import subprocess
import sys
import tracemalloc
from pathlib import Path

import ebutool.annotate as annotate_mod
from ebutool.analysis.state import Episode
from ebutool.core.constants import DEFAULT_CONFIG
from ebutool.core.diagnostics import Diagnostics
from ebutool.wire import ipv6

CONFIG = DEFAULT_CONFIG.with_(max_state_entries=50)
SMALL = 400  # episodes (one per BU); the large run has twice as many
ADDRESS_CACHE = 64  # the decoder's address cache (bounded, but by 2**16 entries)


def _hostile(tmp_path: Path, n: int) -> Path:
    gen = Path(__file__).resolve().parents[2] / "benchmarks" / "gen_hostile.py"
    cap = tmp_path / f"hostile{n}.pcap"
    subprocess.run([sys.executable, str(gen), "--bus", str(n), "--out", str(cap)], check=True)
    return cap


def _run(tmp_path: Path, n: int, monkeypatch) -> tuple[int, int, int]:
    """(Python memory held when the copy starts, in octets; Episodes alive then;
    episodes found) for ``n`` BUs."""
    cap = _hostile(tmp_path, n)
    held: list[tuple[int, int]] = []
    copy = annotate_mod.copy_pcap

    def measuring_copy(*args, **kwargs):
        gc.collect()
        alive = sum(isinstance(o, Episode) for o in gc.get_objects())
        held.append((tracemalloc.get_traced_memory()[0], alive))
        return copy(*args, **kwargs)

    monkeypatch.setattr(annotate_mod, "copy_pcap", measuring_copy)
    monkeypatch.setattr(ipv6, "_TEXT_MAX", ADDRESS_CACHE)
    ipv6._TEXT.clear()
    gc.collect()
    tracemalloc.start()
    try:
        with open(tmp_path / f"out{n}.pcapng", "wb") as out:
            result = annotate_mod.annotate(cap, out, config=CONFIG, diag=Diagnostics())
    finally:
        tracemalloc.stop()
    return held[0][0], held[0][1], result.episodes


def test_memory_flat_when_the_episodes_double(tmp_path, monkeypatch):
    _run(tmp_path, 10, monkeypatch)  # the lazy imports and first-use caches, once
    small_held, small_alive, small_eps = _run(tmp_path, SMALL, monkeypatch)
    large_held, large_alive, large_eps = _run(tmp_path, 2 * SMALL, monkeypatch)
    assert (small_eps, large_eps) == (SMALL, 2 * SMALL)  # one episode per BU
    assert small_alive == large_alive == 0  # no Episode waits for the copy
    # what the copy starts with grows by a few octets an episode at most (was ~1.9 KB:
    # the Episodes, each frame's verdict and comment)
    assert large_held - small_held < 100 * SMALL, (small_held, large_held)


def test_a_failing_comment_store_is_one_line_exit_5(tmp_path, monkeypatch):
    """A full $TMPDIR (simulated: SQLite's own error) is an output error, not a traceback;
    the temporary store is removed."""
    import sqlite3

    from ebutool.annotate.spool import CommentSpool
    from tests.support.cli import run_cli

    def full(self, ep):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(CommentSpool, "add", full)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # gettempdir() reads TMPDIR again
    cap = _hostile(tmp_path, 3)
    res = run_cli("annotate", cap, "-o", tmp_path / "out.pcapng", "-q")
    assert res.exit_code == 5, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "database or disk is full" in lines[0], lines
    assert not list(tmp_path.glob("ebutool-annotate-*"))
