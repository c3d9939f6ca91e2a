"""A capture copied to pcapng, with comments on chosen frames (``ebutool annotate``).

pcapng input: every block is copied octet for octet (sections, interfaces, statistics,
name resolution, packets), except the packet blocks of the frames that get comments:
an Enhanced Packet Block gets ``opt_comment`` options (pcapng draft 3.5) added before
its end of options; a Simple Packet Block (which has no options) and an obsolete Packet
Block become Enhanced Packet Blocks with the same interface, octets and wire length (an
SPB takes the timestamp of the packet before it, as ebutool reads it).  A section
header's length becomes -1 (unknown), since the blocks grew.  A Custom Block of type
0x40000BAD is dropped: the pcapng draft (4.8) says a tool that writes a changed file
must not copy it (its content may depend on the file as it was); 0x00000BAD is copied.

pcap input: one section and one interface with the file's link type and snap length,
``if_tsresol`` 6 or 9 as the file's microsecond or nanosecond timestamps, so every
timestamp is written exactly; each record becomes an Enhanced Packet Block.

Frames are numbered as every ebutool reader and Wireshark count them (from 1: EPB, SPB,
PB and the non-packet records Wireshark shows as frames).  dpkt's EPB writer sets the
wire length to the captured length, so the blocks are packed here.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from ebutool.capture.pcapng_blocks import (
    BYTE_ORDER_MAGIC,
    CB_NO_COPY,
    EPB,
    IDB,
    NON_PACKET_RECORDS,
    PB,
    SHB,
    SPB,
)
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import InputError

OPT_ENDOFOPT, OPT_COMMENT, OPT_IF_TSRESOL = 0, 1, 9
# classic pcap magic (as read little-endian) -> (byte order, timestamp decimals)
PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 6),
    b"\xa1\xb2\xc3\xd4": (">", 6),
    b"\x4d\x3c\xb2\xa1": ("<", 9),
    b"\xa1\xb2\x3c\x4d": (">", 9),
}
PCAP_HEADER, PCAP_RECORD = 24, 16
UNKNOWN_SECTION_LENGTH = -1


class Comments(Protocol):
    """The comments of each frame, asked for in increasing frame order (a dict, or
    ebutool.annotate.comments.SpooledComments reading them back from disk)."""

    def get(self, frame: int, /) -> Sequence[str] | None: ...


@dataclass
class CopyCounts:
    frames: int = 0  # frames read (their numbers: those of the input)
    annotated: int = 0  # frames that got comments
    dropped: int = 0  # of them, Custom Blocks not to be copied (0x40000BAD), not written

    @property
    def copied(self) -> int:
        return self.frames - self.dropped


def _pad(n: int) -> int:
    return (4 - n % 4) % 4


def options(comments: Sequence[str], order: str, end: bool = True) -> bytes:
    """``opt_comment`` options (UTF-8), then opt_endofopt if ``end``."""
    out = bytearray()
    for text in comments:
        data = text.encode("utf-8")
        out += struct.pack(order + "HH", OPT_COMMENT, len(data)) + data + bytes(_pad(len(data)))
    if end:
        out += struct.pack(order + "HH", OPT_ENDOFOPT, 0)
    return bytes(out)


def epb(order: str, iid: int, ts_units: int, data: bytes, wirelen: int, opts: bytes = b"") -> bytes:
    """An Enhanced Packet Block (``opts``: its options, already packed)."""
    body = data + bytes(_pad(len(data))) + opts
    blen = 32 + len(body)
    hi, lo = (ts_units >> 32) & 0xFFFFFFFF, ts_units & 0xFFFFFFFF
    head = struct.pack(order + "IIIIIII", EPB, blen, iid, hi, lo, len(data), wirelen)
    return head + body + struct.pack(order + "I", blen)


def _read(stream: BinaryIO, n: int) -> bytes:
    """``n`` octets, or fewer at the end of the input (a pipe may give less per read)."""
    parts, got = [], 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _cut(diag: Diagnostics, frame: int, name: str) -> None:
    diag.warn(
        "truncated_record",
        f"{name}: frame {frame} cut off; the copy ends with frame {frame - 1}",
        frame,
    )


def copy_pcap(
    stream: BinaryIO,
    out: BinaryIO,
    comments: Comments,
    diag: Diagnostics,
    name: str = "<input>",
) -> CopyCounts:
    """A classic pcap ``stream`` as pcapng on ``out`` (module doc)."""
    head = _read(stream, PCAP_HEADER)
    kind = PCAP_MAGICS.get(head[:4])
    if kind is None or len(head) < PCAP_HEADER:
        raise InputError(f"{name}: not a pcap capture")
    order, decimals = kind
    snaplen, linktype = struct.unpack_from(order + "II", head, 16)
    le = "<"
    shb_body = BYTE_ORDER_MAGIC_LE + struct.pack(le + "HHq", 1, 0, UNKNOWN_SECTION_LENGTH)
    shb = struct.pack(le + "II", SHB, 28) + shb_body + struct.pack(le + "I", 28)
    opt = struct.pack(le + "HHB3x", OPT_IF_TSRESOL, 1, decimals) + struct.pack(le + "HH", 0, 0)
    idb_len = 20 + len(opt)
    idb = struct.pack(le + "IIHHI", IDB, idb_len, linktype & 0xFFFF, 0, snaplen) + opt
    out.write(shb + idb + struct.pack(le + "I", idb_len))
    counts = CopyCounts()
    unit = 10**decimals
    while True:
        rec = _read(stream, PCAP_RECORD)
        if not rec:
            return counts
        frame = counts.frames + 1
        if len(rec) < PCAP_RECORD:
            _cut(diag, frame, name)
            return counts
        sec, frac, incl, orig = struct.unpack(order + "IIII", rec)
        data = _read(stream, incl)
        if len(data) < incl:
            _cut(diag, frame, name)
            return counts
        notes = comments.get(frame)
        opts = options(notes, le) if notes else b""
        out.write(epb(le, 0, sec * unit + frac, data, orig, opts))
        counts.frames = frame
        counts.annotated += bool(notes)


BYTE_ORDER_MAGIC_LE = next(m for m, o in BYTE_ORDER_MAGIC.items() if o == "<")


def copy_pcapng(
    stream: BinaryIO,
    out: BinaryIO,
    comments: Comments,
    diag: Diagnostics,
    name: str = "<input>",
) -> CopyCounts:
    """A pcapng ``stream`` copied to ``out`` with comments (module doc)."""
    counts = CopyCounts()
    order, last_ts = "<", 0
    while True:
        head = _read(stream, 12)
        if not head:
            return counts
        if len(head) < 12:
            _cut(diag, counts.frames + 1, name)
            return counts
        btype = struct.unpack_from(order + "I", head)[0]  # SHB's type reads the same both ways
        if btype == SHB:
            found = BYTE_ORDER_MAGIC.get(head[8:12])
            if found is None:
                raise InputError(f"{name}: a section header without a byte-order magic")
            order = found
        blen = struct.unpack_from(order + "I", head, 4)[0]
        if blen < 12 or blen % 4:
            diag.warn("corrupt_block", f"{name}: block of length {blen}; the copy ends here")
            return counts
        block = head + _read(stream, blen - 12)
        if len(block) < blen:
            _cut(diag, counts.frames + 1, name)
            return counts
        if btype == SHB and blen >= 24:
            block = block[:16] + struct.pack(order + "q", UNKNOWN_SECTION_LENGTH) + block[24:]
        elif btype in (EPB, PB, SPB) or btype in NON_PACKET_RECORDS:
            counts.frames += 1
            if btype in (EPB, PB) and blen >= 32:
                last_ts = _ts_of(block, order, btype)
            notes = comments.get(counts.frames)
            if btype == CB_NO_COPY:  # must not be copied by a tool that changes the file
                counts.dropped += 1
                continue
            if notes and btype in (EPB, PB, SPB):
                block = _commented(block, order, btype, notes, last_ts)
                counts.annotated += 1
        out.write(block)


def _ts_of(block: bytes, order: str, btype: int) -> int:
    """The raw timestamp of an EPB or PB (both at offset 12, after the interface id)."""
    hi, lo = struct.unpack_from(order + "II", block, 12)
    return (hi << 32) | lo


def _commented(block: bytes, order: str, btype: int, notes: Sequence[str], ts: int) -> bytes:
    """The packet block ``block`` as an EPB with ``notes`` as comments."""
    blen = len(block)
    if btype == SPB:
        wirelen = struct.unpack_from(order + "I", block, 8)[0]
        data = block[12 : 12 + min(wirelen, blen - 16)]
        return epb(order, 0, ts, data, wirelen, options(notes, order))
    if btype == PB:
        iid = struct.unpack_from(order + "H", block, 8)[0]
        caplen, wirelen = struct.unpack_from(order + "II", block, 20)
    else:
        iid, caplen, wirelen = struct.unpack_from(order + "I8xII", block, 8)
    start, caplen = 28, min(caplen, blen - 32)
    data = block[start : start + caplen]
    own = _own_options(block[start + caplen + _pad(caplen) : blen - 4], order)
    return epb(order, iid, ts, data, wirelen, own + options(notes, order))


def _own_options(raw: bytes, order: str) -> bytes:
    """A packet block's options up to (not including) opt_endofopt."""
    pos = 0
    while pos + 4 <= len(raw):
        code, n = struct.unpack_from(order + "HH", raw, pos)
        if code == OPT_ENDOFOPT:
            break
        pos += 4 + n + _pad(n)
    return raw[: min(pos, len(raw))]
