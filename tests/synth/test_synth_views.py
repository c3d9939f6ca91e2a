"""``ebutool synth --view ROLE=PATH --clock ROLE=OFFSET_MS[,DRIFT_PPM]``: the run as seen at
the HA and the CN, each on its own clock (issue 13 item 4)."""

from __future__ import annotations

import struct
from pathlib import Path

from ebutool.synth import load_scenario, simulate
from tests.support.cli import run_cli

SCENARIO = Path(__file__).resolve().parents[2] / "samples" / "standard.toml"


def stamps(path: Path) -> list[int]:
    """The record times of a little-endian microsecond pcap, read here (ns)."""
    data, off, out = path.read_bytes(), 24, []
    assert data[:4] == b"\xd4\xc3\xb2\xa1"
    while off < len(data):
        sec, usec, incl, _ = struct.unpack_from("<IIII", data, off)
        out.append(sec * 10**9 + usec * 1000)
        off += 16 + incl
    return out


def test_views_written_with_their_clocks(tmp_path):
    mn, cn, ha = tmp_path / "mn.pcap", tmp_path / "cn.pcap", tmp_path / "ha.pcap"
    res = run_cli(
        "synth",
        str(SCENARIO),
        "-o",
        str(mn),
        "--view",
        f"cn={cn}",
        "--view",
        f"ha={ha}",
        "--clock",
        "cn=700",
        "--clock",
        "ha=-300,100",
    )
    assert res.exit_code == 0, res.output
    assert "the cn view" in res.stderr and "the ha view" in res.stderr
    sc = load_scenario(str(SCENARIO))
    truth = simulate(sc, views=("ha", "cn"))
    assert stamps(mn) == [t for t, _ in truth.packets]
    assert stamps(cn) == [t + 700 * 10**6 for t, _ in truth.views["cn"]]
    start = sc.start_ns
    expected = [
        t - 300 * 10**6 + round((t - start) * 100e-6 / 1000) * 1000 for t, _ in truth.views["ha"]
    ]
    assert stamps(ha) == expected


def test_bad_view_options_are_usage_errors(tmp_path):
    out = str(tmp_path / "x.pcap")
    for args in (["--view", "hub=a.pcap"], ["--clock", "cn=700"], ["--clock", "mn=soon"]):
        res = run_cli("synth", str(SCENARIO), "-o", out, *args)
        assert res.exit_code == 2, (args, res.output)
