"""The state of a pcapng walk that only the rare blocks touch, and the walk's helpers.

See :mod:`ebutool.capture.pcapng`; the hot loop itself is there.
"""

from __future__ import annotations

from collections import Counter

from ebutool.capture.frame import Frame, new_frame
from ebutool.capture.pcapng_blocks import (
    BYTE_ORDER_MAGIC,
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
    interface,
    unknown_iface,
    unsupported,
)
from ebutool.capture.skip import (
    NOT_IPV6,
    NOT_MOBILITY,
    Counts,
    SkipRule,
    classify,
    ethertypes,
    register,
    time_decimals,
    walk_must_decode,
)
from ebutool.core.diagnostics import Diagnostics

END = object()  # what the block handlers return when the capture cannot go on


class Section:
    """The walk's state that only the rare blocks (SHB, IDB, SPB, PB) touch."""

    __slots__ = (
        "s",
        "ifaces",
        "snaplens",
        "eth_ok",
        "mode",
        "diag",
        "warned_spb",
        "eth6",
        "vlan",
        "last_skip",
        "skip",
        "skipped",
        "stats",
        "links",
    )

    def __init__(self, skip: SkipRule, stats: Counts, diag: Diagnostics, links: dict | None = None):
        self.s = STRUCTS["<"]  # replaced by the first SHB
        self.ifaces: list[tuple] = []  # per interface: see pcapng_blocks.interface
        self.snaplens: list[int] = []
        self.eth_ok: set[int] = set()  # interfaces that are supported and ETH_PROBE
        self.mode = ETH_PROBE if skip else HAND_ON
        self.skip, self.stats, self.skipped = skip, stats, stats.skipped
        # The link types of the file's interfaces: supported?
        self.links: dict[int, bool] = links if links is not None else {}
        self.diag = diag
        self.warned_spb = False
        self.eth6, self.vlan = ethertypes("<")
        self.last_skip = NOT_IPV6  # why the last frame was skipped

    def hot(self) -> tuple:
        """The section's values the hot loop keeps in locals: structs, hdr, blk, u32,
        probe, interfaces, Ethernet interfaces, the arguments of :func:`skip_run`."""
        s = self.s
        return s, s.hdr, s.blk, s.u32, s.probe, self.ifaces, self.eth_ok, self.run_locals()

    def run_locals(self) -> tuple:
        s, skip = self.s, self.skip
        return (
            s.run_probe,
            s.run_probe2,
            s.u32,
            s.probe_size,
            self.eth_ok,
            self.eth6,
            self.vlan,
            skip.next_headers,
            skip.walk_headers,
            self.skipped,
        )

    def epb_skipped(self, ifc: tuple, buf, start: int, fend: int, et, vb, nh, skip, skipped):
        """True (and why in ``last_skip``) if the EPB frame ``buf[start:fend]`` on ``ifc``
        cannot matter.  ``et``, ``vb``, ``nh``: the probe's EtherType, first IPv6 octet,
        next header, or None when the probe was not read."""
        if (
            ifc[5] == ETH_PROBE
            and fend - start >= 54
            and et is not None
            and (et == self.eth6 or et not in self.vlan)
        ):
            if et != self.eth6 or vb >> 4 != 6:
                ip = NOT_IPV6
            elif nh in skip.next_headers or (
                nh in skip.walk_headers and not walk_must_decode(buf, start + 14, fend, nh)
            ):
                ip = NOT_MOBILITY
            else:
                return False
            register(skipped, "not_ipv6" if ip == NOT_IPV6 else "not_mobility_related")
        else:
            ip = classify(ifc[0], bytes(buf[start:fend]), skipped)
        self.last_skip = ip
        return ip < 0

    def frame_skipped(self, fr: Frame, skipped: Counter) -> bool:
        """True (and why in ``last_skip``) if the SPB or PB frame ``fr`` cannot matter."""
        self.last_skip = classify(fr.linktype, fr.data, skipped)
        return self.last_skip < 0

    def counted(self, nv6: int, nirr: int) -> tuple[int, int]:
        """(nv6, nirr) with the frame skipped last added (see last_skip); a frame skipped
        for another reason (COUNTED, reason already counted) goes straight to the stats."""
        if self.last_skip == NOT_IPV6:
            return nv6 + 1, nirr
        if self.last_skip == NOT_MOBILITY:
            return nv6, nirr + 1
        self.stats.frames += 1
        return nv6, nirr

    def unusable(self, n: int, iid: int, ifc: tuple) -> bool:
        """Report frame ``n`` on an interface not described (``ifc`` empty: True, the
        frame is dropped) or not supported (False: the frame goes on, to be counted as
        skipped under its link type)."""
        if not ifc:
            unknown_iface(self.diag, n, iid, len(self.ifaces))
            return True
        unsupported(self.diag, n, iid, ifc[0])
        return False

    def other(self, btype: int, buf, pos: int, stop: int, blen: int, base: int, n: int, ts: int):
        """A block other than an EPB: (frame count, Frame, None or END).  ``ts`` is the
        previous packet's timestamp (an SPB has none)."""
        if btype == IDB:
            return n, None if self.add_interface(buf, pos, stop, blen, base) else END
        if btype == SPB:
            return n + 1, self.spb(buf, pos, blen, n + 1, ts)
        if btype == PB:
            return n + 1, self.pb(buf, pos, blen, n + 1)
        if btype == SHB:
            return n, None if self.check_shb(buf, pos, blen, base) else END
        if btype in NON_PACKET_RECORDS:  # a frame number, no packet: said in the summary
            self.stats.numbered_blocks += 1
            return n + 1, None
        return n, None

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
        self.eth6, self.vlan = ethertypes(order)
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
        self.links[ifc[0]] = ifc[4]
        decimals = time_decimals(ifc[1] / ifc[2])
        self.stats.time_decimals = max(self.stats.time_decimals, decimals)
        if ifc[4] and ifc[5] == ETH_PROBE:
            self.eth_ok.add(len(self.ifaces))
        self.ifaces.append(ifc)
        self.snaplens.append(self.s.idb(buf, pos + 8)[2])
        return True

    def spb(self, buf, pos: int, blen: int, n: int, last_ts: int):
        """The frame of a simple packet block, None (skipped, reported) or END."""
        if blen < 16:
            corrupt(self.diag, n, f"frame {n}: simple packet block too short ({blen})")
            return END
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
        return new_frame(n, last_ts, lt, bytes(buf[pos + 12 : pos + 12 + caplen]), wirelen)

    def pb(self, buf, pos: int, blen: int, n: int):
        """The frame of an (obsolete) packet block, None (skipped, reported) or END."""
        if blen < 32:
            corrupt(self.diag, n, f"frame {n}: packet block too short ({blen})")
            return END
        iid, _drops, hi, lo, caplen, wirelen = self.s.pb(buf, pos + 8)
        if caplen > blen - 32:
            corrupt(
                self.diag,
                n,
                f"frame {n}: captured length {caplen} exceeds its block ({blen} octets)",
            )
            return END
        if iid >= len(self.ifaces):
            unknown_iface(self.diag, n, iid, len(self.ifaces))
            return None
        lt, mul, div, off, ok, _mode = self.ifaces[iid]
        if not ok:
            unsupported(self.diag, n, iid, lt)
        ts = ((hi << 32) | lo) * mul // div + off
        return new_frame(n, ts, lt, bytes(buf[pos + 28 : pos + 28 + caplen]), wirelen)


