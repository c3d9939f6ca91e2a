"""The fast path: records from a capture without decoding packets that cannot matter.

In a real capture well under 2% of the packets are Mobile IPv6 signalling or
route-optimised data; the rest (ordinary TCP/UDP/ICMPv6, IPv4, ARP) only need to be
*counted*.  This module decides from a few octets whether a packet can matter and
hands only the candidates to :func:`ebutool.stream.record_from_packet`, the same
function the reference decoder (:func:`ebutool.stream.records_from_frames`) uses, so
every Record, diagnosis and :class:`~ebutool.stream.StreamStats` count is identical.

The decision (:func:`must_decode`), for the IPv6 header at ``buf[ip]`` of a frame that
ends at ``buf[end]``:

- fewer than 40 octets: decode (the decoder reports ``truncated_ipv6``);
- next header in :data:`SKIP_NEXT_HEADERS` (TCP, UDP, ICMPv6, no next header, ESP, ...):
  skip -- the decoder would stop right there, irrelevant and silent;
- Hop-by-Hop, Routing (not type 2), Fragment, AH: walk the chain exactly as the decoder
  does; skip only when it ends cleanly in a skippable header (or a non-first fragment);
  anything odd (a header cut off, a type 2 routing header) goes to the decoder;
- everything else (Mobility Header 135 or 62, IPv6-in-IPv6 41, Destination Options
  that may hold a Home Address option, unknown numbers): decode.

So a packet is skipped only when the decoder would certainly return an irrelevant
packet and no diagnosis; in doubt, decode.  ``tests/test_fastpath.py`` checks this
against the reference on every shared capture and on hypothesis-generated frames.

Two levels of speed:

- :func:`candidates` filters any ``Frame`` iterator (used for inputs the block readers
  below do not handle: stdin of unknown kind, JSON traces never come here);
- :func:`fast_records` reads pcap and pcapng itself, from one bytearray refilled in place
  (:class:`_Window`, ``readinto1``; the capture package's
  :class:`~ebutool.capture.source.Source` opens the input and reads the header), and
  creates no ``Frame`` (nor a slice) for a skipped packet.  For Ethernet-like links one
  ``struct`` call per record reads the length, EtherType, IPv6 version and next header;
  in pcapng a run of skipped EPBs reads each block's trailing length together with the
  next block's fields.  The pcap header checks are those of
  :func:`ebutool.capture.pcap.read_pcap` and the loop mirrors ``pcap._records``; the
  pcapng block loop is a copy of :func:`ebutool.capture.pcapng._blocks` whose EPB branch
  applies the filter (same diagnoses, same frame numbering; the helpers are imported
  from that module, so keep the two in step).
"""
from __future__ import annotations

import struct
from typing import Iterable, Iterator

from .capture.linktypes import ETHERTYPE_IPV6, VLAN_TYPES, ip6_offset_func
from .capture.source import HEADER_NEED, PCAP_MAGICS, PCAPNG_MAGIC, open_source
from .diagnostics import Diagnostics
from .records import Record
from .stream import StreamStats, record_from_packet

# Upper-layer next-header values at which the IPv6 decoder stops without looking
# further and without a diagnosis: TCP, UDP, ICMPv6, no next header, ESP (opaque),
# IPv4-in-IPv6, GRE, SCTP, UDP-Lite.  (Keep this list to protocols the decoder treats
# as opaque; tests check each one against the decoder.)
SKIP_NEXT_HEADERS = frozenset((6, 17, 58, 59, 50, 4, 47, 132, 136))
# Extension headers the walk below follows (the decoder follows them the same way).
WALK_NEXT_HEADERS = frozenset((0, 43, 44, 51))

_LT_ETHERNET = 1
_LT_RAW = frozenset((12, 14, 101, 229))
_PROGRESS_EVERY = 1 << 20          # octets between progress updates


def must_decode(buf, ip: int, end: int) -> bool:
    """True unless the IPv6 packet at ``buf[ip:end]`` certainly cannot matter (see module doc)."""
    if end - ip < 40:
        return True
    nh = buf[ip + 6]
    if nh in SKIP_NEXT_HEADERS:
        return False
    if nh in WALK_NEXT_HEADERS:
        return _walk(buf, ip, end, nh)
    return True


