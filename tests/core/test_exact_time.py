"""Nanosecond captures print 9 exact decimals; microsecond ones 6 (ebutool.core.exact_time).

Ground truth: the timestamps written into the test captures (integers), printed by
plain integer arithmetic here, never by ebutool.
"""

from __future__ import annotations

import csv
import io
import re

import dpkt
import pytest

from ebutool.core.exact_time import AMBIGUOUS, epoch_formatter, exact_map, ns_text
from tests.support.capbuild import pcap_bytes, pcapng_bytes
from tests.support.cli import SAMPLES, run_cli

NS = 1_000_000_000
OFFSET_NS = 789  # added to every packet: its times need all 9 decimals


def _expected(ns: int) -> str:
    return f"{ns // NS}.{ns % NS:09d}"


def test_float_cannot_hold_the_nanosecond():
    """Why the integers are carried: floats near 1.7e9 s are 2^-22 s apart."""
    t = 1_704_110_401_000_000_789
    assert t / NS == (t + 1) / NS  # two captured instants, one float
    assert f"{t / NS:.9f}" != _expected(t)  # 9 decimals of the float are not the capture's


def test_exact_map_and_formatter():
    a, b = 1_704_110_401_000_000_789, 1_704_110_401_000_000_790  # one float
    m = exact_map([a, None, a, 1_704_110_402_123_456_789])
    assert m[a / NS] == a and len(m) == 2
    assert exact_map([a, b])[a / NS] == AMBIGUOUS
    attrs = {"exact_ns": m, "time_decimals": 9}
    fmt = epoch_formatter([a / NS], attrs, 6)
    assert fmt(a / NS) == "1704110401.000000789" == ns_text(a)
    # a microsecond table, or a value without its integer: 6 decimals from the float
    assert epoch_formatter([a / NS], {"exact_ns": m, "time_decimals": 6}, 6)(a / NS) == (
        "1704110401.000001"
    )
    assert epoch_formatter([a / NS, 5.5], attrs, 6)(a / NS) == "1704110401.000001"
    amb = {"exact_ns": exact_map([a, b]), "time_decimals": 9}
    assert epoch_formatter([a / NS], amb, 6)(a / NS) == "1704110401.000001"


def _packets() -> list[tuple[int, bytes]]:
    with open(SAMPLES / "standard.pcap", "rb") as fh:
        return [
            (round(ts * 1_000_000) * 1000 + OFFSET_NS, bytes(buf))
            for ts, buf in dpkt.pcap.Reader(fh)
        ]


def _capture(tmp_path, fmt: str):
    pk = _packets()
    path = tmp_path / f"ns.{fmt}"
    if fmt == "pcap":
        path.write_bytes(pcap_bytes(pk, 229, nanosecond=True))  # magic a1b23c4d
    else:
        path.write_bytes(pcapng_bytes([(229, 9)], [(0, t, d) for t, d in pk]))  # if_tsresol 9
    return path, pk


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_decode_csv_has_9_exact_decimals(tmp_path, fmt):
    path, pk = _capture(tmp_path, fmt)
    res = run_cli("decode", path, "-f", "csv")
    assert res.exit_code == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert len(rows) > 10
    for row in rows:
        ts = pk[int(row["frame"]) - 1][0]
        assert row["time"] == _expected(ts)


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_analyze_csv_t_handover_9_decimals(tmp_path, fmt):
    path, pk = _capture(tmp_path, fmt)
    res = run_cli("analyze", path, "-f", "csv")
    assert res.exit_code == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert rows
    captured = {_expected(t) for t, _ in pk}
    for row in rows:
        assert len(row["t_handover"].split(".")[1]) == 9
        assert row["t_handover"] in captured  # t0 is a packet's capture time
    # the microsecond capture of the same packets: 6 decimals, same instants
    us = run_cli("analyze", SAMPLES / "standard.pcap", "-f", "csv")
    us_rows = list(csv.DictReader(io.StringIO(us.stdout)))
    assert [len(r["t_handover"].split(".")[1]) for r in us_rows] == [6] * len(us_rows)
    # every packet is 789 ns later than in the microsecond capture, so is every t0
    assert [r["t_handover"] for r in rows] == [r["t_handover"] + "789" for r in us_rows]


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_followed_rows_keep_9_decimals(tmp_path, fmt):
    """analyze --follow writes each row as its episode closes: at the capture's resolution
    too (the rows of the whole-input analyze, same instants, same text)."""
    path, pk = _capture(tmp_path, fmt)
    whole = run_cli("analyze", path, "-f", "csv")
    res = run_cli("analyze", "--follow", path, "-f", "csv")
    assert res.exit_code == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert rows
    captured = {_expected(t) for t, _ in pk}
    assert all(r["t_handover"] in captured for r in rows)
    want = sorted(r["t_handover"] for r in csv.DictReader(io.StringIO(whole.stdout)))
    assert sorted(r["t_handover"] for r in rows) == want


