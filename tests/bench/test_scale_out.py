"""benchmarks/scale_out.py: its rotation keeps every record, and its targets judge the figures."""

from benchmarks import scale_out
from tests.support.cli import SAMPLES
from tests.support.splitcap import pcap_records


def test_split_keeps_every_record_in_order(tmp_path):
    src = SAMPLES / "mixed.pcap"
    files = scale_out.split_pcap(src, tmp_path / "rot", 8)
    assert len(files) == 8
    head, whole = pcap_records(src.read_bytes())
    pieces = [pcap_records(f.read_bytes()) for f in files]
    assert all(h == head and recs for h, recs in pieces)
    assert [r for _, recs in pieces for r in recs] == whole


def _figures(**kw):
    r = {
        "pieces": 8,
        "captures_octets": 1_000_000,
        "store_octets": 20_000,
        "extract_j1_s": 10.0,
        "extract_j1_cpu_s": 10.0,
        "extract_local2_s": 6.0,
        "extract_local2_cpu_s": 10.5,
        "cluster_start_s": 2.0,
        "extract_local2_main_cpu_s": 0.3,
        "worker_peak_mb": [100.0, 101.0],
        "worker_peak_mb_half": [98.0, 100.0],
        "analyze_store_s": 1.0,
        "analyze_store_cpu_s": 1.0,
        "analyze_store_j2_s": 0.75,
        "analyze_store_j2_cpu_s": 1.2,
        "analyze_merge_s": 6.0,
        "analyze_merge_cpu_s": 6.0,
        "analyze_merge_j2_s": 6.5,
        "analyze_merge_j2_cpu_s": 6.6,
        "analyze_store_inproc_cpu_s": 0.5,
        "analyze_merge_inproc_cpu_s": 5.5,
        "analyze_store_one_s": 0.8,
        "analyze_store_local2_s": 0.5,
        "load_average": (1.0, 1.0, 1.0),
    }
    r.update(kw)
    return "\n".join(scale_out.lines(r))


def _row(text: str, label: str) -> list[str]:
    """The words after ``label`` on its line of the ratio table."""
    (line,) = [ln for ln in text.splitlines() if ln.strip().startswith(label)]
    return line.split(label, 1)[1].split()


def test_targets_met_and_not_met():
    text = _figures()
    assert _row(text, "extract local:2 wall / ideal 2-core (j1 / 2)") == [
        "1.20", "<=", "1.25", "met"
    ]  # 6 / (10 / 2)  # fmt: skip
    assert _row(text, "store / captures") == ["0.0200", "<=", "0.03", "met"]
    # each path at its best: --merge -j 1 (6.0) over STORE -j 2 (0.75)
    assert _row(text, "analyze --merge / analyze STORE (wall)") == ["8.00", ">=", "5", "met"]
    assert _row(text, "worker peak RSS, all files / half of them") == ["1.01", "<=", "1.05", "met"]
    assert _row(text, "(extract workers' CPU / -j 1 CPU")[0] == "1.05:"
    assert _row(text, "(analyze STORE one process / local:2 (wall)")[0] == "1.60:"
    assert _row(text, "(each path its best of -j 1 and -j 2;") == [
        "-j", "1", "/", "-j", "1", "6.00,", "-j", "2", "/", "-j", "2", "8.67)"
    ]  # fmt: skip
    # --merge -j 2 faster than -j 1, the store's -j 1 faster than its -j 2: 3.0 / 0.8
    best = _figures(analyze_merge_j2_s=3.0, analyze_store_s=0.8, analyze_store_j2_s=0.9)
    assert _row(best, "analyze --merge / analyze STORE (wall)") == ["3.75", ">=", "5", "NOT", "MET"]
    text = _figures(
        extract_local2_s=7.0, store_octets=40_000, analyze_merge_s=4.0, analyze_merge_j2_s=3.0
    )
    assert text.count("NOT MET") == 3
    assert _row(_figures(worker_peak_mb=[100.0, 120.0]), "worker peak RSS, all files")[-2:] == [
        "NOT",
        "MET",
    ]


def test_each_round_and_the_best_of_the_rounds():
    out: dict = {}
    for wall, cpu in ((3.0, 2.9), (2.0, 2.1), (2.5, 2.4)):
        scale_out._best(out, "analyze_store_s", wall, analyze_store_cpu_s=cpu)
    assert out["analyze_store_s"] == 2.0 and out["analyze_store_cpu_s"] == 2.1
    assert out["analyze_store_rounds"] == [3.0, 2.0, 2.5]
    text = _figures(
        analyze_store_rounds=[1.0, 2.0],
        analyze_store_j2_rounds=[0.75, 4.0],
        analyze_merge_rounds=[6.0, 9.0],
        analyze_merge_j2_rounds=[6.5, 8.0],
        extract_j1_rounds=[10.0, 12.0],
        extract_local2_rounds=[6.0, 9.0],
    )
    (line,) = [ln for ln in text.splitlines() if "each round on its own" in ln]
    # round 1: min(6, 6.5) / min(1, 0.75) = 8; round 2: min(9, 8) / min(2, 4) = 4
    assert "8.00x, 4.00x" in line and "extract / ideal: 1.20, 1.50" in line


def test_two_processes_at_once_extract_each_half(tmp_path):
    from ebutool.store import store_parts

    files = scale_out.split_pcap(SAMPLES / "mixed.pcap", tmp_path / "rot", 4)
    wall = scale_out._two_at_once(files, tmp_path)
    assert wall > 0
    names = [sorted(p.label for p in store_parts(str(tmp_path / f"store-twin-{x}"))) for x in "ab"]
    assert [len(n) for n in names] == [2, 2] and not set(names[0]) & set(names[1])
    text = _figures(extract_twin_s=5.5)
    assert "1.10: the machine's own" in text and "1.09: Dask's" in text  # 5.5/5, 6/5.5
    assert "1.20: two processes at once" in text  # analyze STORE -j 2's CPU 1.2 / 1.0
