"""Several input files: analysed one by one (default) or merged by time (--merge)."""

from __future__ import annotations

import ebutool
from ebutool.analysis import DESIGN_COLUMNS, EPISODE_COLUMNS
from tests.support.cli import run_cli
from tests.support.scenarios import CN, MN, Capture, Delays, Plan, handover, ns

HOA, HA = "2001:db8:100::1", "2001:db8:100::ff"
COA1, COA2, COA3 = "2001:db8:a1::1", "2001:db8:a2::1", "2001:db8:a3::1"
CN1 = "2001:db8:200::1"
D = Delays(d_ha=10, d_hc=30, d_ro=15)


def _two_runs(tmp_path):
    """Two captures of the same MN (two runs of one experiment): each MN starts at the
    same sequence number, and the runs overlap in time."""
    a, b = Capture(), Capture()
    handover(a, MN(HOA, HA), [CN(CN1, D)], 1000.0, COA2, COA1, Plan("standard"), D.d_ha)
    handover(b, MN(HOA, HA), [CN(CN1, D)], 1100.0, COA3, COA1, Plan("standard"), D.d_ha)
    return a.write(tmp_path / "run1.pcap"), b.write(tmp_path / "run2.pcap")


def test_each_file_on_its_own_in_argument_order(tmp_path):
    p1, p2 = _two_runs(tmp_path)
    df = ebutool.analyze(p2, p1)
    assert list(df.columns)[:20] == DESIGN_COLUMNS and list(df.columns)[20] == "source"
    assert list(df.columns) == list(EPISODE_COLUMNS)
    assert list(df["source"]) == ["run2.pcap", "run1.pcap"]
    assert list(df["episode"]) == [1, 2]
    assert list(df["coa"]) == [COA3, COA2]
    assert list(df["kind"]) == ["standard", "standard"]
    assert list(df["t_handover"]) == [ns(1100.0) / 1e9, ns(1000.0) / 1e9]
    assert (df["rtt_ha_ms"].round(3) == D.rtt_ha).all()


def test_merge_treats_the_files_as_one_capture(tmp_path):
    p1, p2 = _two_runs(tmp_path)
    merged = ebutool.analyze(p1, p2, merge=True)
    # the same MN in both: its packets interleave, so the result is not two clean episodes
    assert len(merged) != 2 or set(merged["kind"]) != {"standard"}
    r = run_cli("analyze", p1, p2, "--merge", "-f", "csv")
    assert r.exit_code == 0, r.output
    r = run_cli("analyze", p1, p2, "-f", "csv")
    assert r.exit_code == 0 and r.stdout.count("standard") == 2 and "run1.pcap" in r.stdout
