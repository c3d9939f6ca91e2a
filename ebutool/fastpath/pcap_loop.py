"""The pcap record loop of the fast path (mirrors :func:`ebutool.capture.pcap._records`)."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from functools import partial

from ebutool.capture.linktypes import ip6_offset_func
from ebutool.core.diagnostics import Diagnostics
from ebutool.fastpath.common import (
    _ETHERTYPE_LINKS,
    _LT_RAW,
    _PROGRESS_EVERY,
    SKIP_NEXT_HEADERS,
    SKIP_NEXT_HEADERS_ESP,
    WALK_NEXT_HEADERS,
    _ethertypes,
    _flush,
    _walk,
    _Window,
    must_decode,
)
from ebutool.records.from_packet import StreamStats, record_from_packet
from ebutool.records.record import Record


def _pcap_records(
    src,
    buf: bytes,
    order: str,
    frac_ns: int,
    linktype: int,
    diag: Diagnostics,
    stats: StreamStats,
    name: str,
    progress,
    esp=None,
) -> Iterator[Record]:
    # Mirrors ebutool.capture.pcap._records (same refills, same diagnoses), with the
    # filter inlined.
    from ebutool.capture.pcap import MAX_CAPLEN, RECORD_HEADER_LEN, _cut

    unpack = struct.Struct(order + "IIII").unpack_from
    f = ip6_offset_func(linktype)
    raw = linktype in _LT_RAW
    link = _ETHERTYPE_LINKS.get(linktype)
    if link is not None:
        etype_at, l2 = link
        # captured length; then in the frame: EtherType (see _ethertypes), first IPv6
        # octet, IPv6 next header
        fmt = order + f"8xI4x{etype_at}x" + f"H{l2 - etype_at - 2}xB5xB"
        probe = struct.Struct(fmt)
        punpack = probe.unpack_from
        psize, minlen = probe.size, l2 + 40
    else:
        punpack, psize, minlen, l2 = None, 1 << 62, 0, 0
    eth6, vlan = _ethertypes(order)
    skip_nh, walk_nh = SKIP_NEXT_HEADERS, WALK_NEXT_HEADERS
    skipped = stats.skipped
    decode = record_from_packet
    if esp is not None:  # ESP goes to the decoder, which decrypts it (ebutool.esp)
        skip_nh, decode = SKIP_NEXT_HEADERS_ESP, partial(record_from_packet, esp=esp)
    n = 0  # frame number
    flushed = 0  # frames already added to stats
    nv6 = nirr = 0  # skipped frames since the last flush, by reason
    new_v6 = "not_ipv6" not in skipped
    new_irr = "not_mobility_related" not in skipped
    win = _Window(src, buf, diag)
    buf = win.buf
    pos, end = 24, win.end
    done = 0  # octets of the file before buf[0]
    next_report = _PROGRESS_EVERY
    try:
        while True:
            if end - pos >= psize:
                # The fast case: a whole record in the buffer, long enough for the probe.
                incl, et, vb, nh = punpack(buf, pos)
                start = pos + RECORD_HEADER_LEN
                nxt = start + incl
                if nxt <= end and incl >= minlen:
                    if et == eth6:
                        if vb >> 4 == 6:
                            if nh in skip_nh or (
                                nh in walk_nh and not _walk(buf, start + l2, nxt, nh, skip_nh)
                            ):
                                nirr += 1
                                pos = nxt
                                if new_irr:
                                    new_irr = False
                                    skipped["not_mobility_related"] += 0
                                continue
                            n = flushed + nv6 + nirr + 1
                            rec_at = pos
                            pos = nxt
                            # a candidate
                            _flush(stats, n - flushed, nv6, nirr)
                            flushed, nv6, nirr = n, 0, 0
                            sec, frac = unpack(buf, rec_at)[:2]
                            rec = decode(
                                n,
                                sec * 1_000_000_000 + frac * frac_ns,
                                bytes(buf[start:nxt]),
                                l2,
                                diag,
                                stats,
                            )
                            if rec is not None:
                                rec.source = name
                                yield rec
                            continue
                        nv6 += 1
                        pos = nxt
                        if new_v6:
                            new_v6 = False
                            skipped["not_ipv6"] += 0
                        continue
                    if et not in vlan:
                        nv6 += 1
                        pos = nxt
                        if new_v6:
                            new_v6 = False
                            skipped["not_ipv6"] += 0
                        continue
                    # VLAN-tagged: the general path below
            # The general path: one record, refilling the buffer when needed.  (The fast
            # case counts frames only in nv6/nirr: frames so far = flushed + nv6 + nirr.)
            n = flushed + nv6 + nirr
            if end - pos < RECORD_HEADER_LEN:
                done += pos
                end = win.fill(pos, end, RECORD_HEADER_LEN)
                buf = win.buf
                pos = 0
                if progress is not None and done >= next_report:
                    next_report = done + _PROGRESS_EVERY
                    progress.update(frames=n, octets=done)
                if end < RECORD_HEADER_LEN:
                    if end:
                        _cut(diag, n + 1, end, RECORD_HEADER_LEN)
                    return
            sec, frac, incl, orig = unpack(buf, pos)
            start = pos + RECORD_HEADER_LEN
            pos = start + incl
            if pos > end:
                if incl > MAX_CAPLEN:
                    _flush(stats, n - flushed, nv6, nirr)
                    flushed, nv6, nirr = n, 0, 0
                    diag.warn(
                        "corrupt_record",
                        f"frame {n + 1}: impossible captured length "
                        f"{incl} octets (more than 256 MiB); cannot resynchronise, "
                        "capture ends here",
                        frame=n + 1,
                    )
                    return
                need = RECORD_HEADER_LEN + incl
                done += start - RECORD_HEADER_LEN
                end = win.fill(start - RECORD_HEADER_LEN, end, need)
                buf = win.buf
                start = RECORD_HEADER_LEN
                pos = need
                if end < need:
                    _cut(diag, n + 1, end, need)
                    return
                if progress is not None and done >= next_report:
                    next_report = done + _PROGRESS_EVERY
                    progress.update(frames=n, octets=done)
            n += 1
            # Where does IPv6 start?  (== ip6_offset(linktype, buf[start:pos]))
            if raw:
                off = 0 if incl and buf[start] >> 4 == 6 else None
            else:
                off = f(bytes(buf[start:pos]))
            if off is None:
                nv6 += 1
                if new_v6:
                    new_v6 = False
                    skipped["not_ipv6"] += 0
                continue
            ip = start + off
            # Can it matter?
            if not must_decode(buf, ip, pos, skip_nh):
                nirr += 1
                if new_irr:
                    new_irr = False
                    skipped["not_mobility_related"] += 0
                continue
            _flush(stats, n - flushed, nv6, nirr)
            flushed, nv6, nirr = n, 0, 0
            rec = decode(
                n, sec * 1_000_000_000 + frac * frac_ns, bytes(buf[start:pos]), off, diag, stats
            )
            if rec is not None:
                rec.source = name
                yield rec
    finally:
        n = flushed + nv6 + nirr
        _flush(stats, n - flushed, nv6, nirr)
        if progress is not None:
            progress.update(frames=n, octets=done + pos)
        src.close()
