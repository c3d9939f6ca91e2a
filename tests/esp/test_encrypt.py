"""ebutool's ESP encryption (synth's) decrypts with scapy, and ebutool's decryption opens
what scapy encrypts: both directions of every algorithm against the independent peer."""

from __future__ import annotations

import os

import pytest
from scapy.layers.inet6 import IPv6

from ebutool.esp.encrypt import protect_packet
from tests.esp.peer import ALGORITHMS, make_sa
from tests.esp.test_scapy_peer import clear_packets, ebutool_sa


@pytest.mark.parametrize("algo", sorted(ALGORITHMS))
@pytest.mark.parametrize("kind", ["bu", "ba", "hoti"])
def test_scapy_decrypts_what_ebutool_encrypts(algo, kind):
    clear = bytes(clear_packets()[kind])
    peer = make_sa(0x2002, "*", "*", algo)
    sent = protect_packet(clear, ebutool_sa(peer), 1, os.urandom(16))
    assert sent != clear and 50 in (sent[6], sent[40])  # ESP after the header (chain)
    assert bytes(peer.scapy().decrypt(IPv6(sent))) == clear