def skip_run(buf, pos: int, end: int, run: tuple) -> tuple[int, int, int, int]:
    """Count a run of EPBs on Ethernet interfaces that are skipped, making only the checks
    the general code makes on such a block; anything else ends the run and is handled
    (re-read) by the general code.  ``run``: :meth:`Section.run_locals` (one argument:
    runs are short enough for the call to count).  Returns (pos, not IPv6, not mobility,
    last block)."""
    run_probe, probe2, u32, psize, eth_ok, eth6, vlan, skip_nh, walk_nh, skipped = run
    epb, max_block, walk = EPB, MAX_BLOCK, walk_must_decode  # locals: faster in the loop
    k6 = kirr = 0
    last = -1
    new_v6, new_irr = "not_ipv6" not in skipped, "not_mobility_related" not in skipped
    btype, blen, iid, caplen, et, vb, nh = run_probe(buf, pos)
    while True:
        if btype != epb or caplen < 54 or blen & 3 or iid not in eth_ok:
            break
        stop = pos + blen
        if stop > end or caplen > blen - 32 or blen > max_block:
            break
        if et == eth6:
            if vb >> 4 != 6:
                irr = False
            elif nh in skip_nh or (
                nh in walk_nh and not walk(buf, pos + 42, pos + 28 + caplen, nh)
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
            if new_irr:
                new_irr = False
                register(skipped, "not_mobility_related")
        else:
            k6 += 1
            if new_v6:
                new_v6 = False
                register(skipped, "not_ipv6")
        last = pos
        pos = stop
    return pos, k6, kirr, last


def timestamp(hi: int, lo: int, ifc: tuple) -> int:
    """ns since the epoch of the raw timestamp (hi, lo) on the interface ``ifc``."""
    ts = ((hi << 32) | lo) * ifc[1]
    return (ts // ifc[2] if ifc[2] != 1 else ts) + ifc[3]
