"""pcapng block formats for :mod:`ebutool.capture.pcapng`: unpackers, interfaces, diagnoses.

Every block is ``type, total length, body, total length`` (lengths a multiple of 4, at
least 12).  Byte order is set per section by the SHB's byte-order magic.
"""

from __future__ import annotations

import struct

from ebutool.capture.linktypes import SUPPORTED_LINKTYPES, linktype_name
from ebutool.core.diagnostics import Diagnostics

SHB, IDB, PB, SPB, EPB = 0x0A0D0D0A, 1, 2, 3, 6
PACKET_BLOCKS = frozenset((PB, SPB, EPB))
# Custom Blocks (pcapng draft 4.8: copyable, and not to be copied), whatever their
# Private Enterprise Number: Wireshark shows each as a frame ("Custom Block").
CB_COPY, CB_NO_COPY = 0x00000BAD, 0x40000BAD
# systemd journal entries, sysdig events and custom blocks: Wireshark shows them as
# frames, so they advance the frame count (frame numbers are tshark's frame.number).
NON_PACKET_RECORDS = frozenset((9, 0x204, 0x208, 0x216, 0x217, 0x221, 0x222, CB_COPY, CB_NO_COPY))
BYTE_ORDER_MAGIC = {b"\x4d\x3c\x2b\x1a": "<", b"\x1a\x2b\x3c\x4d": ">"}
MIN_SHB_LEN = 28
MAX_BLOCK = (256 << 20) + (1 << 20)  # room for a maximal packet (pcap.MAX_CAPLEN) plus options
OPT_TSRESOL, OPT_TSOFFSET = 9, 14
NS = 1_000_000_000

# How a walker treats the frames of an interface (the last field of an interface tuple).
HAND_ON, ETH_PROBE, CLASSIFY = 0, 1, 2


class Structs:
    """The struct unpackers of one byte order (built twice, at import)."""

    def __init__(self, order: str):
        self.order = order
        self.hdr = struct.Struct(order + "II").unpack_from  # type, total length
        self.u32 = struct.Struct(order + "I").unpack_from
        # type, length, then the EPB's interface, ts high, ts low, captured and wire length
        self.blk = struct.Struct(order + "IIIIIII").unpack_from
        self.pb = struct.Struct(order + "HHIIII").unpack_from  # if, drops, ts.., cap, len
        self.idb = struct.Struct(order + "HHI").unpack_from  # linktype, reserved, snaplen
        self.opt = struct.Struct(order + "HH").unpack_from  # option code, length
        self.i64 = struct.Struct(order + "q").unpack_from
        self.u16 = struct.Struct(order + "H").unpack_from
        # The EPB fixed fields and, for an Ethernet frame, EtherType, first IPv6 octet
        # and next header, in one call; only used when the whole probe lies in the buffer.
        probe = struct.Struct(order + "IIIIIII12xHB5xB")
        self.probe, self.probe_size = probe.unpack_from, probe.size
        # A run of skipped EPBs needs neither the timestamp nor the wire length (the last
        # timestamp is taken from the run's last block afterwards): block type, length,
        # interface, captured length, EtherType, first IPv6 octet, next header ...
        self.run_probe = struct.Struct(order + "III8xI4x12xHB5xB").unpack_from
        # ... and the same, preceded by the previous block's trailing length.
        self.run_probe2 = struct.Struct(order + "IIII8xI4x12xHB5xB").unpack_from


STRUCTS = {o: Structs(o) for o in "<>"}


def interface(buf, pos: int, stop: int, s: Structs, mode: int) -> tuple:
    """(linktype, mul, div, offset_ns, supported, mode) of the IDB at ``buf[pos:stop]``;
    ts_ns = ts * mul // div + offset.  ``mode`` (HAND_ON, ETH_PROBE, CLASSIFY) is how a
    walker treats the interface's frames; ETH_PROBE only for Ethernet."""
    linktype = s.idb(buf, pos + 8)[0]
    mul, div, off = 1000, 1, 0  # default resolution 10^-6 s
    p, lim = pos + 16, stop - 4
    # Options are (code, length, value padded to 4).  A malformed list ends parsing
    # with what was read so far; it never makes the interface unusable.
    while p + 4 <= lim:
        code, olen = s.opt(buf, p)
        p += 4
        if code == 0 or p + olen > lim:
            break
        if code == OPT_TSRESOL and olen >= 1:
            r = buf[p]
            if r & 0x80:  # 2^-k seconds: exact as ts * 10^9 / 2^k (floored)
                mul, div = NS, 1 << (r & 0x7F)
            elif r <= 9:
                mul, div = 10 ** (9 - r), 1
            else:  # finer than a nanosecond: floor to whole ns
                mul, div = 1, 10 ** (r - 9)
        elif code == OPT_TSOFFSET and olen == 8:
            off = s.i64(buf, p)[0] * NS  # signed seconds added to every timestamp
        p += (olen + 3) & ~3
    if mode == ETH_PROBE and linktype != 1:
        mode = CLASSIFY
    return (linktype, mul, div, off, linktype in SUPPORTED_LINKTYPES, mode)


def corrupt(diag: Diagnostics, frame: int | None, what: str) -> None:
    diag.warn("corrupt_record", f"{what}; cannot resynchronise, capture ends here", frame=frame)


def unsupported(diag: Diagnostics, frame: int, iid: int, linktype: int) -> None:
    diag.warn(
        "unsupported_linktype",
        f"frame {frame}: interface {iid} has link type {linktype} "
        f"({linktype_name(linktype)}), not supported; frame skipped",
        frame=frame,
    )


def unknown_iface(diag: Diagnostics, frame: int, iid: int, count: int) -> None:
    diag.warn(
        "unknown_interface",
        f"frame {frame}: interface {iid} not described in its section "
        f"({count} interfaces); frame skipped",
        frame=frame,
    )


def cut(diag: Diagnostics, buf, hdr, n: int, pos: int, end: int, base: int) -> None:
    """Report the block starting at ``buf[pos]`` that the input ends inside."""
    have = end - pos
    btype = blen = None
    if have >= 8:
        btype, blen = hdr(buf, pos)
    elif have >= 4:
        btype = hdr(bytes(buf[pos : pos + 4]) + b"\0\0\0\0", 0)[0]
    if btype in PACKET_BLOCKS:
        diag.warn(
            "truncated_record",
            f"frame {n + 1}: record cut off after {have} of {blen or 12} octets; capture ends here",
            frame=n + 1,
        )
    else:
        what = f"block type 0x{btype:08x}" if btype is not None else "block"
        diag.warn(
            "truncated_record",
            f"{what} at file offset {base + pos} cut off after {have} "
            f"of {blen or 12} octets; capture ends here",
        )


def bad_length(diag: Diagnostics, offset: int, blen: int) -> None:
    corrupt(
        diag,
        None,
        f"block at file offset {offset} has an impossible "
        f"length {blen} (must be a multiple of 4, 12 to {MAX_BLOCK})",
    )


def trailer_differs(diag: Diagnostics, offset: int) -> None:
    corrupt(diag, None, f"block at file offset {offset}: leading and trailing length fields differ")


def epb_too_long(diag: Diagnostics, n: int, caplen: int, blen: int) -> None:
    corrupt(
        diag,
        n,
        f"frame {n}: captured length {caplen} does not fit its {blen}-octet enhanced packet block",
    )
