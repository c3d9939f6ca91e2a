"""The fast path: records from a capture without decoding packets that cannot matter.

In a real capture well under 2% of the packets are Mobile IPv6 signalling or
route-optimised data; the rest (ordinary TCP/UDP/ICMPv6, IPv4, ARP) only need to be
*counted*.  This package decides from a few octets whether a packet can matter and
hands only the candidates to :func:`ebutool.stream.reader.record_from_packet`, the same
function the reference decoder (:func:`ebutool.stream.reader.records_from_frames`) uses, so
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

Modules: ``common`` (the rule, the read window, counting), ``pcap_loop``,
``pcapng_loop``; this one (``candidates``, ``filtered_records``, ``fast_records``).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator

from ebutool.capture.linktypes import ip6_offset_func
from ebutool.capture.source import HEADER_NEED, PCAP_MAGICS, PCAPNG_MAGIC, open_source
from ebutool.core.diagnostics import Diagnostics
from ebutool.fastpath.common import (
    SKIP_NEXT_HEADERS,
    SKIP_NEXT_HEADERS_ESP,
    WALK_NEXT_HEADERS,
    _flush,
    must_decode,
)
from ebutool.fastpath.pcap_loop import _pcap_records
from ebutool.fastpath.pcapng_loop import _pcapng_records
from ebutool.records.from_packet import StreamStats, record_from_packet
from ebutool.records.record import Record

__all__ = [
    "SKIP_NEXT_HEADERS",
    "WALK_NEXT_HEADERS",
    "must_decode",
    "candidates",
    "filtered_records",
    "fast_records",
]


def candidates(frames: Iterable, stats: StreamStats, progress=None, esp=None) -> Iterator:
    """(frame, ip offset) of the frames that must be decoded; counts the others in ``stats``
    exactly as :func:`ebutool.stream.reader.records_from_frames` would (frames, ipv6, skipped)."""
    skipped = stats.skipped
    skip = SKIP_NEXT_HEADERS if esp is None else SKIP_NEXT_HEADERS_ESP
    funcs: dict = {}
    n = nv6 = nirr = 0  # not yet added to stats
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
                    skipped["not_ipv6"] += 0  # first occurrence: keep the key order
                nv6 += 1
                continue
            if not must_decode(data, off, len(data), skip):
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


def filtered_records(
    frames: Iterable,
    diag: Diagnostics,
    stats: StreamStats | None = None,
    source: str = "",
    progress=None,
    esp=None,
) -> Iterator[Record]:
    """Same output as :func:`ebutool.stream.reader.records_from_frames`, decoding only
    candidates."""
    stats = stats if stats is not None else StreamStats()
    for fr, off in candidates(frames, stats, progress, esp):
        rec = record_from_packet(fr.frame, fr.ts_ns, fr.data, off, diag, stats, esp)
        if rec is not None:
            rec.source = source
            yield rec


def fast_records(
    stream,
    diag: Diagnostics,
    stats: StreamStats | None = None,
    name: str = "",
    progress=None,
    esp=None,
) -> Iterator[Record]:
    """Records of a pcap or pcapng ``stream`` (binary file object, path or "-"), identical to
    ``records_from_frames(open_frames(stream, diag), diag, stats, name)``.

    ``progress``: an object with ``update(frames=..., octets=...)`` (see ebutool.core.progress),
    called about once per MiB read.  Raises InputError for a file that is no capture
    at all, *before* the first record is asked for (like ``open_frames``).  ``esp``: an
    :class:`ebutool.esp.EspContext`; ESP packets then go to the decoder, which decrypts
    those of known SAs and counts the others by SPI."""
    stats = stats if stats is not None else StreamStats()
    src = open_source(stream, diag)
    try:
        buf = src.fill(b"", 0, HEADER_NEED)
        head = buf[:4]
        if head in PCAP_MAGICS and len(buf) >= 24:
            from ebutool.capture import pcap

            pcap.read_pcap(src, buf, diag)  # the header checks (raises InputError)
            order, nanosecond = PCAP_MAGICS[head]
            linktype = struct.unpack_from(order + "I", buf, 20)[0] & 0xFFFF
            gen = _pcap_records(
                src,
                buf,
                order,
                1 if nanosecond else 1000,
                linktype,
                diag,
                stats,
                name,
                progress,
                esp,
            )
        elif head == PCAPNG_MAGIC and len(buf) >= 28:
            from ebutool.capture import pcapng

            pcapng.read_pcapng(src, buf, diag)  # the SHB checks (raises InputError)
            gen = _pcapng_records(src, buf, diag, stats, name, progress, esp)
        else:
            # Anything unusual at the very start (short or foreign header): the readers'
            # own messages and behaviour, with the frame-level filter.
            from ebutool.capture import open_frames

            return filtered_records(
                open_frames(_Replay(buf, src), diag), diag, stats, name, progress, esp
            )
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
