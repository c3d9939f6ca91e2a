"""timeline keeps what it shows only (issue 12): ``--episode N`` holds the N first
episodes in order, not every episode, and the list of episodes waits on disk beyond a
bound of rows; numbers, list and drawn episode are those of build_episodes (checked
against it, on the samples and on a capture with one BU per home address,
benchmarks/gen_hostile.py)."""

from __future__ import annotations

import gc
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pandas as pd
import pytest

from ebutool.analysis import build_episodes, merged_records
from ebutool.cli import commands
from ebutool.core.constants import DEFAULT_CONFIG
from ebutool.core.diagnostics import Diagnostics
from ebutool.report.timeline import episode_list, load_episodes, select_episodes
from ebutool.report.timeline_scan import scan_episodes
from tests.support.cli import SAMPLES, run_cli

GEN = Path(__file__).resolve().parents[2] / "benchmarks" / "gen_hostile.py"
PER_MN = 400  # octets of peak an extra MN may cost (every Episode kept: several KB)
BOUND = "50"  # --max-state-entries: the open state stays small too


def _capture(tmp_path: Path, bus: int) -> str:
    out = tmp_path / f"h{bus}.pcap"
    subprocess.run([sys.executable, str(GEN), "--bus", str(bus), "--out", str(out)], check=True)
    return str(out)


def _held(path: str, out: Path, monkeypatch) -> int:
    """Octets allocated when the episode is drawn (all episodes seen by then)."""
    held: list[int] = []
    draw = commands.timeline._draw

    def measured(*args, **kwargs):
        gc.collect()
        held.append(tracemalloc.get_traced_memory()[0])
        return draw(*args, **kwargs)

    monkeypatch.setattr(commands.timeline, "_draw", measured)
    gc.collect()
    tracemalloc.start()
    r = run_cli("timeline", path, "--episode", "3", "--max-state-entries", BOUND, "-o", out)
    tracemalloc.stop()
    assert r.exit_code == 0, r.output
    return held[0]


def test_drawing_one_episode_holds_flat_when_mns_double(tmp_path, monkeypatch):
    run_cli("timeline", SAMPLES / "mixed.pcap", "--episode", "1", "-o", tmp_path / "w.txt")
    small = _held(_capture(tmp_path, 400), tmp_path / "a.txt", monkeypatch)
    large = _held(_capture(tmp_path, 800), tmp_path / "b.txt", monkeypatch)
    assert large - small < PER_MN * 400, (small, large)
    assert (tmp_path / "a.txt").read_text() == (tmp_path / "b.txt").read_text()  # episode 3


def _episodes(path: str) -> list:
    return build_episodes(merged_records([path], Diagnostics()), DEFAULT_CONFIG, check=False)


def test_list_spilled_and_numbered_as_build_episodes(tmp_path):
    path = _capture(tmp_path, 300)
    scan = scan_episodes(path, DEFAULT_CONFIG, Diagnostics(), spill_at=40)
    assert len(scan._rows) < 40 and scan.total == scan.matched == 300  # the rest on disk
    listed = pd.concat(list(scan.listing(None)), ignore_index=True)
    pd.testing.assert_frame_equal(listed, episode_list(_episodes(path)))


@pytest.mark.parametrize("name", ["mixed.pcap", "early-conservative.pcap", "standard.pcap"])
def test_samples_number_draw_and_list_as_before(name):
    path = str(SAMPLES / name)
    every = load_episodes(path)
    for ep in every:
        scan = scan_episodes(path, DEFAULT_CONFIG, Diagnostics(), number=ep.id)
        got = scan.chosen
        assert got is not None and scan.total == len(every)
        assert (got.id, got.mn, got.cn, got.coa, got.diagnosis) == (
            ep.id, ep.mn, ep.cn, ep.coa, ep.diagnosis,
        )  # fmt: skip
    assert scan_episodes(path, DEFAULT_CONFIG, Diagnostics(), number=len(every) + 1).chosen is None
    for mn in sorted({e.mn for e in every}):
        scan = scan_episodes(path, DEFAULT_CONFIG, Diagnostics(), mn=mn, spill_at=2)
        mine = select_episodes(every, mn)
        if len(mine) == 1:
            assert scan.only().id == mine[0].id
        listed = pd.concat(list(scan.listing(mn)), ignore_index=True)
        pd.testing.assert_frame_equal(listed, episode_list(mine))