def _walk(buf, ip: int, end: int, nh: int) -> bool:
    """The decoder's extension-header loop, answering only "must decode?"."""
    plen = (buf[ip + 4] << 8) | buf[ip + 5]
    if plen and ip + 40 + plen < end:
        end = ip + 40 + plen
    i = ip + 40
    while True:
        if nh == 0 or nh == 43 or nh == 51:
            if i + 2 > end:
                return True                     # truncated_ext_header
            hlen = (buf[i + 1] + 2) * 4 if nh == 51 else (buf[i + 1] + 1) * 8
            if i + hlen > end:
                return True                     # truncated_ext_header
            if nh == 43 and buf[i + 2] == 2:
                return True                     # type 2 routing header
            nh = buf[i]
            i += hlen
        elif nh == 44:
            if i + 8 > end:
                return True                     # truncated fragment header
            if ((buf[i + 2] << 8) | buf[i + 3]) >> 3:
                return False                    # a later fragment: the decoder stops here
            nh = buf[i]
            i += 8
        else:
            return nh not in SKIP_NEXT_HEADERS


def candidates(frames: Iterable, stats: StreamStats, progress=None) -> Iterator:
    """(frame, ip offset) of the frames that must be decoded; counts the others in ``stats``
    exactly as :func:`ebutool.stream.records_from_frames` would (frames, ipv6, skipped)."""
    skipped = stats.skipped
    funcs: dict = {}
    n = nv6 = nirr = 0                # not yet added to stats
    last_report = 0
    try:
        for fr in frames:
            n += 1
            lt = fr.linktype
            f = funcs.get(lt)
            if f is None:
                f = funcs[lt] = ip6_offset_func(lt) or (lambda data: None)
            data = fr.data
            off = f(data)
            if off is None:
                if "not_ipv6" not in skipped:
                    skipped["not_ipv6"] += 0      # first occurrence: keep the key order
                nv6 += 1
                continue
            if not must_decode(data, off, len(data)):
                if "not_mobility_related" not in skipped:
                    skipped["not_mobility_related"] += 0
                nirr += 1
                continue
            _flush(stats, n, nv6, nirr)
            n = nv6 = nirr = 0
            yield fr, off
            if progress is not None and stats.frames - last_report >= 4096:
                last_report = stats.frames
                progress.update(frames=stats.frames)
    finally:
        _flush(stats, n, nv6, nirr)
        if progress is not None:
            progress.update(frames=stats.frames)


def filtered_records(frames: Iterable, diag: Diagnostics, stats: StreamStats | None = None,
                     source: str = "", progress=None) -> Iterator[Record]:
    """Same output as :func:`ebutool.stream.records_from_frames`, decoding only candidates."""
    stats = stats if stats is not None else StreamStats()
    for fr, off in candidates(frames, stats, progress):
        rec = record_from_packet(fr.frame, fr.ts_ns, fr.data, off, diag, stats)
        if rec is not None:
            rec.source = source
            yield rec


def fast_records(stream, diag: Diagnostics, stats: StreamStats | None = None, name: str = "",
                 progress=None) -> Iterator[Record]:
    """Records of a pcap or pcapng ``stream`` (binary file object, path or "-"), identical to
    ``records_from_frames(open_frames(stream, diag), diag, stats, name)``.

    ``progress``: an object with ``update(frames=..., octets=...)`` (see ebutool.progress),
    called about once per MiB read.  Raises InputError for a file that is no capture
    at all, *before* the first record is asked for (like ``open_frames``)."""
    stats = stats if stats is not None else StreamStats()
    src = open_source(stream, diag)
    try:
        buf = src.fill(b"", 0, HEADER_NEED)
        head = buf[:4]
        if head in PCAP_MAGICS and len(buf) >= 24:
            from .capture import pcap
            pcap.read_pcap(src, buf, diag)          # the header checks (raises InputError)
            order, nanosecond = PCAP_MAGICS[head]
            linktype = struct.unpack_from(order + "I", buf, 20)[0] & 0xFFFF
            gen = _pcap_records(src, buf, order, 1 if nanosecond else 1000, linktype,
                                diag, stats, name, progress)
        elif head == PCAPNG_MAGIC and len(buf) >= 28:
            from .capture import pcapng
            pcapng.read_pcapng(src, buf, diag)      # the SHB checks (raises InputError)
            gen = _pcapng_records(src, buf, diag, stats, name, progress)
        else:
            # Anything unusual at the very start (short or foreign header): the readers'
            # own messages and behaviour, with the frame-level filter.
            from .capture import open_frames
            return filtered_records(open_frames(_Replay(buf, src), diag), diag, stats, name,
                                    progress)
    except BaseException:
        src.close()
        raise
    return gen


