"""Packet and capture building (ebutool.wire.build): exact timestamps, correct framing."""

from __future__ import annotations

import io

import pytest

from ebutool.capture import open_frames
from ebutool.core.diagnostics import Diagnostics
from ebutool.wire.build import ethernet, udp_packet, write_pcap, write_pcapng

TS = 1_700_000_000_123_456_789


@pytest.mark.parametrize(
    "writer,kwargs,expected",
    [
        (write_pcap, {"nanosecond": True}, TS),
        (write_pcap, {"nanosecond": False}, 1_700_000_000_123_457_000),  # rounded to the us
        (write_pcapng, {}, 1_700_000_000_123_457_000),  # dpkt writes us
    ],
)
def test_timestamps_are_written_exactly(writer, kwargs, expected):
    buf = io.BytesIO()
    pkt = udp_packet("2001:db8::1", "2001:db8::2", b"x")
    assert writer(buf, [(TS, pkt), (TS + 1_000_000, pkt)], **kwargs) == 2
    buf.seek(0)
    frames = list(open_frames(buf, Diagnostics()))
    assert [f.ts_ns for f in frames] == [expected, expected + 1_000_000]
    assert frames[0].data == pkt


def test_ethernet_frame_carries_ipv6_ethertype():
    pkt = udp_packet("2001:db8::1", "2001:db8::2", b"x")
    frame = ethernet(pkt)
    assert frame[12:14] == b"\x86\xdd" and frame[14:] == pkt
