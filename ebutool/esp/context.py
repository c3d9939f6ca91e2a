"""ESP in a packet stream: find the ESP header, pick the SA, decrypt, rebuild the packet.

One :class:`EspContext` serves one input (its replay windows and counts are per run).
:meth:`EspContext.open` turns an IPv6 packet whose header chain ends in ESP into the
packet as it would have been sent in clear: the headers before ESP, the next header
that pointed to ESP replaced by the ESP trailer's, the payload lengths adjusted, then
the decrypted payload (transport mode: the MH; tunnel mode: the inner IPv6 packet).
So the decrypted packet goes through the same decoder as a clear one.

Packets of SPIs without an SA are counted per SPI; :meth:`EspContext.finish` gives one
``esp_no_sa`` hint per SPI seen to or from an address known from mobility signalling
(a mobile node's home or care-of address, a home agent), and none for unrelated VPN
traffic.  :meth:`EspContext.skip_unknown` is the fast path's cheap test: an ESP packet
right after its IPv6 header whose SPI no SA can match is only counted (its SPI and raw
addresses), never decoded.  At most :data:`MAX_NO_SA_SPIS` SPIs and
:data:`MAX_PAIRS_PER_SPI` address pairs each are kept (the packets of further SPIs are
counted together and said in one line): a capture chooses its SPIs, memory stays bounded.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ebutool.core import constants as C
from ebutool.core.addr import format_address
from ebutool.core.diagnostics import Diagnostics
from ebutool.esp.sa import EspSA, SATable

if TYPE_CHECKING:
    from ebutool.esp.decrypt import Opened, ReplayState

_CHAIN = frozenset((C.NH_HOPOPTS, C.NH_ROUTING, C.NH_DSTOPTS, C.NH_AH))
_MAX_DEPTH = 3  # IPv6 headers walked (outer, tunnelled, one more)
MAX_NO_SA_SPIS = 4096  # SPIs without an SA counted one by one (the rest together)
MAX_PAIRS_PER_SPI = 16  # (source, destination) pairs kept per such SPI for the hint
# Addresses from mobility signalling remembered for the hint (issue 12: one BU per home
# address would otherwise keep every address of the capture); beyond it every SPI
# without an SA gets its hint, saying the addresses were not all remembered.
MAX_KNOWN_ADDRESSES = 65536
_SPI_AT = C.IPV6_HEADER_LEN  # the SPI of ESP right after the IPv6 header
_ESP_MIN = 8  # SPI and sequence number: a shorter ESP packet is not looked at
ADDRESS_TEXT_CACHE = 4096  # address texts kept (each ESP packet's two addresses)


@dataclass
class EspLocation:
    """Where the ESP header of a packet is and what must change around it."""

    esp: int  # offset of the SPI
    end: int  # end of the ESP packet (its IPv6 payload's end)
    nh_at: int  # offset of the octet holding next header 50
    headers: list[int]  # offsets of the IPv6 headers enclosing the ESP header
    packet_end: int  # end of the outermost IPv6 packet (as captured)
    cut: bool  # the capture holds fewer octets than the payload length says


def locate_esp(buf: bytes, off: int) -> EspLocation | None:
    """The ESP header of the IPv6 packet at ``buf[off:]``, following extension headers
    and IPv6-in-IPv6; None when the chain does not end in ESP (or is malformed: the
    decoder reports that)."""
    headers: list[int] = []
    limit = len(buf)
    packet_end = limit
    h = off
    for _ in range(_MAX_DEPTH):
        if limit - h < C.IPV6_HEADER_LEN or buf[h] >> 4 != 6:
            return None
        plen = buf[h + 4] << 8 | buf[h + 5]
        full = h + C.IPV6_HEADER_LEN + plen
        end = min(full, limit) if plen else limit
        if not headers:
            packet_end = end
        headers.append(h)
        nh, nh_at, i = buf[h + 6], h + 6, h + C.IPV6_HEADER_LEN
        while nh in _CHAIN:
            if i + 2 > end:
                return None
            hlen = (buf[i + 1] + 2) * 4 if nh == C.NH_AH else (buf[i + 1] + 1) * 8
            nh, nh_at, i = buf[i], i, i + hlen
        if nh == C.NH_ESP:
            return EspLocation(i, end, nh_at, headers, packet_end, plen != 0 and full > limit)
        if nh != C.NH_IPV6:
            return None
        h, limit = i, end
    return None


def rebuild(buf: bytes, off: int, loc: EspLocation, opened: Opened) -> bytes:
    """The packet at ``buf[off:]`` with its ESP header, payload and trailer replaced by the
    decrypted payload (module doc)."""
    out = bytearray(buf[off : loc.esp])
    out[loc.nh_at - off] = opened.next_header
    shrink = (loc.end - loc.esp) - len(opened.payload)
    for h in loc.headers:
        at = h - off + 4
        plen = out[at] << 8 | out[at + 1]
        if plen:
            plen -= shrink
            out[at], out[at + 1] = plen >> 8, plen & 0xFF
    out += opened.payload
    out += buf[loc.end : loc.packet_end]
    return bytes(out)


def _address(buf: bytes, at: int) -> str:
    return _address_text(buf[at : at + 16])


@functools.lru_cache(maxsize=ADDRESS_TEXT_CACHE)
def _address_text(raw: bytes) -> str:
    """The text of a 16-octet address (the few endpoints of a run's SAs recur)."""
    return format_address(raw)


class EspContext:
    """The SAs of one run and its ESP state (module doc)."""

    def __init__(self, sas: Iterable[EspSA] = ()):
        self.table = SATable(sas)
        self.states: dict[int, ReplayState] = {}  # id(SA) -> its replay state
        self.problems: dict[int, str | None] = {}  # id(SA) -> why it cannot be used
        self.no_sa: Counter[int] = Counter()
        self.no_sa_pairs: dict[int, set[bytes]] = {}  # SPI -> raw source + destination
        self.no_sa_known: set[int] = set()  # SPIs seen with a HAO or type 2 routing header
        self.no_sa_more = 0  # packets of SPIs beyond MAX_NO_SA_SPIS
        self.known: set[str] = set()
        self.known_more = 0  # addresses not remembered beyond MAX_KNOWN_ADDRESSES
        self.moved_noted: set[int] = set()
        self.decrypted = 0

    def learn(self, addresses: Iterable[str | None]) -> None:
        """Addresses of mobile nodes, care-of addresses and home agents, from signalling."""
        known = self.known
        for a in addresses:
            if a and a not in known:
                if len(known) >= MAX_KNOWN_ADDRESSES:
                    self.known_more += 1
                else:
                    known.add(a)

    def open(
        self,
        buf: bytes,
        off: int,
        frame: int,
        diag: Diagnostics,
        hoa: str | None,
        rh2: str | None,
    ) -> tuple[bytes, Opened, EspSA] | None:
        """(the packet in clear, the ESP facts, the SA), or None when it cannot be
        decrypted (no SA, a refused packet: diagnosed here, counted per SPI)."""
        loc = locate_esp(buf, off)
        if loc is None or loc.end - loc.esp < 8:
            return None
        spi = int.from_bytes(buf[loc.esp : loc.esp + 4], "big")
        h = loc.headers[-1]
        src, dst = _address(buf, h + 8), _address(buf, h + 24)
        sa, matched = self.table.lookup(spi, (src, hoa), (dst, rh2))
        if sa is None:
            self._count_no_sa(spi, buf[h + 8 : h + 40])
            if hoa is not None or rh2 is not None:
                self.no_sa_known.add(spi)
            return None
        problem = self.problems.get(id(sa), "")
        if problem == "":
            problem = self.problems[id(sa)] = sa.problem()
        if problem is not None:
            diag.warn(
                "esp_unsupported_algorithm", f"frame {frame}: SPI 0x{spi:08x}: {problem}", frame
            )
            return None
        if not matched and spi not in self.moved_noted:
            self.moved_noted.add(spi)
            diag.warn(
                "esp_sa_addresses_differ",
                f"frame {frame}: SPI 0x{spi:08x} from {src} to {dst}: the SA names "
                f"{sa.src} -> {sa.dst}; used by its SPI (care-of address moved, RFC 4877)",
                frame,
            )
        if loc.cut:
            diag.warn("esp_truncated", f"frame {frame}: ESP packet cut off by the capture", frame)
            return None
        # Imported here: a run without SAs never loads the cryptography library.
        from ebutool.esp.decrypt import ReplayState, open_esp

        state = self.states.get(id(sa))
        if state is None:
            state = self.states[id(sa)] = ReplayState(sa.window)
        opened = open_esp(buf[loc.esp : loc.end], sa, state)
        if isinstance(opened, str):
            diag.warn(opened, f"frame {frame}: SPI 0x{spi:08x}: {_REFUSED[opened]}", frame)
            return None
        self.decrypted += 1
        return rebuild(buf, off, loc, opened), opened, sa

    def skip_unknown(self, buf: bytes, off: int) -> bool:
        """True (the packet counted by SPI) if the IPv6 packet at ``buf[off:]``, whose next
        header is ESP, has an SPI no SA can match: the fast path then decodes nothing
        more (module doc).  False: the decoder looks at it (an SA may match, or the packet
        is too short to say)."""
        end = len(buf)
        if end - off < _SPI_AT + _ESP_MIN or buf[off] >> 4 != 6:
            return False
        plen = buf[off + 4] << 8 | buf[off + 5]
        if plen and off + _SPI_AT + plen < end:
            end = off + _SPI_AT + plen
        if end - off < _SPI_AT + _ESP_MIN:
            return False
        at = off + _SPI_AT
        spi = int.from_bytes(buf[at : at + 4], "big")
        table = self.table
        if spi in table.by_spi or (
            table.any_spi and any(sa.spi_matches(spi) for sa in table.any_spi)
        ):
            return False
        self._count_no_sa(spi, buf[off + 8 : off + 40])
        return True

    def _count_no_sa(self, spi: int, pair: bytes) -> None:
        """Count a packet of an SPI without an SA, with its raw source + destination."""
        pairs = self.no_sa_pairs.get(spi)
        if pairs is None:
            if len(self.no_sa_pairs) >= MAX_NO_SA_SPIS:
                self.no_sa_more += 1
                return
            pairs = self.no_sa_pairs[spi] = set()
        self.no_sa[spi] += 1
        if len(pairs) < MAX_PAIRS_PER_SPI:
            pairs.add(pair)

    def finish(self, diag: Diagnostics) -> None:
        """One ``esp_no_sa`` hint per SPI without an SA whose packets went to or came from
        a mobile node, care-of address or home agent (known by the end of the input)."""
        for spi, count in self.no_sa.items():
            pairs = sorted((_address(p, 0), _address(p, 16)) for p in self.no_sa_pairs[spi])
            mobile = [(s, d) for s, d in pairs if s in self.known or d in self.known]
            if spi in self.no_sa_known or mobile or self.known_more:
                src, dst = (mobile or pairs)[0]
                unsure = (
                    ""
                    if mobile or spi in self.no_sa_known
                    else f" (more than {MAX_KNOWN_ADDRESSES} addresses in mobility signalling, "
                    "not all remembered: it may not be mobile traffic)"
                )
                diag.warn(
                    "esp_no_sa",
                    f"{count} ESP packet(s) with SPI 0x{spi:08x} from {src} to {dst}: "
                    f"no security association for them; give one with --esp-sa FILE{unsure}",
                )
        if self.no_sa_more:
            diag.warn(
                "esp_no_sa_spis_untracked",
                f"{self.no_sa_more} ESP packet(s) of more than {MAX_NO_SA_SPIS} further SPIs "
                "without a security association: counted together, not by SPI",
            )


_REFUSED = {
    "esp_icv_mismatch": "ICV does not verify (wrong key or corrupted packet): not used",
    "esp_bad_padding": "padding does not check (wrong key?): not used",
    "esp_replayed_sequence": "sequence number seen before (replay): not used",
    "esp_truncated": "ESP packet too short for its SA's algorithms: not used",
}
