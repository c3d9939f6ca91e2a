"""Flooding exposure (draft 4.2, 6.2): what a CN sent to care-of addresses it had not verified.

Counting rules (docs/replay.md "Flooding exposure"): a *CN packet* is a data packet
captured at the MN with source = the CN, a type 2 routing header naming the MN's home
address and destination = a care-of address (RFC 6275 9.3.2 route-optimised data);
its size is the IPv6 packet length ``Record.ip_len`` (40-octet header included).

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
from ebutool.core.units import ms, seconds

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


def count_packet(look: Lookup, frame: int, ts_ns: int, mn: str, cn: str, coa: str, ip_len: int):
    """Count one CN packet to ``coa``; the divergence it is, or None when the model
    allows it."""
    e = look.entry
    if e is not None and e.coa == coa:
        if e.state is State.tentative and e.tentative is not None:
            e.tentative.unverified_packets += 1
            e.tentative.unverified_bytes += ip_len
        return None
    if look.lapsed is not None:
        tb = look.lapsed
        tb.overstay_packets += 1
        tb.overstay_bytes += ip_len
        tb.violations += 1
        late_ms = ms(ts_ns - tb.expires_ns)
        return Divergence(
            frame,
            ts_ns,
            mn,
            cn,
            KIND_DATA_OVERSTAY,
            f"no data to {coa} after {seconds(tb.expires_ns):.6f}",
            f"data to {coa}, {ip_len} octets",
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
        f"data to {coa}, {ip_len} octets",
        f"{coa} is not bound: {look.gone}",
        coa,
    )


def exposure_frame(tentatives: list[TentativeBinding], end_ns: int | None) -> pd.DataFrame:
    """One row per tentative binding (EXPOSURE_COLUMNS)."""
    rows = []
    for tb in tentatives:
        if tb.end_ns is not None:
            end = tb.end_ns
        else:  # still tentative when the capture ended
            end = max(
                tb.start_ns, min(tb.expires_ns, end_ns if end_ns is not None else tb.start_ns)
            )
        rows.append(
            {
                "mn": tb.mn,
                "cn": tb.cn,
                "coa": tb.coa,
                "tentative_start": seconds(tb.start_ns),
                "tentative_end": seconds(end),
                "tentative_ms": ms(end - tb.start_ns),
                "verified": tb.verified,
                "unverified_packets": tb.unverified_packets,
                "unverified_bytes": tb.unverified_bytes,
                "overstay_packets": tb.overstay_packets,
                "overstay_bytes": tb.overstay_bytes,
                "violations": tb.violations,
                "frame": tb.frame,
                "end_reason": tb.end_reason,
            }
        )
    df = pd.DataFrame(rows, columns=EXPOSURE_COLUMNS)
    if df.empty:
        return df.astype(
            {
                "verified": bool,
                "unverified_packets": int,
                "unverified_bytes": int,
                "overstay_packets": int,
                "overstay_bytes": int,
                "violations": int,
                "frame": int,
            }
        )
    return df