class _Replay:
    """A binary stream that first returns octets already read, then the rest of ``src``."""

    def __init__(self, head: bytes, src):
        self._head = head
        self._src = src
        self.name = src.name

    def read(self, n: int = -1) -> bytes:
        if self._head:
            out, self._head = self._head, b""
            return out
        return self._src._read(n)

    read1 = read

    def close(self) -> None:
        self._src.close()


_WINDOW = 4 << 20                  # octets read per call (one bytearray, refilled in place)


class _Window:
    """The readers' block buffer without the per-MiB copies of ``Source.fill``: one
    bytearray, refilled in place with ``readinto1``/``readinto`` (the few octets of a
    record cut at the end of a block are moved to the front).  Same read-error and
    text-stream behaviour as :class:`ebutool.capture.source.Source`."""

    __slots__ = ("buf", "end", "src", "_readinto", "eof", "diag")

    def __init__(self, src, head: bytes, diag: Diagnostics):
        self.buf = bytearray(max(_WINDOW, len(head)))
        self.buf[:len(head)] = head
        self.end = len(head)
        self.src = src
        self.diag = diag
        f = src._file
        self._readinto = getattr(f, "readinto1", None) or getattr(f, "readinto", None)
        self.eof = src.eof

    def fill(self, pos: int, end: int, need: int) -> int:
        """Move ``buf[pos:end]`` to the front and read until ``need`` octets are there or
        the input ends; returns the number of valid octets (the new ``end``)."""
        buf = self.buf
        have = end - pos
        if pos:
            buf[:have] = buf[pos:end]
        if have >= need or self.eof:
            return have
        if need > len(buf):
            buf.extend(bytes(need - len(buf) + _WINDOW))
        while have < need:
            try:
                if self._readinto is not None:
                    mv = memoryview(buf)
                    part = mv[have:]
                    try:
                        got = self._readinto(part)
                    finally:
                        part.release()
                        mv.release()
                else:
                    chunk = self.src._read(len(buf) - have)
                    if chunk and not isinstance(chunk, (bytes, bytearray)):
                        from .errors import InputError
                        raise InputError(f"{self.src.name}: input stream is not binary "
                                         "(opened in text mode?)")
                    got = len(chunk)
                    buf[have:have + got] = chunk
            except OSError as exc:
                self.diag.warn("read_error", f"{self.src.name}: read failed "
                               f"({exc.strerror or exc}); capture ends here")
                got = 0
            if not got:
                self.eof = True
                break
            have += got
        return have


def _classify(lt: int, data: bytes, skipped) -> int:
    """IPv6 offset of a frame that must be decoded, -1 not IPv6, -2 irrelevant IPv6
    (registering the skip reason's key in ``skipped`` on its first occurrence)."""
    fn = ip6_offset_func(lt)
    off = fn(data) if fn is not None else None
    if off is None:
        if "not_ipv6" not in skipped:
            skipped["not_ipv6"] += 0
        return -1
    if not must_decode(data, off, len(data)):
        if "not_mobility_related" not in skipped:
            skipped["not_mobility_related"] += 0
        return -2
    return off


def _flush(stats: StreamStats, n: int, nv6: int, nirr: int) -> None:
    stats.frames += n
    stats.ipv6 += n - nv6
    if nv6:
        stats.skipped["not_ipv6"] += nv6
    if nirr:
        stats.skipped["not_mobility_related"] += nirr


# Link types whose IPv6 test is an EtherType: (offset of the EtherType, offset of the
# network header).  The fast loops read the EtherType, the first IPv6 octet and the
# next header of such frames with one struct call; anything unusual (VLAN tags, short
# frames, a record at the end of the buffer) takes the general path.
_ETHERTYPE_LINKS = {1: (12, 14), 113: (14, 16), 276: (0, 20)}


