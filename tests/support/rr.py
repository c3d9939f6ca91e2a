"""Test helper: complete, correctly MACed return-routability exchanges from Kcn and nonces.

The RFC 6275 5.2 arithmetic is written out here with hashlib/hmac, straight from the
RFC text and independently of ``ebutool.oracle.crypto`` (so tests that compare the two
can fail):

    home keygen token    = First(64, HMAC_SHA1(Kcn, home address | nonce | 0))   5.2.5
    care-of keygen token = First(64, HMAC_SHA1(Kcn, care-of address | nonce | 1))
    Kbm                  = SHA1(home keygen token | care-of keygen token)
    Kbm (deregistration) = SHA1(home keygen token)          5.2.5, 6.1.7 (lifetime 0)
    Kbm (draft's EBU)    = SHA1(home keygen token)          draft 4.1
    Kbm (RFC 4866 early) = SHA1(home keygen token | 64 zero bits)
    Authenticator        = First(96, HMAC_SHA1(Kbm, care-of address | correspondent | MH data))
                                                                                          5.2.6

Packets are built with ``ebutool.wire.build`` (correct MH checksums, alignment); the MH data
an authenticator covers is cut out of the encoded octets here, by the RFC rule.

    rr = RR(kcn, {1: nonce1, 2: nonce2})
    pkts = standard(rr, coa=COA1, seq=10, t0_ns=T0, hidx=1, cidx=2)
    recs = records(pkts)          # ebutool Records, decoded by the real decoder
    blob = pcap(pkts)             # a pcap file (raw IPv6 link type) as bytes
"""

from __future__ import annotations

import hashlib
import hmac
import io
import ipaddress
from dataclasses import dataclass, replace

from ebutool.core.diagnostics import Diagnostics
from ebutool.records.from_packet import record_from_packet
from ebutool.wire.build import mh_packet, tunnel, udp_packet, write_pcap
from ebutool.wire.mh.codec import aligned, encode_mh
from ebutool.wire.mh.messages import (
    BU_FLAG_A,
    BU_FLAG_H,
    BindingAcknowledgement,
    BindingUpdate,
    CareOfTest,
    CareOfTestInit,
    HomeTest,
    HomeTestInit,
)
from ebutool.wire.mh.mobility_options import (
    AlternateCareOfAddress,
    BindingAuthorizationData,
    CareOfTestInitOption,
    CareOfTestOption,
    NonceIndices,
)

__all__ = [
    "RR",
    "Pkt",
    "standard",
    "early",
    "records",
    "pcap",
    "ip",
    "home_token",
    "careof_token",
    "kbm_standard",
    "kbm_home_only",
    "kbm_rfc4866",
    "authenticator",
    "mh_data_of",
    "KCN",
    "NONCES",
    "CN",
    "CN2",
    "HOA",
    "HA",
    "COA1",
    "COA2",
    "EVIL",
    "T0",
    "MS",
    "S",
]

MS = 1_000_000
S = 1_000_000_000
T0 = 1_700_000_000 * S

# A Kcn and nonces for tests (20 octets, RFC 6275 5.2.1; nonces of assorted lengths).
KCN = bytes.fromhex("0f1e2d3c4b5a69788796a5b4c3d2e1f00112a3b4")
NONCES = {
    1: bytes.fromhex("6e6f6e63652d6f6e652d3031"),
    2: bytes.fromhex("a1b2c3d4e5f60718"),
    3: bytes.fromhex("3333cccc3333cccc3333cccc3333cccc"),
    7: bytes.fromhex("77" * 8),
}
CN = "2001:db8:c::1"
CN2 = "2001:db8:c::2"
HOA = "2001:db8:1::100"
HA = "2001:db8:1::1"
COA1 = "2001:db8:2::100"
COA2 = "2001:db8:3::100"
EVIL = "2001:db8:bad::66"


def ip(addr: str) -> bytes:
    return ipaddress.IPv6Address(addr).packed


def home_token(kcn: bytes, hoa: str, nonce: bytes) -> bytes:
    return hmac.new(kcn, ip(hoa) + nonce + b"\x00", hashlib.sha1).digest()[:8]


