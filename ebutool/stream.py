"""Frames -> records: link layer, IPv6, Mobility Header, classification."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from ebutool.diagnostics import Diagnostics
from ebutool.ipv6 import decode_ipv6_fields, is_relevant
from ebutool.mh.codec import checksum_ok, decode_mh
from ebutool.mh.messages import BindingUpdate, OtherMobilityMessage
from ebutool.records import MSG_DATA, Record, classify_bu


@dataclass
class StreamStats:
    """What a run read: frames, frames skipped by reason, MH messages by label."""

    frames: int = 0
    ipv6: int = 0
    relevant: int = 0
    skipped: Counter = field(default_factory=Counter)
    messages: Counter = field(default_factory=Counter)


def record_from_packet(
    frame: int,
    ts_ns: int,
    buf: bytes,
    off: int,
    diag: Diagnostics,
    stats: StreamStats | None = None,
) -> Record | None:
    """Decode the IPv6 packet at ``buf[off:]`` into a Record (None if irrelevant)."""
    # The hot path of every capture read (each candidate packet of the fast path comes
    # here): the Record is built straight from the IPv6 fields, without a Packet, and
    # positionally (a keyword call costs three times as much).
    problems: list[tuple[str, str]] = []
    fields = decode_ipv6_fields(buf, off, problems)
    if problems:
        for code, text in problems:
            diag.warn(code, f"frame {frame}: {text}", frame)
    if fields is None:
        if stats is not None:
            stats.skipped["undecodable_ipv6"] += 1
        return None
    src, dst, hoa, rh2, tunnel_src, tunnel_dst, proto, ip_len, mh, pseudo_src, pseudo_dst, _ = (
        fields
    )
    if not is_relevant(mh, hoa, rh2, tunnel_src):
        if stats is not None:
            stats.skipped["not_mobility_related"] += 1
        return None
    rec = Record(frame, ts_ns, src, dst, MSG_DATA, hoa, rh2, tunnel_src, tunnel_dst, proto, ip_len)
    if mh is not None:
        mh_problems: list[str] = []
        msg = decode_mh(mh, mh_problems)
        for text in mh_problems:
            diag.warn("malformed_mh", f"frame {frame}: {text}", frame)
        if msg is None:
            # The MH could not be decoded: keep the packet as data so it is still
            # counted (and diagnosed above), never silently dropped.
            if stats is not None:
                stats.skipped["malformed_mh"] += 1
        else:
            wire = mh[: (msg.header_len + 1) * 8]
            rec.mh, rec.mh_wire = msg, wire
            rec.checksum_ok = ok = checksum_ok(wire, pseudo_src, pseudo_dst, proto)
            if ok is False:  # None: cut off by the capture, cannot be checked
                diag.warn(
                    "bad_mh_checksum",
                    f"frame {frame}: {msg.NAME} checksum 0x{msg.checksum:04x} does not verify",
                    frame,
                )
            if isinstance(msg, BindingUpdate):
                rec.msg, rec.deregistration, rec.rfc4866 = classify_bu(msg, src, hoa)
            else:
                rec.msg = "other" if isinstance(msg, OtherMobilityMessage) else msg.NAME
    if stats is not None:
        stats.relevant += 1
        if rec.mh is not None:
            stats.messages[rec.msg] += 1
    return rec


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
    frames: Iterable, diag: Diagnostics, stats: StreamStats | None = None, source: str = ""
) -> Iterator[Record]:
    """The straightforward (reference) decoder: every frame through every layer."""
    from ebutool.capture.linktypes import ip6_offset

    stats = stats if stats is not None else StreamStats()
    for fr in frames:
        stats.frames += 1
        off = ip6_offset(fr.linktype, fr.data)
        if off is None:
            stats.skipped["not_ipv6"] += 1
            continue
        stats.ipv6 += 1
        rec = record_from_packet(fr.frame, fr.ts_ns, fr.data, off, diag, stats)
        if rec is not None:
            rec.source = source
            yield rec


def read_records(
    source, diag: Diagnostics, stats: StreamStats | None = None, progress=None
) -> Iterator[Record]:
    """Records from a capture (pcap/pcapng) or a JSON Lines trace, by content.

    Captures go through :func:`ebutool.fastpath.fast_records`, which decodes only the
    packets that can matter and gives exactly what :func:`records_from_frames` gives.
    ``progress``: optional object with ``update(frames=..., octets=...)``
    (:class:`ebutool.progress.Progress`), called about once per MiB of capture."""
    from ebutool.fastpath import fast_records
    from ebutool.inputs import open_input

    kind, stream, name = open_input(source)
    if kind == "jsonl":
        from ebutool.trace_json import read_trace_records

        yield from read_trace_records(stream, diag, stats, name)
        return
    yield from fast_records(stream, diag, stats, name, progress)
