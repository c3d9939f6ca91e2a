"""Flooding exposure (draft 4.2, 6.2): what a CN sent to care-of addresses it had not verified.

Counting rules (docs/replay.md "Flooding exposure"): a *CN packet* is a data packet
captured at the MN with source = the CN, a type 2 routing header naming the MN's home
address and destination = a care-of address (RFC 6275 9.3.2 route-optimised data);
its size is the IPv6 packet length ``Record.ip_len`` (40-octet header included).
A JSON Lines trace may not give it (docs/trace-format.md: ``ip_len`` 0 for data =
unknown), nor a captured packet whose Payload Length exceeds its frame
(``ipv6_length_exceeds_frame``, ip_len 0), nor one of Payload Length 0 (a jumbogram:
``ipv6_jumbogram``, ``ipv6_payload_length_zero``, ip_len 0): such a packet is counted, but a byte
sum it belongs to is unknown (empty, never a sum that leaves it out), and the replay says
so with a counted ``replay_length_unknown`` warning per exposure row.

- ``unverified_*``: CN packets to the tentative binding's care-of address that arrive
  while the binding is tentative (between its start and its verification or expiry,
  both ends included);
- ``overstay_*``: CN packets to that care-of address after the tentative lifetime ran
  out without verification, until a new binding for that address takes effect: each
  one is a ``data_after_tentative_lifetime`` divergence, counted in ``violations``.
"""

from __future__ import annotations

import pandas as pd

from ebutool.cn_replay.binding_cache import Lookup, State, TentativeBinding
from ebutool.cn_replay.divergences import KIND_DATA_OVERSTAY, KIND_DATA_UNBOUND, Divergence
from ebutool.core.constants import IPV6_HEADER_LEN
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.exact_time import EXACT_NS, exact_map
from ebutool.core.units import ms, seconds

# An IPv6 packet is at least its fixed header (RFC 8200 3); a shorter ``ip_len`` (a
# trace's 0 for a data packet: docs/trace-format.md; a captured packet whose Payload
# Length exceeds its frame) means the length is unknown.
MIN_KNOWN_IP_LEN = IPV6_HEADER_LEN
BYTE_COLUMNS = ("unverified_bytes", "overstay_bytes")  # nullable: empty when unknown
# A tentative binding the CN began only after the capture's last packet (an update at
# the capture's end, acted on at its send time plus the RTT): nothing of it observed.
AFTER_CAPTURE = "after_capture"
# its columns that are then empty (never 0 ms, 0 packets)
UNOBSERVED_COLUMNS = (
    "tentative_end",
    "tentative_ms",
    "unverified_packets",
    "unverified_bytes",
    "overstay_packets",
    "overstay_bytes",
    "violations",
)
COUNT_COLUMNS = ("unverified_packets", "overstay_packets", "violations")
# Why a packet has no length: the ways a Record gets ip_len 0.
NO_LENGTH = (
    "a trace without ip_len or a captured packet whose payload length exceeds its frame "
    "(ipv6_length_exceeds_frame) or is 0 (ipv6_jumbogram or ipv6_payload_length_zero)"
)

EXPOSURE_COLUMNS = [
    "mn",
    "cn",
    "coa",
    "tentative_start",
    "tentative_end",
    "tentative_ms",
    "verified",
    "unverified_packets",
    "unverified_bytes",
    "overstay_packets",
    "overstay_bytes",
    "violations",
    "frame",
    "end_reason",
]


def length_known(ip_len: int) -> bool:
    return ip_len >= MIN_KNOWN_IP_LEN


def describe_data(coa: str, ip_len: int) -> str:
    """The ``observed`` text of a CN packet's divergence."""
    if length_known(ip_len):
        return f"data to {coa}, {ip_len} octets"
    return f"data to {coa}, length unknown ({NO_LENGTH})"


def count_packet(look: Lookup, frame: int, ts_ns: int, mn: str, cn: str, coa: str, ip_len: int):
    """Count one CN packet to ``coa``; the divergence it is, or None when the model
    allows it."""
    known = length_known(ip_len)
    e = look.entry
    if e is not None and e.coa == coa:
        if e.state is State.tentative and e.tentative is not None:
            e.tentative.unverified_packets += 1
            if known:
                e.tentative.unverified_bytes += ip_len
            else:
                e.tentative.unverified_unknown_length += 1
        return None
    if look.lapsed is not None:
        tb = look.lapsed
        tb.overstay_packets += 1
        if known:
            tb.overstay_bytes += ip_len
        else:
            tb.overstay_unknown_length += 1
        tb.violations += 1
        late_ms = ms(ts_ns - tb.expires_ns)
        return Divergence(
            frame,
            ts_ns,
            mn,
            cn,
            KIND_DATA_OVERSTAY,
            f"no data to {coa} after {seconds(tb.expires_ns):.6f}",
            describe_data(coa, ip_len),
            f"{late_ms:.3f} ms after the tentative binding made by frame {tb.frame} "
            "ran out unverified (draft 4.2: the CN must stop sending)",
            coa,
        )
    expected = f"data to {e.coa}" if e is not None else "data to the home address"
    return Divergence(
        frame,
        ts_ns,
        mn,
        cn,
        KIND_DATA_UNBOUND,
        expected,
        describe_data(coa, ip_len),
        f"{coa} is not bound: {look.gone}",
        coa,
    )


