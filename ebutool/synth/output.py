"""Writing a :class:`SynthResult`: the capture (pcap/pcapng, raw IPv6 link type),
the matching JSON Lines trace, and the CNs' key material for ``ebutool verify``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import BinaryIO, TextIO

from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import UsageError
from ebutool.core.units import MAX_TS_NS, ms_to_ns_us
from ebutool.records.record import HandoverEvent, Record
from ebutool.synth.simulator import SynthResult
from ebutool.wire import build

# The last stamp each capture file can hold: pcap's record header keeps the seconds in an
# unsigned 32-bit field (2106-02-07T06:28:15Z), pcapng's packet block the time in an
# unsigned 64-bit count of (synth's) microseconds, beyond what ebutool reads (MAX_TS_NS,
# 2262); neither holds a time before 1970.
PCAP_LAST_SECOND = 0xFFFFFFFF
PCAPNG_LAST_US = 0xFFFFFFFFFFFFFFFF


class CaptureTimeError(UsageError):
    """A packet's stamp that the capture format cannot hold (:func:`stamp_problem`)."""


def stamp_problem(packets: list[tuple[int, bytes]], pcapng: bool) -> str | None:
    """Why these (stamp ns, octets) cannot be written as pcap (pcapng), or None: a stamp
    before 1970 or after the format's last time.  (dpkt failed on one with a bare
    struct error: 'I' format requires 0 <= number <= 4294967295.)"""
    if not packets:
        return None
    fmt = "pcapng" if pcapng else "pcap"
    first = min(t for t, _ in packets)
    last_us = (max(t for t, _ in packets) + 500) // 1000
    if first < 0:
        when = _when_ns(first)
        return f"its first packet would be stamped {when}, before 1970: no {fmt} file holds it"
    if not pcapng and last_us > PCAP_LAST_SECOND * 10**6 + 999_999:
        return (
            f"its last packet would be stamped {_when_ns(last_us * 1000)}, after "
            f"{_when_ns(PCAP_LAST_SECOND * 10**9)}, the last time a pcap file holds"
            " (pcapng holds later ones up to 2262: --pcapng)"
        )
    if last_us > min(PCAPNG_LAST_US, MAX_TS_NS // 1000):
        # pcapng holds it, but no reader of ebutool's (int64 nanoseconds) would
        return (
            f"its last packet would be stamped {_when_ns(last_us * 1000)}, after "
            f"{_when_ns(MAX_TS_NS)}, the last time ebutool reads (64-bit nanoseconds)"
        )
    return None


def _when_ns(ts_ns: int) -> str:
    """A stamp as UTC date-time, or seconds since 1970 where the calendar ends (9999)."""
    import datetime as dt

    try:
        when = dt.datetime.fromtimestamp(ts_ns // 10**9, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return f"{ts_ns / 1e9:.6g} s since 1970"
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_capture(
    result: SynthResult,
    out: BinaryIO,
    pcapng: bool = False,
    *,
    view: str = "mn",
    clock_offset_ms: float = 0.0,
    clock_drift_ppm: float = 0.0,
) -> int:
    """The packets as captured at the MNs (``view`` "ha" or "cn": at the home agents or
    the correspondents, see :func:`ebutool.synth.simulate`'s ``views``); returns how many
    were written.  ``clock_offset_ms`` and ``clock_drift_ppm`` set that capture's clock:
    a packet seen at true time t is stamped t + offset + drift x (t - scenario start).
    pcap is written with microsecond timestamps (every synthesized time, and every
    stamp after the clock, is a whole microsecond).  A stamp the format cannot hold is a
    :class:`CaptureTimeError` before anything is written."""
    packets = view_packets(result, view, clock_offset_ms, clock_drift_ppm)
    problem = stamp_problem(packets, pcapng)
    if problem is not None:
        raise CaptureTimeError(f"the {view} capture: {problem}")
    if pcapng:
        return build.write_pcapng(out, packets, linktype=build.LINKTYPE_RAW_IPV6)
    return build.write_pcap(out, packets, linktype=build.LINKTYPE_RAW_IPV6)


def view_packets(
    result: SynthResult,
    view: str = "mn",
    clock_offset_ms: float = 0.0,
    clock_drift_ppm: float = 0.0,
) -> list[tuple[int, bytes]]:
    """(stamp ns, IPv6 octets) of one vantage point's capture, on its own clock."""
    if view == "mn":
        packets = result.packets
    elif view in result.views:
        packets = result.views[view]
    else:
        raise ValueError(f"the run kept no {view!r} view (simulate(..., views=(...)))")
    if not clock_offset_ms and not clock_drift_ppm:
        return packets
    start = result.scenario.start_ns
    offset = ms_to_ns_us(clock_offset_ms)
    return [
        (t + offset + round((t - start) * clock_drift_ppm * 1e-6 / 1000) * 1000, wire)
        for t, wire in packets
    ]


def trace_records(result: SynthResult) -> Iterator[Record | HandoverEvent]:
    """The message stream of the capture (the same Records the capture reader gives,
    with their frame numbers) with the handover events merged in before the packets
    of the same instant."""
    from ebutool.records.from_packet import record_from_packet

    diag = Diagnostics()
    events = iter(result.handovers)
    nxt = next(events, None)
    for frame, (ts_ns, wire) in enumerate(result.packets, start=1):
        while nxt is not None and nxt.ts_ns <= ts_ns:
            yield nxt
            nxt = next(events, None)
        rec = record_from_packet(frame, ts_ns, wire, 0, diag)
        if rec is not None:
            yield rec
    while nxt is not None:
        yield nxt
        nxt = next(events, None)
    if diag.total:  # the encoder side and the decoder disagree: a bug, never user input
        raise AssertionError(f"synthesized packets do not decode cleanly: {diag.kept[:3]}")


def write_json(result: SynthResult, out: TextIO, source_name: str | None = None):
    """The JSON Lines trace (docs/trace-format.md) with ``handover`` events."""
    from ebutool.trace.jsonl import write_trace

    return write_trace(trace_records(result), out, source_name or result.scenario.name)


def key_table(result: SynthResult) -> dict:
    """The CNs' Kcn and nonce tables in the ``ebutool verify --keys`` JSON form
    (nonce "generated" = the epoch time the CN started handing it out)."""
    sc = result.scenario
    out = {}
    for cn in sc.correspondents.values():
        out[cn.address] = {
            "kcn": cn.kcn.hex(),
            "nonces": {
                str(i): {
                    "nonce": n.hex(),
                    "generated": (sc.start_ns + ms_to_ns_us(cn.nonce_generated_ms(i))) / 1e9,
                }
                for i, n in cn.nonces.items()
            },
        }
    return out


def write_keys(result: SynthResult, out: TextIO) -> None:
    json.dump(key_table(result), out, indent=2, sort_keys=False)
    out.write("\n")
