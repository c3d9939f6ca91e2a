"""One IPv6 packet -> one Record: the decoding shared by every capture reader."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ebutool.core.constants import MH_TYPE_AT
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.units import MAX_TS_NS, MIN_TS_NS
from ebutool.records.record import MSG_DATA, Record, classify_bu
from ebutool.wire.ipv6 import MH_EXCEEDS_PAYLOAD, decode_ipv6_fields, is_relevant
from ebutool.wire.mh.codec import checksum_ok, decode_mh
from ebutool.wire.mh.messages import BindingUpdate, OtherMobilityMessage

if TYPE_CHECKING:
    from ebutool.esp.context import EspContext

NH_ESP = 50  # ebutool.core.constants.NH_ESP, here for the hot path
NH_IPV6 = 41  # ebutool.core.constants.NH_IPV6 (IPv6-in-IPv6), likewise
MH_LEN_UNIT = 8  # the MH Header Len field counts 8-octet units (RFC 6275 6.1.1)


@dataclass
class StreamStats:
    """What a run read: frames, frames skipped by reason, MH messages by label."""

    frames: int = 0  # packets (EPB, SPB, PB, pcap records, trace lines)
    # pcapng blocks that are no packet but take a frame number, as Wireshark numbers
    # them (Custom Blocks): frame numbers run past ``frames`` by these
    numbered_blocks: int = 0
    ipv6: int = 0
    relevant: int = 0
    skipped: Counter = field(default_factory=Counter)
    messages: Counter = field(default_factory=Counter)
    # Decimals of the inputs' timestamps: 6, or 9 when a capture has nanosecond ones
    # (set by the capture walkers; ebutool.core.exact_time).  Not compared: the
    # reference run's stats never see the walker.
    time_decimals: int = field(default=6, compare=False)

    def numbered_note(self) -> str:
        """What a summary's frame count must add when frame numbers count more than the
        packets ("" when they do not): "frames 2" of a pcapng whose frames are numbered
        1 to 3 is no count of its frame numbers."""
        return numbered_note(self.numbered_blocks)


def numbered_note(n: int) -> str:
    """:meth:`StreamStats.numbered_note` of ``n`` pcapng blocks numbered as frames that
    are no packets (also for a sum over several inputs: extract's closing line)."""
    if not n:
        return ""
    blocks = (
        "pcapng Custom Block, numbered as a frame"
        if n == 1
        else ("pcapng Custom Blocks, numbered as frames")
    )
    return f" (+ {n} {blocks} too, as in Wireshark)"


def record_from_packet(
    frame: int,
    ts_ns: int,
    buf: bytes,
    off: int,
    diag: Diagnostics,
    stats: StreamStats | None = None,
    esp: EspContext | None = None,
) -> Record | None:
    """Decode the IPv6 packet at ``buf[off:]`` into a Record (None if irrelevant).

    ``esp``: the run's ESP state and SAs (ebutool.esp); an ESP packet it can decrypt is
    decoded as the packet in clear, and its Record keeps the SPI, sequence number and
    algorithms."""
    # The hot path of every capture read (each candidate packet of the fast path comes
    # here): the Record is built straight from the IPv6 fields, without a Packet, and
    # positionally (a keyword call costs three times as much).
    if esp is not None and len(buf) - off > 6 and buf[off + 6] == NH_ESP:
        if esp.skip_unknown(buf, off):  # ESP of an SPI without SA: counted, not decoded
            if stats is not None:
                stats.skipped["not_mobility_related"] += 1
            return None
    problems: list[tuple[str, str]] = []
    fields = decode_ipv6_fields(buf, off, problems)
    malformed = False  # a Mobility Header longer than its packet (MH_EXCEEDS_PAYLOAD)
    if problems:
        for code, text in problems:
            diag.warn(code, f"frame {frame}: {text}", frame)
            malformed |= code == MH_EXCEEDS_PAYLOAD
    if fields is None:
        if stats is not None:
            stats.skipped["undecodable_ipv6"] += 1
        return None
    opened = None
    if fields[6] == NH_ESP and esp is not None:
        opened = esp.open(buf, off, frame, diag, fields[2], fields[3])
        if opened is not None:
            fields, malformed = _decrypted_fields(opened[0], frame, diag, stats)
            if fields is None:
                return None
    src, dst, hoa, rh2, tunnel_src, tunnel_dst, proto, ip_len, mh, pseudo_src, pseudo_dst, _ = (
        fields
    )
    if not is_relevant(mh, hoa, rh2, tunnel_src):
        if stats is not None:
            # Next header 41 without a tunnel found: the tunnelled packet (an MN-HA
            # tunnel's HoTI, say) was cut or is no IPv6 (diagnosed above).  A tunnel
            # matters to the analysis: the packet is undecodable, not unrelated.
            why = "undecodable_ipv6" if proto == NH_IPV6 else "not_mobility_related"
            stats.skipped[why] += 1
        return None
    if not MIN_TS_NS <= ts_ns <= MAX_TS_NS:
        _out_of_range(frame, ts_ns, diag, stats)
        return None
    rec = Record(frame, ts_ns, src, dst, MSG_DATA, hoa, rh2, tunnel_src, tunnel_dst, proto, ip_len)
    if opened is not None:
        _, facts, sa = opened
        rec.esp_spi, rec.esp_seq, rec.esp_algorithm = facts.spi, facts.seq, sa.label
    if mh is not None and malformed:
        # No message (a receiver drops it) and no octets: they are not what the capture
        # cut (mh_wire would make it a cut message to the analysis); counted, kept as data
        if stats is not None:
            stats.skipped["malformed_mh"] += 1
    elif mh is not None:
        _read_message(rec, mh, pseudo_src, pseudo_dst, diag, stats)
    if opened is not None and not opened[2].has_icv:
        if (rec.mh is None or rec.checksum_ok is False) and tunnel_src is None:
            # No ICV: a wrong key gives random octets; never let them pass as a message
            # (or as data): only a Mobility Header whose checksum verifies, or a
            # tunnelled IPv6 packet, is taken.
            diag.warn(
                "esp_undecodable",
                f"frame {frame}: SPI 0x{opened[1].spi:08x} without integrity check decrypts "
                "to no valid Mobility Header (wrong key?): not used",
                frame,
            )
            return None
    if stats is not None:
        stats.relevant += 1
        if rec.mh is not None:
            stats.messages[rec.msg] += 1
    if esp is not None and rec.mh is not None:
        esp.learn((src, dst, hoa, rh2, tunnel_src, tunnel_dst))
    return rec


def _read_message(
    rec: Record,
    mh: bytes,
    pseudo_src: bytes,
    pseudo_dst: bytes,
    diag: Diagnostics,
    stats: StreamStats | None,
) -> None:
    """Decode the Mobility Header octets ``mh`` of ``rec`` (from its packet, whose
    checksum pseudo-header has ``pseudo_src`` and ``pseudo_dst``) into it."""
    frame = rec.frame
    mh_problems: list[str] = []
    msg = decode_mh(mh, mh_problems)
    for text in mh_problems:
        diag.warn("malformed_mh", f"frame {frame}: {text}", frame)
    if msg is None:
        # Undecodable: kept as data, counted (diagnosed above), never dropped
        rec.mh_wire = _undecoded_wire(mh)
        if stats is not None:
            stats.skipped["malformed_mh"] += 1
        return
    assert msg.header_len is not None  # decode_mh keeps the length as decoded
    wire = mh[: (msg.header_len + 1) * 8]
    rec.mh, rec.mh_wire = msg, wire
    rec.checksum_ok = ok = checksum_ok(wire, pseudo_src, pseudo_dst, rec.proto)
    if ok is False:  # None: cut off by the capture, cannot be checked
        diag.warn(
            "bad_mh_checksum",
            f"frame {frame}: {msg.NAME} checksum 0x{msg.checksum:04x} does not verify",
            frame,
        )
    if isinstance(msg, BindingUpdate):
        rec.msg, rec.deregistration, rec.rfc4866 = classify_bu(msg, rec.src, rec.hoa)
    else:
        rec.msg = "other" if isinstance(msg, OtherMobilityMessage) else msg.NAME


def _decrypted_fields(packet: bytes, frame: int, diag: Diagnostics, stats: StreamStats | None):
    """decode_ipv6_fields of a decrypted ESP packet (its problems said to be in it), and
    whether its Mobility Header exceeds its packet (MH_EXCEEDS_PAYLOAD)."""
    problems: list[tuple[str, str]] = []
    fields = decode_ipv6_fields(packet, 0, problems)
    for code, text in problems:
        diag.warn(code, f"frame {frame}: {text} (decrypted ESP payload)", frame)
    if fields is None and stats is not None:
        stats.skipped["undecodable_ipv6"] += 1
    return fields, any(code == MH_EXCEEDS_PAYLOAD for code, _ in problems)


def _out_of_range(frame: int, ts_ns: int, diag: Diagnostics, stats: StreamStats | None) -> None:
    """A relevant packet whose capture time is no int64 nanosecond time since 1970 (a
    pcapng interface's if_tsoffset or if_tsresol put it there): counted, not used."""
    diag.warn(
        "timestamp_out_of_range",
        f"frame {frame}: capture time {ts_ns} ns is outside {MIN_TS_NS}..{MAX_TS_NS} "
        "(1970 to 2262; check the interface's if_tsoffset and if_tsresol); packet skipped",
        frame,
    )
    if stats is not None:
        stats.skipped["timestamp_out_of_range"] += 1


def _undecoded_wire(mh) -> bytes | None:
    """The octets of a Mobility Header that could not be decoded, as captured, when they
    reach its MH type octet (the message is None): one the capture cut inside its fixed
    fields still shows its type (a CN's BA, say) to the analysis; None when shorter (a
    message of unknown type)."""
    if len(mh) <= MH_TYPE_AT:
        return None
    return bytes(mh[: (mh[1] + 1) * MH_LEN_UNIT])
