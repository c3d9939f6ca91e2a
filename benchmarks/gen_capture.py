"""Generate a large, realistic benchmark capture (pcap and/or pcapng, Ethernet).

    python benchmarks/gen_capture.py                     # 1,000,000 packets -> benchmarks/data/
    python benchmarks/gen_capture.py --packets 4000000 --out /tmp/big --seed 7

The mix (fractions of all packets; deterministic for a given --seed and --packets):

- ~89% ordinary IPv6 between hosts that are not mobile: TCP (bulk, ACKs), UDP
  (DNS-like, RTP-like), ICMPv6; a few with a Hop-by-Hop header (MLD reports) or a
  Fragment header, so the fast path's extension walk is exercised;
- ~9.5% IPv4 (TCP and UDP) and a trickle of ARP;
- ~0.5% Mobility Header signalling forming real return-routability episodes: each
  handover of a mobile node runs HoTI/HoT through the home agent's IPv6-in-IPv6
  tunnel, CoTI/CoT directly, then an Early Binding Update (careof nonce index 0,
  Kbm = SHA1(home token)) answered by a BA, then the standard BU/BA; some
  correspondents are legacy and silently drop the EBU (fallback); every MAC is
  computed with the RFC 6275 5.2 cryptography, so the oracle can verify them;
- ~1% route-optimised data of those mobile nodes (Home Address option from the MN,
  type 2 routing header to it) and some reverse-tunnelled data (IPv6-in-IPv6).

Generation is fast: ordinary packets come from a few hundred templates built once with
``ebutool.wire.build`` (only a sequence/counter field changes per packet); signalling
packets are built individually, which is cheap because they are rare.  Records are
written with ``struct`` directly (classic pcap microsecond resolution; pcapng with one
Ethernet interface and EPBs, microsecond resolution), not through dpkt per packet.

The files are NOT committed: benchmarks/data/ is git-ignored.
"""

from __future__ import annotations

import argparse
import os
import random
import struct
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ebutool.core import constants as C
from ebutool.core.addr import pton
from ebutool.oracle import crypto
from ebutool.wire import build
from ebutool.wire.mh.codec import aligned, encode_mh, mac_data
from ebutool.wire.mh.messages import (
    BU_FLAG_A,
    BindingAcknowledgement,
    BindingUpdate,
    CareOfTest,
    CareOfTestInit,
    HomeTest,
    HomeTestInit,
)
from ebutool.wire.mh.mobility_options import BindingAuthorizationData, NonceIndices

DATA_DIR = Path(__file__).resolve().parent / "data"
START_NS = 1_700_000_000 * 1_000_000_000
RATE_PPS = 10_000  # mean packet rate: 1M packets = 100 s of capture

# Share of each kind (the rest is ordinary IPv6).
SHARE_IPV4 = 0.095
SHARE_MH = 0.005
SHARE_RO = 0.010  # HAO / RH2 route-optimised data, and reverse-tunnelled data

MAC_A = b"\x02\x00\x00\x00\x00\x0a"
MAC_B = b"\x02\x00\x00\x00\x00\x0b"


# --------------------------------------------------------------------------- background


def _eth(payload: bytes, ethertype: int) -> bytes:
    return MAC_B + MAC_A + struct.pack("!H", ethertype) + payload


def _tcp(sport: int, dport: int, payload_len: int, flags: int = 0x10) -> bytes:
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 1, 5 << 4, flags, 65535, 0, 0) + bytes(
        payload_len
    )


def _ipv4(src: int, dst: int, proto: int, payload: bytes) -> bytes:
    hdr = struct.pack("!BBHHHBBHII", 0x45, 0, 20 + len(payload), 0, 0x4000, 64, proto, 0, src, dst)
    return hdr + payload


