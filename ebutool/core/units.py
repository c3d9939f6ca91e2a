"""Time conversions shared by every part (docs/architecture.md: integer nanoseconds
inside, epoch seconds and milliseconds in outputs).  Integer arithmetic where it can:
``ts_ns / 1e9`` first rounds an epoch-ns integer to a float and prints 1704110402.5500002.
"""

from __future__ import annotations

NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000
NS_PER_US = 1_000
# Times are int64 nanoseconds since the epoch: 1970-01-01 to 2262-04-11.  A capture time
# outside (an if_tsoffset or if_tsresol pushing it there) is diagnosed, never used.
MIN_TS_NS, MAX_TS_NS = 0, (1 << 63) - 1


def seconds(ts_ns: int) -> float:
    """Epoch seconds whose shortest repr is the capture's value (1700000000.031, not
    1700000000.0310001 as ts_ns / 1e9 can give): Python's int / int is correctly
    rounded, so this is the float nearest to the exact decimal.  (sec + ns / 1e9, the
    former way, is not: 1 s + 999996 us gave 1.9999959999999999.)"""
    return ts_ns / NS_PER_S


def to_ns(s: float) -> int:
    """A duration in seconds (a protocol constant, a requested lifetime) as nanoseconds,
    rounded to the nearest (1.001 s is 1001000000 ns; int(1.001 * 1e9) is one less)."""
    return round(s * NS_PER_S)


def ms(duration_ns: int) -> float:
    """A duration in milliseconds (the tables' ``*_ms`` columns)."""
    return duration_ns / NS_PER_MS


def ms_to_ns_us(duration_ms: float) -> int:
    """Milliseconds as integer ns, rounded to the whole microsecond: the resolution pcap,
    pcapng and JSON traces all hold exactly (synth keeps its scenario time on it)."""
    return round(duration_ms * 1000) * 1000
