"""The capture formats' magic numbers: the one place where an input's format is sniffed."""

from __future__ import annotations

PCAP_MAGICS = {  # first 4 octets -> (byte order, nanosecond timestamps)
    b"\xd4\xc3\xb2\xa1": ("<", False),
    b"\xa1\xb2\xc3\xd4": (">", False),
    b"\x4d\x3c\xb2\xa1": ("<", True),
    b"\xa1\xb2\x3c\x4d": (">", True),
}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"  # Section Header Block type, a palindrome
# First octets of every capture format we read.
CAPTURE_MAGICS = frozenset((*PCAP_MAGICS, PCAPNG_MAGIC))
# Octets needed to tell the formats apart and read a pcap global header (24) or a
# minimal pcapng section header (28).
HEADER_NEED = 28


def capture_format(head: bytes) -> str | None:
    """ "pcap", "pcapng" or None from the first octets of an input.  A head shorter than
    4 octets that begins a magic number counts as that format (its reader then reports
    the cut-off header)."""
    key = head[:4]
    if key in PCAP_MAGICS or (len(key) < 4 and any(m.startswith(key) for m in PCAP_MAGICS)):
        return "pcap" if key else None
    if key == PCAPNG_MAGIC or (len(key) < 4 and PCAPNG_MAGIC.startswith(key)):
        return "pcapng" if key else None
    return None