def background_templates(
    rng: random.Random,
) -> tuple[list[tuple[bytes, int]], list[tuple[bytes, int]]]:
    """(IPv6 templates, IPv4 templates): each (frame, offset of a 4-octet counter)."""
    v6: list[tuple[bytes, int]] = []
    hosts = [f"2001:db8:{a:x}::{b:x}" for a in range(1, 9) for b in range(1, 9)]
    for _ in range(400):
        a, b = rng.sample(hosts, 2)
        kind = rng.random()
        if kind < 0.45:  # TCP bulk data / ACKs
            plen = rng.choice((0, 0, 0, 512, 1220, 1440))
            ip = build.ipv6_packet(a, b, C.NH_TCP, _tcp(rng.randrange(1024, 65535), 443, plen))
            v6.append((_eth(ip, 0x86DD), 14 + 40 + 4))  # TCP sequence number
        elif kind < 0.80:  # UDP: DNS-like or RTP-like
            plen = rng.choice((32, 64, 160, 172))
            ip = build.udp_packet(
                a, b, bytes(plen), rng.randrange(1024, 65535), rng.choice((53, 5004))
            )
            v6.append((_eth(ip, 0x86DD), 14 + 40 + 8))  # first payload octets
        elif kind < 0.95:  # ICMPv6 echo
            ip = build.ipv6_packet(a, b, C.NH_ICMPV6, bytes((128, 0, 0, 0)) + bytes(60))
            v6.append((_eth(ip, 0x86DD), 14 + 40 + 4))
        elif kind < 0.98:  # Hop-by-Hop (router alert) + ICMPv6 MLDv2 report
            hbh = bytes((C.NH_ICMPV6, 0, 5, 2, 0, 0, 1, 0))
            ip = (
                build.ipv6_header(a, "ff02::16", C.NH_HOPOPTS, 8 + 28)
                + hbh
                + bytes((143,))
                + bytes(27)
            )
            v6.append((_eth(ip, 0x86DD), 14 + 48 + 4))
        else:  # first fragment of a UDP datagram
            frag = bytes((C.NH_UDP, 0, 0, 1, 0, 0, 0, 7))
            body = struct.pack("!HHHH", 5000, 5000, 2000, 0) + bytes(1224)
            ip = build.ipv6_header(a, b, C.NH_FRAGMENT, 8 + len(body)) + frag + body
            v6.append((_eth(ip, 0x86DD), 14 + 40 + 4))
    v4: list[tuple[bytes, int]] = []
    for _ in range(60):
        s, d = rng.getrandbits(32) | 0x0A000000, rng.getrandbits(32) | 0xC0A80000
        if rng.random() < 0.6:
            ip = _ipv4(s, d, 6, _tcp(rng.randrange(1024, 65535), 80, rng.choice((0, 1460))))
            v4.append((_eth(ip, 0x0800), 14 + 20 + 4))
        else:
            ip = _ipv4(s, d, 17, struct.pack("!HHHH", 1234, 53, 48, 0) + bytes(40))
            v4.append((_eth(ip, 0x0800), 14 + 28))
    arp = _eth(bytes(28), 0x0806)
    v4.append((arp, 14 + 24))
    return v6, v4


# --------------------------------------------------------------------------- mobility


