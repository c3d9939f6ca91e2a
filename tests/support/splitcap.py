"""Test-only: split a classic pcap file into pieces, as ``tcpdump -C`` rotation would.

Reads the file by the pcap format itself (24-octet global header, 16-octet record
headers; either byte order), independently of ebutool's readers, and writes each piece
with the same global header and whole records."""

from __future__ import annotations

import struct
from pathlib import Path


def pcap_records(data: bytes) -> tuple[bytes, list[bytes]]:
    """(global header, records with their headers) of a pcap file's octets."""
    magic = data[:4]
    order = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    head, pos, out = data[:24], 24, []
    while pos + 16 <= len(data):
        incl = struct.unpack_from(order + "I", data, pos + 8)[0]
        out.append(data[pos : pos + 16 + incl])
        pos += 16 + incl
    return head, out


def split_pcap(src: Path, folder: Path, pieces: int, stem: str = "piece") -> list[Path]:
    """``src`` cut into ``pieces`` files of (nearly) equal packet counts, named in order."""
    head, recs = pcap_records(src.read_bytes())
    folder.mkdir(parents=True, exist_ok=True)
    size = -(-len(recs) // pieces)
    paths = []
    for i in range(pieces):
        p = folder / f"{stem}-{i:02d}.pcap"
        p.write_bytes(head + b"".join(recs[i * size : (i + 1) * size]))
        paths.append(p)
    return paths
