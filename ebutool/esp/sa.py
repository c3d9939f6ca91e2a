"""Security associations: what decrypts one SPI's ESP packets, and how one is selected.

An :class:`EspSA` holds the algorithms and keys of one inbound or outbound SA and its
selectors (SPI, source and destination address, each may be a wildcard ``*``, or an
address text ending in ``*`` for a prefix, as Wireshark's ``esp_sa`` table allows; an
SPI may be a hex pattern such as ``0x0000*``, see :func:`spi_selector`).
:class:`SATable` picks the SA of a packet: by SPI and addresses; when only the SPI
matches (the care-of address moved, RFC 4877 / XFRM migrate, or an RFC 3776 transport
SA named by the home address) the SA is still used and the caller says so once.

Keys are :class:`SecretKey` objects: their ``repr``/``str`` never show the octets.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

WILDCARD = "*"
# RFC 4303 3.4.3: a receiver's anti-replay window; 64 is the RFC's recommended size
# (an SA file may give its own, e.g. ``replay-window`` of ``ip xfrm state``; otherwise
# ``--esp-replay-window``, see :func:`with_replay_window`).
DEFAULT_REPLAY_WINDOW = 64
SPI_BITS = 32
FULL_SPI_MASK = (1 << SPI_BITS) - 1
SPI_HEX_DIGITS = SPI_BITS // 4
# (selector, address) answers kept: every ESP packet asks for its SA's addresses, and
# parsing both texts each time cost more than decrypting the packet (bounded: a capture
# chooses its addresses).
ADDRESS_MATCH_CACHE = 4096


class SecretKey:
    """Key octets that never appear in a repr, str, log line or error message."""

    __slots__ = ("_octets",)

    def __init__(self, octets: bytes):
        self._octets = bytes(octets)

    @property
    def octets(self) -> bytes:
        return self._octets

    def __len__(self) -> int:
        return len(self._octets)

    def __repr__(self) -> str:
        return f"<key, {len(self._octets)} octets>"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretKey) and other._octets == self._octets

    def __hash__(self) -> int:
        return hash(("SecretKey", len(self._octets)))

    def __reduce__(self):  # picklable for -j N workers (stays in memory, never printed)
        return (SecretKey, (self._octets,))


@dataclass(frozen=True)
class EspSA:
    """One ESP security association (RFC 4303): selectors, algorithms, keys."""

    spi: int | None  # None: any SPI (a wildcard)
    src: str = WILDCARD  # source address selector: an address, "*", or "prefix*"
    dst: str = WILDCARD
    encryption: str = "null"  # a key of ebutool.esp.algorithms.CIPHERS
    enc_key: SecretKey = field(default_factory=lambda: SecretKey(b""), repr=False)
    integrity: str = "null"  # a key of ebutool.esp.algorithms.INTEGRITY
    auth_key: SecretKey = field(default_factory=lambda: SecretKey(b""), repr=False)
    esn: bool = False  # 64-bit extended sequence numbers (RFC 4303 2.2.1)
    esn_high: int = 0  # the upper 32 bits to start from, when the SA says
    replay_window: int | None = None  # None: the SA file gives none (the run's default)
    origin: str = ""  # where the SA came from ("file:line"), for messages
    spi_mask: int = FULL_SPI_MASK  # the SPI bits that must match (a pattern: fewer)

    @property
    def window(self) -> int:
        """The anti-replay window in effect (the SA's own, else the default)."""
        return self.replay_window or DEFAULT_REPLAY_WINDOW

    def spi_matches(self, spi: int) -> bool:
        """The SPI selector matches ``spi`` (any SPI, a pattern, or the SPI itself)."""
        return self.spi is None or (spi & self.spi_mask) == self.spi

    @property
    def label(self) -> str:
        """The algorithms, as decode's ``esp_algorithm`` column shows them."""
        if self.encryption.startswith("aes-gcm"):  # a combined mode: no separate integrity
            return self.encryption
        return f"{self.encryption}/{self.integrity}"

    @property
    def has_icv(self) -> bool:
        """The SA checks integrity (a combined mode, or an integrity algorithm)."""
        return self.encryption.startswith("aes-gcm") or self.integrity != "null"

    def problem(self) -> str | None:
        """Why this SA cannot be used (unknown algorithm, wrong key length), or None."""
        from ebutool.esp.algorithms import CIPHERS, INTEGRITY

        cipher = CIPHERS.get(self.encryption)
        if cipher is None:
            return f"encryption algorithm {self.encryption!r} is not supported"
        integ = INTEGRITY.get(self.integrity)
        if integ is None:
            return f"integrity algorithm {self.integrity!r} is not supported"
        if len(self.enc_key) not in cipher.key_lengths:
            lengths = "/".join(str(n) for n in cipher.key_lengths)
            return f"{cipher.name} key of {len(self.enc_key)} octets (expected {lengths})"
        if integ.key_lengths and len(self.auth_key) not in integ.key_lengths:
            lengths = "/".join(str(n) for n in integ.key_lengths)
            return f"{integ.name} key of {len(self.auth_key)} octets (expected {lengths})"
        return None


def with_replay_window(sas: Iterable[EspSA], window: int) -> list[EspSA]:
    """``sas``, each with anti-replay window ``window`` where its SA file gave none."""
    return [sa if sa.replay_window else replace(sa, replay_window=window) for sa in sas]


def spi_selector(text: str) -> tuple[int, int] | None:
    """(SPI value, mask) of a Wireshark-style hex SPI pattern, or None if ``text`` is not
    one.  ``0x`` and up to 8 hex digits where ``*`` is any digit; a trailing ``*`` after
    fewer than 8 makes the rest any digits (a prefix of the 8-digit text): ``0x0000*``
    is 0x00000000-0x0000ffff, ``0x000010*0`` every 16th SPI from 0x1000."""
    t = text.strip().lower()
    if t[:2] != "0x" or WILDCARD not in t:
        return None
    digits = t[2:]
    if len(digits) < SPI_HEX_DIGITS and digits.endswith(WILDCARD):
        digits = digits[:-1] + WILDCARD * (SPI_HEX_DIGITS - len(digits) + 1)
    if len(digits) != SPI_HEX_DIGITS or any(c not in "0123456789abcdef*" for c in digits):
        return None
    value = mask = 0
    for c in digits:
        value, mask = value << 4, mask << 4
        if c != WILDCARD:
            value, mask = value | int(c, 16), mask | 0xF
    return value, mask


@functools.lru_cache(maxsize=ADDRESS_MATCH_CACHE)
def address_matches(selector: str, address: str | None) -> bool:
    """Wireshark's rule: ``*`` matches anything, ``text*`` a prefix of the address's
    full (exploded) text or of its compressed text, anything else the address itself."""
    if selector == WILDCARD:
        return True
    if address is None:
        return False
    if selector.endswith(WILDCARD):
        head = selector[:-1].lower()
        try:
            full = ipaddress.IPv6Address(address).exploded
        except ValueError:
            full = address
        return address.startswith(head) or full.startswith(head)
    try:
        return ipaddress.ip_address(selector) == ipaddress.ip_address(address)
    except ValueError:
        return False


class SATable:
    """The SAs of a run, looked up by SPI (then by addresses among those of one SPI)."""

    def __init__(self, sas: Iterable[EspSA] = ()):
        self.by_spi: dict[int, list[EspSA]] = {}
        self.any_spi: list[EspSA] = []  # SPI patterns first, then any-SPI SAs
        wild: list[EspSA] = []
        for sa in sas:
            if sa.spi is None:
                wild.append(sa)
            elif sa.spi_mask != FULL_SPI_MASK:
                self.any_spi.append(sa)
            else:
                self.by_spi.setdefault(sa.spi, []).append(sa)
        self.any_spi.extend(wild)

    def __bool__(self) -> bool:
        return bool(self.by_spi or self.any_spi)

    def __len__(self) -> int:
        return sum(map(len, self.by_spi.values())) + len(self.any_spi)

    def lookup(
        self, spi: int, srcs: tuple[str | None, ...], dsts: tuple[str | None, ...]
    ) -> tuple[EspSA | None, bool]:
        """(the SA for ``spi``, whether its address selectors matched).  ``srcs``/``dsts``:
        the packet's candidate addresses (outer source and Home Address option; outer
        destination and type 2 routing header address)."""
        candidates = self.by_spi.get(spi, [])
        patterned = [sa for sa in self.any_spi if sa.spi_matches(spi)]
        for sa in candidates + patterned:
            if any(address_matches(sa.src, a) for a in srcs) and any(
                address_matches(sa.dst, a) for a in dsts
            ):
                return sa, True
        if candidates:  # a pattern or any-SPI SA is used with matching addresses only
            return candidates[0], False
        return None, False


def sas_digest(sas: Iterable[EspSA]) -> str | None:
    """A SHA-256 (hex) of the SAs' selectors, algorithms, windows and keys, in a stable
    order; None for no SAs.  Says whether two runs decrypt alike (the record store keeps
    it to tell a part extracted with other SAs) without holding a key."""
    import hashlib

    lines = sorted(
        repr(
            (
                sa.spi,
                sa.spi_mask,
                sa.src,
                sa.dst,
                sa.encryption,
                sa.enc_key.octets.hex(),
                sa.integrity,
                sa.auth_key.octets.hex(),
                sa.esn,
                sa.esn_high,
                sa.window,
            )
        )
        for sa in sas
    )
    if not lines:
        return None
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()
