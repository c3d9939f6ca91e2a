"""Generate the "1M-BU capture" of issue 12: one Binding Update per distinct home address.

    python benchmarks/gen_hostile.py --bus 1000000 --out /tmp/hostile.pcap
    python benchmarks/gen_hostile.py --bus 1000 --cns 1000 --out /tmp/cns.pcap  # distinct CNs too

Raw bytes, independent of ebutool (no ``ebutool.wire``/``ebutool.synth``): a classic pcap
(raw IPv6 link type 101, microsecond timestamps), each record one IPv6 packet
``CoA -> CN`` with a Destination Options header holding PadN + a Home Address option
(RFC 6275 6.3, 8n+6 alignment) and a Mobility Header (RFC 6275 6.1.1) carrying a
Binding Update (type 5; A and H clear, so to a correspondent; lifetime 100 x 4 s) padded
to 16 octets with PadN; the MH checksum is computed over the pseudo-header with the home
address as source (RFC 6275 6.1.1).  80 octets per packet + 16 of record header: 1M BUs
are 96 MB.  Packet i has home address 2001:db8:1::/64 + i, care-of address
2001:db8:2::/64 + i and CN 2001:db8:3::1 (``--cns K``: 2001:db8:3::/64 + i mod K); one
packet every ``--gap-us`` microseconds of capture time (default 1).

This is what an attacker can send cheaply: every packet creates a new mobile node (and,
with ``--cns``, a new correspondent) in ebutool's tables.
"""

from __future__ import annotations

import argparse
import ipaddress
import struct
import sys
from pathlib import Path

LINKTYPE_RAW = 101
NH_DSTOPTS, NH_MH, NH_NONE = 60, 135, 59
HAO_TYPE, PADN = 201, 1
MH_BU = 5
T0_S = 1_700_000_000


def addr(prefix: str, i: int) -> bytes:
    return (int(ipaddress.IPv6Address(prefix)) + i).to_bytes(16, "big")


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def bu_packet(hoa: bytes, coa: bytes, cn: bytes, seq: int) -> bytes:
    # MH: payload proto, header len (units of 8 octets, not counting the first 8), type,
    # reserved, checksum; BU: sequence, flags (none), lifetime; then PadN to 16 octets
    body = struct.pack("!HHH", seq & 0xFFFF, 0, 100) + bytes([PADN, 2, 0, 0])
    mh = struct.pack("!BBBBH", NH_NONE, 1, MH_BU, 0, 0) + body
    pseudo = hoa + cn + struct.pack("!IxxxB", len(mh), NH_MH)
    mh = mh[:4] + struct.pack("!H", csum(pseudo + mh)) + mh[6:]
    dst_opts = bytes([NH_MH, 2, PADN, 2, 0, 0, HAO_TYPE, 16]) + hoa
    payload = dst_opts + mh
    return struct.pack("!IHBB", 6 << 28, len(payload), NH_DSTOPTS, 64) + coa + cn + payload


def write(out, n: int, cns: int, gap_us: int) -> None:
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, LINKTYPE_RAW))
    chunk = []
    for i in range(n):
        cn = addr("2001:db8:3::1", i % cns) if cns > 1 else addr("2001:db8:3::1", 0)
        p = bu_packet(addr("2001:db8:1::", i + 1), addr("2001:db8:2::", i + 1), cn, i)
        t = i * gap_us
        chunk.append(struct.pack("<IIII", T0_S + t // 1_000_000, t % 1_000_000, len(p), len(p)))
        chunk.append(p)
        if len(chunk) >= 20_000:
            out.write(b"".join(chunk))
            chunk = []
    out.write(b"".join(chunk))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bus", type=int, default=1_000_000, help="BUs (= distinct home addresses)")
    ap.add_argument("--cns", type=int, default=1, help="distinct correspondents (round robin)")
    ap.add_argument("--gap-us", type=int, default=1, help="capture time between packets, us")
    ap.add_argument("--out", type=Path, required=True, help="the pcap to write ('-': stdout)")
    args = ap.parse_args(argv)
    if str(args.out) == "-":
        write(sys.stdout.buffer, args.bus, args.cns, args.gap_us)
    else:
        with open(args.out, "wb") as f:
            write(f, args.bus, args.cns, args.gap_us)
    return 0


if __name__ == "__main__":
    sys.exit(main())