class Mobility:
    """Mobile nodes, home agents and correspondents; builds signalling episodes."""

    def __init__(self, rng: random.Random, n_mn: int = 64):
        self.rng = rng
        self.has = [f"2001:db8:100:{i:x}::1" for i in range(4)]
        self.cns = []
        for i in range(16):
            kcn = bytes(rng.getrandbits(8) for _ in range(C.KCN_LEN))
            nonces = [bytes(rng.getrandbits(8) for _ in range(8)) for _ in range(8)]
            early = i % 4 != 0  # one CN in four is a legacy RFC 6275 CN
            self.cns.append((f"2001:db8:200::{i + 1:x}", kcn, nonces, early))
        self.mns = []
        for i in range(n_mn):
            ha = self.has[i % len(self.has)]
            hoa = f"2001:db8:100:{i % len(self.has):x}::{0x1000 + i:x}"
            self.mns.append(
                {
                    "hoa": hoa,
                    "ha": ha,
                    "coa": None,
                    "seq": rng.randrange(1000),
                    "net": 0,
                    "cn": self.cns[i % len(self.cns)],
                }
            )
        self.ro_peers: list[tuple[str, str, str, str]] = []  # (hoa, coa, cn, ha), bound

    @staticmethod
    def frame(ip: bytes) -> bytes:
        return build.ethernet(ip, MAC_A, MAC_B)

    def _signed(
        self,
        msg,
        key: bytes,
        coa: str,
        cn: str,
        hoa: str | None,
        home: str | None,
        src: str,
        dst: str,
    ) -> bytes:
        msg = aligned(msg)
        wire = encode_mh(msg, pton(hoa or src), pton(home or dst))
        auth = crypto.authenticator(key, pton(coa), pton(cn), mac_data(wire))
        opts = [
            BindingAuthorizationData(auth) if isinstance(o, BindingAuthorizationData) else o
            for o in msg.options
        ]
        return build.mh_packet(
            replace(msg, options=opts), src, dst, hoa=hoa, home=home, align=False
        )

    def episode(self, t_ns: int) -> list[tuple[int, bytes]]:
        """One handover of a random MN: (ts_ns, frame) pairs, in time order."""
        rng = self.rng
        mn = rng.choice(self.mns)
        mn["net"] += 1
        hoa, ha = mn["hoa"], mn["ha"]
        net, idx = 0x300 + mn["net"] % 7, self.mns.index(mn)
        coa = f"2001:db8:{net:x}:{idx:x}::{rng.randrange(1, 0xFFFF):x}"
        cn, kcn, nonces, early = mn["cn"]
        ms = 1_000_000
        rtt_ha, rtt_cn = rng.randrange(20, 80) * ms, rng.randrange(10, 60) * ms
        hi, ci = rng.randrange(1, len(nonces)), rng.randrange(1, len(nonces))
        home_tok = crypto.home_keygen_token(kcn, pton(hoa), nonces[hi])
        care_tok = crypto.careof_keygen_token(kcn, pton(coa), nonces[ci])
        cookie_h = bytes(rng.getrandbits(8) for _ in range(8))
        cookie_c = bytes(rng.getrandbits(8) for _ in range(8))
        out: list[tuple[int, bytes]] = []
        # Anticipated home test (draft section 4): HoTI/HoT through the home agent's tunnel
        # from the previous care-of address (direct if the MN was at home), 500 ms before
        # the handover at t0; then CoTI and the EBU together at t0.
        t = t_ns
        prev = mn["coa"]
        hoti = build.mh_packet(HomeTestInit(init_cookie=cookie_h), hoa, cn)
        out.append((t, self.frame(build.tunnel(prev, ha, hoti) if prev else hoti)))
        hot = build.mh_packet(
            HomeTest(nonce_index=hi, init_cookie=cookie_h, keygen_token=home_tok), cn, hoa
        )
        out.append((t + rtt_ha + rtt_cn, self.frame(build.tunnel(ha, prev, hot) if prev else hot)))
        t0 = t + 500 * ms
        coti = build.mh_packet(CareOfTestInit(init_cookie=cookie_c), coa, cn)
        out.append((t0, self.frame(coti)))
        mn["seq"] = (mn["seq"] + 1) & 0xFFFF
        lifetime = 420 // C.LIFETIME_UNIT_S
        # Early binding update with the CoTI: care-of index 0, Kbm = SHA1(home token).
        t_ebu = t0 + 40_000
        ebu = BindingUpdate(
            sequence=mn["seq"],
            flags=BU_FLAG_A,
            lifetime=lifetime,
            options=[NonceIndices(hi, 0), BindingAuthorizationData()],
        )
        out.append(
            (
                t_ebu,
                self.frame(
                    self._signed(ebu, crypto.kbm_early(home_tok), coa, cn, hoa, None, coa, cn)
                ),
            )
        )
        if early:
            eba = BindingAcknowledgement(
                status=0,
                sequence=mn["seq"],
                lifetime=lifetime,
                options=[BindingAuthorizationData()],
            )
            out.append(
                (
                    t_ebu + rtt_cn,
                    self.frame(
                        self._signed(eba, crypto.kbm_early(home_tok), coa, cn, None, hoa, cn, coa)
                    ),
                )
            )
        t_cot = t0 + rtt_cn
        cot = build.mh_packet(
            CareOfTest(nonce_index=ci, init_cookie=cookie_c, keygen_token=care_tok), cn, coa
        )
        out.append((t_cot, self.frame(cot)))
        # Standard binding update once both tokens are in.
        mn["seq"] = (mn["seq"] + 1) & 0xFFFF
        t_bu = max(t_cot, t_ebu) + 30_000
        key = crypto.kbm(home_tok, care_tok)
        bu = BindingUpdate(
            sequence=mn["seq"],
            flags=BU_FLAG_A,
            lifetime=lifetime,
            options=[NonceIndices(hi, ci), BindingAuthorizationData()],
        )
        out.append((t_bu, self.frame(self._signed(bu, key, coa, cn, hoa, None, coa, cn))))
        ba = BindingAcknowledgement(
            status=0, sequence=mn["seq"], lifetime=lifetime, options=[BindingAuthorizationData()]
        )
        out.append((t_bu + rtt_cn, self.frame(self._signed(ba, key, coa, cn, None, hoa, cn, coa))))
        mn["coa"] = coa
        self.ro_peers.append((hoa, coa, cn, ha))
        if len(self.ro_peers) > 64:
            self.ro_peers.pop(0)
        out.sort(key=lambda p: p[0])
        return out

    def ro_template(self) -> tuple[bytes, int]:
        """A route-optimised or reverse-tunnelled data frame of a bound MN (counter offset)."""
        hoa, coa, cn, ha = self.rng.choice(self.ro_peers)
        r = self.rng.random()
        payload = bytes(172)
        if r < 0.45:  # MN -> CN with a Home Address option
            ip = build.udp_packet(coa, cn, payload, 40000, 5004, hoa=hoa)
            return self.frame(ip), 14 + 40 + 24 + 8
        if r < 0.9:  # CN -> MN with a type 2 routing header
            ip = build.udp_packet(cn, coa, payload, 5004, 40000, home=hoa)
            return self.frame(ip), 14 + 40 + 24 + 8
        inner = build.udp_packet(hoa, cn, payload, 40000, 5004)  # reverse-tunnelled
        return self.frame(build.tunnel(coa, ha, inner)), 14 + 80 + 8


