"""The record stream of one input: captures through the fast path, traces through their reader."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING

from ebutool.core.constants import IPV6_HEADER_LEN
from ebutool.core.diagnostics import Diagnostics
from ebutool.records.from_packet import StreamStats, record_from_packet
from ebutool.records.record import HandoverEvent, Record

if TYPE_CHECKING:
    from ebutool.esp.sa import EspSA
    from ebutool.stream.content_hash import ContentHash

# Records read ahead before the analysis takes them (see read_ahead).
READ_AHEAD_RECORDS = 4096


def read_ahead(items: Iterable, n: int = READ_AHEAD_RECORDS) -> Iterator:
    """``items`` unchanged, but taken from the source ``n`` at a time.

    Why: alternating, record by record, between the fast path's loop and the episode
    analysis costs about a fifth of ``analyze``'s CPU time on the benchmark capture
    (0.90 s against 0.73 s with 4,096 at a time; measured, the cause is presumably the
    CPU's caches and predictors).  Reading a few thousand ahead lets each loop run on
    its own for a while; the memory cost is those Records (a few MB).  The consumer
    sees the reader's StreamStats and diagnostics up to ``n`` records early."""
    it = iter(items)
    while True:
        batch = list(islice(it, n))
        if not batch:
            return
        yield from batch


def records_from_frames(
    frames: Iterable,
    diag: Diagnostics,
    stats: StreamStats | None = None,
    source: str = "",
    esp=None,
) -> Iterator[Record]:
    """The straightforward (reference) decoder: every frame through every layer."""
    from ebutool.capture.linktypes import ip6_offset, not_ipv6_reason

    stats = stats if stats is not None else StreamStats()
    for fr in frames:
        stats.frames += 1
        off = ip6_offset(fr.linktype, fr.data)
        if off is None:
            stats.skipped[not_ipv6_reason(fr.linktype, fr.data)] += 1
            continue
        stats.ipv6 += 1
        rec = record_from_packet(fr.frame, fr.ts_ns, fr.data, off, diag, stats, esp)
        if rec is not None:
            rec.source = source
            if rec.ip_len > max(fr.wirelen, len(fr.data)) - off:
                _longer_than_frame(rec, max(fr.wirelen, len(fr.data)) - off, diag)
            yield rec


def _longer_than_frame(rec: Record, carried: int, diag: Diagnostics) -> None:
    """A packet whose IPv6 Payload Length claims more octets than its frame had on the
    wire (the original length: a snap-length cut shortens the captured octets only): a
    false length, tshark's "IPv6 payload length exceeds framing length".  The packet's
    length is unknown (ip_len 0, never 40 + the false one); it is decoded as far as the
    frame goes.  Said of the packets that matter only, as every decoding warning."""
    diag.warn(
        "ipv6_length_exceeds_frame",
        f"frame {rec.frame}: IPv6 payload length {rec.ip_len - IPV6_HEADER_LEN} exceeds the "
        f"frame, which carries {max(carried - IPV6_HEADER_LEN, 0)} octets after the IPv6 "
        "header: packet length unknown (ip_len empty), decoded as far as it goes",
        rec.frame,
    )
    rec.ip_len = 0


def capture_records(
    stream,
    diag: Diagnostics,
    stats: StreamStats | None = None,
    name: str = "",
    progress=None,
    esp=None,
) -> Iterator[Record]:
    """Records of a pcap or pcapng ``stream`` (binary file object, path or "-"), identical
    to ``records_from_frames(open_frames(stream, diag), diag, stats, name)``, but the
    capture walker hands on only the frames that can matter (skip rule
    :data:`ebutool.capture.skip.MOBILITY`) and counts the others in ``stats``.

    Raises InputError for a file that is no capture at all, *before* the first record
    is asked for (like ``open_frames``).  ``esp``: an :class:`ebutool.esp.EspContext`
    that decrypts ESP packets of known SAs and counts the others by SPI."""
    from ebutool.capture.skip import MOBILITY
    from ebutool.capture.source import open_frames

    stats = stats if stats is not None else StreamStats()
    frames = open_frames(stream, diag, MOBILITY, stats, progress)
    return records_from_frames(frames, diag, stats, name, esp)


def read_records(
    source,
    diag: Diagnostics,
    stats: StreamStats | None = None,
    progress=None,
    esp_sas: Sequence[EspSA] | None = None,
    content: ContentHash | None = None,
) -> Iterator[Record | HandoverEvent]:
    """Records from a capture (pcap/pcapng) or a JSON Lines trace, by content.

    Captures go through :func:`capture_records`, which decodes only the packets that
    can matter and gives exactly what :func:`records_from_frames` gives.
    ``progress``: optional object with ``update(frames=..., octets=...)``
    (:class:`ebutool.core.progress.Progress`), called about once per MiB of capture.
    ``esp_sas``: ESP security associations (:class:`ebutool.esp.EspSA`, e.g. from
    :func:`ebutool.esp.load_sa_files`); ESP packets of these SAs are decrypted and
    analysed like clear ones, and ESP to or from a mobile node without an SA is
    counted per SPI with one ``esp_no_sa`` hint each.  ``content``: hashes the file's
    octets as they are read (:class:`ebutool.stream.content_hash.ContentHash`)."""
    from ebutool.stream.sniff import open_input

    kind, stream, name = open_input(source, diag, content)
    if kind == "jsonl":
        from ebutool.trace.jsonl import read_trace_records

        yield from read_trace_records(stream, diag, stats, name)
        return
    from ebutool.esp.context import EspContext

    esp = EspContext(esp_sas or ())
    yield from capture_records(stream, diag, stats, name, progress, esp)
    esp.finish(diag)
