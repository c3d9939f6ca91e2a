"""IPv6 address text <-> octets, in the compressed canonical form of Python's ``ipaddress``."""
from __future__ import annotations

import ipaddress
from functools import lru_cache


@lru_cache(maxsize=65536)
def ntop(octets: bytes) -> str:
    """16 octets -> compressed canonical text (cached: a trace reuses few addresses)."""
    return str(ipaddress.IPv6Address(octets))


@lru_cache(maxsize=65536)
def pton(text: str) -> bytes:
    """IPv6 address text -> 16 octets; raises ValueError on anything else."""
    return ipaddress.IPv6Address(text).packed


def canonical(text: str) -> str:
    """Any valid IPv6 text form -> the compressed canonical form."""
    return ntop(pton(text))
