"""Classic libpcap files: a 24-octet global header, then (16-octet header, data) records.

Magic 0xa1b2c3d4 means microsecond and 0xa1b23c4d nanosecond timestamps; the byte
order of the magic as stored gives the byte order of the whole file.

:func:`walk_pcap` is the one record loop, for the reference run (skip rule
:data:`~ebutool.capture.skip.NONE`: every frame is yielded) and the fast run (rule
:data:`~ebutool.capture.skip.MOBILITY`: frames that cannot matter are only counted).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from ebutool.capture.frame import Frame, new_frame
from ebutool.capture.linktypes import SUPPORTED_LINKTYPES, ip6_offset_func, linktype_name
from ebutool.capture.magic import PCAP_MAGICS
from ebutool.capture.skip import (
    ETHERTYPE_LINKS,
    NOT_IPV6,
    NOT_MOBILITY,
    Counts,
    SkipRule,
    Tally,
    classify_at,
    ethertypes,
    flush,
    register,
    time_decimals,
    walk_must_decode,
)
from ebutool.capture.window import Window
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import InputError

GLOBAL_HEADER_LEN = 24
RECORD_HEADER_LEN = 16
# No real link layer has frames near this size; a larger captured length means the
# record header is garbage, and nothing after it can be trusted to line up.
MAX_CAPLEN = 256 << 20


def check_pcap_header(name: str, buf) -> tuple[str, int, int]:
    """(byte order, ns per timestamp fraction unit, link type) of the global header at
    the start of ``buf``; raises InputError for a header the file cannot be read with."""
    order, nanosecond = PCAP_MAGICS.get(bytes(buf[:4]), ("<", False))
    if len(buf) < GLOBAL_HEADER_LEN:
        kind = "nanosecond " if nanosecond else ""
        raise InputError(
            f"{name}: {kind}pcap global header cut short after {len(buf)} of "
            f"{GLOBAL_HEADER_LEN} octets"
        )
    # The link-type field's upper 16 bits may carry FCS-length flags (pcap spec, "LinkType
    # and additional information"); the link type proper is the low 16 bits.
    network = struct.unpack_from(order + "I", buf, 20)[0] & 0xFFFF
    if network not in SUPPORTED_LINKTYPES:
        supported = ", ".join(f"{k} {v}" for k, v in SUPPORTED_LINKTYPES.items())
        raise InputError(
            f"{name}: no interface has a supported link type: pcap link type {network} "
            f"({linktype_name(network)}) is not supported (supported: {supported})"
        )
    return order, 1 if nanosecond else 1000, network


def read_pcap(
    win: Window, diag: Diagnostics, skip: SkipRule, stats: Counts | None
) -> Iterator[Frame]:
    """Check the global header in ``win`` (raises InputError) and return the frame iterator.
    With a non-empty ``skip`` rule the skipped frames are counted in ``stats``."""
    order, frac_ns, linktype = check_pcap_header(
        win.name, bytes(win.buf[: min(win.end, GLOBAL_HEADER_LEN)])
    )
    return walk_pcap(win, order, frac_ns, linktype, diag, skip, stats)


def _probe(order: str, linktype: int, skip: SkipRule):
    """(unpack, size, minimal frame length, IPv6 offset) of the one-call probe of a
    record: captured length, EtherType, first IPv6 octet, next header.  Only for the
    Ethernet-like links of a fast run; otherwise a size no record reaches."""
    link = ETHERTYPE_LINKS.get(linktype) if skip else None
    if link is None:
        return None, 1 << 62, 0, 0
    etype_at, l2 = link
    probe = struct.Struct(order + f"8xI4x{etype_at}x" + f"H{l2 - etype_at - 2}xB5xB")
    return probe.unpack_from, probe.size, l2 + 40, l2


def walk_pcap(
    win: Window,
    order: str,
    frac_ns: int,
    linktype: int,
    diag: Diagnostics,
    skip: SkipRule,
    stats: Counts | None,
) -> Iterator[Frame]:
    # The hot loop: locals only.  Frames of the fast case are counted only in nv6/nirr:
    # frames so far = flushed + nv6 + nirr.
    unpack = struct.Struct(order + "IIII").unpack_from
    offset_of = ip6_offset_func(linktype) or (lambda data: None)
    punpack, psize, minlen, l2 = _probe(order, linktype, skip)
    filtering = bool(skip)
    eth6, vlan = ethertypes(order)
    skip_nh, walk_nh = skip.next_headers, skip.walk_headers
    stats = stats if stats is not None else Tally()
    stats.time_decimals = max(stats.time_decimals, time_decimals(frac_ns))
    skipped = stats.skipped
    n = flushed = nv6 = nirr = 0
    buf, pos, end = win.buf, GLOBAL_HEADER_LEN, win.end
    hlen, make, walk = RECORD_HEADER_LEN, new_frame, walk_must_decode  # locals: faster
    try:
        while True:
            if end - pos >= psize:
                # The fast case: a whole record in the buffer, long enough for the probe.
                incl, et, vb, nh = punpack(buf, pos)
                start = pos + hlen
                nxt = start + incl
                if nxt <= end and incl >= minlen and (et == eth6 or et not in vlan):
                    if et != eth6 or vb >> 4 != 6:
                        nv6 += 1
                        pos = nxt
                        if nv6 == 1:
                            register(skipped, "not_ipv6")
                        continue
                    if nh in skip_nh or (nh in walk_nh and not walk(buf, start + l2, nxt, nh)):
                        nirr += 1
                        pos = nxt
                        if nirr == 1:
                            register(skipped, "not_mobility_related")
                        continue
                    n = flushed + nv6 + nirr + 1
                    flush(stats, nv6, nirr)
                    flushed, nv6, nirr = n, 0, 0
                    sec, frac, _incl, orig = unpack(buf, pos)
                    pos, ts = nxt, sec * 1_000_000_000 + frac * frac_ns
                    yield make(n, ts, linktype, bytes(buf[start:nxt]), orig)
                    continue
                # VLAN-tagged: the general path below
            # The general path: one record, refilling the buffer when needed.
            n = flushed + nv6 + nirr
            if end - pos < hlen:
                end = win.fill(pos, end, hlen, n)
                buf, pos = win.buf, 0
                if end < hlen:
                    return _cut(diag, n + 1, end, hlen) if end else None
            sec, frac, incl, orig = unpack(buf, pos)
            start = pos + hlen
            pos = start + incl
            if pos > end:
                # Checked only here, when the record is not already in memory: the limit
                # exists so that one garbage length cannot make us buffer gigabytes.
                if incl > MAX_CAPLEN:
                    return _impossible(diag, n + 1, incl)
                need = hlen + incl
                end = win.fill(start - hlen, end, need, n)
                buf, start, pos = win.buf, hlen, need
                if end < need:
                    return _cut(diag, n + 1, end, need)
            n += 1
            if filtering:
                why = classify_at(buf, start, pos, linktype, offset_of, skipped)
                if why < 0:
                    if why == NOT_IPV6:
                        nv6 += 1
                    elif why == NOT_MOBILITY:
                        nirr += 1
                    else:  # skipped for another reason, already counted: count the frame
                        stats.frames += 1
                        flushed += 1
                    continue
                flush(stats, nv6, nirr)
                nv6 = nirr = 0
            flushed = n
            ts = sec * 1_000_000_000 + frac * frac_ns
            yield make(n, ts, linktype, bytes(buf[start:pos]), orig)
    finally:
        flush(stats, nv6, nirr)
        win.close(flushed + nv6 + nirr, pos)


def _impossible(diag: Diagnostics, frame: int, incl: int) -> None:
    diag.warn(
        "corrupt_record",
        f"frame {frame}: impossible captured length {incl} octets (more than 256 MiB); "
        "cannot resynchronise, capture ends here",
        frame=frame,
    )


def _cut(diag: Diagnostics, frame: int, got: int, want: int) -> None:
    diag.warn(
        "truncated_record",
        f"frame {frame}: record cut off after {got} of {want} octets; capture ends here",
        frame=frame,
    )
