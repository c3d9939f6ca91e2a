"""What the fast loops share: the skip rule, the read window, the counting helpers.

See the package doc (:mod:`ebutool.fastpath`) for how they fit together.
"""

from __future__ import annotations

from ebutool.capture.linktypes import ETHERTYPE_IPV6, VLAN_TYPES, ip6_offset_func
from ebutool.core.diagnostics import Diagnostics
from ebutool.records.from_packet import StreamStats

# Upper-layer next-header values at which the IPv6 decoder stops without looking
# further and without a diagnosis: TCP, UDP, ICMPv6, no next header, ESP (opaque),
# IPv4-in-IPv6, GRE, SCTP, UDP-Lite.  (Keep this list to protocols the decoder treats
# as opaque; tests check each one against the decoder.)
SKIP_NEXT_HEADERS = frozenset((6, 17, 58, 59, 50, 4, 47, 132, 136))
# The same without ESP: the rule of a run that decrypts ESP (ebutool.esp), where an ESP
# packet goes to the decoder, which decrypts it or counts it by SPI.
SKIP_NEXT_HEADERS_ESP = SKIP_NEXT_HEADERS - {50}
# Extension headers the walk below follows (the decoder follows them the same way).
WALK_NEXT_HEADERS = frozenset((0, 43, 44, 51))

_LT_ETHERNET = 1
_LT_RAW = frozenset((12, 14, 101, 229))
_PROGRESS_EVERY = 1 << 20  # octets between progress updates


def must_decode(buf, ip: int, end: int, skip: frozenset = SKIP_NEXT_HEADERS) -> bool:
    """True unless the IPv6 packet at ``buf[ip:end]`` certainly cannot matter (see module
    doc); ``skip``: the next headers that end the decision (SKIP_NEXT_HEADERS_ESP with ESP)."""
    if end - ip < 40:
        return True
    nh = buf[ip + 6]
    if nh in skip:
        return False
    if nh in WALK_NEXT_HEADERS:
        return _walk(buf, ip, end, nh, skip)
    return True


def _walk(buf, ip: int, end: int, nh: int, skip: frozenset = SKIP_NEXT_HEADERS) -> bool:
    """The decoder's extension-header loop, answering only "must decode?"."""
    plen = (buf[ip + 4] << 8) | buf[ip + 5]
    if plen and ip + 40 + plen < end:
        end = ip + 40 + plen
    i = ip + 40
    while True:
        if nh == 0 or nh == 43 or nh == 51:
            if i + 2 > end:
                return True  # truncated_ext_header
            hlen = (buf[i + 1] + 2) * 4 if nh == 51 else (buf[i + 1] + 1) * 8
            if i + hlen > end:
                return True  # truncated_ext_header
            if nh == 43 and buf[i + 2] == 2:
                return True  # type 2 routing header
            nh = buf[i]
            i += hlen
        elif nh == 44:
            if i + 8 > end:
                return True  # truncated fragment header
            if ((buf[i + 2] << 8) | buf[i + 3]) >> 3:
                return False  # a later fragment: the decoder stops here
            nh = buf[i]
            i += 8
        else:
            return nh not in skip


_WINDOW = 4 << 20  # octets read per call (one bytearray, refilled in place)


class _Window:
    """The readers' block buffer without the per-MiB copies of ``Source.fill``: one
    bytearray, refilled in place with ``readinto1``/``readinto`` (the few octets of a
    record cut at the end of a block are moved to the front).  Same read-error and
    text-stream behaviour as :class:`ebutool.capture.source.Source`."""

    __slots__ = ("buf", "end", "src", "_readinto", "eof", "diag")

    def __init__(self, src, head: bytes, diag: Diagnostics):
        self.buf = bytearray(max(_WINDOW, len(head)))
        self.buf[: len(head)] = head
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
                        from ebutool.core.errors import InputError

                        raise InputError(
                            f"{self.src.name}: input stream is not binary (opened in text mode?)"
                        )
                    got = len(chunk)
                    buf[have : have + got] = chunk
            except OSError as exc:
                self.diag.warn(
                    "read_error",
                    f"{self.src.name}: read failed ({exc.strerror or exc}); capture ends here",
                )
                got = 0
            if not got:
                self.eof = True
                break
            have += got
        return have


def _classify(lt: int, data: bytes, skipped, skip: frozenset = SKIP_NEXT_HEADERS) -> int:
    """IPv6 offset of a frame that must be decoded, -1 not IPv6, -2 irrelevant IPv6
    (registering the skip reason's key in ``skipped`` on its first occurrence)."""
    fn = ip6_offset_func(lt)
    off = fn(data) if fn is not None else None
    if off is None:
        if "not_ipv6" not in skipped:
            skipped["not_ipv6"] += 0
        return -1
    if not must_decode(data, off, len(data), skip):
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
