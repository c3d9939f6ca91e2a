"""Hostile ESP input: any corruption or truncation of a protected packet is refused with a
counted diagnosis (or left opaque), never an exception and never a message."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ebutool.core.diagnostics import Diagnostics
from ebutool.esp import EspContext
from ebutool.records.from_packet import record_from_packet
from tests.esp.peer import make_sa
from tests.esp.test_scapy_peer import clear_packets, ebutool_sa

PEERS = {algo: make_sa(0x1001, "*", "*", algo) for algo in ("cbc-sha1", "gcm8", "null-sha1")}
SENT = {
    (algo, kind): bytes(peer.scapy().encrypt(pkt))
    for algo, peer in PEERS.items()
    for kind, pkt in clear_packets().items()
}


@settings(max_examples=300, deadline=None)
@given(
    key=st.sampled_from(sorted(SENT)),
    flips=st.lists(st.tuples(st.integers(0, 400), st.integers(1, 255)), min_size=1, max_size=4),
    cut=st.integers(0, 400),
)
def test_corrupted_esp_never_raises_nor_gives_a_message(key, flips, cut):
    data = bytearray(SENT[key])
    esp_at = data.index((0x1001).to_bytes(4, "big"))
    for at, x in flips:
        pos = esp_at + 8 + at % max(1, len(data) - esp_at - 8)  # past SPI and sequence
        if pos < len(data):
            data[pos] ^= x
    data = data[: max(esp_at, len(data) - cut % 64)]
    ctx = EspContext([ebutool_sa(PEERS[key[0]])])
    diag = Diagnostics()
    rec = record_from_packet(1, 0, bytes(data), 0, diag, None, ctx)
    if bytes(data) != SENT[key]:  # (two flips may cancel out)
        assert rec is None or rec.esp_spi is None  # refused: at most the opaque packet
        assert rec is None or rec.mh is None
