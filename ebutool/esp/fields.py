"""Field parsers shared by the SA file readers (errors never show a key)."""

from __future__ import annotations

import re

from ebutool.core.errors import UsageError
from ebutool.esp.sa import FULL_SPI_MASK, WILDCARD, EspSA, SecretKey, spi_selector


def parse_key(text: str, where: str) -> SecretKey:
    """``0x``-hex (Wireshark, xfrm) or plain hex (JSON); errors never show the value."""
    s = re.sub(r"[\s:]", "", text)
    if s[:2].lower() == "0x":
        s = s[2:]
    if len(s) % 2 or not re.fullmatch(r"[0-9a-fA-F]*", s):
        raise UsageError(f"{where}: a key is not a hexadecimal string (value not shown)")
    return SecretKey(bytes.fromhex(s))


def parse_spi(text: str, where: str) -> int | None:
    text = text.strip()
    if text in (WILDCARD, "0x*", ""):
        return None
    try:
        spi = int(text, 16) if text[:2].lower() == "0x" else int(text, 10)
    except ValueError:
        raise UsageError(f"{where}: SPI {text!r} is not a number") from None
    if not 0 <= spi < 1 << 32:
        raise UsageError(f"{where}: SPI {text} is not a 32-bit number")
    return spi


def parse_spi_selector(text: str, where: str) -> tuple[int | None, int]:
    """(SPI, mask) of an SPI selector: a number, ``*``, or a hex pattern such as
    ``0x0000*`` (Wireshark's wildcards, ebutool.esp.sa.spi_selector)."""
    pattern = spi_selector(text)
    if pattern is not None:
        return pattern
    if WILDCARD in text.strip()[1:]:
        raise UsageError(
            f"{where}: SPI {text.strip()!r} is not a pattern (0x and up to 8 hex digits "
            "or *, e.g. 0x0000*)"
        )
    return parse_spi(text, where), FULL_SPI_MASK


def address_field(text: str) -> str:
    text = text.strip()
    return text if text else WILDCARD


def checked(sa: EspSA, where: str) -> EspSA:
    """``sa``, unless its key lengths are wrong (a usage error; an unsupported algorithm
    is not: its packets are counted as esp_unsupported_algorithm)."""
    problem = sa.problem()
    if problem is not None and "not supported" not in problem:
        raise UsageError(f"{where}: {problem}")
    return sa