# --------------------------------------------------------------------------- writers


def pcap_header() -> bytes:
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, build.LINKTYPE_ETHERNET)


def pcap_record(ts_ns: int, data: bytes) -> bytes:
    us = ts_ns // 1000
    return struct.pack("<IIII", us // 1_000_000, us % 1_000_000, len(data), len(data)) + data


def pcapng_header() -> bytes:
    shb = struct.pack("<IIIHHq", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1) + struct.pack("<I", 28)
    idb = struct.pack("<IIHHI", 1, 20, build.LINKTYPE_ETHERNET, 0, 65535) + struct.pack("<I", 20)
    return shb + idb


def pcapng_record(ts_ns: int, data: bytes) -> bytes:
    us = ts_ns // 1000
    pad = -len(data) & 3
    blen = 32 + len(data) + pad
    return (
        struct.pack("<IIIIIII", 6, blen, 0, us >> 32, us & 0xFFFFFFFF, len(data), len(data))
        + data
        + bytes(pad)
        + struct.pack("<I", blen)
    )


# --------------------------------------------------------------------------- main


def packets(n: int, seed: int):
    """Yield (ts_ns, frame) for ``n`` packets, in time order, deterministic by seed."""
    rng = random.Random(seed)
    v6, v4 = background_templates(rng)
    mob = Mobility(rng)
    pending: list[tuple[int, bytes]] = []  # signalling waiting for its time
    ro_cache: list[tuple[bytes, int]] = []
    gap = 1_000_000_000 // RATE_PPS
    t = START_NS
    rand = rng.random
    counter = 0
    # Episodes are spaced so that MH packets make up about SHARE_MH of the total.
    per_episode = 7.25
    episode_every = max(1, int(per_episode / SHARE_MH))
    next_episode = 50
    i = 0
    while i < n:
        t += int(gap * 2 * rand()) + 1
        if i >= next_episode:
            pending.extend(mob.episode(t))
            pending.sort(key=lambda p: p[0])
            ro_cache = []
            next_episode += episode_every
        if pending and pending[0][0] <= t:
            ts, fr = pending.pop(0)
            yield max(ts, t - 1), fr
            i += 1
            continue
        r = rand()
        counter = (counter + 1) & 0xFFFFFFFF
        if r < SHARE_IPV4:
            tpl, at = v4[int(rand() * len(v4))]
        elif r < SHARE_IPV4 + SHARE_RO and mob.ro_peers:
            if len(ro_cache) < 32:
                ro_cache.append(mob.ro_template())
            tpl, at = ro_cache[int(rand() * len(ro_cache))]
        else:
            tpl, at = v6[int(rand() * len(v6))]
        yield t, tpl[:at] + counter.to_bytes(4, "big") + tpl[at + 4 :]
        i += 1


def generate(n: int, seed: int, out_dir: Path, formats=("pcap", "pcapng")) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {fmt: out_dir / f"bench_{n}_s{seed}.{fmt}" for fmt in formats}
    files = {fmt: open(p, "wb") for fmt, p in paths.items()}
    writers = {"pcap": pcap_record, "pcapng": pcapng_record}
    heads = {"pcap": pcap_header, "pcapng": pcapng_header}
    try:
        for fmt, f in files.items():
            f.write(heads[fmt]())
        chunk: dict[str, list[bytes]] = {fmt: [] for fmt in files}
        for k, (ts, fr) in enumerate(packets(n, seed), 1):
            for fmt in files:
                chunk[fmt].append(writers[fmt](ts, fr))
            if k % 20000 == 0:
                for fmt, f in files.items():
                    f.write(b"".join(chunk[fmt]))
                    chunk[fmt].clear()
        for fmt, f in files.items():
            f.write(b"".join(chunk[fmt]))
    finally:
        for f in files.values():
            f.close()
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--packets", "-n", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=DATA_DIR, help="output directory")
    ap.add_argument("--format", choices=("pcap", "pcapng", "both"), default="both")
    args = ap.parse_args(argv)
    fmts = ("pcap", "pcapng") if args.format == "both" else (args.format,)
    t0 = time.perf_counter()
    paths = generate(args.packets, args.seed, args.out, fmts)
    dt = time.perf_counter() - t0
    for p in paths.values():
        print(f"{p}  {os.path.getsize(p) / 1e6:.1f} MB")
    print(f"{args.packets} packets in {dt:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
