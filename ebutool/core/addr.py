"""IPv6 address text <-> octets, in the compressed canonical form of Python's ``ipaddress``."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

CACHE_SIZE = 65536  # addresses remembered by each conversion cache


def format_address(octets: bytes) -> str:
    """16 octets -> compressed canonical text (uncached; see :func:`ntop`)."""
    return str(ipaddress.IPv6Address(octets))


ntop = lru_cache(maxsize=CACHE_SIZE)(format_address)
ntop.__doc__ = "16 octets -> compressed canonical text (cached: a trace reuses few addresses)."


@lru_cache(maxsize=CACHE_SIZE)
def pton(text: str) -> bytes:
    """IPv6 address text -> 16 octets; raises ValueError on anything else."""
    return ipaddress.IPv6Address(text).packed


def canonical(text: str) -> str:
    """Any valid IPv6 text form -> the compressed canonical form."""
    return ntop(pton(text))