def careof_token(kcn: bytes, coa: str, nonce: bytes) -> bytes:
    return hmac.new(kcn, ip(coa) + nonce + b"\x01", hashlib.sha1).digest()[:8]


def kbm_standard(home: bytes, careof: bytes) -> bytes:
    return hashlib.sha1(home + careof).digest()


def kbm_home_only(home: bytes) -> bytes:
    return hashlib.sha1(home).digest()


def kbm_rfc4866(home: bytes) -> bytes:
    return hashlib.sha1(home + b"\x00" * 8).digest()


def authenticator(kbm: bytes, coa: str, cn: str, mh_data: bytes) -> bytes:
    return hmac.new(kbm, ip(coa) + ip(cn) + mh_data, hashlib.sha1).digest()[:12]


def mh_data_of(wire: bytes) -> bytes:
    """MH data of RFC 6275 5.2.6 for a message built with ``aligned()``: the Binding
    Authorization Data option (type 5, length 12) is then the last 14 octets; the data
    runs up to and including its type and length, checksum (octets 4-5) zeroed."""
    assert wire[-14] == 5 and wire[-13] == 12, "Binding Authorization Data must be last"
    return wire[:4] + b"\x00\x00" + wire[6:-12]


def _with_mac(msg, kbm: bytes, coa: str, cn: str):
    """``msg`` (with a Binding Authorization Data option) with its authenticator set."""
    wire = encode_mh(aligned(msg))
    mac = authenticator(kbm, coa, cn, mh_data_of(wire))
    opts = [
        BindingAuthorizationData(mac) if isinstance(o, BindingAuthorizationData) else o
        for o in msg.options
    ]
    return replace(msg, options=opts)


@dataclass
class Pkt:
    ts_ns: int
    data: bytes
    label: str


