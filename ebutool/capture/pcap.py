"""Classic libpcap files: a 24-octet global header, then (16-octet header, data) records.

Magic 0xa1b2c3d4 means microsecond and 0xa1b23c4d nanosecond timestamps; the
byte order of the magic as stored gives the byte order of the whole file.
"""
from __future__ import annotations

import struct
from typing import Iterator

from . import Frame
from ..diagnostics import Diagnostics
from ..errors import InputError
from .linktypes import SUPPORTED_LINKTYPES
from .source import PCAP_MAGICS, Source

GLOBAL_HEADER_LEN = 24
RECORD_HEADER_LEN = 16
# No real link layer has frames near this size; a larger captured length means the
# record header is garbage, and nothing after it can be trusted to line up.
MAX_CAPLEN = 256 << 20


def read_pcap(src: Source, buf: bytes, diag: Diagnostics) -> Iterator[Frame]:
    """Check the global header in ``buf`` (raises InputError) and return the record iterator."""
    order, nanosecond = PCAP_MAGICS.get(buf[:4], ("<", False))
    if len(buf) < GLOBAL_HEADER_LEN:
        kind = "nanosecond " if nanosecond else ""
        raise InputError(f"{src.name}: {kind}pcap global header cut short after {len(buf)} of "
                         f"{GLOBAL_HEADER_LEN} octets")
    # The link-type field's upper 16 bits may carry FCS-length flags (pcap spec, "LinkType
    # and additional information"); the link type proper is the low 16 bits.
    network = struct.unpack_from(order + "I", buf, 20)[0] & 0xFFFF
    if network not in SUPPORTED_LINKTYPES:
        supported = ", ".join(f"{k} {v}" for k, v in SUPPORTED_LINKTYPES.items())
        raise InputError(f"{src.name}: pcap link type {network} is not supported "
                         f"(supported: {supported})")
    return _records(src, buf, GLOBAL_HEADER_LEN, struct.Struct(order + "IIII").unpack_from,
                    1 if nanosecond else 1000, network, diag)


def _records(src: Source, buf: bytes, pos: int, unpack, frac_ns: int, linktype: int,
             diag: Diagnostics) -> Iterator[Frame]:
    # The hot loop: locals only, one unpack_from and one slice per record.
    frame_cls = Frame
    n = 0
    end = len(buf)
    try:
        while True:
            if end - pos < RECORD_HEADER_LEN:
                buf = src.fill(buf, pos, RECORD_HEADER_LEN)
                pos = 0
                end = len(buf)
                if end < RECORD_HEADER_LEN:
                    if end:
                        _cut(diag, n + 1, end, RECORD_HEADER_LEN)
                    return
            sec, frac, incl, orig = unpack(buf, pos)
            start = pos + RECORD_HEADER_LEN
            pos = start + incl
            if pos > end:
                # Checked only here, when the record is not already in memory: the limit
                # exists so that one garbage length cannot make us buffer gigabytes.
                if incl > MAX_CAPLEN:
                    diag.warn("corrupt_record", f"frame {n + 1}: impossible captured length "
                              f"{incl} octets (more than 256 MiB); cannot resynchronise, "
                              "capture ends here", frame=n + 1)
                    return
                need = RECORD_HEADER_LEN + incl
                buf = src.fill(buf, start - RECORD_HEADER_LEN, need)
                start = RECORD_HEADER_LEN
                pos = need
                end = len(buf)
                if end < need:
                    _cut(diag, n + 1, end, need)
                    return
            n += 1
            yield frame_cls(n, sec * 1_000_000_000 + frac * frac_ns, linktype,
                            buf[start:pos], orig)
    finally:
        src.close()


def _cut(diag: Diagnostics, frame: int, got: int, want: int) -> None:
    diag.warn("truncated_record", f"frame {frame}: record cut off after {got} of {want} octets;"
              " capture ends here", frame=frame)
