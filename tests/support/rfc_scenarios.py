"""Test-only handover scenarios as a capture at the mobile node shows them, octet by octet.

Every packet is made by ``tests.support.rfc_packets`` (written from the RFC text, not
with ``ebutool.wire``) and every keygen token, Kbm and authenticator by the hashlib
arithmetic of ``tests.support.rr`` (RFC 6275 5.2), so a scenario checks ebutool's
decoder, reconstruction and classification against an independent construction.

A test lays out its packets at times it chooses (ms from ``BASE_NS``) and computes the
row it expects from those same times (:func:`expect_row`), never from ebutool's output:

    s = Scenario()
    s.hoti(900, b"H" * 8, s.old)           # from the old address, through the HA
    s.hot(920, b"H" * 8, index=1, coa=s.old)
    s.bu_ha(1000, seq=10)                    # t0: the first packet from the new address
    ...
    df = s.analyze(tmp_path)

Message layout (RFC 6275): HoTI/HoT tunnelled between the care-of address and the HA
(inner header home address <-> CN, 11.3.1 / 9.4.2); CoTI/CoT directly between care-of
address and CN; BU and route-optimised data from the care-of address with a Home Address
option (6.3); BA and data to it with a type 2 routing header (6.4).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tests.support import rfc_packets as P
from tests.support import rr

BASE_NS = 1_700_000_000 * 1_000_000_000
KCN = bytes.fromhex("0f1e2d3c4b5a69788796a5b4c3d2e1f00112a3b4")
NONCES = {0: b"nonce-zero!!", 1: b"nonce-one!!!", 2: b"nonce-two!!!", 3: b"nonce-three!"}
HOA, HA, CN = "2001:db8:1::100", "2001:db8:1::1", "2001:db8:c::1"
OLD_COA, NEW_COA = "2001:db8:a::100", "2001:db8:b::100"


def ns(t_ms: float) -> int:
    return BASE_NS + round(t_ms * 1_000_000)


def epoch_s(t_ms: float) -> float:
    return ns(t_ms) / 1e9


@dataclass
class Scenario:
    """One MN (home address ``hoa``) with its HA and one CN, seen at the MN."""

    hoa: str = HOA
    ha: str = HA
    cn: str = CN
    old: str = OLD_COA
    new: str = NEW_COA
    kcn: bytes = KCN
    nonces: dict[int, bytes] = field(default_factory=lambda: dict(NONCES))
    packets: list[tuple[int, bytes]] = field(default_factory=list)

    def add(self, t_ms: float, pkt: bytes) -> None:
        self.packets.append((ns(t_ms), pkt))

    # -- tokens and keys (RFC 6275 5.2.5) -----------------------------------------------
    def home_token(self, index: int) -> bytes:
        return rr.home_token(self.kcn, self.hoa, self.nonces[index])

    def careof_token(self, coa: str, index: int) -> bytes:
        return rr.careof_token(self.kcn, coa, self.nonces[index])

    def kbm(self, coa: str, hidx: int, cidx: int | None) -> bytes:
        """Standard Kbm, or the home-only Kbm of an EBU / deregistration (``cidx`` None)."""
        home = self.home_token(hidx)
        if cidx is None:
            return rr.kbm_home_only(home)
        return rr.kbm_standard(home, self.careof_token(coa, cidx))

    # -- the home agent ---------------------------------------------------------------
    def bu_ha(self, t: float, seq: int, coa: str | None = None, lifetime_4s: int = 60) -> None:
        coa = coa or self.new
        body = P.bu_body(seq, P.BU_A | P.BU_H, lifetime_4s)
        self.add(t, P.mh_packet(coa, self.ha, P.MH_BU, body, hoa=self.hoa))

    def ba_ha(self, t: float, seq: int, status: int = 0, coa: str | None = None) -> None:
        coa = coa or self.new
        body = P.ba_body(status, seq, 60)
        self.add(t, P.mh_packet(self.ha, coa, P.MH_BA, body, rh2=self.hoa))

    # -- return routability -----------------------------------------------------------
    def hoti(self, t: float, cookie: bytes, coa: str | None = None) -> None:
        inner = P.mh_packet(self.hoa, self.cn, P.MH_HOTI, P.hoti_body(cookie))
        self.add(t, P.tunnel(coa or self.new, self.ha, inner))

    def hot(self, t: float, cookie: bytes, index: int, coa: str | None = None) -> None:
        body = P.hot_body(index, cookie, self.home_token(index))
        inner = P.mh_packet(self.cn, self.hoa, P.MH_HOT, body)
        self.add(t, P.tunnel(self.ha, coa or self.new, inner))

    def coti(self, t: float, cookie: bytes, coa: str | None = None) -> None:
        self.add(t, P.mh_packet(coa or self.new, self.cn, P.MH_COTI, P.hoti_body(cookie)))

    def cot(self, t: float, cookie: bytes, index: int, coa: str | None = None) -> None:
        coa = coa or self.new
        body = P.hot_body(index, cookie, self.careof_token(coa, index))
        self.add(t, P.mh_packet(self.cn, coa, P.MH_COT, body))

    # -- binding updates to the CN (RFC 6275 6.1.7, 6.1.8, 5.2.6) -----------------------
    def bu_cn(
        self,
        t: float,
        seq: int,
        hidx: int,
        cidx: int,
        coa: str | None = None,
        ack: bool = True,
        lifetime_4s: int = 60,
        kbm_cidx: int | None | str = "same",
    ) -> None:
        """A BU with Nonce Indices (``hidx``, ``cidx``), MACed with the standard Kbm of
        those indices; ``kbm_cidx=None``: with the home-only Kbm (an EBU, draft 4.1, or a
        deregistration, RFC 6275 5.2.5)."""
        coa = coa or self.new
        body = P.bu_body(seq, P.BU_A if ack else 0, lifetime_4s)
        opts = [P.nonce_indices(hidx, cidx), P.AUTH_PLACEHOLDER]
        mh = P.mobility_header(P.MH_BU, body, opts, src=self.hoa, dst=self.cn)
        key = self.kbm(coa, hidx, cidx if kbm_cidx == "same" else kbm_cidx)  # type: ignore[arg-type]
        mac = rr.authenticator(key, coa, self.cn, P.mac_data(mh))
        mh = P.set_authenticator(mh, mac, self.hoa, self.cn)
        self.add(t, P.packet(coa, self.cn, P.NH_MH, mh, hoa=self.hoa))

    def ba_cn(
        self,
        t: float,
        seq: int,
        status: int = 0,
        coa: str | None = None,
        key: tuple[int, int | None] | None = None,
    ) -> None:
        """A BA from the CN; ``key`` (home index, care-of index or None) adds the Binding
        Authorization Data with that Kbm (RFC 6275 6.1.8: refusals may lack it)."""
        coa = coa or self.new
        body = P.ba_body(status, seq, 60 if status < 128 else 0)
        if key is None:
            self.add(t, P.mh_packet(self.cn, coa, P.MH_BA, body, rh2=self.hoa))
            return
        mh = P.mobility_header(P.MH_BA, body, [P.AUTH_PLACEHOLDER], src=self.cn, dst=self.hoa)
        mac = rr.authenticator(self.kbm(coa, *key), coa, self.cn, P.mac_data(mh))
        mh = P.set_authenticator(mh, mac, self.cn, self.hoa)
        self.add(t, P.packet(self.cn, coa, P.NH_MH, mh, rh2=self.hoa))

    # -- data ---------------------------------------------------------------------------
    def data_up(self, t: float, coa: str | None = None) -> None:
        """Route-optimised data MN -> CN from a care-of address (Home Address option)."""
        self.add(t, P.udp_packet(coa or self.new, self.cn, hoa=self.hoa))

    def data_down(self, t: float, coa: str | None = None) -> None:
        """Route-optimised data CN -> MN to a care-of address (type 2 routing header)."""
        self.add(t, P.udp_packet(self.cn, coa or self.new, rh2=self.hoa))

    # -- output -----------------------------------------------------------------------
    def pcap(self, cut: Mapping[float, int] | None = None) -> bytes:
        """The packets in time order, a nanosecond pcap; ``cut``: time (ms) -> octets
        the capture lost off the end of the packet sent then (:func:`P.pcap`)."""
        by_ns = {ns(t): octets for t, octets in (cut or {}).items()}
        return P.pcap(sorted(self.packets, key=lambda p: p[0]), nanosecond=True, cut=by_ns)

    def write(
        self, directory: Path, name: str = "scenario.pcap", cut: Mapping[float, int] | None = None
    ) -> Path:
        path = Path(directory) / name
        path.write_bytes(self.pcap(cut))
        return path


# --- the expected row ------------------------------------------------------------------

CONTRACT = (
    "mn ha cn prev_coa coa kind mode t_handover rtt_ha_ms rtt_bt_ms rtt_ro_ms "
    "send_latency_ms recv_latency_ms std_send_conserv_ms std_send_optimst_ms std_recv_ms "
    "early_send_conserv_ms early_send_optimst_ms early_recv_ms auth"
).split()
CHECKED_TOO = ["quality", "complete", "diagnosis", "rtt_bt_basis"]


def predictions(
    rtt_ha: float | None, rtt_bt: float | None, rtt_ro: float | None
) -> dict[str, float | None]:
    """The draft's section 5 formulas (DESIGN.md section 2), written out here."""
    full = None if None in (rtt_ha, rtt_bt, rtt_ro) else max(rtt_ha, rtt_bt, rtt_ro)  # type: ignore[type-var]
    plus = None if full is None or rtt_ro is None else full + rtt_ro
    return {
        "std_send_conserv_ms": plus,
        "std_send_optimst_ms": full,
        "std_recv_ms": plus,
        "early_send_conserv_ms": None if rtt_ha is None or rtt_ro is None else max(rtt_ha, rtt_ro),
        "early_send_optimst_ms": None if rtt_ro is None else 0.0,
        "early_recv_ms": rtt_ro,
    }


def _empty(v: object) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def expect_row(row, **expected) -> None:
    """Compare one output row against the test's ground truth: every DESIGN.md section 5
    column and ``quality``, ``complete``, ``diagnosis``, ``rtt_bt_basis`` must be given
    (None = empty); floats to 1 microsecond (the capture's times are exact in ns)."""
    missing = [c for c in CONTRACT + CHECKED_TOO if c not in expected]
    assert not missing, f"expect_row needs every contract column; missing {missing}"
    wrong = []
    for col, want in expected.items():
        got = row[col]
        if want is None:
            ok = _empty(got)
        elif isinstance(want, float) and not isinstance(want, bool):
            ok = not _empty(got) and abs(float(got) - want) <= 1e-3
        else:
            ok = not _empty(got) and got == want
        if not ok:
            wrong.append(f"{col}: got {got!r}, expected {want!r}")
    assert not wrong, "\n".join(wrong) + f"\n(diagnosis: {row['diagnosis']})"
