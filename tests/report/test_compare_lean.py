"""compare keeps only the columns its statistics read (issue 12): the episodes it holds
cost a few words each, not analyze's whole row of ~46 columns, so memory does not grow
by a whole row per distinct MN (one BU per home address, benchmarks/gen_hostile.py).
Measured with tracemalloc (what stays allocated), and the tables checked against the
full episode table's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ebutool.report.compare import compare_columns, compare_table
from ebutool.runner.compare_inputs import episodes_by_file
from tests.support.cli import SAMPLES

GEN = Path(__file__).resolve().parents[2] / "benchmarks" / "gen_hostile.py"
PER_EPISODE = 600  # octets an episode may cost, address texts cached included (whole row: ~700)


def _capture(tmp_path: Path, bus: int) -> str:
    out = tmp_path / f"h{bus}.pcap"
    subprocess.run([sys.executable, str(GEN), "--bus", str(bus), "--out", str(out)], check=True)
    return str(out)


MEASURE = """
import gc, sys, tracemalloc
from ebutool.report.compare import compare_columns
from ebutool.runner.compare_inputs import episodes_by_file
episodes_by_file([sys.argv[2]])  # imports and caches out of the count
gc.collect()
tracemalloc.start()
df = episodes_by_file([sys.argv[1]], columns=compare_columns("file"))
gc.collect()
print(tracemalloc.get_traced_memory()[0], len(df))
"""


def _kept(path: str) -> tuple[int, int]:
    """(octets still allocated for compare's episodes of ``path``, episodes), measured in
    a fresh process: caches other tests filled (addresses' text) would skew it."""
    mixed = str(SAMPLES / "mixed.pcap")
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, path, mixed], check=True, capture_output=True, text=True
    )
    held, n = out.stdout.split()
    return int(held), int(n)


def test_memory_per_extra_mn_is_a_few_words(tmp_path):
    small, n_small = _kept(_capture(tmp_path, 500))
    large, n_large = _kept(_capture(tmp_path, 1000))
    assert (n_small, n_large) == (500, 1000)  # one episode per MN
    assert large - small < PER_EPISODE * (n_large - n_small), (small, large)


@pytest.mark.parametrize("by", ["file", "mn,kind", "cn", "mode,kind"])
def test_lean_tables_equal_the_full_ones(by):
    paths = sorted(str(p) for p in SAMPLES.glob("*.pcap"))
    full = episodes_by_file(paths)
    lean = episodes_by_file(paths, columns=compare_columns(by))
    assert len(lean.columns) < len(full.columns)
    pd.testing.assert_frame_equal(compare_table(lean, by), compare_table(full, by))
