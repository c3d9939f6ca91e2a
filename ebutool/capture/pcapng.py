"""pcapng files: a sequence of sections, each a Section Header Block (SHB) and blocks.

Every block is ``type, total length, body, total length`` (lengths a multiple of 4,
at least 12).  Byte order is set per section by the SHB's byte-order magic, and
interface numbers restart in every section.  Packets come in Enhanced Packet
Blocks (EPB), obsolete Packet Blocks (PB) and Simple Packet Blocks (SPB, always
interface 0, no timestamp).  Every other block type is skipped silently.

Frame numbers follow Wireshark: it also shows systemd journal entries and sysdig
events as frames, so those blocks advance the count although we yield nothing.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from ebutool.capture.frame import Frame
from ebutool.capture.linktypes import SUPPORTED_LINKTYPES, linktype_name
from ebutool.capture.pcap import (
    MAX_CAPLEN,
    NEW_FRAME,
    SET_DATA,
    SET_FRAME,
    SET_LINKTYPE,
    SET_TS,
    SET_WIRELEN,
)
from ebutool.capture.source import Source
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import InputError

SHB, IDB, PB, SPB, EPB = 0x0A0D0D0A, 1, 2, 3, 6
PACKET_BLOCKS = frozenset((PB, SPB, EPB))
NON_PACKET_RECORDS = frozenset((9, 0x204, 0x208, 0x216, 0x217, 0x221, 0x222))
BYTE_ORDER_MAGIC = {b"\x4d\x3c\x2b\x1a": "<", b"\x1a\x2b\x3c\x4d": ">"}
MIN_SHB_LEN = 28
MAX_BLOCK = MAX_CAPLEN + (1 << 20)  # room for a maximal packet plus options
OPT_TSRESOL, OPT_TSOFFSET = 9, 14
NS = 1_000_000_000


class _Structs:
    """The struct unpackers of one byte order (built twice, at import)."""

    def __init__(self, order: str):
        self.hdr = struct.Struct(order + "II").unpack_from  # type, total length
        self.u32 = struct.Struct(order + "I").unpack_from
        # type, length, then the EPB's interface, ts high, ts low, captured and wire length
        self.blk = struct.Struct(order + "IIIIIII").unpack_from
        self.pb = struct.Struct(order + "HHIIII").unpack_from  # if, drops, ts.., cap, len
        self.idb = struct.Struct(order + "HHI").unpack_from  # linktype, reserved, snaplen
        self.opt = struct.Struct(order + "HH").unpack_from  # option code, length
        self.i64 = struct.Struct(order + "q").unpack_from
        self.u16 = struct.Struct(order + "H").unpack_from


_STRUCTS = {o: _Structs(o) for o in "<>"}


def read_pcapng(src: Source, buf: bytes, diag: Diagnostics) -> Iterator[Frame]:
    """Check the first SHB in ``buf`` (raises InputError) and return the frame iterator."""
    if len(buf) < 12:
        raise InputError(
            f"{src.name}: pcapng section header cut short after {len(buf)} of {MIN_SHB_LEN} octets"
        )
    order = BYTE_ORDER_MAGIC.get(buf[8:12])
    if order is None:
        raise InputError(
            f"{src.name}: pcapng section header has no valid byte-order magic (0x{buf[8:12].hex()})"
        )
    s = _STRUCTS[order]
    blen = s.u32(buf, 4)[0]
    if blen < MIN_SHB_LEN or blen & 3 or blen > MAX_BLOCK:
        raise InputError(f"{src.name}: pcapng section header has an impossible length {blen}")
    if len(buf) < MIN_SHB_LEN:
        raise InputError(
            f"{src.name}: pcapng section header cut short after {len(buf)} of {blen} octets"
        )
    major, minor = s.u16(buf, 12)[0], s.u16(buf, 14)[0]
    if major != 1:
        raise InputError(f"{src.name}: pcapng version {major}.{minor} is not supported")
    return _blocks(src, buf, diag)


def _blocks(src: Source, buf: bytes, diag: Diagnostics) -> Iterator[Frame]:
    new, frame_cls = NEW_FRAME, Frame
    set_n, set_ts, set_lt, set_data, set_wl = SET_FRAME, SET_TS, SET_LINKTYPE, SET_DATA, SET_WIRELEN
    s = _STRUCTS["<"]  # replaced by the first SHB
    hdr, blk, u32 = s.hdr, s.blk, s.u32
    ifaces: list[tuple] = []  # per interface: linktype, ts mul, ts div, offset ns, ok
    snaplens: list[int] = []
    n = 0  # frames counted so far
    pos, end = 0, len(buf)
    base = 0  # file offset of buf[0], for messages only
    last_ts = 0
    warned_spb = False
    try:
        while True:
            if end - pos >= 28:
                # Block header and the EPB fixed fields in one call; for other block
                # types the last five values are meaningless and unused.
                btype, blen, iid, hi, lo, caplen, wirelen = blk(buf, pos)
            else:
                base += pos
                buf = src.fill(buf, pos, 28)
                pos, end = 0, len(buf)
                if end >= 28:
                    continue
                if end < 12:
                    if end:
                        _cut(diag, buf, hdr, n, 0, end, base)
                    return
                # A short block at the very end: an EPB cannot be complete here, so
                # its fields are never used.
                btype, blen = hdr(buf, pos)
                iid = hi = lo = caplen = wirelen = 0
            if btype == SHB:
                order = BYTE_ORDER_MAGIC.get(buf[pos + 8 : pos + 12])
                if order is None:
                    return _corrupt(
                        diag,
                        None,
                        f"section header at file offset {base + pos} has no valid byte-order magic",
                    )
                s = _STRUCTS[order]
                hdr, blk, u32 = s.hdr, s.blk, s.u32
                blen = u32(buf, pos + 4)[0]
                ifaces, snaplens = [], []
            if blen & 3 or blen < 12 or blen > MAX_BLOCK:
                return _corrupt(
                    diag,
                    None,
                    f"block at file offset {base + pos} has an impossible "
                    f"length {blen} (must be a multiple of 4, 12 to {MAX_BLOCK})",
                )
            stop = pos + blen
            if stop > end:
                base += pos
                buf = src.fill(buf, pos, blen)
                pos, stop, end = 0, blen, len(buf)
                if stop > end:
                    _cut(diag, buf, hdr, n, 0, end, base)
                    return
            if u32(buf, stop - 4)[0] != blen:
                return _corrupt(
                    diag,
                    None,
                    f"block at file offset {base + pos}: leading and trailing length fields differ",
                )

            if btype == EPB:  # the hot path
                n += 1
                if caplen > blen - 32:  # also catches blen < 32
                    return _corrupt(
                        diag,
                        n,
                        f"frame {n}: captured length {caplen} does not fit "
                        f"its {blen}-octet enhanced packet block",
                    )
                try:
                    lt, mul, div, off, ok = ifaces[iid]
                except IndexError:
                    _unknown_iface(diag, n, iid, len(ifaces))
                else:
                    if ok:
                        ts = ((hi << 32) | lo) * mul
                        last_ts = (ts // div if div != 1 else ts) + off
                        fr = new(frame_cls)  # == Frame(...), see pcap.NEW_FRAME
                        set_n(fr, n)
                        set_ts(fr, last_ts)
                        set_lt(fr, lt)
                        set_data(fr, buf[pos + 28 : pos + 28 + caplen])
                        set_wl(fr, wirelen)
                        yield fr
                    else:
                        _unsupported(diag, n, iid, lt)
            elif btype == IDB:
                if blen < 20:
                    return _corrupt(
                        diag,
                        None,
                        f"interface description block at file offset "
                        f"{base + pos} too short ({blen})",
                    )
                ifaces.append(_interface(buf, pos, stop, s))
                snaplens.append(s.idb(buf, pos + 8)[2])
            elif btype == SPB:
                n += 1
                if blen < 16:
                    return _corrupt(diag, n, f"frame {n}: simple packet block too short ({blen})")
                if not ifaces:
                    _unknown_iface(diag, n, 0, 0)
                else:
                    lt, _mul, _div, _off, ok = ifaces[0]
                    wirelen = u32(buf, pos + 8)[0]
                    caplen = min(wirelen, blen - 16, snaplens[0] or wirelen)
                    if not warned_spb:
                        warned_spb = True
                        diag.warn(
                            "no_timestamp",
                            f"frame {n}: simple packet blocks carry no "
                            "timestamp; using the previous packet's (warned once)",
                            frame=n,
                        )
                    if ok:
                        yield frame_cls(n, last_ts, lt, buf[pos + 12 : pos + 12 + caplen], wirelen)
                    else:
                        _unsupported(diag, n, 0, lt)
            elif btype == PB:
                n += 1
                if blen < 32:
                    return _corrupt(diag, n, f"frame {n}: packet block too short ({blen})")
                iid, _drops, hi, lo, caplen, wirelen = s.pb(buf, pos + 8)
                if caplen > blen - 32:
                    return _corrupt(
                        diag,
                        n,
                        f"frame {n}: captured length {caplen} exceeds its block ({blen} octets)",
                    )
                if iid < len(ifaces):
                    lt, mul, div, off, ok = ifaces[iid]
                    if ok:
                        last_ts = ((hi << 32) | lo) * mul // div + off
                        yield frame_cls(n, last_ts, lt, buf[pos + 28 : pos + 28 + caplen], wirelen)
                    else:
                        _unsupported(diag, n, iid, lt)
                else:
                    _unknown_iface(diag, n, iid, len(ifaces))
            elif btype == SHB:
                if blen < MIN_SHB_LEN:
                    return _corrupt(
                        diag, None, f"section header at file offset {base + pos} too short ({blen})"
                    )
                major, minor = s.u16(buf, pos + 12)[0], s.u16(buf, pos + 14)[0]
                if major != 1:
                    return _corrupt(
                        diag,
                        None,
                        f"section header at file offset {base + pos}: "
                        f"pcapng version {major}.{minor} not supported",
                    )
            elif btype in NON_PACKET_RECORDS:
                n += 1
            pos = stop
    finally:
        src.close()


def _interface(buf: bytes, pos: int, stop: int, s: _Structs) -> tuple:
    """(linktype, mul, div, offset_ns, supported) of an IDB; ts_ns = ts * mul // div + offset."""
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
    return (linktype, mul, div, off, linktype in SUPPORTED_LINKTYPES)


def _corrupt(diag: Diagnostics, frame: int | None, what: str) -> None:
    diag.warn("corrupt_record", f"{what}; cannot resynchronise, capture ends here", frame=frame)


def _unsupported(diag: Diagnostics, frame: int, iid: int, linktype: int) -> None:
    diag.warn(
        "unsupported_linktype",
        f"frame {frame}: interface {iid} has link type {linktype} "
        f"({linktype_name(linktype)}), not supported; frame skipped",
        frame=frame,
    )


def _unknown_iface(diag: Diagnostics, frame: int, iid: int, count: int) -> None:
    diag.warn(
        "unknown_interface",
        f"frame {frame}: interface {iid} not described in its section "
        f"({count} interfaces); frame skipped",
        frame=frame,
    )


def _cut(diag: Diagnostics, buf: bytes, hdr, n: int, pos: int, end: int, base: int) -> None:
    """Report the block starting at ``buf[pos]`` that the input ends inside."""
    have = end - pos
    btype = blen = None
    if have >= 8:
        btype, blen = hdr(buf, pos)
    elif have >= 4:
        btype = hdr(buf[pos : pos + 4] + b"\0\0\0\0", 0)[0]
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
