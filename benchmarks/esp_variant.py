"""The ESP-protected variant of a benchmark capture (issue 14's performance target).

    python benchmarks/esp_variant.py benchmarks/data/bench_1000000_s1.pcap

writes ``bench_..._esp.pcap`` beside it: the same packets, with the MN-HA signalling
(the anticipated home tests' HoTI/HoT on the home agent's IPv6-in-IPv6 tunnel) in
tunnel-mode ESP, AES-CBC with HMAC-SHA1-96, one SA per mobile node and direction
(RFC 4877), and its SAs as ``bench_..._esp.esp.json`` (the ``esp_sas`` JSON).
``run.py --esp`` measures ``analyze`` on it beside the clear capture.
"""

from __future__ import annotations

import hashlib
import struct
import sys
from pathlib import Path

from ebutool.core.addr import format_address
from ebutool.esp.encrypt import protect_packet
from ebutool.esp.sa import EspSA, SecretKey
from ebutool.synth.protect import json_sas

ETH = 14  # the generator writes Ethernet frames
NH_IPV6, NH_MH, MH_HOTI, MH_HOT = 41, 135, 1, 3


def esp_paths(clear: Path) -> tuple[Path, Path]:
    stem = clear.with_suffix("")
    return Path(f"{stem}_esp.pcap"), Path(f"{stem}_esp.esp.json")


def _sa(spi: int, src: str, dst: str) -> EspSA:
    key = hashlib.sha256(f"bench-esp:{spi}".encode()).digest()
    return EspSA(spi, src, dst, "aes-cbc", SecretKey(key[:16]), "hmac-sha1-96", SecretKey(key[:20]))


def _home_test(ip: bytes) -> tuple[str, str] | None:
    """(home address, "up"/"down") of a tunnelled HoTI/HoT, else None."""
    if len(ip) < 82 or ip[6] != NH_IPV6 or ip[46] != NH_MH:
        return None
    mh_type = ip[80 + 2]
    if mh_type == MH_HOTI:
        return format_address(ip[48:64]), "up"  # inner source: the home address
    if mh_type == MH_HOT:
        return format_address(ip[64:80]), "down"
    return None


def make_esp_variant(clear: Path) -> tuple[Path, Path]:
    out, sa_file = esp_paths(clear)
    data = clear.read_bytes()
    sas: dict[tuple[str, str], EspSA] = {}
    seqs: dict[int, int] = {}
    parts, pos = [data[:24]], 24
    while pos + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack_from("<IIII", data, pos)
        frame = data[pos + 16 : pos + 16 + incl]
        pos += 16 + incl
        found = _home_test(frame[ETH:])
        if found is not None:
            sa = sas.get(found)
            if sa is None:
                ip = frame[ETH:]
                ha = format_address(ip[24:40] if found[1] == "up" else ip[8:24])
                ends = ("*", ha) if found[1] == "up" else (ha, "*")
                sa = sas[found] = _sa(0x10000 + len(sas), *ends)
            assert sa.spi is not None
            seqs[sa.spi] = seqs.get(sa.spi, 0) + 1
            iv = hashlib.sha256(f"{sa.spi}:{seqs[sa.spi]}".encode()).digest()[:16]
            frame = frame[:ETH] + protect_packet(frame[ETH:], sa, seqs[sa.spi], iv)
            incl = orig = len(frame)
        parts.append(struct.pack("<IIII", sec, frac, incl, orig) + frame)
    out.write_bytes(b"".join(parts))
    sa_file.write_text(json_sas(list(sas.values())))  # the format synth writes
    return out, sa_file


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(*make_esp_variant(Path(arg)))
