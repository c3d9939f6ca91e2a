"""The draft's own MH types (issue 11 item 10): with --ebu-mh-type/--eba-mh-type,
messages of those types are EBU/EBA with the BU/BA body layout in verify, analyze and
replay; without them, a CN's Binding Error status 2 names the unknown type.  Packets are
built octet by octet (tests/support/rfc_packets.py), MACs with tests/support/rr.py."""

from __future__ import annotations

import pytest

from ebutool.core.constants import DEFAULT_CONFIG, ProtocolConfig
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import UsageError
from ebutool.oracle import Oracle
from tests.support import rfc_packets as P
from tests.support import rr
from tests.support.rr import CN, COA1, COA2, HA, HOA, KCN, MS, NONCES, T0

EBU_T, EBA_T = 11, 12  # RFC 5096's experimental type, and the next one
H = rr.home_token(KCN, HOA, NONCES[1])
C = rr.careof_token(KCN, COA2, NONCES[2])
KBM_EARLY = rr.kbm_home_only(H)
KBM = rr.kbm_standard(H, C)


def _authed(mh_type, body, options, kbm, coa, src, dst):
    mh = P.mobility_header(mh_type, body, [*options, P.AUTH_PLACEHOLDER], src=src, dst=dst)
    mac = rr.authenticator(kbm, coa, CN, P.mac_data(mh))
    return P.set_authenticator(mh, mac, src, dst)


def early_capture(ebu_type=EBU_T, eba_type=EBA_T, refuse=False):
    """An early handover from COA1 to COA2 at T0 as the MN sees it (draft Figure 2)."""
    t = T0
    hoti = P.mh_packet(HOA, CN, P.MH_HOTI, P.hoti_body(b"HOTICOOK"))
    hot = P.mh_packet(CN, HOA, P.MH_HOT, P.hot_body(1, b"HOTICOOK", H))
    ebu = _authed(
        ebu_type, P.bu_body(20, P.BU_A, 25), [P.nonce_indices(1, 0)], KBM_EARLY, COA2, HOA, CN
    )
    eba = _authed(eba_type, P.ba_body(0, 20, 25), [], KBM_EARLY, COA2, CN, HOA)
    bu = _authed(P.MH_BU, P.bu_body(21, P.BU_A, 25), [P.nonce_indices(1, 2)], KBM, COA2, HOA, CN)
    ba = _authed(P.MH_BA, P.ba_body(0, 21, 25), [], KBM, COA2, CN, HOA)
    pkts = [
        (t - 500 * MS, P.tunnel(COA1, HA, hoti)),
        (t - 440 * MS, P.tunnel(HA, COA1, hot)),
        (t, P.mh_packet(COA2, HA, P.MH_BU, P.bu_body(7, P.BU_A | P.BU_H, 25), hoa=HOA)),
        (t + 1 * MS, P.packet(COA2, CN, P.NH_MH, ebu, hoa=HOA)),
        (t + 2 * MS, P.mh_packet(COA2, CN, P.MH_COTI, P.hoti_body(b"COTICOOK"))),
    ]
    if refuse:
        be = P.mh_packet(CN, COA2, P.MH_BE, P.be_body(2, HOA))
        return pkts + [(t + 31 * MS, be)]
    return pkts + [
        (t + 30 * MS, P.packet(CN, COA2, P.NH_MH, eba, rh2=HOA)),
        (t + 32 * MS, P.mh_packet(CN, COA2, P.MH_COT, P.hot_body(2, b"COTICOOK", C))),
        (t + 40 * MS, P.mh_packet(HA, COA2, P.MH_BA, P.ba_body(0, 7, 25), rh2=HOA)),
        (t + 41 * MS, P.packet(COA2, CN, P.NH_MH, bu, hoa=HOA)),
        (t + 71 * MS, P.packet(CN, COA2, P.NH_MH, ba, rh2=HOA)),
    ]


@pytest.fixture
def capture(tmp_path):
    path = tmp_path / "own-types.pcap"
    path.write_bytes(P.pcap(early_capture()))
    return path


def verdicts(path, config):
    from ebutool.stream.reader import read_records

    recs = read_records(str(path), Diagnostics())
    return [(v.msg, v.seq, v.verdict, v.key_form) for v in Oracle(None, config).run(recs)]


def test_verify_reads_the_named_types_as_ebu_and_eba(capture):
    config = DEFAULT_CONFIG.with_(ebu_mh_type=EBU_T, eba_mh_type=EBA_T)
    checked = [v for v in verdicts(capture, config) if v[0] not in ("HoT", "CoT")]
    assert checked == [
        ("EBU", 20, "valid", "early"),
        ("EBA", 20, "valid", "early"),
        ("BU", 21, "valid", "standard"),
        ("BA", 21, "valid", "standard"),
    ]
    # without the options the two messages are of unknown types: nothing to check
    plain = [v for v in verdicts(capture, DEFAULT_CONFIG) if v[0] not in ("HoT", "CoT")]
    assert plain == [("BU", 21, "valid", "standard"), ("BA", 21, "valid", "standard")]


def test_analyze_classifies_the_episode_as_early(capture, cli):
    import csv
    import io

    args = ("analyze", capture, "-f", "csv", "-q")
    named = cli(*args, "--ebu-mh-type", EBU_T, "--eba-mh-type", EBA_T)
    assert named.exit_code == 0, named.output
    rows = [r for r in csv.DictReader(io.StringIO(named.stdout)) if r["cn"] == CN]
    assert [r["kind"] for r in rows] == ["early"]
    assert float(rows[0]["rtt_ro_ms"]) == pytest.approx(29.0)  # EBU -> EBA
    plain = cli(*args)
    rows = [r for r in csv.DictReader(io.StringIO(plain.stdout)) if r["cn"] == CN]
    assert [r["kind"] for r in rows] != ["early"]


def test_an_unknown_type_refused_with_binding_error_2_is_named(tmp_path, cli):
    path = tmp_path / "refused.pcap"
    path.write_bytes(P.pcap(early_capture(refuse=True)))
    res = cli("analyze", path, "-f", "csv")
    assert res.exit_code == 0, res.output
    assert "unknown_mh_type_refused" in res.stderr
    assert "MH type 11 to 2001:db8:c::1: the CN does not know this message type" in res.stderr
    named = cli("analyze", path, "-f", "csv", "--ebu-mh-type", EBU_T)
    assert "unknown_mh_type_refused" not in named.stderr


def test_the_options_take_only_unassigned_type_numbers(cli, capture):
    with pytest.raises(UsageError, match="EBU_MH_TYPE"):
        ProtocolConfig(ebu_mh_type=5)
    res = cli("verify", capture, "--ebu-mh-type", "6")
    assert res.exit_code == 2
    assert res.stderr.strip() == (
        "ebutool: error: --ebu-mh-type 6: must be an MH type number 8-255 "
        "(0-7 are RFC 6275's messages) (EBU_MH_TYPE)"
    )
