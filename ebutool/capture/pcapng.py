"""pcapng files: a sequence of sections, each a Section Header Block (SHB) and blocks.

Interface numbers restart in every section.  Packets come in Enhanced Packet Blocks
(EPB), obsolete Packet Blocks (PB) and Simple Packet Blocks (SPB, always interface 0, no
timestamp).  Every other block type is skipped silently.  Frame numbers follow
Wireshark: it also shows systemd journal entries and sysdig events as frames, so those
blocks advance the count although we yield nothing.

:func:`walk_pcapng` is the one block loop, for the reference run (skip rule
:data:`~ebutool.capture.skip.NONE`: every frame is yielded) and the fast run (rule
:data:`~ebutool.capture.skip.MOBILITY`: frames that cannot matter are only counted,
without building a Frame; a run of such EPBs on Ethernet interfaces reads each block's
trailing length together with the next block's fields).
"""

from __future__ import annotations

from collections.abc import Iterator

from ebutool.capture.frame import Frame, new_frame
from ebutool.capture.linktypes import SUPPORTED_LINKTYPES, linktype_name
from ebutool.capture.pcapng_blocks import (
    BYTE_ORDER_MAGIC,
    EPB,
    MAX_BLOCK,
    MIN_SHB_LEN,
    SHB,
    STRUCTS,
    bad_length,
    cut,
    epb_too_long,
    trailer_differs,
)
from ebutool.capture.pcapng_section import END, Section, skip_run, timestamp
from ebutool.capture.skip import Counts, SkipRule, Tally, flush
from ebutool.capture.window import Window
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import InputError

__all__ = ["check_pcapng_header", "read_pcapng", "walk_pcapng"]

NO_IFACE: tuple = ()  # what an EPB naming an interface its section lacks gets


def check_pcapng_header(name: str, buf) -> None:
    """Check the first SHB at the start of ``buf``; raises InputError if unreadable."""
    if len(buf) < 12:
        raise InputError(
            f"{name}: pcapng section header cut short after {len(buf)} of {MIN_SHB_LEN} octets"
        )
    order = BYTE_ORDER_MAGIC.get(bytes(buf[8:12]))
    if order is None:
        raise InputError(
            f"{name}: pcapng section header has no valid byte-order magic "
            f"(0x{bytes(buf[8:12]).hex()})"
        )
    s = STRUCTS[order]
    blen = s.u32(buf, 4)[0]
    if blen < MIN_SHB_LEN or blen & 3 or blen > MAX_BLOCK:
        raise InputError(f"{name}: pcapng section header has an impossible length {blen}")
    if len(buf) < MIN_SHB_LEN:
        raise InputError(
            f"{name}: pcapng section header cut short after {len(buf)} of {blen} octets"
        )
    major, minor = s.u16(buf, 12)[0], s.u16(buf, 14)[0]
    if major != 1:
        raise InputError(f"{name}: pcapng version {major}.{minor} is not supported")


def read_pcapng(
    win: Window, diag: Diagnostics, skip: SkipRule, stats: Counts | None
) -> Iterator[Frame]:
    """Check the first SHB in ``win`` (raises InputError) and return the frame iterator.
    With a non-empty ``skip`` rule the skipped frames are counted in ``stats``."""
    check_pcapng_header(win.name, bytes(win.buf[: min(win.end, MIN_SHB_LEN)]))
    links: dict[int, bool] = {}
    return _some_supported(win.name, walk_pcapng(win, diag, skip, stats, links), links)


def _some_supported(name: str, frames: Iterator[Frame], links: dict[int, bool]):
    """``frames``; at their end, InputError if the file described interfaces but none of
    a supported link type (as a pcap file of such a link type is refused)."""
    yield from frames
    if links and not any(links.values()):
        types = ", ".join(f"{lt} {linktype_name(lt)}" for lt in links)
        raise InputError(
            f"{name}: no interface has a supported link type (link types: {types}; "
            f"supported: {', '.join(f'{k} {v}' for k, v in SUPPORTED_LINKTYPES.items())})"
        )


