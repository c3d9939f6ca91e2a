"""A CN-side and an HA-side capture built octet by octet from the RFC text
(tests/support/rfc_packets, tests/support/rr), independently of ebutool's encoder and of
synth: one standard handover with hand-picked times, so every expected value is
arithmetic on those times."""

from __future__ import annotations

import math

import pytest

import ebutool
from ebutool.core.diagnostics import Diagnostics
from tests.support import rfc_packets as R
from tests.support import rr
from tests.support.cli import run_cli

HOA, HA, CN = "2001:db8:1::100", "2001:db8:1::1", "2001:db8:c1::1"
OLD, NEW = "2001:db8:a::100", "2001:db8:b::100"
KCN, NONCE = bytes(range(20)), b"\x11" * 8
HOME_COOKIE, CAREOF_COOKIE = b"\x01" * 8, b"\x02" * 8
T = 1_700_000_000 * 10**9  # the capture's clock at time 0, ns
MS = 10**6


def at(ms: float) -> int:
    return T + round(ms * MS)


def hoti() -> bytes:
    return R.mh_packet(HOA, CN, R.MH_HOTI, R.hoti_body(HOME_COOKIE))


def hot() -> bytes:
    token = rr.home_token(KCN, HOA, NONCE)
    return R.mh_packet(CN, HOA, R.MH_HOT, R.hot_body(1, HOME_COOKIE, token))


def cn_bu_and_ba() -> tuple[bytes, bytes]:
    """The BU from the new care-of address and the CN's BA, both with valid MACs."""
    kbm = rr.kbm_standard(rr.home_token(KCN, HOA, NONCE), rr.careof_token(KCN, NEW, NONCE))
    opts = [R.nonce_indices(1, 1), (R.OPT_AUTH, b"\0" * 12, (8, 2))]
    bu = R.mh_packet(NEW, CN, R.MH_BU, R.bu_body(7, R.BU_A, 100), opts, hoa=HOA)
    mh = R.mh_of(bu)
    bu_mh = R.set_authenticator(mh, rr.authenticator(kbm, NEW, CN, R.mac_data(mh)), HOA, CN)
    bu = R.packet(NEW, CN, R.NH_MH, bu_mh, hoa=HOA)
    ba = R.mh_packet(
        CN, NEW, R.MH_BA, R.ba_body(0, 7, 100), [(R.OPT_AUTH, b"\0" * 12, (8, 2))], rh2=HOA
    )
    mh = R.mh_of(ba)
    ba_mh = R.set_authenticator(mh, rr.authenticator(kbm, NEW, CN, R.mac_data(mh)), CN, HOA)
    return bu, R.packet(CN, NEW, R.NH_MH, ba_mh, rh2=HOA)


def cn_view() -> list[tuple[int, bytes]]:
    """What the CN's interface sees: the MN at OLD (route-optimised), then at NEW from
    about 1000 ms; the HoTI/HoT go through the HA, so they carry the home address bare."""
    bu, ba = cn_bu_and_ba()
    cot_token = rr.careof_token(KCN, NEW, NONCE)
    return [
        (at(0), R.udp_packet(OLD, CN, hoa=HOA)),
        (at(40), R.udp_packet(CN, OLD, rh2=HOA)),
        (at(1012), R.mh_packet(NEW, CN, R.MH_COTI, R.hoti_body(CAREOF_COOKIE))),
        (at(1013), R.mh_packet(CN, NEW, R.MH_COT, R.hot_body(1, CAREOF_COOKIE, cot_token))),
        (at(1060), hoti()),
        (at(1062), hot()),
        (at(1150), bu),
        (at(1151), ba),
        (at(1170), R.udp_packet(NEW, CN, hoa=HOA)),
        (at(1180), R.udp_packet(CN, NEW, rh2=HOA)),
    ]


def ha_view() -> list[tuple[int, bytes]]:
    """What the HA sees: the MN's BU and the HA's BA, the HoTI tunnelled from NEW and
    forwarded bare, the HoT arriving bare and tunnelled on to NEW."""
    bu = R.mh_packet(NEW, HA, R.MH_BU, R.bu_body(3, R.BU_A | R.BU_H, 100), hoa=HOA)
    ba = R.mh_packet(HA, NEW, R.MH_BA, R.ba_body(0, 3, 100), rh2=HOA)
    return [
        (at(1020), bu),
        (at(1020.5), ba),
        (at(1020), R.tunnel(NEW, HA, hoti())),
        (at(1020), hoti()),
        (at(1100), hot()),
        (at(1100), R.tunnel(HA, NEW, hot())),
    ]


@pytest.fixture
def captures(tmp_path):
    paths = {}
    for name, packets in (("cn", cn_view()), ("ha", ha_view())):
        paths[name] = tmp_path / f"{name}-side.pcap"
        paths[name].write_bytes(R.pcap(sorted(packets, key=lambda p: p[0])))
    return paths


