"""Classic libpcap files: a 24-octet global header, then (16-octet header, data) records.

Magic 0xa1b2c3d4 means microsecond and 0xa1b23c4d nanosecond timestamps; the
byte order of the magic as stored gives the byte order of the whole file.
"""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Iterator

from ebutool.capture.frame import Frame
from ebutool.capture.linktypes import SUPPORTED_LINKTYPES
from ebutool.capture.source import PCAP_MAGICS, Source
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import InputError

GLOBAL_HEADER_LEN = 24
RECORD_HEADER_LEN = 16
# No real link layer has frames near this size; a larger captured length means the
# record header is garbage, and nothing after it can be trusted to line up.
MAX_CAPLEN = 256 << 20

# Building the Frame is most of the per-record cost.  Frame is a frozen slots
# dataclass whose generated __init__ stores each field through object.__setattr__
# (about 0.6 us per frame); storing through the slot descriptors directly is the
# same store at half the cost.  The readers do that inline, which is only right
# while Frame is exactly these five slots with no __post_init__: checked here, so
# a change to Frame fails loudly at import instead of building half-set frames.
NEW_FRAME = object.__new__
SET_FRAME, SET_TS, SET_LINKTYPE, SET_DATA, SET_WIRELEN = (
    getattr(Frame, name).__set__ for name in ("frame", "ts_ns", "linktype", "data", "wirelen")
)
if (
    [f.name for f in dataclasses.fields(Frame)] != ["frame", "ts_ns", "linktype", "data", "wirelen"]
    or hasattr(Frame, "__post_init__")
    or not hasattr(Frame, "__slots__")
):
    raise ImportError(
        "ebutool.capture.Frame changed: update the inline Frame construction "
        "in ebutool/capture/pcap.py and pcapng.py"
    )


def read_pcap(src: Source, buf: bytes, diag: Diagnostics) -> Iterator[Frame]:
    """Check the global header in ``buf`` (raises InputError) and return the record iterator."""
    order, nanosecond = PCAP_MAGICS.get(buf[:4], ("<", False))
    if len(buf) < GLOBAL_HEADER_LEN:
        kind = "nanosecond " if nanosecond else ""
        raise InputError(
            f"{src.name}: {kind}pcap global header cut short after {len(buf)} of "
            f"{GLOBAL_HEADER_LEN} octets"
        )
    # The link-type field's upper 16 bits may carry FCS-length flags (pcap spec, "LinkType
    # and additional information"); the link type proper is the low 16 bits.
    network = struct.unpack_from(order + "I", buf, 20)[0] & 0xFFFF
    if network not in SUPPORTED_LINKTYPES:
        supported = ", ".join(f"{k} {v}" for k, v in SUPPORTED_LINKTYPES.items())
        raise InputError(
            f"{src.name}: pcap link type {network} is not supported (supported: {supported})"
        )
    return _records(
        src,
        buf,
        GLOBAL_HEADER_LEN,
        struct.Struct(order + "IIII").unpack_from,
        1 if nanosecond else 1000,
        network,
        diag,
    )


def _records(
    src: Source, buf: bytes, pos: int, unpack, frac_ns: int, linktype: int, diag: Diagnostics
) -> Iterator[Frame]:
    # The hot loop: locals only, one unpack_from and one slice per record.
    new, frame_cls = NEW_FRAME, Frame
    set_n, set_ts, set_lt, set_data, set_wl = SET_FRAME, SET_TS, SET_LINKTYPE, SET_DATA, SET_WIRELEN
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
                    diag.warn(
                        "corrupt_record",
                        f"frame {n + 1}: impossible captured length "
                        f"{incl} octets (more than 256 MiB); cannot resynchronise, "
                        "capture ends here",
                        frame=n + 1,
                    )
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
            fr = new(frame_cls)  # == Frame(n, ts, linktype, data, orig), see NEW_FRAME
            set_n(fr, n)
            set_ts(fr, sec * 1_000_000_000 + frac * frac_ns)
            set_lt(fr, linktype)
            set_data(fr, buf[start:pos])
            set_wl(fr, orig)
            yield fr
    finally:
        src.close()


def _cut(diag: Diagnostics, frame: int, got: int, want: int) -> None:
    diag.warn(
        "truncated_record",
        f"frame {frame}: record cut off after {got} of {want} octets; capture ends here",
        frame=frame,
    )
