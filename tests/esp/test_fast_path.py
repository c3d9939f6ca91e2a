"""The fast path decodes ESP packets of known SAs only and counts the others by SPI
(issue 14); the per-SPI counts are bounded (a capture chooses its SPIs).

Ground truth: ESP packets built by scapy's SecurityAssociation (tests/esp/peer.py) with
SPIs and counts chosen here."""

from __future__ import annotations

import pytest
from scapy.layers.inet6 import IPv6, MIP6MH_HoTI

import ebutool.records.from_packet as from_packet
from ebutool.core.diagnostics import Diagnostics
from ebutool.esp import context
from ebutool.records.from_packet import StreamStats
from ebutool.stream.reader import read_records
from tests.esp.peer import make_sa
from tests.esp.test_scapy_peer import ebutool_sa, protected_sample
from tests.support.capbuild import LINKTYPE_IPV6, pcap_bytes

MN, HA = "2001:db8:b::100", "2001:db8:1::1"


def _esp_capture(tmp_path, spis, per_spi=3, src=MN, dst=HA):
    """A capture of tunnel-mode ESP packets, ``per_spi`` for each SPI; their peers."""
    frames, peers = [], []
    inner = IPv6(src="2001:db8:1::100", dst="2001:db8:c1::1") / MIP6MH_HoTI(cookie=b"12345678")
    for k, spi in enumerate(spis):
        peer = make_sa(spi, "*", "*", "gcm16")
        engine = peer.scapy()
        peers.append(peer)
        for i in range(per_spi):
            pkt = engine.encrypt(IPv6(src=src, dst=dst, nh=41) / inner)
            frames.append((10**18 + (k * per_spi + i) * 10**6, bytes(pkt)))
    path = tmp_path / "esp.pcap"
    path.write_bytes(pcap_bytes(frames, LINKTYPE_IPV6, nanosecond=True))
    return path, peers


@pytest.fixture
def decoded(monkeypatch):
    """The packets the IPv6 decoder is given (their next header octet)."""
    seen: list[int] = []
    real = from_packet.decode_ipv6_fields

    def spy(buf, off, problems):
        seen.append(buf[off + 6])
        return real(buf, off, problems)

    monkeypatch.setattr(from_packet, "decode_ipv6_fields", spy)
    return seen


def test_esp_without_sa_is_counted_not_decoded(tmp_path, decoded):
    path, _ = _esp_capture(tmp_path, [0x51, 0x52], per_spi=4)
    diag, stats = Diagnostics(), StreamStats()
    assert list(read_records(path, diag, stats)) == []
    assert decoded == []  # no ESP packet reached the decoder
    assert stats.frames == stats.ipv6 == 8 and stats.skipped["not_mobility_related"] == 8
    assert diag.total == 0  # no signalling names MN or HA: unrelated ESP, no hint


def test_esp_of_known_sa_is_decoded(tmp_path, decoded):
    path, peers = _esp_capture(tmp_path, [0x51, 0x52], per_spi=4)
    sas = [ebutool_sa(peers[0])]
    diag, stats = Diagnostics(), StreamStats()
    recs = list(read_records(path, diag, stats, esp_sas=sas))
    assert [r.esp_spi for r in recs] == [0x51] * 4 and all(r.msg == "HoTI" for r in recs)
    assert decoded == [50, 41] * 4  # those of the SA's SPI (then the packet decrypted)
    assert stats.skipped["not_mobility_related"] == 4


def test_counts_by_spi_and_the_hint_for_mobility_addresses(tmp_path, decoded):
    """The protected sample without SAs: one hint per SPI, counts per SPI, decoder never
    given an ESP packet; addresses known only later in the capture still count."""
    _, esp, sas, counts = protected_sample(tmp_path, "cbc-sha1")
    diag = Diagnostics()
    list(read_records(esp, diag, StreamStats()))
    assert 50 not in decoded
    hints = {d.message.split(" with SPI ")[1][:10]: d.message for d in diag.kept}
    assert set(hints) == {f"0x{sa.spi:08x}" for sa in sas.values()}
    for kind, sa in sas.items():
        assert hints[f"0x{sa.spi:08x}"].startswith(f"{counts[kind]} ESP packet(s)")


def test_spis_without_sa_are_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(context, "MAX_NO_SA_SPIS", 3)
    path, _ = _esp_capture(tmp_path, [1, 2, 3, 4, 5], per_spi=2)
    esp = context.EspContext()
    diag, stats = Diagnostics(), StreamStats()
    from ebutool.stream.reader import capture_records

    list(capture_records(str(path), diag, stats, "esp.pcap", None, esp))
    esp.finish(diag)
    assert dict(esp.no_sa) == {1: 2, 2: 2, 3: 2} and esp.no_sa_more == 4
    assert diag.counts["esp_no_sa_spis_untracked"] == 1
    assert stats.skipped["not_mobility_related"] == 10  # every packet still counted


def test_address_pairs_per_spi_are_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(context, "MAX_PAIRS_PER_SPI", 2)
    esp = context.EspContext()
    engine = make_sa(9, "*", "*", "gcm16").scapy()
    for i in range(5):
        pkt = bytes(engine.encrypt(IPv6(src=f"2001:db8:9::{i + 1}", dst=HA, nh=59)))
        assert esp.skip_unknown(pkt, 0)
    assert esp.no_sa[9] == 5 and len(esp.no_sa_pairs[9]) == 2


def test_known_addresses_are_bounded(monkeypatch):
    """Addresses from signalling are remembered up to MAX_KNOWN_ADDRESSES (issue 12: one BU
    per home address); beyond it an SPI without SA whose addresses may have been forgotten
    still gets its hint, which says so (never a hint silently lost)."""
    monkeypatch.setattr(context, "MAX_KNOWN_ADDRESSES", 3)
    esp = context.EspContext()
    esp.learn([f"2001:db8:1::{i}" for i in range(1, 6)])
    assert len(esp.known) == 3 and esp.known_more == 2
    engine = make_sa(9, "*", "*", "gcm16").scapy()
    pkt = bytes(engine.encrypt(IPv6(src="2001:db8:9::1", dst="2001:db8:9::2", nh=59)))
    assert esp.skip_unknown(pkt, 0)
    diag = Diagnostics()
    esp.finish(diag)
    assert diag.counts["esp_no_sa"] == 1
    assert "not all remembered" in diag.kept[0].message


def test_unrelated_spi_gets_no_hint_within_the_bound():
    esp = context.EspContext()
    esp.learn(["2001:db8:1::1"])
    engine = make_sa(9, "*", "*", "gcm16").scapy()
    pkt = bytes(engine.encrypt(IPv6(src="2001:db8:9::1", dst="2001:db8:9::2", nh=59)))
    assert esp.skip_unknown(pkt, 0)
    diag = Diagnostics()
    esp.finish(diag)
    assert diag.counts["esp_no_sa"] == 0