def empty(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def test_cn_side_capture(captures):
    diag = Diagnostics()
    df = ebutool.analyze(captures["cn"], diag=diag)
    assert len(df) == 1, df
    row = df.iloc[0]
    assert row["vantage"] == "cn" and row["kind"] == "standard" and row["coa"] == NEW
    assert row["prev_coa"] == OLD and row["complete"]
    assert row["t_first_seen"] == pytest.approx(at(1012) / 1e9, abs=1e-6)
    assert row["cn_send_interval_ms"] == pytest.approx(1170 - 1012, abs=1e-3)
    assert row["cn_recv_interval_ms"] == pytest.approx(1180 - 1012, abs=1e-3)
    assert row["cn_home_test_proc_ms"] == pytest.approx(2.0, abs=1e-3)
    assert row["cn_ro_proc_ms"] == pytest.approx(1.0, abs=1e-3)
    for col in ("t_handover", "rtt_ha_ms", "rtt_bt_ms", "rtt_ro_ms", "send_latency_ms"):
        assert empty(row[col]), col
    assert empty(row["mode"]) and empty(row["std_send_conserv_ms"])
    assert "unobservable_at_cn" in row["diagnosis"]


def test_ha_side_capture(captures):
    df = ebutool.analyze(captures["ha"])
    assert len(df) == 1, df
    row = df.iloc[0]
    assert row["vantage"] == "ha" and row["cn"] is None
    assert row["ha_bu_proc_ms"] == pytest.approx(0.5, abs=1e-3)
    assert row["t_first_seen"] == pytest.approx(at(1020) / 1e9, abs=1e-6)
    for col in ("t_handover", "rtt_ha_ms", "rtt_bt_ms", "kind", "mode"):
        assert empty(row[col]), col


def test_cli_says_what_it_detected_and_takes_an_override(captures):
    res = run_cli("analyze", str(captures["cn"]), "-f", "csv")
    assert res.exit_code == 0, res.output
    assert "vantage of cn-side.pcap: cn (detected: " in res.stderr
    assert "untunnelled HoTI/HoT" in res.stderr
    res = run_cli("analyze", str(captures["ha"]), "--vantage", "ha-side.pcap=path", "-f", "csv")
    assert res.exit_code == 0, res.output
    assert "vantage of ha-side.pcap: path (given" in res.stderr
    res = run_cli("analyze", str(captures["ha"]), "--vantage", "ha-side.pcap")
    assert res.exit_code == 2 and "PATH=ROLE" in res.stderr


def test_the_docs_hold_the_vantage_table():
    from pathlib import Path

    from ebutool.analysis.observable import markdown_table

    doc = (Path(__file__).resolve().parents[2] / "docs" / "analysis.md").read_text()
    assert markdown_table() in doc


@pytest.mark.parametrize(
    ("counts", "role"),
    [
        ({"tunnelled_tests": 4, "plain_tests": 4, "decapsulated": 4, "bu_to_ha": 1}, "ha"),
        ({"tunnelled_tests": 4, "plain_tests": 4, "decapsulated": 4, "coti": 1}, None),
        ({"tunnelled_tests": 2, "coti": 1, "bu_to_ha": 1}, "mn"),
        ({"bu_to_ha": 1, "plain_tests": 2}, "mn"),  # an MN at home: home tests untunnelled
        ({"plain_tests": 2, "coti": 1, "bu_to_cn": 1}, "cn"),
        ({"bu_to_ha": 2}, None),  # the HA sees the same BU and BA
        ({"bu_to_ha": 2, "events": 1}, "mn"),  # a simulator's trace of the MN
        ({"coti": 1}, None),
        ({}, None),
    ],
)
def test_detection_rules(counts, role):
    from ebutool.analysis.vantage import Evidence

    assert Evidence(**counts).decide().role == role


def test_no_warning_without_signalling_or_rows():
    from ebutool.analysis.vantage import Evidence, VantageDecision, resolve

    diag, early = Diagnostics(), VantageDecision(None, "")
    assert resolve(None, Evidence(), early, diag, "x", rows=0).role is None
    assert not diag.counts
    resolve(None, Evidence(bu_to_ha=1), early, diag, "x", rows=0)
    assert diag.counts["ambiguous_vantage"] == 1


def test_episode_path_takes_the_vantage(captures):
    from ebutool.analysis import build_episodes
    from ebutool.stream.reader import read_records

    diag = Diagnostics()
    eps = build_episodes(read_records(str(captures["cn"]), diag), diag=diag, vantage="cn")
    assert [(e.kind, e.prev_coa, e.coa) for e in eps] == [("standard", OLD, NEW)]
