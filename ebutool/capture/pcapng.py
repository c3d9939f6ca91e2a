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

from collections import Counter
from collections.abc import Iterator

from ebutool.capture.frame import Frame, new_frame
from ebutool.capture.pcapng_blocks import (
    BYTE_ORDER_MAGIC,
    CLASSIFY,
    EPB,
    ETH_PROBE,
    HAND_ON,
    IDB,
    MAX_BLOCK,
    MIN_SHB_LEN,
    NON_PACKET_RECORDS,
    PB,
    SHB,
    SPB,
    STRUCTS,
    Structs,
    corrupt,
    cut,
    interface,
    unknown_iface,
    unsupported,
)
from ebutool.capture.skip import (
    NOT_IPV6,
    Counts,
    SkipRule,
    Tally,
    classify,
    ethertypes,
    flush,
    register,
    walk_must_decode,
)
from ebutool.capture.window import Window
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import InputError

PROGRESS_EVERY = 1 << 20  # octets between progress updates
_END = object()  # what the block handlers return when the capture cannot go on

__all__ = ["CLASSIFY", "read_pcapng", "walk_pcapng"]


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
    win: Window, diag: Diagnostics, skip: SkipRule, stats: Counts | None, progress=None
) -> Iterator[Frame]:
    """Check the first SHB in ``win`` (raises InputError) and return the frame iterator.
    With a non-empty ``skip`` rule the skipped frames are counted in ``stats``."""
    check_pcapng_header(win.name, win.buf[: win.end])
    return walk_pcapng(win, diag, skip, stats, progress)


class _Section:
    """The walk's state that only the rare blocks (SHB, IDB, SPB, PB) touch."""

    __slots__ = ("s", "ifaces", "snaplens", "eth_ok", "mode", "diag", "warned_spb")

    def __init__(self, mode: int, diag: Diagnostics):
        self.s = STRUCTS["<"]  # replaced by the first SHB
        self.ifaces: list[tuple] = []  # per interface: see pcapng_blocks.interface
        self.snaplens: list[int] = []
        self.eth_ok: set[int] = set()  # interfaces that are supported and ETH_PROBE
        self.mode = mode
        self.diag = diag
        self.warned_spb = False

    def start(self, buf, pos: int, base: int) -> Structs | None:
        """A new section: its byte order (None: corrupt, reported); interfaces restart."""
        order = BYTE_ORDER_MAGIC.get(bytes(buf[pos + 8 : pos + 12]))
        if order is None:
            corrupt(
                self.diag,
                None,
                f"section header at file offset {base + pos} has no valid byte-order magic",
            )
            return None
        self.s = STRUCTS[order]
        self.ifaces, self.snaplens, self.eth_ok = [], [], set()
        return self.s

    def check_shb(self, buf, pos: int, blen: int, base: int) -> bool:
        if blen < MIN_SHB_LEN:
            corrupt(
                self.diag, None, f"section header at file offset {base + pos} too short ({blen})"
            )
            return False
        major, minor = self.s.u16(buf, pos + 12)[0], self.s.u16(buf, pos + 14)[0]
        if major != 1:
            corrupt(
                self.diag,
                None,
                f"section header at file offset {base + pos}: "
                f"pcapng version {major}.{minor} not supported",
            )
            return False
        return True

    def add_interface(self, buf, pos: int, stop: int, blen: int, base: int) -> bool:
        """Constant work per interface (a set over all of them would make it quadratic)."""
        if blen < 20:
            corrupt(
                self.diag,
                None,
                f"interface description block at file offset {base + pos} too short ({blen})",
            )
            return False
        ifc = interface(buf, pos, stop, self.s, self.mode)
        if ifc[4] and ifc[5] == ETH_PROBE:
            self.eth_ok.add(len(self.ifaces))
        self.ifaces.append(ifc)
        self.snaplens.append(self.s.idb(buf, pos + 8)[2])
        return True

    def spb(self, buf, pos: int, blen: int, n: int, last_ts: int):
        """The frame of a simple packet block, None (skipped, reported) or _END."""
        if blen < 16:
            corrupt(self.diag, n, f"frame {n}: simple packet block too short ({blen})")
            return _END
        if not self.ifaces:
            unknown_iface(self.diag, n, 0, 0)
            return None
        lt, ok = self.ifaces[0][0], self.ifaces[0][4]
        wirelen = self.s.u32(buf, pos + 8)[0]
        caplen = min(wirelen, blen - 16, self.snaplens[0] or wirelen)
        if not self.warned_spb:
            self.warned_spb = True
            self.diag.warn(
                "no_timestamp",
                f"frame {n}: simple packet blocks carry no "
                "timestamp; using the previous packet's (warned once)",
                frame=n,
            )
        if not ok:
            unsupported(self.diag, n, 0, lt)
            return None
        return new_frame(n, last_ts, lt, bytes(buf[pos + 12 : pos + 12 + caplen]), wirelen)

    def pb(self, buf, pos: int, blen: int, n: int):
        """The frame of an (obsolete) packet block, None (skipped, reported) or _END."""
        if blen < 32:
            corrupt(self.diag, n, f"frame {n}: packet block too short ({blen})")
            return _END
        iid, _drops, hi, lo, caplen, wirelen = self.s.pb(buf, pos + 8)
        if caplen > blen - 32:
            corrupt(
                self.diag,
                n,
                f"frame {n}: captured length {caplen} exceeds its block ({blen} octets)",
            )
            return _END
        if iid >= len(self.ifaces):
            unknown_iface(self.diag, n, iid, len(self.ifaces))
            return None
        lt, mul, div, off, ok, _mode = self.ifaces[iid]
        if not ok:
            unsupported(self.diag, n, iid, lt)
            return None
        ts = ((hi << 32) | lo) * mul // div + off
        return new_frame(n, ts, lt, bytes(buf[pos + 28 : pos + 28 + caplen]), wirelen)


