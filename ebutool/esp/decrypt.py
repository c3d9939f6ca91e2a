"""RFC 4303 inbound processing of one ESP packet with its SA.

:func:`open_esp` takes the ESP octets (from the SPI to the end of the IP payload) and
answers the inner payload and its next header, or the reason it cannot be used:

1. the sequence number, extended to 64 bits when the SA uses ESN (RFC 4303 Appendix A);
2. the ICV first (separate integrity algorithm, or the GCM tag): a mismatch means a wrong
   key or a corrupted packet, and the packet is not used;
3. the anti-replay window (RFC 4303 3.4.3): a sequence number seen before is refused;
4. decryption, then the trailer: padding must be 1, 2, 3, ... (RFC 4303 2.4), the pad
   length must fit, and the next header is the inner protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag

from ebutool.esp.algorithms import CIPHERS, INTEGRITY
from ebutool.esp.sa import EspSA

ESP_HEADER_LEN = 8  # SPI (4) and sequence number (4)
TRAILER_LEN = 2  # pad length and next header
SEQ_SPACE = 1 << 32

# Why a packet was not used (diagnosis codes, README "Diagnostics").
ICV_MISMATCH = "esp_icv_mismatch"
BAD_PADDING = "esp_bad_padding"
REPLAYED = "esp_replayed_sequence"
TRUNCATED = "esp_truncated"


@dataclass
class ReplayState:
    """One SA's receive state: the highest sequence number and the window below it."""

    window: int
    top: int = -1  # highest 64-bit sequence number accepted, -1 before the first
    seen: set[int] = field(default_factory=set)  # accepted numbers within the window

    def esn_high(self, low: int, start_high: int) -> int:
        """RFC 4303 Appendix A2.2: the upper 32 bits of a received low-order number."""
        if self.top < 0:
            return start_high
        top_low, top_high = self.top % SEQ_SPACE, self.top // SEQ_SPACE
        w = self.window
        if top_low >= w - 1:
            return top_high if low >= top_low - w + 1 else top_high + 1
        return top_high - 1 if low >= (top_low - w + 1) % SEQ_SPACE else top_high

    def replayed(self, seq: int) -> bool:
        return self.top >= 0 and (seq in self.seen or seq <= self.top - self.window)

    def accept(self, seq: int) -> None:
        if seq > self.top:
            self.top = seq
            floor = seq - self.window
            if len(self.seen) > 2 * self.window:
                self.seen = {s for s in self.seen if s > floor}
        self.seen.add(seq)


@dataclass
class Opened:
    """An ESP packet decrypted: the inner payload and what the Record keeps."""

    payload: bytes
    next_header: int
    spi: int
    seq: int  # the full (64-bit with ESN) sequence number


def open_esp(esp: bytes, sa: EspSA, state: ReplayState) -> Opened | str:
    """The inner payload of ``esp`` (module doc), or the diagnosis code that refuses it."""
    cipher, integ = CIPHERS[sa.encryption], INTEGRITY[sa.integrity]
    icv_len = cipher.icv_len if cipher.aead else integ.icv_len
    if len(esp) < ESP_HEADER_LEN + cipher.iv_len + TRAILER_LEN + icv_len:
        return TRUNCATED
    spi, low = int.from_bytes(esp[0:4], "big"), int.from_bytes(esp[4:8], "big")
    high = state.esn_high(low, sa.esn_high) if sa.esn else 0
    seq = high * SEQ_SPACE + low
    body_end = len(esp) - icv_len
    icv = esp[body_end:]
    if not cipher.aead and icv_len:
        covered = esp[:body_end] + (high.to_bytes(4, "big") if sa.esn else b"")
        if integ.icv(sa.auth_key.octets, covered) != icv:
            return ICV_MISMATCH
    iv = esp[ESP_HEADER_LEN : ESP_HEADER_LEN + cipher.iv_len]
    data = esp[ESP_HEADER_LEN + cipher.iv_len : body_end]
    if len(data) % cipher.block:
        return BAD_PADDING  # RFC 4303 2.4: the cipher's block (or 4 octets) aligns it
    # RFC 4106 5: the AAD is SPI and sequence number, the 64-bit one with ESN.
    aad = esp[0:4] + high.to_bytes(4, "big") + esp[4:8] if sa.esn else esp[0:8]
    try:
        plain = cipher.decrypt(sa.enc_key.octets, iv, data, aad, icv)
    except InvalidTag:
        return ICV_MISMATCH
    if state.replayed(seq):
        return REPLAYED
    pad_len, next_header = plain[-2], plain[-1]
    end = len(plain) - TRAILER_LEN - pad_len
    if end < 0 or plain[end:-TRAILER_LEN] != bytes(range(1, pad_len + 1)):
        return BAD_PADDING
    state.accept(seq)
    return Opened(plain[:end], next_header, spi, seq)
