"""pcapng blocks packed by hand (struct.pack of the format in the pcapng draft), for the
tests that need odd interfaces: independent of ebutool's own writer and builders."""

from __future__ import annotations

import struct

LINKTYPE_ETHERNET, LINKTYPE_RAW = 1, 101
OPT_TSRESOL, OPT_TSOFFSET = 9, 14


def block(btype: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    n = len(body) + 12
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def shb() -> bytes:
    return block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))


def option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def idb(linktype: int, *options: bytes) -> bytes:
    opts = b"".join(options) + (struct.pack("<HH", 0, 0) if options else b"")
    return block(1, struct.pack("<HHI", linktype, 0, 0) + opts)


def tsoffset(seconds: int) -> bytes:
    return option(OPT_TSOFFSET, struct.pack("<q", seconds))


def tsresol(code: int) -> bytes:
    return option(OPT_TSRESOL, bytes([code]))


def epb(iid: int, ts: int, data: bytes) -> bytes:
    head = struct.pack("<IIIII", iid, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data))
    return block(6, head + data)