def test_several_inputs_one_of_them_ns(tmp_path):
    path, _ = _capture(tmp_path, "pcap")
    res = run_cli("decode", path, SAMPLES / "standard.pcap", "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    by_src = {r["source"]: r["time"] for r in rows}
    assert by_src["ns.pcap"].endswith(f"{OFFSET_NS:09d}"[-3:])
    assert by_src["standard.pcap"].endswith("000")
    assert {len(r["time"].split(".")[1]) for r in rows} == {9}


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_json_has_the_9_exact_decimals(tmp_path, fmt):
    """JSON writes a nanosecond time as its exact text (docs/outputs.md; it printed
    1704110401.000001 for ...000000789, the float rounded to the microsecond)."""
    path, pk = _capture(tmp_path, "pcap")
    res = run_cli("decode", path, "-f", fmt)
    assert res.exit_code == 0, res.stderr
    shown = re.findall(r'"frame": ?(\d+),"?\s*"time": ?([0-9.]+)', res.stdout)
    assert len(shown) > 10
    for frame, text in shown:
        assert text == _expected(pk[int(frame) - 1][0])


def _t_handover(*args) -> list[str]:
    res = run_cli("analyze", *args, "-f", "csv", "--columns", "t_handover")
    assert res.exit_code == 0, res.stderr
    return [r["t_handover"] for r in csv.DictReader(io.StringIO(res.stdout))]


def test_store_of_a_nanosecond_capture_keeps_9_decimals(tmp_path):
    """extract + analyze STORE (one process and split) print what analyze of the capture
    prints: the part records the capture's resolution."""
    path, _ = _capture(tmp_path, "pcap")
    want = _t_handover(path)
    assert want and all(t.endswith("789") for t in want)
    store = tmp_path / "store"
    assert run_cli("extract", path, "-o", store, "-q").exit_code == 0
    assert _t_handover(store) == want
    assert _t_handover(store, "-j", "2") == want


def _to_ns(src, dst) -> None:
    """``src`` (a microsecond pcap) rewritten at nanosecond resolution, OFFSET_NS later."""
    with open(src, "rb") as fh:
        reader = dpkt.pcap.Reader(fh)
        pk = [(round(ts * 1_000_000) * 1000 + OFFSET_NS, bytes(b)) for ts, b in reader]
        dst.write_bytes(pcap_bytes(pk, reader.datalink(), nanosecond=True))


def test_merged_views_of_nanosecond_captures_keep_9_decimals(tmp_path):
    """analyze --merge of views of one run (and the store of them) at the captures'
    resolution: each t_handover is a packet's exact capture time."""
    us = {v: tmp_path / f"us-{v}.pcap" for v in ("mn", "cn")}
    made = run_cli(
        "synth", SAMPLES / "standard.toml", "-o", us["mn"], "--view", f"cn={us['cn']}",
        "--clock", "cn=700", "--seed", "7", "-q",
    )  # fmt: skip
    assert made.exit_code == 0, made.stderr
    ns = {v: tmp_path / f"{v}.pcap" for v in us}
    for v in us:
        _to_ns(us[v], ns[v])
    got = _t_handover(ns["mn"], ns["cn"], "--merge")
    assert got and all(len(t.split(".")[1]) == 9 and t.endswith("789") for t in got)
    micro = _t_handover(us["mn"], us["cn"], "--merge")  # same instants, 789 ns earlier
    assert [t + "789" for t in micro] == got
    store = tmp_path / "store"
    assert run_cli("extract", ns["mn"], ns["cn"], "-o", store, "-q").exit_code == 0
    assert _t_handover(store) == got


def test_exact_map_deep_copy_is_an_independent_equal_map() -> None:
    import copy

    m = exact_map([1_700_000_000_123_456_789, None, 5])
    c = copy.deepcopy({"exact_ns": m})["exact_ns"]
    assert c == m and c is not m
    c[1.0] = 1
    assert 1.0 not in m


def test_exact_map_deep_copy_does_not_walk_its_entries(monkeypatch) -> None:
    """pandas deep-copies a table's attrs at every column it hands out: the map (one entry
    per row) must not be walked entry by entry each time."""
    import copy

    m = exact_map(range(1_700_000_000_000_000_000, 1_700_000_000_000_001_000))
    visited: list[object] = []

    def atomic(x, memo):  # copy's own handler of floats and ints, counted
        visited.append(x)
        return x

    monkeypatch.setitem(copy._deepcopy_dispatch, float, atomic)  # type: ignore[attr-defined]
    monkeypatch.setitem(copy._deepcopy_dispatch, int, atomic)  # type: ignore[attr-defined]
    assert copy.deepcopy({"exact_ns": m})["exact_ns"] == m
    assert len(visited) < 10
