"""The pcapng block loop of the fast path (a copy of :func:`ebutool.capture.pcapng._blocks`
whose EPB branch applies the filter; keep the two in step)."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from functools import partial

from ebutool.core.diagnostics import Diagnostics
from ebutool.fastpath.common import (
    _PROGRESS_EVERY,
    SKIP_NEXT_HEADERS,
    SKIP_NEXT_HEADERS_ESP,
    WALK_NEXT_HEADERS,
    _classify,
    _ethertypes,
    _flush,
    _walk,
    _Window,
)
from ebutool.records.from_packet import StreamStats, record_from_packet
from ebutool.records.record import Record

# pcapng: the EPB fixed fields and, for an Ethernet frame, EtherType, first IPv6 octet
# and next header, in one call (block type, length, interface, ts high, ts low, caplen,
# wirelen, ...); only used when the whole probe lies inside the buffer.
_PROBES = {o: struct.Struct(o + "IIIIIII12xHB5xB").unpack_from for o in "<>"}
# The run of skipped EPBs needs neither the timestamp nor the wire length (the reader's
# last_ts is taken from the run's last block afterwards): leaving them out saves three
# int objects per block.  Block type, length, interface, captured length, EtherType,
# first IPv6 octet, next header; the same size as _PROBES.
_RUN_PROBES = {o: struct.Struct(o + "III8xI4x12xHB5xB").unpack_from for o in "<>"}
# the same, preceded by the previous block's trailing length (read at its end - 4)
_RUN_PROBES2 = {o: struct.Struct(o + "IIII8xI4x12xHB5xB").unpack_from for o in "<>"}


def _pcapng_records(
    src, buf: bytes, diag: Diagnostics, stats: StreamStats, name: str, progress, esp=None
) -> Iterator[Record]:
    # A copy of ebutool.capture.pcapng._blocks (keep them in step): the same block walk,
    # checks and diagnoses; EPBs are filtered without building a Frame, and the other
    # packet blocks (SPB, PB: rare) go through the same filter on their slice.
    from ebutool.capture.pcapng import (
        _STRUCTS,
        BYTE_ORDER_MAGIC,
        EPB,
        IDB,
        MAX_BLOCK,
        MIN_SHB_LEN,
        NON_PACKET_RECORDS,
        PB,
        SHB,
        SPB,
        _corrupt,
        _cut,
        _interface,
        _unknown_iface,
        _unsupported,
    )

    skip_nh, walk_nh = SKIP_NEXT_HEADERS, WALK_NEXT_HEADERS
    skipped = stats.skipped
    decode = record_from_packet
    if esp is not None:  # ESP goes to the decoder, which decrypts it (ebutool.esp)
        skip_nh, decode = SKIP_NEXT_HEADERS_ESP, partial(record_from_packet, esp=esp)
    s = _STRUCTS["<"]
    hdr, blk, u32 = s.hdr, s.blk, s.u32
    probe = _PROBES["<"]
    run_probe, probe2 = _RUN_PROBES["<"], _RUN_PROBES2["<"]
    psize = _PROBES["<"].__self__.size
    eth6, vlan = _ethertypes("<")
    new_v6 = "not_ipv6" not in skipped
    new_irr = "not_mobility_related" not in skipped
    ts_hi = ts_lo = 0
    ts_if = None  # interface of the last EPB whose last_ts is not computed
    ifaces: list[tuple] = []
    snaplens: list[int] = []
    n = 0  # frame numbers (as the reader counts them)
    yielded = 0  # frames the reader would have yielded (stats.frames)
    flushed = 0
    nv6 = nirr = 0
    win = _Window(src, buf, diag)
    buf = win.buf
    pos, end = 0, win.end
    base = 0
    last_ts = 0
    warned_spb = False
    next_report = _PROGRESS_EVERY

    eth_ok: frozenset = frozenset()  # interfaces that are Ethernet and supported
    try:
        while True:
            if eth_ok and end - pos >= psize:
                # A run of EPBs on Ethernet interfaces that are skipped: only the checks the
                # reader makes on such a block; anything else leaves the run and is handled
                # (re-read) by the general code below.
                k0 = nv6 + nirr
                last = -1
                btype, blen, iid, caplen, et, vb, nh = run_probe(buf, pos)
                while True:
                    if btype != 6 or caplen < 54 or blen & 3 or iid not in eth_ok:
                        break
                    stop = pos + blen
                    if stop > end or caplen > blen - 32 or blen > MAX_BLOCK:
                        break
                    if et == eth6:
                        if vb >> 4 != 6:
                            irr = False
                        elif nh in skip_nh or (
                            nh in walk_nh
                            and not _walk(buf, pos + 42, pos + 28 + caplen, nh, skip_nh)
                        ):
                            irr = True
                        else:
                            break
                    elif et not in vlan:
                        irr = False
                    else:
                        break
                    # This block's trailing length, and the next block's probe, in one call.
                    cur = blen
                    if end - stop >= psize:
                        trailer, btype, blen, iid, caplen, et, vb, nh = probe2(buf, stop - 4)
                        if trailer != cur:
                            break
                    else:
                        if u32(buf, stop - 4)[0] != cur:
                            break
                        btype = -1  # leave the run after this block
                    if irr:
                        nirr += 1
                        if new_irr:
                            new_irr = False
                            skipped["not_mobility_related"] += 0
                    else:
                        nv6 += 1
                        if new_v6:
                            new_v6 = False
                            skipped["not_ipv6"] += 0
                    last = pos
                    pos = stop
                k = nv6 + nirr - k0
                if k:
                    n += k
                    yielded += k
                    # the reader's last_ts comes from the last of these EPBs
                    _bt, _bl, ts_iid, ts_hi, ts_lo = blk(buf, last)[:5]
                    ts_if = ifaces[ts_iid]
            if end - pos >= psize:
                btype, blen, iid, hi, lo, caplen, wirelen, et, vb, nh = probe(buf, pos)
            elif end - pos >= 28:
                btype, blen, iid, hi, lo, caplen, wirelen = blk(buf, pos)
                et = None
            else:
                base += pos
                end = win.fill(pos, end, 28)
                buf = win.buf
                pos = 0
                if progress is not None and base >= next_report:
                    next_report = base + _PROGRESS_EVERY
                    progress.update(frames=n, octets=base)
                if end >= 28:
                    continue
                if end < 12:
                    if end:
                        _cut(diag, buf, hdr, n, 0, end, base)
                    return
                btype, blen = hdr(buf, pos)
                iid = hi = lo = caplen = wirelen = 0
                et = None
            if btype == SHB:
                order = BYTE_ORDER_MAGIC.get(bytes(buf[pos + 8 : pos + 12]))
                if order is None:
                    return _corrupt(
                        diag,
                        None,
                        f"section header at file offset {base + pos} has no valid byte-order magic",
                    )
                s = _STRUCTS[order]
                hdr, blk, u32 = s.hdr, s.blk, s.u32
                probe = _PROBES[order]
                run_probe, probe2 = _RUN_PROBES[order], _RUN_PROBES2[order]
                eth6, vlan = _ethertypes(order)
                blen = u32(buf, pos + 4)[0]
                ifaces, snaplens = [], []
                eth_ok = frozenset()
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
                end = win.fill(pos, end, blen)
                buf = win.buf
                pos, stop = 0, blen
                if progress is not None and base >= next_report:
                    next_report = base + _PROGRESS_EVERY
                    progress.update(frames=n, octets=base)
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
                if caplen > blen - 32:
                    return _corrupt(
                        diag,
                        n,
                        f"frame {n}: captured length {caplen} does not fit "
                        f"its {blen}-octet enhanced packet block",
                    )
                try:
                    ifc = ifaces[iid]
                except IndexError:
                    _unknown_iface(diag, n, iid, len(ifaces))
                else:
                    if ifc[4]:
                        yielded += 1
                        # The reader sets last_ts from every EPB; computed lazily here
                        # (only a candidate or a following SPB needs it).
                        ts_hi, ts_lo, ts_if = hi, lo, ifc
                        start = pos + 28
                        fend = start + caplen
                        if ifc[0] == 1 and caplen >= 54 and et is not None:
                            if et == eth6:
                                if vb >> 4 == 6:
                                    if nh in skip_nh or (
                                        nh in walk_nh
                                        and not _walk(buf, start + 14, fend, nh, skip_nh)
                                    ):
                                        nirr += 1
                                        pos = stop
                                        if new_irr:
                                            new_irr = False
                                            skipped["not_mobility_related"] += 0
                                        continue
                                    ip = 14
                                else:
                                    nv6 += 1
                                    pos = stop
                                    if new_v6:
                                        new_v6 = False
                                        skipped["not_ipv6"] += 0
                                    continue
                            elif et not in vlan:
                                nv6 += 1
                                pos = stop
                                if new_v6:
                                    new_v6 = False
                                    skipped["not_ipv6"] += 0
                                continue
                            else:
                                ip = _classify(ifc[0], bytes(buf[start:fend]), skipped, skip_nh)
                        else:
                            ip = _classify(ifc[0], bytes(buf[start:fend]), skipped, skip_nh)
                        if ip == -1:
                            nv6 += 1
                            new_v6 = False
                        elif ip == -2:
                            nirr += 1
                            new_irr = False
                        else:
                            _, mul, div, off, _ok = ifc
                            ts = ((hi << 32) | lo) * mul
                            last_ts = (ts // div if div != 1 else ts) + off
                            ts_if = None
                            _flush(stats, yielded - flushed, nv6, nirr)
                            flushed, nv6, nirr = yielded, 0, 0
                            rec = decode(n, last_ts, bytes(buf[start:fend]), ip, diag, stats)
                            if rec is not None:
                                rec.source = name
                                yield rec
                    else:
                        _unsupported(diag, n, iid, ifc[0])
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
                eth_ok = frozenset(i for i, ifc in enumerate(ifaces) if ifc[0] == 1 and ifc[4])
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
                        yielded += 1
                        if ts_if is not None:
                            _, mul, div, off, _ok = ts_if
                            ts = ((ts_hi << 32) | ts_lo) * mul
                            last_ts = (ts // div if div != 1 else ts) + off
                            ts_if = None
                        data = bytes(buf[pos + 12 : pos + 12 + caplen])
                        ip = _classify(lt, data, skipped, skip_nh)
                        if ip == -1:
                            nv6 += 1
                        elif ip == -2:
                            nirr += 1
                        else:
                            _flush(stats, yielded - flushed, nv6, nirr)
                            flushed, nv6, nirr = yielded, 0, 0
                            rec = decode(n, last_ts, data, ip, diag, stats)
                            if rec is not None:
                                rec.source = name
                                yield rec
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
                        yielded += 1
                        last_ts = ((hi << 32) | lo) * mul // div + off
                        ts_if = None
                        data = bytes(buf[pos + 28 : pos + 28 + caplen])
                        ip = _classify(lt, data, skipped, skip_nh)
                        if ip == -1:
                            nv6 += 1
                        elif ip == -2:
                            nirr += 1
                        else:
                            _flush(stats, yielded - flushed, nv6, nirr)
                            flushed, nv6, nirr = yielded, 0, 0
                            rec = decode(n, last_ts, data, ip, diag, stats)
                            if rec is not None:
                                rec.source = name
                                yield rec
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
        _flush(stats, yielded - flushed, nv6, nirr)
        if progress is not None:
            progress.update(frames=n, octets=base + pos)
        src.close()
