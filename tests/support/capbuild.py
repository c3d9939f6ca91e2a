"""Build pcap and pcapng files in memory for tests (plain struct, no capture library).

    pcap_bytes([(ts_ns, data), ...], linktype)              -> bytes of a .pcap file
    pcapng_bytes([(linktype, tsresol), ...], [(iface, ts_ns, data), ...]) -> one section
    pcapng_block(block_type, body)                          -> any single pcapng block

A frame may also be given as ``(ts_ns, data, wirelen)`` / ``(iface, ts_ns, data, wirelen)``
when the original length should differ from ``len(data)``.  Several pcapng sections are
simply ``pcapng_bytes(...) + pcapng_bytes(...)``.
"""

from __future__ import annotations

import struct

__all__ = [
    "pcap_bytes",
    "pcapng_bytes",
    "pcapng_block",
    "pcapng_shb",
    "pcapng_idb",
    "to_units",
    "LINKTYPE_NULL",
    "LINKTYPE_ETHERNET",
    "LINKTYPE_RAW",
    "LINKTYPE_LOOP",
    "LINKTYPE_LINUX_SLL",
    "LINKTYPE_IPV4",
    "LINKTYPE_IPV6",
    "LINKTYPE_LINUX_SLL2",
]

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276

NS = 1_000_000_000


def pcap_bytes(
    frames, linktype: int, nanosecond: bool = False, big_endian: bool = False, snaplen: int = 65535
) -> bytes:
    """A classic pcap file; ``frames`` is an iterable of ``(ts_ns, data[, wirelen])``.
    Timestamps are floored to microseconds unless ``nanosecond``."""
    o = ">" if big_endian else "<"
    magic = 0xA1B23C4D if nanosecond else 0xA1B2C3D4
    out = [struct.pack(o + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    for ts_ns, data, *rest in frames:
        wirelen = rest[0] if rest else len(data)
        sec, frac = divmod(ts_ns, NS)
        out.append(
            struct.pack(o + "IIII", sec, frac if nanosecond else frac // 1000, len(data), wirelen)
        )
        out.append(bytes(data))
    return b"".join(out)


def pcapng_block(block_type: int, body: bytes, big_endian: bool = False) -> bytes:
    """One block: type, total length, body padded to 4 octets, total length."""
    o = ">" if big_endian else "<"
    body = bytes(body) + b"\0" * (-len(body) % 4)
    total = len(body) + 12
    return struct.pack(o + "II", block_type, total) + body + struct.pack(o + "I", total)


def _option(code: int, value: bytes, o: str) -> bytes:
    return struct.pack(o + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def pcapng_shb(big_endian: bool = False) -> bytes:
    o = ">" if big_endian else "<"
    return pcapng_block(0x0A0D0D0A, struct.pack(o + "IHHq", 0x1A2B3C4D, 1, 0, -1), big_endian)


def pcapng_idb(
    linktype: int,
    tsresol: int | None = None,
    tsoffset: int | None = None,
    snaplen: int = 0,
    big_endian: bool = False,
) -> bytes:
    """An Interface Description Block.  ``tsresol`` is the raw if_tsresol octet:
    ``n`` for 10^-n seconds, ``0x80 | n`` for 2^-n; None leaves it out (10^-6).
    ``tsoffset`` is if_tsoffset in whole seconds."""
    o = ">" if big_endian else "<"
    opts = b""
    if tsresol is not None:
        opts += _option(9, bytes([tsresol]), o)
    if tsoffset is not None:
        opts += _option(14, struct.pack(o + "q", tsoffset), o)
    if opts:
        opts += _option(0, b"", o)
    return pcapng_block(1, struct.pack(o + "HHI", linktype, 0, snaplen) + opts, big_endian)


def to_units(ts_ns: int, tsresol: int | None, tsoffset: int | None = None) -> int:
    """A timestamp in ns as the interface's time units (floored), after removing tsoffset."""
    t = ts_ns - (tsoffset or 0) * NS
    r = 6 if tsresol is None else tsresol
    if r & 0x80:
        return (t << (r & 0x7F)) // NS
    return t * 10**r // NS


def pcapng_bytes(interfaces, packets, big_endian: bool = False) -> bytes:
    """One pcapng section.  ``interfaces``: ``(linktype, tsresol_or_None[, tsoffset_s])``
    each (see :func:`pcapng_idb`); ``packets``: ``(interface_id, ts_ns, data[, wirelen])``
    written as Enhanced Packet Blocks."""
    o = ">" if big_endian else "<"
    out = [pcapng_shb(big_endian)]
    ifs = [tuple(i) + (None,) * (3 - len(i)) for i in interfaces]
    for linktype, tsresol, tsoffset in ifs:
        out.append(pcapng_idb(linktype, tsresol, tsoffset, big_endian=big_endian))
    for iid, ts_ns, data, *rest in packets:
        wirelen = rest[0] if rest else len(data)
        _lt, tsresol, tsoffset = ifs[iid] if iid < len(ifs) else (None, None, None)
        ts = to_units(ts_ns, tsresol, tsoffset)
        body = struct.pack(o + "IIIII", iid, ts >> 32, ts & 0xFFFFFFFF, len(data), wirelen)
        out.append(pcapng_block(6, body + bytes(data), big_endian))
    return b"".join(out)