def _ethertypes(order: str) -> tuple[int, frozenset]:
    """The IPv6 and VLAN EtherTypes as a probe with byte order ``order`` reads them: the
    probes read the (big-endian) EtherType as an "H" in the file's byte order, so that one
    struct call serves all fields, and an int compares faster than a 2-octet bytes."""
    as_read = "little" if order == "<" else "big"
    value = lambda t: int.from_bytes(t.to_bytes(2, "big"), as_read)  # noqa: E731
    return value(ETHERTYPE_IPV6), frozenset(map(value, VLAN_TYPES))


def _pcap_records(src, buf: bytes, order: str, frac_ns: int, linktype: int, diag: Diagnostics,
                  stats: StreamStats, name: str, progress) -> Iterator[Record]:
    # Mirrors ebutool.capture.pcap._records (same refills, same diagnoses), with the
    # filter inlined.
    from .capture.pcap import MAX_CAPLEN, RECORD_HEADER_LEN, _cut
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
    n = 0                       # frame number
    flushed = 0                 # frames already added to stats
    nv6 = nirr = 0              # skipped frames since the last flush, by reason
    new_v6 = "not_ipv6" not in skipped
    new_irr = "not_mobility_related" not in skipped
    win = _Window(src, buf, diag)
    buf = win.buf
    pos, end = 24, win.end
    done = 0                    # octets of the file before buf[0]
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
                            if nh in skip_nh:
                                nirr += 1
                                pos = nxt
                                if new_irr:
                                    new_irr = False
                                    skipped["not_mobility_related"] += 0
                                continue
                            ip = start + l2
                            if nh in walk_nh and not _walk(buf, ip, nxt, nh):
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
                            rec = decode(n, sec * 1_000_000_000 + frac * frac_ns,
                                         bytes(buf[start:nxt]), l2, diag, stats)
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
                    diag.warn("corrupt_record", f"frame {n + 1}: impossible captured length "
                              f"{incl} octets (more than 256 MiB); cannot resynchronise, "
                              "capture ends here", frame=n + 1)
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
            if not must_decode(buf, ip, pos):
                nirr += 1
                if new_irr:
                    new_irr = False
                    skipped["not_mobility_related"] += 0
                continue
            _flush(stats, n - flushed, nv6, nirr)
            flushed, nv6, nirr = n, 0, 0
            rec = decode(n, sec * 1_000_000_000 + frac * frac_ns, bytes(buf[start:pos]), off,
                         diag, stats)
            if rec is not None:
                rec.source = name
                yield rec
    finally:
        n = flushed + nv6 + nirr
        _flush(stats, n - flushed, nv6, nirr)
        if progress is not None:
            progress.update(frames=n, octets=done + pos)
        src.close()


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