class RR:
    """A mobile node (HOA, home agent HA) and one correspondent node with Kcn/nonces."""

    def __init__(
        self,
        kcn: bytes = KCN,
        nonces: dict[int, bytes] | None = None,
        cn: str = CN,
        hoa: str = HOA,
        ha: str = HA,
    ):
        self.kcn, self.nonces = kcn, dict(NONCES if nonces is None else nonces)
        self.cn, self.hoa, self.ha = cn, hoa, ha

    # tokens and keys, RFC formulas
    def h(self, idx: int) -> bytes:
        return home_token(self.kcn, self.hoa, self.nonces[idx])

    def c(self, coa: str, idx: int) -> bytes:
        return careof_token(self.kcn, coa, self.nonces[idx])

    def kbm(self, coa: str, hidx: int, cidx: int) -> bytes:
        return kbm_standard(self.h(hidx), self.c(coa, cidx))

    # return routability
    def hoti(self, t: int, coa: str, cookie: bytes = b"HOTICOOK") -> Pkt:
        inner = mh_packet(HomeTestInit(init_cookie=cookie), self.hoa, self.cn)
        return Pkt(t, tunnel(coa, self.ha, inner), "HoTI")

    def hot(
        self,
        t: int,
        coa: str,
        idx: int,
        token: bytes | None = None,
        cookie: bytes = b"HOTICOOK",
        src: str | None = None,
    ) -> Pkt:
        """HoT as the MN sees it: tunnelled by the HA, inner CN -> home address."""
        tok = self.h(idx) if token is None else token
        inner = mh_packet(
            HomeTest(nonce_index=idx, init_cookie=cookie, keygen_token=tok),
            src or self.cn,
            self.hoa,
        )
        return Pkt(t, tunnel(self.ha, coa, inner), "HoT")

    def coti(self, t: int, coa: str, cookie: bytes = b"COTICOOK") -> Pkt:
        return Pkt(t, mh_packet(CareOfTestInit(init_cookie=cookie), coa, self.cn), "CoTI")

    def cot(
        self, t: int, coa: str, idx: int, token: bytes | None = None, cookie: bytes = b"COTICOOK"
    ) -> Pkt:
        tok = self.c(coa, idx) if token is None else token
        return Pkt(
            t,
            mh_packet(
                CareOfTest(nonce_index=idx, init_cookie=cookie, keygen_token=tok), self.cn, coa
            ),
            "CoT",
        )

    # correspondent registration
    def bu(
        self,
        t: int,
        coa: str,
        seq: int,
        hidx: int,
        cidx: int,
        kbm: bytes | None = None,
        lifetime: int = 100,
        flags: int = BU_FLAG_A,
        alt_coa: str | None = None,
        send_from: str | None = None,
        coti_option: bool = False,
        auth: bool = True,
        nonce_indices: bool = True,
        label: str = "BU",
    ) -> Pkt:
        """A BU from ``coa`` (or ``send_from``) to the CN.  The MAC is computed for the
        care-of address ``alt_coa or coa``; the default key is the standard Kbm."""
        opts = []
        if alt_coa is not None:
            opts.append(AlternateCareOfAddress(alt_coa))
        if nonce_indices:
            opts.append(NonceIndices(hidx, cidx))
        if coti_option:
            opts.append(CareOfTestInitOption())
        if auth:
            opts.append(BindingAuthorizationData(bytes(12)))
        msg = BindingUpdate(sequence=seq, flags=flags, lifetime=lifetime, options=opts)
        mac_coa = alt_coa or coa
        if auth:
            key = kbm if kbm is not None else self.kbm(mac_coa, hidx, cidx)
            msg = _with_mac(msg, key, mac_coa, self.cn)
        src = send_from or coa
        hoa = None if src == self.hoa else self.hoa
        return Pkt(t, mh_packet(msg, src, self.cn, hoa=hoa), label)

    def ebu(
        self, t: int, coa: str, seq: int, hidx: int, rfc4866: bool = False, kbm: bytes | None = None
    ) -> Pkt:
        """Early BU: care-of nonce index 0, Kbm = SHA1(home token) (draft) or, with
        ``rfc4866``, a Care-of Test Init option and SHA1(home token | 8 zero octets)."""
        if kbm is None:
            kbm = kbm_rfc4866(self.h(hidx)) if rfc4866 else kbm_home_only(self.h(hidx))
        return self.bu(t, coa, seq, hidx, 0, kbm=kbm, coti_option=rfc4866, label="EBU")

    def dereg_home(self, t: int, seq: int, hidx: int, careof_index: int = 0) -> Pkt:
        """Returning home: BU from the home address (no HAO), lifetime 0, care-of address
        = home address, Kbm = SHA1(home token)."""
        return self.bu(
            t,
            self.hoa,
            seq,
            hidx,
            careof_index,
            kbm=kbm_home_only(self.h(hidx)),
            lifetime=0,
            label="BU",
        )

    def ba(
        self,
        t: int,
        coa: str,
        seq: int,
        kbm: bytes | None,
        status: int = 0,
        cot_token: bytes | None = None,
        careof_index: int | None = None,
        lifetime: int = 100,
        src: str | None = None,
    ) -> Pkt:
        """BA from the CN to ``coa`` (type 2 RH = home address unless coa is the home
        address).  ``kbm`` None: no Binding Authorization Data option.  ``cot_token``
        adds an RFC 4866 Care-of Test option, ``careof_index`` a Nonce Indices option."""
        opts = []
        if careof_index is not None:
            opts.append(NonceIndices(0, careof_index))
        if cot_token is not None:
            opts.append(CareOfTestOption(cot_token))
        if kbm is not None:
            opts.append(BindingAuthorizationData(bytes(12)))
        msg = BindingAcknowledgement(status=status, sequence=seq, lifetime=lifetime, options=opts)
        sender = src or self.cn
        if kbm is not None:
            msg = _with_mac(msg, kbm, coa, sender)
        home = None if coa == self.hoa else self.hoa
        return Pkt(t, mh_packet(msg, sender, coa, home=home), "BA")

    # home registration (IPsec-protected in reality; no return routability)
    def ha_bu(self, t: int, coa: str, seq: int) -> Pkt:
        msg = BindingUpdate(sequence=seq, flags=BU_FLAG_A | BU_FLAG_H, lifetime=100)
        return Pkt(t, mh_packet(msg, coa, self.ha, hoa=self.hoa), "BU->HA")

    def ha_ba(self, t: int, coa: str, seq: int) -> Pkt:
        msg = BindingAcknowledgement(status=0, sequence=seq, lifetime=100)
        return Pkt(t, mh_packet(msg, self.ha, coa, home=self.hoa), "BA<-HA")

    def data_to_cn(self, t: int, coa: str) -> Pkt:
        return Pkt(t, udp_packet(coa, self.cn, b"payload", hoa=self.hoa), "data")