def walk_pcapng(
    win: Window,
    diag: Diagnostics,
    skip: SkipRule,
    stats: Counts | None,
    links: dict[int, bool] | None = None,
) -> Iterator[Frame]:
    # The hot loop: locals only.  Skipped frames are counted in nv6/nirr until the next
    # yield; the timestamp of a skipped EPB is computed only when an SPB needs it.
    stats = stats if stats is not None else Tally()
    skipped = stats.skipped
    sec = Section(skip, stats, diag, links)
    s, hdr, blk, u32, probe, ifaces, eth_ok, run = sec.hot()
    psize = s.probe_size if skip else 1 << 62  # the probes only serve the skip rule
    ts_hi, ts_lo, ts_if = 0, 0, None  # the last EPB's, if its time is not computed yet
    n = nv6 = nirr = 0  # frame number; skipped frames not yet in stats
    buf, pos, end = win.buf, 0, win.end
    base = last_ts = 0  # base: file offset of buf[0]
    et = vb = nh = None
    epb, shb, max_block, make = EPB, SHB, MAX_BLOCK, new_frame  # locals: faster in the loop
    try:
        while True:
            if eth_ok and end - pos >= psize:
                pos, k6, kirr, last = skip_run(buf, pos, end, run)
                if last >= 0:
                    n, nv6, nirr = n + k6 + kirr, nv6 + k6, nirr + kirr
                    ts_iid, ts_hi, ts_lo = blk(buf, last)[2:5]
                    ts_if = ifaces[ts_iid]
            if end - pos >= psize:
                btype, blen, iid, hi, lo, caplen, wirelen, et, vb, nh = probe(buf, pos)
            elif end - pos >= 28:
                btype, blen, iid, hi, lo, caplen, wirelen = blk(buf, pos)
                et = None
            else:
                end = win.fill(pos, end, 28, n)
                buf, pos, base = win.buf, 0, win.base
                if end >= 28:
                    continue
                if end < 12:
                    return cut(diag, buf, hdr, n, 0, end, base) if end else None
                # A short block at the very end: an EPB cannot be complete here.
                btype, blen = hdr(buf, pos)
                iid = hi = lo = caplen = wirelen = 0
                et = None
            if btype == shb:
                if sec.start(buf, pos, base) is None:
                    return
                s, hdr, blk, u32, probe, ifaces, eth_ok, run = sec.hot()
                blen = u32(buf, pos + 4)[0]
            if blen & 3 or blen < 12 or blen > max_block:
                return bad_length(diag, base + pos, blen)
            stop = pos + blen
            if stop > end:
                end = win.fill(pos, end, blen, n)
                buf, pos, stop, base = win.buf, 0, blen, win.base
                if stop > end:
                    return cut(diag, buf, hdr, n, 0, end, base)
            if u32(buf, stop - 4)[0] != blen:
                return trailer_differs(diag, base + pos)
            if btype == epb:  # the hot path
                n += 1
                if caplen > blen - 32:  # also catches blen < 32
                    return epb_too_long(diag, n, caplen, blen)
                ifc = ifaces[iid] if iid < len(ifaces) else NO_IFACE
                if (not ifc or not ifc[4]) and sec.unusable(n, iid, ifc):
                    pos = stop
                    continue
                start, fend = pos + 28, pos + 28 + caplen
                if ifc[5]:  # a fast run: can the frame matter?
                    ts_hi, ts_lo, ts_if = hi, lo, ifc
                    if sec.epb_skipped(ifc, buf, start, fend, et, vb, nh, skip, skipped):
                        nv6, nirr = sec.counted(nv6, nirr)
                        pos = stop
                        continue
                    flush(stats, nv6, nirr)
                    nv6, nirr, ts_if = 0, 0, None
                ts = ((hi << 32) | lo) * ifc[1]
                last_ts = (ts // ifc[2] if ifc[2] != 1 else ts) + ifc[3]
                pos = stop
                yield make(n, last_ts, ifc[0], bytes(buf[start:fend]), wirelen)
                continue
            if ts_if is not None:  # an SPB takes the timestamp of the EPB before it
                last_ts, ts_if = timestamp(ts_hi, ts_lo, ts_if), None
            n, fr = sec.other(btype, buf, pos, stop, blen, base, n, last_ts)
            pos = stop
            if fr is None:
                continue
            if fr is END:
                return
            last_ts = fr.ts_ns
            if sec.mode:
                if sec.frame_skipped(fr, skipped):
                    nv6, nirr = sec.counted(nv6, nirr)
                    continue
                flush(stats, nv6, nirr)
                nv6 = nirr = 0
            yield fr
    finally:
        flush(stats, nv6, nirr)
        win.close(n, pos)
