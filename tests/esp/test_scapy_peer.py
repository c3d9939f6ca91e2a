"""ebutool's ESP decryption against scapy's SecurityAssociation (an independent peer).

For every algorithm and both modes: the packet scapy encrypts, opened by ebutool, is
byte for byte the packet before encryption; an ESP-protected capture analysed with its
SAs gives the episode rows of the same capture in clear; wrong keys give
esp_icv_mismatch (or, without integrity, esp_bad_padding/esp_undecodable) and no message.
"""

from __future__ import annotations

import pandas as pd
import pytest
from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BA,
    MIP6MH_BU,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
    MIP6MH_HoTI,
)

from ebutool.analysis import analyze
from ebutool.core.diagnostics import Diagnostics
from ebutool.esp import EspContext, EspSA, SecretKey
from ebutool.records.from_packet import StreamStats
from ebutool.stream.reader import read_records
from tests.esp.peer import ALGORITHMS, make_sa, protect, raw_frames
from tests.support.capbuild import LINKTYPE_IPV6, pcap_bytes
from tests.support.cli import SAMPLES

COA, HA, HOA, CN = "2001:db8:2::100", "2001:db8:1::1", "2001:db8:1::100", "2001:db8:3::1"


def ebutool_sa(peer, **over) -> EspSA:
    fields = dict(
        spi=peer.spi,
        src="*",
        dst="*",
        encryption=peer.algo.encryption,
        enc_key=SecretKey(peer.enc_key),
        integrity=peer.algo.integrity,
        auth_key=SecretKey(peer.auth_key),
        esn=peer.esn,
        esn_high=peer.esn_high,
    )
    fields.update(over)
    return EspSA(**fields)


def clear_packets() -> dict[str, IPv6]:
    bu = (
        IPv6(src=COA, dst=HA)
        / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
        / MIP6MH_BU(seq=7, flags="AH", mhtime=100)
    )
    ba = (
        IPv6(src=HA, dst=COA)
        / IPv6ExtHdrRouting(type=2, addresses=[HOA], segleft=1)
        / MIP6MH_BA(seq=7, mhtime=100)
    )
    hoti = IPv6(src=COA, dst=HA) / IPv6(src=HOA, dst=CN) / MIP6MH_HoTI(cookie=b"12345678")
    return {"bu": bu, "ba": ba, "hoti": hoti}


@pytest.mark.parametrize("algo", sorted(ALGORITHMS))
@pytest.mark.parametrize("kind", ["bu", "ba", "hoti"])
def test_opened_packet_is_byte_identical(algo, kind):
    clear = clear_packets()[kind]
    peer = make_sa(0x1001, "*", "*", algo)
    sent = bytes(peer.scapy().encrypt(clear))
    assert sent != bytes(clear) and sent[6] != 135  # ESP on the wire
    diag = Diagnostics()
    opened = EspContext([ebutool_sa(peer)]).open(sent, 0, 1, diag, None, None)
    assert not diag.counts
    assert opened is not None
    assert opened[0] == bytes(clear)
    assert opened[1].spi == 0x1001 and opened[1].seq == 1


@pytest.mark.parametrize("algo", ["cbc-sha1", "gcm16"])
def test_extended_sequence_numbers(algo):
    clear = clear_packets()["bu"]
    peer = make_sa(0x1001, "*", "*", algo, esn=True, high=5)
    engine = peer.scapy()
    ctx = EspContext([ebutool_sa(peer)])
    for n in (1, 2):
        diag = Diagnostics()
        opened = ctx.open(bytes(engine.encrypt(clear)), 0, n, diag, None, None)
        assert opened is not None and opened[0] == bytes(clear), diag.kept
        assert opened[1].seq == (5 << 32) + n
    # the same SA without ESN: the ICV covers the high bits, so it cannot verify
    diag = Diagnostics()
    fresh = make_sa(0x1001, "*", "*", algo, esn=True, high=5)
    no_esn = EspContext([ebutool_sa(fresh, esn=False)])
    assert no_esn.open(bytes(fresh.scapy().encrypt(clear)), 0, 1, diag, None, None) is None
    assert diag.counts["esp_icv_mismatch"] == 1


@pytest.mark.parametrize("algo", sorted(ALGORITHMS))
def test_wrong_key_gives_icv_mismatch_and_no_message(tmp_path, algo):
    peer = make_sa(0x1001, "*", "*", algo)
    engine = peer.scapy()
    frames = [(10**18 + i, bytes(engine.encrypt(clear_packets()["bu"]))) for i in range(20)]
    path = tmp_path / "esp.pcap"
    path.write_bytes(pcap_bytes(frames, LINKTYPE_IPV6, nanosecond=True))
    wrong = make_sa(0x1001, "*", "*", algo)
    if peer.algo.encryption == "null":
        wrong.enc_key = peer.enc_key
    diag = Diagnostics()
    recs = list(read_records(path, diag, StreamStats(), esp_sas=[ebutool_sa(wrong)]))
    assert [r for r in recs if r.mh is not None] == []
    assert diag.counts["esp_icv_mismatch"] == 20
    # the right key: every one decrypted
    recs = list(read_records(path, Diagnostics(), StreamStats(), esp_sas=[ebutool_sa(peer)]))
    assert [r.msg for r in recs] == ["BU"] * 20
    assert [r.esp_seq for r in recs] == list(range(1, 21))