def _pcapng_records(src, buf: bytes, diag: Diagnostics, stats: StreamStats, name: str,
                    progress) -> Iterator[Record]:
    # A copy of ebutool.capture.pcapng._blocks (keep them in step): the same block walk,
    # checks and diagnoses; EPBs are filtered without building a Frame, and the other
    # packet blocks (SPB, PB: rare) go through the same filter on their slice.
    from .capture.pcapng import (_STRUCTS, BYTE_ORDER_MAGIC, EPB, IDB, MAX_BLOCK, MIN_SHB_LEN,
                                 NON_PACKET_RECORDS, PB, SHB, SPB, _corrupt, _cut, _interface,
                                 _unknown_iface, _unsupported)
    skip_nh, walk_nh = SKIP_NEXT_HEADERS, WALK_NEXT_HEADERS
    skipped = stats.skipped
    decode = record_from_packet
    s = _STRUCTS["<"]
    hdr, blk, u32 = s.hdr, s.blk, s.u32
    probe = _PROBES["<"]
    run_probe, probe2 = _RUN_PROBES["<"], _RUN_PROBES2["<"]
    psize = _PROBES["<"].__self__.size
    eth6, vlan = _ethertypes("<")
    new_v6 = "not_ipv6" not in skipped
    new_irr = "not_mobility_related" not in skipped
    ts_hi = ts_lo = 0
    ts_if = None                      # interface of the last EPB whose last_ts is not computed
    ifaces: list[tuple] = []
    snaplens: list[int] = []
    n = 0                             # frame numbers (as the reader counts them)
    yielded = 0                       # frames the reader would have yielded (stats.frames)
    flushed = 0
    nv6 = nirr = 0
    win = _Window(src, buf, diag)
    buf = win.buf
    pos, end = 0, win.end
    base = 0
    last_ts = 0
    warned_spb = False
    next_report = _PROGRESS_EVERY

    eth_ok: frozenset = frozenset()   # interfaces that are Ethernet and supported
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
                        elif nh in skip_nh or (nh in walk_nh
                                               and not _walk(buf, pos + 42, pos + 28 + caplen, nh)):
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
                        btype = -1                  # leave the run after this block
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
                order = BYTE_ORDER_MAGIC.get(bytes(buf[pos + 8:pos + 12]))
                if order is None:
                    return _corrupt(diag, None, f"section header at file offset {base + pos} "
                                    f"has no valid byte-order magic")
                s = _STRUCTS[order]
                hdr, blk, u32 = s.hdr, s.blk, s.u32
                probe = _PROBES[order]
                run_probe, probe2 = _RUN_PROBES[order], _RUN_PROBES2[order]
                eth6, vlan = _ethertypes(order)
                blen = u32(buf, pos + 4)[0]
                ifaces, snaplens = [], []
                eth_ok = frozenset()
            if blen & 3 or blen < 12 or blen > MAX_BLOCK:
                return _corrupt(diag, None, f"block at file offset {base + pos} has an impossible "
                                f"length {blen} (must be a multiple of 4, 12 to {MAX_BLOCK})")
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
                return _corrupt(diag, None, f"block at file offset {base + pos}: leading and "
                                "trailing length fields differ")

            if btype == EPB:                                   # the hot path
                n += 1
                if caplen > blen - 32:
                    return _corrupt(diag, n, f"frame {n}: captured length {caplen} does not fit "
                                    f"its {blen}-octet enhanced packet block")
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
                                    if nh in skip_nh or (nh in walk_nh
                                                         and not _walk(buf, start + 14, fend, nh)):
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
                                ip = _classify(ifc[0], bytes(buf[start:fend]), skipped)
                        else:
                            ip = _classify(ifc[0], bytes(buf[start:fend]), skipped)
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
                    return _corrupt(diag, None, f"interface description block at file offset "
                                    f"{base + pos} too short ({blen})")
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
                        diag.warn("no_timestamp", f"frame {n}: simple packet blocks carry no "
                                  "timestamp; using the previous packet's (warned once)", frame=n)
                    if ok:
                        yielded += 1
                        if ts_if is not None:
                            _, mul, div, off, _ok = ts_if
                            ts = ((ts_hi << 32) | ts_lo) * mul
                            last_ts = (ts // div if div != 1 else ts) + off
                            ts_if = None
                        data = bytes(buf[pos + 12:pos + 12 + caplen])
                        ip = _classify(lt, data, skipped)
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
                    return _corrupt(diag, n, f"frame {n}: captured length {caplen} exceeds its "
                                    f"block ({blen} octets)")
                if iid < len(ifaces):
                    lt, mul, div, off, ok = ifaces[iid]
                    if ok:
                        yielded += 1
                        last_ts = ((hi << 32) | lo) * mul // div + off
                        ts_if = None
                        data = bytes(buf[pos + 28:pos + 28 + caplen])
                        ip = _classify(lt, data, skipped)
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
                    return _corrupt(diag, None, f"section header at file offset {base + pos} "
                                    f"too short ({blen})")
                major, minor = s.u16(buf, pos + 12)[0], s.u16(buf, pos + 14)[0]
                if major != 1:
                    return _corrupt(diag, None, f"section header at file offset {base + pos}: "
                                    f"pcapng version {major}.{minor} not supported")
            elif btype in NON_PACKET_RECORDS:
                n += 1
            pos = stop
    finally:
        _flush(stats, yielded - flushed, nv6, nirr)
        if progress is not None:
            progress.update(frames=n, octets=base + pos)
        src.close()
