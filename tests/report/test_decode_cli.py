"""``ebutool decode`` on the command line (issue 2, criterion 6): output formats, ``-o``,
standard input, the stderr summary, exit status 3 for input that is no capture.

The capture is built with scapy and tests/capbuild.py; the expected rows are the values
the test gave scapy.  Most runs are real processes (``python -m ebutool``)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BA,
    MIP6MH_BU,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
    MIP6MH_HoTI,
    MIP6OptBindingAuthData,
    MIP6OptNonceIndices,
)
from scapy.layers.l2 import Ether

from tests.support.capbuild import LINKTYPE_ETHERNET, pcap_bytes, pcapng_bytes

ROOT = Path(__file__).resolve().parents[2]
MN_HOA, MN_COA, CN, HA = "2001:db8:1::100", "2001:db8:2::7", "2001:db8:3::5", "2001:db8:1::1"
T0 = 1_700_000_000_000_000_000
MAC = dict(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def _eth(pkt) -> bytes:
    return bytes(Ether(**MAC) / pkt)


BA_FULL = bytes(
    IPv6(src=CN, dst=MN_COA)
    / IPv6ExtHdrRouting(type=2, segleft=1, addresses=[MN_HOA])
    / MIP6MH_BA(status=0, flags=0, seq=42, mhtime=25)
)
FRAMES = [
    # 1: EBU (H=0, lifetime > 0, CoA != HoA, care-of nonce index 0), HAO
    _eth(
        IPv6(src=MN_COA, dst=CN)
        / IPv6ExtHdrDestOpt(options=[HAO(hoa=MN_HOA)])
        / MIP6MH_BU(
            seq=42,
            flags="A",
            mhtime=25,
            options=[
                MIP6OptNonceIndices(olen=4, hni=7, coni=0),
                MIP6OptBindingAuthData(olen=12, authenticator=0x0102030405060708090A0B0C),
            ],
        )
    ),
    # 2: BA to the care-of address with a type 2 routing header
    _eth(IPv6(BA_FULL)),
    # 3: HoTI reverse-tunnelled to the home agent
    _eth(IPv6(src=MN_COA, dst=HA) / IPv6(src=MN_HOA, dst=CN) / MIP6MH_HoTI(cookie=b"cookie!!")),
    # 4: IPv4: skipped, not IPv6
    _eth(IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=1, dport=2)),
    # 5: plain IPv6 UDP: skipped, not mobility related
    _eth(IPv6(src=CN, dst=MN_HOA) / UDP(sport=1, dport=2) / b"data"),
    # 6: route-optimised data (HAO): a record, but no MH row
    _eth(
        IPv6(src=MN_COA, dst=CN)
        / IPv6ExtHdrDestOpt(options=[HAO(hoa=MN_HOA)])
        / UDP(sport=1, dport=2)
    ),
    # 7: a BA cut off by the snap length inside its options
    _eth(
        IPv6(src=CN, dst=MN_COA)
        / MIP6MH_BA(
            status=129,
            flags=0,
            seq=43,
            mhtime=0,
            options=[MIP6OptBindingAuthData(olen=12, authenticator=1)],
        )
    )[: 14 + 40 + 14],
]
EXPECTED = [  # frame, msg, mh_type, sequence, lifetime_s, status, truncated
    ("1", "EBU", "5", "42", "100", "", "False"),
    ("2", "EBA", "6", "42", "100", "0", "False"),  # answers the EBU: verify's name too
    ("3", "HoTI", "1", "", "", "", "False"),
    ("7", "BA", "6", "43", "0", "129", "True"),
]


@pytest.fixture(scope="module")
def capture(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "mix.pcap"
    path.write_bytes(
        pcap_bytes([(T0 + i * 1_000_000, f) for i, f in enumerate(FRAMES)], LINKTYPE_ETHERNET)
    )
    return path


def ebutool(*args, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ebutool", "decode", *map(str, args)],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        timeout=120,
    )


def check_rows(rows: list[dict]) -> None:
    got = [
        tuple(
            "" if r[k] is None else str(r[k])
            for k in ("frame", "msg", "mh_type", "sequence", "lifetime_s", "status", "truncated")
        )
        for r in rows
    ]
    assert got == EXPECTED
    ebu = rows[0]
    assert (ebu["home_address"], ebu["care_of_address"], ebu["flags"]) == (MN_HOA, MN_COA, "A")
    assert str(ebu["home_nonce_index"]) == "7" and str(ebu["careof_nonce_index"]) == "0"
    assert ebu["authenticator"] == "0102030405060708090a0b0c"
    assert str(ebu["checksum_ok"]) == "True"
    assert rows[1]["home_address"] == MN_HOA and rows[1]["dst"] == MN_COA
    assert rows[1]["care_of_address"] == MN_COA  # a packet to the MN: where it is delivered
    assert (rows[2]["tunnel_src"], rows[2]["tunnel_dst"], rows[2]["src"]) == (MN_COA, HA, MN_HOA)
    assert rows[2]["init_cookie"] == b"cookie!!".hex()
    assert rows[3]["checksum_ok"] in ("", None)  # truncated: cannot be checked


def test_csv_and_summary(capture):
    proc = ebutool(capture, "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    check_rows(list(csv.DictReader(io.StringIO(proc.stdout.decode()))))
    err = proc.stderr.decode()
    summary = [ln for ln in err.splitlines() if ln.startswith("ebutool: frames")]
    assert len(summary) == 1
    line = summary[0]
    assert "frames 7, IPv6 6, mobility-related 5" in line  # 4 MH + 1 data (HAO)
    assert "MH messages: BA 2, EBU 1, HoTI 1" in line
    assert "not_ipv6 1" in line and "not_mobility_related 1" in line
    assert "malformed_mh: frame 7:" in err  # the cut BA, by frame
    assert "Traceback" not in err


def test_json(capture):
    proc = ebutool(capture, "-f", "json")
    assert proc.returncode == 0
    rows = json.loads(proc.stdout)
    check_rows(rows)
    assert rows[2]["sequence"] is None  # missing is null in JSON
    assert rows[0]["checksum_ok"] is True and rows[3]["truncated"] is True


def test_markdown(capture):
    proc = ebutool(capture, "--format", "markdown")
    assert proc.returncode == 0
    lines = proc.stdout.decode().strip().splitlines()
    assert len(lines) == 2 + len(EXPECTED)
    assert all(ln.startswith("|") and ln.endswith("|") for ln in lines)
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header[:3] == ["frame", "time", "src"] and "checksum_ok" in header
    cells = [[c.strip() for c in ln.strip("|").split("|")] for ln in lines[2:]]
    assert [(c[0], c[header.index("msg")]) for c in cells] == [(e[0], e[1]) for e in EXPECTED]


def test_table(capture):
    proc = ebutool(capture)  # table is the default
    assert proc.returncode == 0
    lines = proc.stdout.decode().strip().splitlines()
    assert lines[0].split()[:3] == ["frame", "time", "src"]
    body = lines[2:]  # header, dashes, rows
    assert [ln.split()[0] for ln in body] == [e[0] for e in EXPECTED]
    assert "EBU" in body[0] and "HoTI" in body[2]


def test_output_file_and_quiet(capture, tmp_path):
    out = tmp_path / "rows.csv"
    proc = ebutool(capture, "-f", "csv", "-o", out, "-q")
    assert proc.returncode == 0
    assert proc.stdout == b"" and proc.stderr == b""
    check_rows(list(csv.DictReader(io.StringIO(out.read_text()))))


def test_stdin_pcap_and_pcapng(capture):
    proc = ebutool("-", "-f", "csv", stdin=capture.read_bytes())
    assert proc.returncode == 0, proc.stderr
    check_rows(list(csv.DictReader(io.StringIO(proc.stdout.decode()))))
    ng = pcapng_bytes(
        [(LINKTYPE_ETHERNET, 9)], [(0, T0 + i * 1_000_000, f) for i, f in enumerate(FRAMES)]
    )
    proc = ebutool("-", "-f", "csv", stdin=ng)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout.decode())))
    check_rows(rows)
    assert [float(r["time"]) for r in rows] == pytest.approx(
        [1_700_000_000.0, 1_700_000_000.001, 1_700_000_000.002, 1_700_000_000.006]
    )


@pytest.mark.parametrize(
    "content",
    [b"", b"hello, this is not a capture\n", b"\x00" * 100],
    ids=["empty", "text", "zeros"],
)
def test_not_a_capture_exits_3_with_one_line(tmp_path, content):
    path = tmp_path / "input.bin"
    path.write_bytes(content)
    proc = ebutool(path)
    assert proc.returncode == 3
    err = proc.stderr.decode()
    assert err.count("\n") == 1 and err.startswith("ebutool: ") and "Traceback" not in err
    assert str(path) in err
    assert proc.stdout == b""


def test_missing_file_and_empty_stdin_exit_3(tmp_path):
    proc = ebutool(tmp_path / "nope.pcap")
    assert proc.returncode == 3 and proc.stderr.decode().count("\n") == 1
    proc = ebutool("-", stdin=b"")
    assert proc.returncode == 3 and proc.stderr.decode().count("\n") == 1
