"""ESP test captures built with scapy's SecurityAssociation (a peer independent of ebutool).

ALGORITHMS maps a test id to the scapy parameters and the names ebutool and Wireshark
use for the same algorithms.  :func:`protect` encrypts the MN-HA signalling of a raw
IPv6 capture the RFC 3776 / RFC 4877 way: BU (H flag) and the HA's BA in transport
mode, the tunnelled HoTI/HoT in tunnel mode (transport-mode ESP on the outer header of
an IPv6-in-IPv6 packet is, on the wire, tunnel-mode ESP: outer header, ESP, inner packet).
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import algorithms, modes
from cryptography.hazmat.primitives.hmac import HMAC
from scapy.layers.inet6 import MIP6MH_BA, MIP6MH_BU, IPv6, MIP6MH_HoT, MIP6MH_HoTI
from scapy.layers.ipsec import AUTH_ALGOS, ESP, AuthAlgo, SecurityAssociation
from scapy.utils import RawPcapReader


@dataclass(frozen=True)
class Algo:
    crypt: str  # scapy's name
    enc_len: int  # octets, with the RFC 3686 nonce / RFC 4106 salt
    icv: int | None  # AES-GCM ICV octets
    auth: str  # scapy's name
    auth_len: int
    encryption: str  # ebutool's names
    integrity: str
    ws_enc: str  # Wireshark's esp_sa names
    ws_auth: str
    xfrm_enc: str  # the lines ``ip xfrm state`` prints (KEY, BITS filled in)
    xfrm_auth: str


# Linux's pre-RFC 4868 HMAC-SHA-256 truncated to 96 bits (draft-ietf-ipsec-ciph-sha-256-00,
# `auth-trunc hmac(sha256) KEY 96`): scapy has no such algorithm, so it is declared here
# with scapy's own AuthAlgo (its HMAC and truncation, not ebutool's).
SHA256_96 = "HMAC-SHA2-256-96"
AUTH_ALGOS.setdefault(
    SHA256_96, AuthAlgo(SHA256_96, mac=HMAC, digestmod=hashes.SHA256, icv_size=12)
)

_GCM_WS = "AES-GCM with {} octet ICV [RFC4106]"
ALGORITHMS = {
    "null-sha1": Algo(
        "NULL", 0, None, "HMAC-SHA1-96", 20, "null", "hmac-sha1-96",
        "NULL", "HMAC-SHA-1-96 [RFC2404]", "enc ecb(cipher_null) \"\"",
        "auth-trunc hmac(sha1) {auth} 96",
    ),
    "cbc-sha1": Algo(
        "AES-CBC", 16, None, "HMAC-SHA1-96", 20, "aes-cbc", "hmac-sha1-96",
        "AES-CBC [RFC3602]", "HMAC-SHA-1-96 [RFC2404]", "enc cbc(aes) {enc}",
        "auth-trunc hmac(sha1) {auth} 96",
    ),
    "cbc256-sha256": Algo(
        "AES-CBC", 32, None, "SHA2-256-128", 32, "aes-cbc", "hmac-sha256-128",
        "AES-CBC [RFC3602]", "HMAC-SHA-256-128 [RFC4868]", "enc cbc(aes) {enc}",
        "auth-trunc hmac(sha256) {auth} 128",
    ),
    "cbc-sha256-96": Algo(
        "AES-CBC", 16, None, SHA256_96, 32, "aes-cbc", "hmac-sha256-96",
        "AES-CBC [RFC3602]", "HMAC-SHA-256-96 [draft-ietf-ipsec-ciph-sha-256-00]",
        "enc cbc(aes) {enc}", "auth-trunc hmac(sha256) {auth} 96",
    ),
    "ctr-sha1": Algo(
        "AES-CTR", 20, None, "HMAC-SHA1-96", 20, "aes-ctr", "hmac-sha1-96",
        "AES-CTR [RFC3686]", "HMAC-SHA-1-96 [RFC2404]", "enc rfc3686(ctr(aes)) {enc}",
        "auth-trunc hmac(sha1) {auth} 96",
    ),
    "cbc-cmac": Algo(
        "AES-CBC", 16, None, "AES-CMAC-96", 16, "aes-cbc", "aes-cmac-96",
        "AES-CBC [RFC3602]", "", "enc cbc(aes) {enc}", "auth-trunc cmac(aes) {auth} 96",
    ),
    **{
        f"gcm{n}": Algo(
            "AES-GCM", 20, n, "NULL", 0, f"aes-gcm-{n}", "null",
            _GCM_WS.format(n), "NULL", f"aead rfc4106(gcm(aes)) {{enc}} {8 * n}", "",
        )
        for n in (8, 12, 16)
    },
}  # fmt: skip


@dataclass
class PeerSA:
    """One SA: its scapy object (for encrypting) and what the SA files say."""

    spi: int
    src: str
    dst: str
    algo: Algo
    enc_key: bytes
    auth_key: bytes
    esn: bool = False
    esn_high: int = 0

    def scapy(self) -> SecurityAssociation:
        a = self.algo
        sa = SecurityAssociation(
            ESP,
            spi=self.spi,
            crypt_algo=a.crypt,
            crypt_key=self.enc_key or None,
            crypt_icv_size=a.icv,
            auth_algo=a.auth,
            auth_key=self.auth_key or None,
            esn_en=self.esn,
            esn=self.esn_high,
        )
        if a.icv is not None and a.icv != 16:
            # scapy's AEAD-API path (AESGCM) always appends a 16-octet tag; its
            # cipher-API path truncates the tag to crypt_icv_size (RFC 4106 8/12).
            sa.crypt_algo = copy.copy(sa.crypt_algo)
            sa.crypt_algo.ciphers_aead_api = False
            sa.crypt_algo.cipher, sa.crypt_algo.mode = algorithms.AES, modes.GCM
        return sa


def make_sa(spi: int, src: str, dst: str, algo: str, esn: bool = False, high: int = 0) -> PeerSA:
    a = ALGORITHMS[algo]
    return PeerSA(spi, src, dst, a, os.urandom(a.enc_len), os.urandom(a.auth_len), esn, high)


# --- the three SA file formats, written from the RFC/tool documentation -----------------------


def wireshark_line(sa: PeerSA) -> str:
    fields = [
        "IPv6",
        sa.src,
        sa.dst,
        f"0x{sa.spi:08x}",
        sa.algo.ws_enc,
        "0x" + sa.enc_key.hex() if sa.enc_key else "",
        sa.algo.ws_auth,
        "0x" + sa.auth_key.hex() if sa.auth_key else "",
    ]
    return ",".join(f'"{f}"' for f in fields)


def xfrm_block(sa: PeerSA, mode: str = "transport") -> str:
    a = sa.algo
    lines = [
        f"src {sa.src} dst {sa.dst}",
        f"\tproto esp spi 0x{sa.spi:08x} reqid 1 mode {mode}",
        "\treplay-window 32 flag af-unspec" + (" esn" if sa.esn else ""),
    ]
    if a.xfrm_auth:
        lines.append("\t" + a.xfrm_auth.format(auth="0x" + sa.auth_key.hex()))
    lines.append("\t" + a.xfrm_enc.format(enc="0x" + sa.enc_key.hex()))
    lines.append("\tsel src ::/0 dst ::/0")
    return "\n".join(lines) + "\n"


def json_entry(sa: PeerSA) -> dict:
    return {
        "spi": f"0x{sa.spi:08x}",
        "src": sa.src,
        "dst": sa.dst,
        "encryption": sa.algo.encryption,
        "enc_key": sa.enc_key.hex(),
        "integrity": sa.algo.integrity,
        "auth_key": sa.auth_key.hex(),
        "esn": sa.esn,
        "esn_high": sa.esn_high,
    }


# --- protecting a capture -----------------------------------------------------------------------


def raw_frames(path) -> list[tuple[int, bytes]]:
    """(ts_ns, IPv6 octets) of a raw-IPv6 pcap, read by scapy."""
    reader = RawPcapReader(str(path))
    frac = 1 if reader.nano else 1000
    return [(meta.sec * 10**9 + meta.usec * frac, bytes(data)) for data, meta in reader]


def which_sa(pkt: IPv6, ha: str) -> str | None:
    """'bu', 'ba', 'hoti' or 'hot': the MN-HA signalling RFC 3776/4877 protects."""
    if pkt.nh == 41:
        inner = pkt.payload
        if MIP6MH_HoTI in inner and pkt.dst == ha:
            return "hoti"
        if MIP6MH_HoT in inner and pkt.src == ha:
            return "hot"
        return None
    if MIP6MH_BU in pkt and pkt.dst == ha:
        return "bu"
    if MIP6MH_BA in pkt and pkt.src == ha:
        return "ba"
    return None


def protect(frames, sas: dict[str, PeerSA], ha: str) -> tuple[list, dict[str, int]]:
    """The frames with the MN-HA signalling ESP-protected by ``sas`` ('bu', 'ba',
    'hoti', 'hot' -> SA); and how many of each were protected."""
    engines = {k: sa.scapy() for k, sa in sas.items()}
    out, counts = [], dict.fromkeys(sas, 0)
    for ts, data in frames:
        pkt = IPv6(data)
        kind = which_sa(pkt, ha)
        if kind is not None and kind in engines:
            data = bytes(engines[kind].encrypt(pkt))
            counts[kind] += 1
        out.append((ts, data))
    return out, counts
