"""benchmarks/run.py: the driver runs end to end on a small capture, and its targets
table judges the issue's bounds (met / NOT MET) from the figures it is given."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

from benchmarks import run  # noqa: E402


def _r(seconds, peak=100.0):
    return {"seconds": seconds, "warm": seconds, "peak_mb": peak, "packets": 1000}


def test_targets_met_and_not_met():
    good = {
        "pcap/analyze": _r(0.6, 120),
        "pcap/floor": _r(0.3),
        "pcapng/analyze": _r(0.8, 121),
        "tshark": _r(30.0),
        "pcap/analyze/x4": _r(2.4, 123),
        "pcapng/analyze/x4": _r(3.2, 160),
    }
    lines = run.targets(good, 4)
    text = "\n".join(lines)
    assert lines[0].startswith("targets")
    by_name = {ln.split("  ")[1].strip(): ln for ln in lines[1:]}
    assert by_name["analyze pcap / floor (cold)"].endswith(" met")  # 2.0 <= 3
    assert by_name["tshark / analyze pcap (cold)"].endswith(" met")  # 50 >= 40
    assert by_name["analyze pcapng / pcap"].endswith(" met")  # 1.33 <= 1.5
    assert by_name["analyze pcap peak growth at x4 (fraction)"].endswith(" met")  # 2.5%
    assert by_name["analyze pcapng peak growth at x4 (fraction)"].endswith("NOT MET")  # 32%
    assert by_name["analyze pcapng peak RSS MB"].endswith("NOT MET")  # 160 >= 150
    slow = dict(good, **{"pcap/analyze": _r(1.0, 120)})
    text = "\n".join(run.targets(slow, None))
    assert "tshark / analyze pcap (cold)                    30.00  >= 40     NOT MET" in text
    assert "growth" not in text


def test_peak_rss_is_this_process():
    assert 1 < run.peak_rss_mb() < 10_000


def test_driver_end_to_end(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "run.py"),
            "--packets",
            "3000",
            "--repeat",
            "1",
            "--only",
            "floor,records,analyze",
            "--no-tshark",
            "--data",
            str(tmp_path),
            "--json",
            str(tmp_path / "r.json"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    res = json.loads((tmp_path / "r.json").read_text())
    for fmt in ("pcap", "pcapng"):
        for kind in ("floor", "records", "analyze"):
            assert res[f"{fmt}/{kind}"]["packets"] == 3000
    assert "analyze pcap / floor (cold)" in out.stdout
    # analyze on the gzip and zstd forms of the pcap, beside the plain one (issue 15)
    for form in ("gz", "zst"):
        r = res[f"pcap.{form}/analyze"]
        assert r["packets"] == 3000 and r["file_mb"] > 0
        assert f"pcap.{form}" in out.stdout
    assert "analyze on compressed forms of the pcap capture" in out.stdout
    # the --help start-up timing (issue 15 item 7): seconds and the ratio to bare Python
    assert set(res["help"]) == {"floor", "help", "pandas"}
    assert all(v > 0 for v in res["help"].values())
    assert "ebutool --help" in out.stdout and "the bare interpreter" in out.stdout
    bad = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "run.py"),
            "--only",
            "nonsense",
            "--data",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "unknown measurement" in bad.stderr


def test_help_lines_judge_the_bound():
    from benchmarks import help_timing

    fast = help_timing.help_lines({"floor": 0.02, "help": 0.1, "pandas": 0.3})
    assert "x5.00 the bare interpreter" in fast[0] and fast[1].endswith(" met")
    slow = help_timing.help_lines({"floor": 0.02, "help": 0.4, "pandas": 0.3})
    assert slow[1].endswith("NOT MET")


def test_compressed_forms_hold_the_capture(tmp_path):
    import gzip

    import zstandard

    from benchmarks import compressed

    plain = tmp_path / "c.pcap"
    plain.write_bytes(bytes(range(256)) * 5000)
    forms = compressed.compressed_forms(plain)
    assert gzip.decompress(forms["gz"].read_bytes()) == plain.read_bytes()
    with open(forms["zst"], "rb") as fh:
        assert zstandard.ZstdDecompressor().stream_reader(fh).read() == plain.read_bytes()
    assert forms["gz"].stat().st_size < plain.stat().st_size
    # made once: a second call keeps the files
    mtime = forms["gz"].stat().st_mtime_ns
    assert compressed.compressed_forms(plain)["gz"].stat().st_mtime_ns == mtime
    res = {"pcap/analyze": _r(1.0), "pcap.gz/analyze": dict(_r(1.25), file_mb=2.0)}
    text = compressed.lines(res, "pcap/analyze", 10.0)
    assert text[0].startswith("analyze on compressed forms of the pcap capture (plain 1.000 s")
    assert len(text) == 2 and "1.25 x plain" in text[1] and "pcap.gz" in text[1]
    assert compressed.lines({"pcap/analyze": _r(1.0)}) == []
