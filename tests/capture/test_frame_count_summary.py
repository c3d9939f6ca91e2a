"""The closing summary's frame count beside frame numbers that also count pcapng
Custom Blocks (Wireshark numbers them as frames; tests/capture/test_pcapng_custom_blocks.py).
Two HoTIs around a Custom Block and an unknown block are frames 1 and 3; the summary
said "frames 2" with no word of frame 2.  It now names both counts.  The pcapng is
packed by hand (tests/capture/pcapng_raw.py), the packets by tests/support/rfc_packets."""

from __future__ import annotations

import struct

import pytest

from tests.capture.pcapng_raw import block, epb, idb, shb
from tests.support import rfc_packets as R
from tests.support.cli import run_cli

LINKTYPE_IPV6 = 229
PEN_EXAMPLE = 32473  # RFC 5612's documentation enterprise number
CUSTOM_BLOCK = 0x00000BAD
UNKNOWN_BLOCK = 0x77  # no frame number (nor in Wireshark)


def _capture(tmp_path, customs: int):
    hoti = R.tunnel(
        "2001:db8:2::7",
        "2001:db8:1::1",
        R.mh_packet("2001:db8:1::100", "2001:db8:3::5", 1, R.hoti_body(b"C" * 8)),
    )
    middle = [block(CUSTOM_BLOCK, struct.pack("<I", PEN_EXAMPLE) + b"note")] * customs
    parts = [shb(), idb(LINKTYPE_IPV6), epb(0, 10**12, hoti), *middle]
    parts += [block(UNKNOWN_BLOCK, b"unknown"), epb(0, 10**12 + 5, hoti)]
    path = tmp_path / "c.pcapng"
    path.write_bytes(b"".join(parts))
    return path


@pytest.mark.parametrize("customs", [0, 1, 2])
def test_decode_names_packets_and_numbered_blocks(tmp_path, customs):
    res = run_cli("decode", _capture(tmp_path, customs), "-c", "frame", "-f", "csv")
    assert res.exit_code == 0, res.stderr
    assert res.stdout.split() == ["frame", "1", str(2 + customs)]
    summary = next(x for x in res.stderr.splitlines() if "frames 2" in x)
    if customs == 0:
        assert "frames 2, IPv6 2" in summary
    elif customs == 1:
        assert "frames 2 (+ 1 pcapng Custom Block, numbered as a frame too" in summary
    else:
        assert "frames 2 (+ 2 pcapng Custom Blocks, numbered as frames too" in summary


def test_analyze_and_a_store_say_it_too(tmp_path):
    path = _capture(tmp_path, 1)
    res = run_cli("analyze", path, "-o", tmp_path / "out.csv")
    assert "2 frames (+ 1 pcapng Custom Block" in res.stderr
    store = tmp_path / "store"
    assert run_cli("extract", path, "-o", store).exit_code == 0
    res = run_cli("decode", store, "-c", "frame", "-f", "csv")
    assert res.stdout.split() == ["frame", "1", "3"]
    assert "frames 2 (+ 1 pcapng Custom Block" in res.stderr


@pytest.mark.parametrize("customs", [0, 1, 2])
def test_extract_closing_line_names_them(tmp_path, customs):
    """extract's closing line said "2 frames in ..." of frames numbered 1 to 3 (analyze
    and decode named the Custom Block); it now names it as they do."""
    store = tmp_path / "store"
    res = run_cli("extract", _capture(tmp_path, customs), "-o", store)
    assert res.exit_code == 0, res.stderr
    closing = next(x for x in res.stderr.splitlines() if f"{store}: " in x)
    if customs == 0:
        assert "2 frames in " in closing
    elif customs == 1:
        assert "2 frames (+ 1 pcapng Custom Block, numbered as a frame too" in closing
    else:
        assert "2 frames (+ 2 pcapng Custom Blocks, numbered as frames too" in closing
    # an unchanged input is not read again: its frames (and blocks) are not counted
    res = run_cli("extract", _capture(tmp_path, customs), "-o", store)
    closing = next(x for x in res.stderr.splitlines() if f"{store}: " in x)
    assert "0 frames in " in closing