def _bytes(total: int, unknown: int) -> int | None:
    return None if unknown else total


def _warn_unknown(tb: TentativeBinding, diag: Diagnostics) -> None:
    parts = [
        f"{n} of its {total} {what} packets"
        for n, total, what in (
            (tb.unverified_unknown_length, tb.unverified_packets, "unverified"),
            (tb.overstay_unknown_length, tb.overstay_packets, "overstay"),
        )
        if n
    ]
    empty = [
        col
        for col, n in zip(
            BYTE_COLUMNS, (tb.unverified_unknown_length, tb.overstay_unknown_length), strict=True
        )
        if n
    ]
    diag.warn(
        "replay_length_unknown",
        f"frame {tb.frame}: the tentative binding of {tb.coa} ({tb.mn} at {tb.cn}): "
        f"{' and '.join(parts)} have no IPv6 length ({NO_LENGTH}): "
        f"{' and '.join(empty)} empty (the packet counts stand)",
        tb.frame,
    )


def exposure_frame(
    tentatives: list[TentativeBinding], end_ns: int | None, diag: Diagnostics | None = None
) -> pd.DataFrame:
    """One row per tentative binding (EXPOSURE_COLUMNS); a byte sum that includes a
    packet of unknown length is empty (NA), with a ``replay_length_unknown`` warning in
    ``diag``."""
    rows, times = [], []
    for tb in tentatives:
        if diag is not None and (tb.unverified_unknown_length or tb.overstay_unknown_length):
            _warn_unknown(tb, diag)
        if end_ns is not None and tb.start_ns > end_ns:
            rows.append(_after_capture(tb))
            times.append(tb.start_ns)
            continue
        reason = tb.end_reason
        if tb.end_ns is not None and (end_ns is None or tb.end_ns <= end_ns):
            end = tb.end_ns
        else:
            # still tentative when the capture ended; an end the model places after the
            # capture's last packet (an unanswered update acted on at its send time plus
            # an estimated RTT) was not observed: the row stays open
            reason = "open"
            end = max(
                tb.start_ns, min(tb.expires_ns, end_ns if end_ns is not None else tb.start_ns)
            )
        times += [tb.start_ns, end]
        rows.append(
            {
                "mn": tb.mn,
                "cn": tb.cn,
                "coa": tb.coa,
                "tentative_start": seconds(tb.start_ns),
                "tentative_end": seconds(end),
                "tentative_ms": ms(end - tb.start_ns),
                "verified": reason == "verified",
                "unverified_packets": tb.unverified_packets,
                "unverified_bytes": _bytes(tb.unverified_bytes, tb.unverified_unknown_length),
                "overstay_packets": tb.overstay_packets,
                "overstay_bytes": _bytes(tb.overstay_bytes, tb.overstay_unknown_length),
                "violations": tb.violations,
                "frame": tb.frame,
                "end_reason": reason,
            }
        )
    df = pd.DataFrame(rows, columns=EXPOSURE_COLUMNS)
    if df.empty:
        df = df.astype({"verified": bool, "frame": int})
    df = df.astype({col: "Int64" for col in (*COUNT_COLUMNS, *BYTE_COLUMNS)})
    df = df.astype({"tentative_end": "float64", "tentative_ms": "float64"})
    df.attrs[EXACT_NS] = exact_map(times)  # the times' exact ns (ebutool.core.exact_time)
    return df


def _after_capture(tb: TentativeBinding) -> dict:
    """The row of a tentative binding that began after the capture's last packet: its
    start (the model's), the rest empty: the capture shows none of it."""
    row: dict = dict.fromkeys(UNOBSERVED_COLUMNS)
    row.update(
        mn=tb.mn,
        cn=tb.cn,
        coa=tb.coa,
        tentative_start=seconds(tb.start_ns),
        verified=False,
        frame=tb.frame,
        end_reason=AFTER_CAPTURE,
    )
    return row