def _skip_run(
    buf, pos: int, end: int, s: Structs, sec: _Section, skip: SkipRule, eth6: int, vlan, skipped
) -> tuple[int, int, int, int]:
    """Count a run of EPBs on Ethernet interfaces that are skipped, making only the checks
    the general code makes on such a block; anything else ends the run and is handled
    (re-read) by the general code.  Returns (pos, not IPv6, not mobility, last block)."""
    skip_nh, walk_nh, eth_ok, u32, probe2 = (
        skip.next_headers,
        skip.walk_headers,
        sec.eth_ok,
        s.u32,
        s.run_probe2,
    )
    psize = s.probe_size
    k6 = kirr = 0
    last = -1
    btype, blen, iid, caplen, et, vb, nh = s.run_probe(buf, pos)
    while True:
        if btype != EPB or caplen < 54 or blen & 3 or iid not in eth_ok:
            break
        stop = pos + blen
        if stop > end or caplen > blen - 32 or blen > MAX_BLOCK:
            break
        if et == eth6:
            if vb >> 4 != 6:
                irr = False
            elif nh in skip_nh or (
                nh in walk_nh and not walk_must_decode(buf, pos + 42, pos + 28 + caplen, nh)
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
            kirr += 1
            if kirr == 1:
                register(skipped, "not_mobility_related")
        else:
            k6 += 1
            if k6 == 1:
                register(skipped, "not_ipv6")
        last = pos
        pos = stop
    return pos, k6, kirr, last


def _eth_skipped(buf, start: int, fend: int, et: int, vb: int, nh: int, eth6: int, skip) -> int:
    """For an Ethernet frame that the probe read (not VLAN-tagged): NOT_IPV6, NOT_MOBILITY
    (-2) or 0 (a candidate)."""
    if et != eth6 or vb >> 4 != 6:
        return NOT_IPV6
    if nh in skip.next_headers or (
        nh in skip.walk_headers and not walk_must_decode(buf, start + 14, fend, nh)
    ):
        return -2
    return 0


def _counted(ip: int, nv6: int, nirr: int, skipped: Counter) -> tuple[int, int]:
    if ip == NOT_IPV6:
        if not nv6:
            register(skipped, "not_ipv6")
        return nv6 + 1, nirr
    if not nirr:
        register(skipped, "not_mobility_related")
    return nv6, nirr + 1


def walk_pcapng(
    win: Window, diag: Diagnostics, skip: SkipRule, stats: Counts | None, progress=None
) -> Iterator[Frame]:
    # The hot loop: locals only.  Skipped frames are counted in nv6/nirr until the next
    # yield; the timestamp of a skipped EPB is computed only when an SPB needs it.
    sec = _Section(ETH_PROBE if skip else HAND_ON, diag)
    s = sec.s
    hdr, blk, u32 = s.hdr, s.blk, s.u32
    probe, psize = (s.probe, s.probe_size) if skip else (None, 1 << 62)
    eth6, vlan = ethertypes(s.order)
    stats = stats if stats is not None else Tally()
    skipped = stats.skipped
    ifaces, eth_ok = sec.ifaces, sec.eth_ok
    ts_hi = ts_lo = 0
    ts_if = None  # interface of the last EPB if its timestamp is not computed yet
    n = nv6 = nirr = 0  # frame number; skipped frames not yet in stats
    buf, pos, end = win.buf, 0, win.end
    base = last_ts = 0  # base: file offset of buf[0]
    next_report = PROGRESS_EVERY
    et = vb = nh = None
    try:
        while True:
            if eth_ok and end - pos >= psize:
                pos, k6, kirr, last = _skip_run(buf, pos, end, s, sec, skip, eth6, vlan, skipped)
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
                base += pos
                end = win.fill(pos, end, 28)
                buf, pos = win.buf, 0
                if progress is not None and base >= next_report:
                    next_report = base + PROGRESS_EVERY
                    progress.update(frames=n, octets=base)
                if end >= 28:
                    continue
                if end < 12:
                    if end:
                        cut(diag, buf, hdr, n, 0, end, base)
                    return
                # A short block at the very end: an EPB cannot be complete here.
                btype, blen = hdr(buf, pos)
                iid = hi = lo = caplen = wirelen = 0
                et = None
            if btype == SHB:
                new = sec.start(buf, pos, base)
                if new is None:
                    return
                s = new
                hdr, blk, u32 = s.hdr, s.blk, s.u32
                if skip:
                    probe = s.probe
                eth6, vlan = ethertypes(s.order)
                blen = u32(buf, pos + 4)[0]
                ifaces, eth_ok = sec.ifaces, sec.eth_ok
            if blen & 3 or blen < 12 or blen > MAX_BLOCK:
                return corrupt(
                    diag,
                    None,
                    f"block at file offset {base + pos} has an impossible "
                    f"length {blen} (must be a multiple of 4, 12 to {MAX_BLOCK})",
                )
            stop = pos + blen
            if stop > end:
                base += pos
                end = win.fill(pos, end, blen)
                buf, pos, stop = win.buf, 0, blen
                if progress is not None and base >= next_report:
                    next_report = base + PROGRESS_EVERY
                    progress.update(frames=n, octets=base)
                if stop > end:
                    cut(diag, buf, hdr, n, 0, end, base)
                    return
            if u32(buf, stop - 4)[0] != blen:
                return corrupt(
                    diag,
                    None,
                    f"block at file offset {base + pos}: leading and trailing length fields differ",
                )
            if btype == EPB:  # the hot path
                n += 1
                if caplen > blen - 32:  # also catches blen < 32
                    return corrupt(
                        diag,
                        n,
                        f"frame {n}: captured length {caplen} does not fit "
                        f"its {blen}-octet enhanced packet block",
                    )
                if iid >= len(ifaces):
                    unknown_iface(diag, n, iid, len(ifaces))
                    pos = stop
                    continue
                ifc = ifaces[iid]
                if not ifc[4]:
                    unsupported(diag, n, iid, ifc[0])
                    pos = stop
                    continue
                start = pos + 28
                fend = start + caplen
                if ifc[5]:  # a fast run: can the frame matter?
                    ts_hi, ts_lo, ts_if = hi, lo, ifc
                    if (
                        ifc[5] == ETH_PROBE
                        and caplen >= 54
                        and et is not None
                        and (et == eth6 or et not in vlan)
                    ):
                        ip = _eth_skipped(buf, start, fend, et, vb, nh, eth6, skip)
                    else:
                        ip = classify(ifc[0], bytes(buf[start:fend]), skipped)
                    if ip < 0:
                        nv6, nirr = _counted(ip, nv6, nirr, skipped)
                        pos = stop
                        continue
                    flush(stats, nv6, nirr)
                    nv6 = nirr = 0
                    ts_if = None
                ts = ((hi << 32) | lo) * ifc[1]
                last_ts = (ts // ifc[2] if ifc[2] != 1 else ts) + ifc[3]
                pos = stop
                yield new_frame(n, last_ts, ifc[0], bytes(buf[start:fend]), wirelen)
                continue
            if btype == IDB:
                if not sec.add_interface(buf, pos, stop, blen, base):
                    return
            elif btype == SPB or btype == PB:
                n += 1
                if ts_if is not None:
                    ts = ((ts_hi << 32) | ts_lo) * ts_if[1]
                    last_ts = (ts // ts_if[2] if ts_if[2] != 1 else ts) + ts_if[3]
                    ts_if = None
                fr = (
                    sec.spb(buf, pos, blen, n, last_ts)
                    if btype == SPB
                    else sec.pb(buf, pos, blen, n)
                )
                if fr is _END:
                    return
                if fr is not None:
                    last_ts = fr.ts_ns
                    pos = stop
                    if sec.mode:
                        ip = classify(fr.linktype, fr.data, skipped)
                        if ip < 0:
                            nv6, nirr = _counted(ip, nv6, nirr, skipped)
                            continue
                        flush(stats, nv6, nirr)
                        nv6 = nirr = 0
                    yield fr
                    continue
            elif btype == SHB:
                if not sec.check_shb(buf, pos, blen, base):
                    return
            elif btype in NON_PACKET_RECORDS:
                n += 1
            pos = stop
    finally:
        flush(stats, nv6, nirr)
        if progress is not None:
            progress.update(frames=n, octets=base + pos)
        win.close()
