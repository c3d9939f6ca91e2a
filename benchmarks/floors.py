"""The record-walk floors of benchmarks/run.py: the least a pure-Python reader does.

Each function walks a capture's record headers (pcap) or block headers (pcapng) and
counts the packets; nothing else.  ``floor_*`` read the way ebutool's fast path does
(one 4 MiB bytearray refilled with ``readinto``); ``floor_*_simple`` use plain 1 MiB
reads and concatenation.  They are alike on purpose: each is a separately measured loop.
"""

from __future__ import annotations

import struct


def floor_pcap(path: str) -> int:
    """Walk the pcap record headers: one 4 MiB bytearray refilled in place with readinto
    (the I/O the fast path uses), one unpack per record."""
    unpack = struct.Struct("<IIII").unpack_from
    n = 0
    with open(path, "rb", buffering=0) as fh:
        buf = bytearray(4 << 20)
        if fh.readinto(memoryview(buf)[:24]) != 24 or buf[:4] != b"\xd4\xc3\xb2\xa1":
            raise SystemExit("floor: only little-endian microsecond pcap")
        pos = end = 0
        while True:
            have = end - pos
            buf[:have] = buf[pos:end]
            mv = memoryview(buf)
            got = fh.readinto(mv[have:])
            mv.release()
            if not got:
                return n
            pos, end = 0, have + got
            while end - pos >= 16:
                nxt = pos + 16 + unpack(buf, pos)[2]
                if nxt > end:
                    break
                pos = nxt
                n += 1


def floor_pcapng(path: str) -> int:
    """Walk the pcapng blocks (type, length), counting EPBs; same I/O as floor_pcap."""
    unpack = struct.Struct("<II").unpack_from
    n = 0
    with open(path, "rb", buffering=0) as fh:
        buf = bytearray(4 << 20)
        pos = end = 0
        while True:
            have = end - pos
            buf[:have] = buf[pos:end]
            mv = memoryview(buf)
            got = fh.readinto(mv[have:])
            mv.release()
            if not got:
                return n
            pos, end = 0, have + got
            while end - pos >= 8:
                btype, blen = unpack(buf, pos)
                if pos + blen > end:
                    break
                pos += blen
                if btype == 6:
                    n += 1


def floor_pcap_simple(path: str) -> int:
    """The simplest header walk: read 1 MiB blocks, concatenate, one unpack per record."""
    unpack = struct.Struct("<IIII").unpack_from
    n = 0
    with open(path, "rb") as fh:
        buf = fh.read(24)
        if buf[:4] != b"\xd4\xc3\xb2\xa1":
            raise SystemExit("floor: only little-endian microsecond pcap")
        buf, pos = b"", 0
        while True:
            chunk = fh.read(1 << 20)
            if not chunk:
                return n
            buf = buf[pos:] + chunk
            pos, end = 0, len(buf)
            while end - pos >= 16:
                nxt = pos + 16 + unpack(buf, pos)[2]
                if nxt > end:
                    break
                pos = nxt
                n += 1


def floor_pcapng_simple(path: str) -> int:
    """The simplest block walk (1 MiB reads, concatenation), counting EPBs."""
    unpack = struct.Struct("<II").unpack_from
    n = 0
    with open(path, "rb") as fh:
        buf, pos = b"", 0
        while True:
            chunk = fh.read(1 << 20)
            if not chunk:
                return n
            buf = buf[pos:] + chunk
            pos, end = 0, len(buf)
            while end - pos >= 8:
                btype, blen = unpack(buf, pos)
                if pos + blen > end:
                    break
                pos += blen
                if btype == 6:
                    n += 1