def standard(
    rr: RR,
    coa: str,
    seq: int,
    t0_ns: int = T0,
    hidx: int = 1,
    cidx: int = 2,
    ha_seq: int | None = None,
) -> list[Pkt]:
    """RFC 6275 standard procedure after a handover to ``coa`` at ``t0_ns``."""
    ha_seq = seq if ha_seq is None else ha_seq
    t = t0_ns
    return [
        rr.ha_bu(t, coa, ha_seq),
        rr.hoti(t + 1 * MS, coa),
        rr.coti(t + 2 * MS, coa),
        rr.ha_ba(t + 40 * MS, coa, ha_seq),
        rr.hot(t + 120 * MS, coa, hidx),
        rr.cot(t + 30 * MS + 2 * MS, coa, cidx),
        rr.bu(t + 121 * MS, coa, seq, hidx, cidx),
        rr.ba(t + 151 * MS, coa, seq, rr.kbm(coa, hidx, cidx)),
        rr.data_to_cn(t + 152 * MS, coa),
    ]


def early(
    rr: RR,
    prev_coa: str,
    coa: str,
    seq: int,
    t0_ns: int = T0,
    hidx: int = 1,
    cidx: int = 2,
    rfc4866: bool = False,
    ha_seq: int | None = None,
) -> list[Pkt]:
    """The draft's early procedure: HoTI/HoT before the handover (from ``prev_coa``),
    then EBU/EBA, CoTI/CoT and the completing standard BU/BA from ``coa``.  In the
    RFC 4866 flavour the EBA carries the care-of token (Care-of Test option) and the
    care-of nonce index (Nonce Indices option)."""
    ha_seq = seq if ha_seq is None else ha_seq
    h = rr.h(hidx)
    t = t0_ns
    ebu_key = kbm_rfc4866(h) if rfc4866 else kbm_home_only(h)
    eba = (
        rr.ba(t + 31 * MS, coa, seq, ebu_key, cot_token=rr.c(coa, cidx), careof_index=cidx)
        if rfc4866
        else rr.ba(t + 31 * MS, coa, seq, ebu_key)
    )
    pkts = [
        rr.hoti(t - 2 * S, prev_coa),
        rr.hot(t - 2 * S + 120 * MS, prev_coa, hidx),
        rr.ha_bu(t, coa, ha_seq),
        rr.ebu(t + 1 * MS, coa, seq, hidx, rfc4866=rfc4866),
    ]
    if not rfc4866:
        pkts.append(rr.coti(t + 2 * MS, coa))
    pkts += [rr.ha_ba(t + 40 * MS, coa, ha_seq), eba]
    if not rfc4866:
        pkts.append(rr.cot(t + 32 * MS, coa, cidx))
    pkts += [
        rr.bu(t + 33 * MS, coa, seq + 1, hidx, cidx),
        rr.ba(t + 63 * MS, coa, seq + 1, rr.kbm(coa, hidx, cidx)),
    ]
    return pkts


def records(pkts: list[Pkt], start_frame: int = 1):
    """The packets as ebutool Records (frames numbered from ``start_frame``), in order."""
    out = []
    diag = Diagnostics()
    for i, p in enumerate(sorted(pkts, key=lambda p: p.ts_ns)):
        rec = record_from_packet(start_frame + i, p.ts_ns, p.data, 0, diag)
        assert rec is not None, p.label
        out.append(rec)
    assert not diag.counts, diag.kept
    return out


def pcap(pkts: list[Pkt]) -> bytes:
    """A pcap file (raw IPv6, nanosecond timestamps) of the packets in time order."""
    buf = io.BytesIO()
    write_pcap(
        buf, [(p.ts_ns, p.data) for p in sorted(pkts, key=lambda p: p.ts_ns)], nanosecond=True
    )
    return buf.getvalue()