def test_no_integrity_wrong_key_gives_no_message(tmp_path):
    """AES-CBC without an ICV: the padding and the MH decide; nothing passes."""
    peer = make_sa(0x1001, "*", "*", "cbc-sha1")
    engine = peer.scapy()
    engine.auth_algo = None
    from scapy.layers.ipsec import AUTH_ALGOS

    engine.auth_algo = AUTH_ALGOS["NULL"]
    frames = [(10**18 + i, bytes(engine.encrypt(clear_packets()["bu"]))) for i in range(200)]
    path = tmp_path / "esp.pcap"
    path.write_bytes(pcap_bytes(frames, LINKTYPE_IPV6, nanosecond=True))
    right = ebutool_sa(peer, integrity="null", auth_key=SecretKey(b""))
    recs = list(read_records(path, Diagnostics(), StreamStats(), esp_sas=[right]))
    assert [r.msg for r in recs] == ["BU"] * 200
    wrong = ebutool_sa(
        peer, integrity="null", auth_key=SecretKey(b""), enc_key=SecretKey(b"k" * 16)
    )
    diag = Diagnostics()
    recs = list(read_records(path, diag, StreamStats(), esp_sas=[wrong]))
    # each packet refused, and kept as the opaque ESP packet it is (not decrypted)
    assert [r for r in recs if r.mh is not None or r.esp_spi is not None] == []
    assert sum(diag.counts[c] for c in ("esp_bad_padding", "esp_undecodable")) == 200


def test_replayed_sequence_is_refused(tmp_path):
    peer = make_sa(0x1001, "*", "*", "gcm16")
    packet = bytes(peer.scapy().encrypt(clear_packets()["bu"]))
    path = tmp_path / "esp.pcap"
    path.write_bytes(pcap_bytes([(10**18, packet), (10**18 + 1, packet)], LINKTYPE_IPV6))
    diag = Diagnostics()
    recs = list(read_records(path, diag, StreamStats(), esp_sas=[ebutool_sa(peer)]))
    # the copy stays the opaque ESP packet it is, as without SAs
    assert [(r.msg, r.proto, r.esp_seq) for r in recs] == [("BU", 135, 1), ("data", 50, None)]
    assert diag.counts["esp_replayed_sequence"] == 1


# --- a whole capture: the same rows as in clear ------------------------------------------------

SAMPLE = SAMPLES / "early-conservative.pcap"
SAMPLE_HA = "2001:db8:1::1"


def protected_sample(tmp_path, algo: str):
    """(clear pcap, ESP pcap, the SAs) of the sample with its MN-HA signalling protected."""
    frames = raw_frames(SAMPLE)
    sas = {
        kind: make_sa(spi, "*", "*", algo)
        for kind, spi in (("bu", 0x1001), ("ba", 0x2001), ("hoti", 0x1002), ("hot", 0x2002))
    }
    esp_frames, counts = protect(frames, sas, SAMPLE_HA)
    assert all(counts.values()), counts
    clear, esp = tmp_path / "clear.pcap", tmp_path / "esp.pcap"
    clear.write_bytes(pcap_bytes(frames, LINKTYPE_IPV6, nanosecond=True))
    esp.write_bytes(pcap_bytes(esp_frames, LINKTYPE_IPV6, nanosecond=True))
    return clear, esp, sas, counts


def assert_no_sa_key_in(text: str, sas) -> None:
    """No encryption or integrity key of ``sas`` (hexadecimal) appears in ``text``."""
    for sa in sas.values():
        for key in (sa.enc_key.hex(), sa.auth_key.hex()):
            assert key not in text


@pytest.mark.parametrize("algo", sorted(ALGORITHMS))
def test_protected_capture_gives_the_clear_rows(tmp_path, algo):
    clear, esp, sas, _ = protected_sample(tmp_path, algo)
    want = analyze(clear)
    got = analyze(esp, esp_sas=[ebutool_sa(sa) for sa in sas.values()])
    assert len(want) > 0
    assert want["esp_protected"].isna().all()
    assert got["esp_protected"].notna().all()
    assert set(";".join(got["esp_protected"]).split(";")) == {"BU", "BA", "HoTI", "HoT"}
    pd.testing.assert_frame_equal(
        got.drop(columns=["esp_protected", "source"]),
        want.drop(columns=["esp_protected", "source"]),
    )


def test_protected_capture_without_sas_hints_per_spi(tmp_path):
    clear, esp, sas, _ = protected_sample(tmp_path, "cbc-sha1")
    diag = Diagnostics()
    rows = analyze(esp, diag=diag)
    assert diag.counts["esp_no_sa"] == 4  # one hint per SPI, naming it
    hints = " ".join(d.message for d in diag.kept if d.code == "esp_no_sa")
    for spi in (0x1001, 0x2001, 0x1002, 0x2002):
        assert f"0x{spi:08x}" in hints
    assert "--esp-sa" in hints
    assert not rows["rtt_ha_ms"].notna().any()  # what is missing without the SAs


def test_unrelated_vpn_esp_gets_no_hint(tmp_path):
    """ESP between hosts no mobility signalling names (a VPN) is counted, not hinted."""
    clear, esp, sas, _ = protected_sample(tmp_path, "gcm16")
    vpn = make_sa(0x7777, "*", "*", "gcm16").scapy()
    other = IPv6(src="2001:db8:99::1", dst="2001:db8:99::2") / MIP6MH_HoTI(cookie=b"vpnvpnvp")
    frames = raw_frames(esp) + [(2 * 10**18 + i, bytes(vpn.encrypt(other))) for i in range(5)]
    path = tmp_path / "vpn.pcap"
    path.write_bytes(pcap_bytes(frames, LINKTYPE_IPV6, nanosecond=True))
    diag = Diagnostics()
    list(read_records(path, diag, StreamStats()))
    hints = " ".join(d.message for d in diag.kept if d.code == "esp_no_sa")
    assert diag.counts["esp_no_sa"] == 4 and "0x00007777" not in hints
    assert "0x00001001" in hints
