"""Test-only scenario builder: handovers as a capture at the mobile node shows them.

The test chooses one-way delays (:class:`Delays`); :func:`handover` lays out every
packet the MN sends and receives with ebutool's own encoder (``ebutool.wire.build``),
following the procedures of the draft's Figures 1 and 2 with zero processing time:

* a request leaves at the MN's time t and its answer arrives at t + RTT;
* the standard MN sends the BU to a CN when BA<-HA, HoT and CoT have all arrived;
* the early MN sends BU->HA, EBU->CN and CoTI at t0 and the standard BU once the CoT is in;
* the CN switches to the new care-of address when the (E)BU reaches it (t + d_ro);
* data flows both ways every ``period`` ms; the MN sends route-optimised data once
  its mode allows (optimistic: after the (E)BU; conservative: after the acknowledgement),
  reverse-tunnelled data before that; the CN's data goes through the HA until it switches.

Tests compute their expected values from the delays they chose (the draft's formulas
with these delays), never from ebutool's output.  Times here are ms from ``BASE_NS``.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field, replace

from ebutool.core.addr import pton
from ebutool.core.diagnostics import Diagnostics
from ebutool.oracle import crypto
from ebutool.wire.build import mh_packet, tunnel, udp_packet, write_pcap
from ebutool.wire.mh import messages as M
from ebutool.wire.mh import mobility_options as O
from ebutool.wire.mh.codec import aligned, encode_mh, mac_data

BASE_NS = 1_700_000_000 * 1_000_000_000
RETX_MS = 1000.0  # INITIAL_BINDACK_TIMEOUT (RFC 6275 default, 1 s)
GAP = 0.01  # ms between messages the MN sends "in parallel"


def ns(t_ms: float) -> int:
    return BASE_NS + round(t_ms * 1_000_000)


@dataclass(frozen=True)
class Delays:
    """One-way delays in ms at the MN's (new) attachment point."""

    d_ha: float  # MN <-> HA
    d_hc: float  # HA <-> CN
    d_ro: float  # MN <-> CN, direct

    @property
    def rtt_ha(self) -> float:
        return 2 * self.d_ha

    @property
    def rtt_bt(self) -> float:
        return 2 * (self.d_ha + self.d_hc)

    @property
    def rtt_ro(self) -> float:
        return 2 * self.d_ro


@dataclass
class CN:
    addr: str
    delays: Delays
    supports_ebu: bool = True
    kcn: bytes = bytes(range(20))
    nonces: dict = field(default_factory=lambda: {3: b"nonce-three!", 4: b"nonce-four!!"})

    def token(self, address: str, index: int, which: int) -> bytes:
        return crypto.keygen_token(self.kcn, pton(address), self.nonces[index], which)


@dataclass
class MN:
    hoa: str
    ha: str
    seq: int = 100
    cookie: int = 0

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def next_cookie(self) -> bytes:
        self.cookie += 1
        return hashlib.sha1(f"{self.hoa}/{self.cookie}".encode()).digest()[:8]


class Capture:
    """Packets as the MN captured them: (ts_ns, IPv6 packet), sorted on output."""

    def __init__(self) -> None:
        self.pkts: list[tuple[int, bytes]] = []

    def add(self, t_ms: float, pkt: bytes) -> None:
        self.pkts.append((ns(t_ms), pkt))

    def packets(self) -> list[tuple[int, bytes]]:
        return sorted(self.pkts, key=lambda p: p[0])

    def records(self, diag: Diagnostics | None = None) -> list:
        from ebutool.records.from_packet import record_from_packet

        diag = diag if diag is not None else Diagnostics()
        out = []
        for i, (ts, pkt) in enumerate(self.packets(), 1):
            rec = record_from_packet(i, ts, pkt, 0, diag)
            if rec is not None:
                out.append(rec)
        return out

    def pcap_bytes(self) -> bytes:
        buf = io.BytesIO()
        write_pcap(buf, self.packets())
        return buf.getvalue()

    def write(self, path) -> str:
        with open(path, "wb") as fh:
            fh.write(self.pcap_bytes())
        return str(path)


# -- messages ----------------------------------------------------------------------------
def signed(
    msg: M.MobilityMessage, key: bytes, coa: str, cn: str, src: str, dst: str
) -> M.MobilityMessage:
    """``msg`` with a Binding Authorization Data option carrying the RFC 6275 MAC."""
    m = replace(msg, options=list(msg.options) + [O.BindingAuthorizationData(bytes(12))])
    wire = encode_mh(aligned(m), pton(src), pton(dst))
    mac = crypto.authenticator(key, pton(coa), pton(cn), mac_data(wire))
    return replace(msg, options=list(msg.options) + [O.BindingAuthorizationData(mac)])


def bu_to_ha(mn: MN, coa: str, seq: int) -> bytes:
    home = coa == mn.hoa
    bu = M.BindingUpdate(sequence=seq, flags=M.BU_FLAG_A | M.BU_FLAG_H, lifetime=0 if home else 60)
    return mh_packet(bu, coa, mn.ha, hoa=None if home else mn.hoa)


def ba_from(
    peer: str, mn: MN, coa: str, seq: int, status: int = 0, key: bytes | None = None
) -> bytes:
    home = coa == mn.hoa
    ba = M.BindingAcknowledgement(status=status, sequence=seq, lifetime=0 if home else 60)
    if key is not None:
        ba = signed(ba, key, coa, peer, peer, mn.hoa)
    return mh_packet(ba, peer, coa, home=None if home else mn.hoa)


def bu_to_cn(
    mn: MN,
    coa: str,
    cn: CN,
    seq: int,
    home_index: int,
    careof_index: int,
    home_token: bytes,
    careof_token: bytes | None,
    ack: bool = True,
) -> bytes:
    """A standard BU (careof_index != 0), an EBU (careof_index 0) or, from home, a
    deregistration; signed with Kbm (or the early key) so the oracle can check it."""
    home = coa == mn.hoa
    bu = M.BindingUpdate(
        sequence=seq,
        flags=M.BU_FLAG_A if ack else 0,
        lifetime=0 if home else 60,
        options=[O.NonceIndices(home_index, careof_index)],
    )
    bu = signed(bu, crypto.kbm(home_token, careof_token), coa, cn.addr, mn.hoa, cn.addr)
    return mh_packet(bu, coa, cn.addr, hoa=None if home else mn.hoa)


def hoti(mn: MN, coa: str, cn: CN, cookie: bytes) -> bytes:
    inner = mh_packet(M.HomeTestInit(init_cookie=cookie), mn.hoa, cn.addr)
    return inner if coa == mn.hoa else tunnel(coa, mn.ha, inner)


def hot(mn: MN, coa: str, cn: CN, cookie: bytes, index: int) -> bytes:
    msg = M.HomeTest(
        nonce_index=index, init_cookie=cookie, keygen_token=cn.token(mn.hoa, index, crypto.HOME)
    )
    inner = mh_packet(msg, cn.addr, mn.hoa)
    return inner if coa == mn.hoa else tunnel(mn.ha, coa, inner)


def coti(coa: str, cn: CN, cookie: bytes) -> bytes:
    return mh_packet(M.CareOfTestInit(init_cookie=cookie), coa, cn.addr)


def cot(coa: str, cn: CN, cookie: bytes, index: int) -> bytes:
    msg = M.CareOfTest(
        nonce_index=index, init_cookie=cookie, keygen_token=cn.token(coa, index, crypto.CARE_OF)
    )
    return mh_packet(msg, cn.addr, coa)


def binding_error(mn: MN, coa: str, cn: CN) -> bytes:
    return mh_packet(M.BindingError(status=1, home_address=mn.hoa), cn.addr, coa)


def ro_data_up(mn: MN, coa: str, cn: CN) -> bytes:
    return udp_packet(coa, cn.addr, b"up", hoa=mn.hoa)


def ro_data_down(mn: MN, coa: str, cn: CN) -> bytes:
    return udp_packet(cn.addr, coa, b"down", home=mn.hoa)


def reverse_tunnelled(mn: MN, coa: str, cn: CN) -> bytes:
    return tunnel(coa, mn.ha, udp_packet(mn.hoa, cn.addr, b"rt"))


def ha_tunnelled(mn: MN, coa: str, cn: CN) -> bytes:
    return tunnel(mn.ha, coa, udp_packet(cn.addr, mn.hoa, b"ht"))


# -- procedures --------------------------------------------------------------------------
@dataclass
class Plan:
    procedure: str = "standard"  # standard | early | home_only
    mode: str = "conservative"  # conservative | optimistic
    period: float = 2.0  # data packet period, ms, both directions
    data_before: float = 20.0  # data at the old address before t0, ms
    data_after: float = 400.0  # data after t0, ms
    pre_test: float = -150.0  # early: HoTI time relative to t0 (from the old address)
    old: Delays | None = None  # early: delays at the old address (RTT_BT of the pre-test)
    lose_cot: bool = False  # the CoT never arrives: the episode cannot complete
    retransmit_ha_bu: bool = False  # the first BU to the HA is lost, resent after RETX_MS
    new_seq: bool = False  # ... resent with a new sequence number (RFC 6275 11.8)
    home_index: int = 3
    careof_index: int = 4
    forged_bu: bool = False  # the standard BU->CN carries a MAC made with a wrong key
    ebu_no_ack: bool = False  # early: the EBU asks for no acknowledgement (no A flag)


def _ticks(start: float, end: float, period: float, phase: float):
    k = int((start - phase) // period) + 1
    while k * period + phase < end:
        yield k * period + phase
        k += 1


def handover(
    cap: Capture,
    mn: MN,
    cns: list[CN],
    t0: float,
    new_coa: str,
    old_coa: str | None,
    plan: Plan,
    d_ha: float,
) -> None:
    """One handover of ``mn`` from ``old_coa`` to ``new_coa`` at time ``t0`` (ms)."""
    seq = mn.next_seq()
    cap.add(t0, bu_to_ha(mn, new_coa, seq))
    t_ha_sent = t0
    if plan.retransmit_ha_bu:
        t_ha_sent = t0 + RETX_MS
        if plan.new_seq:
            seq = mn.next_seq()
        cap.add(t_ha_sent, bu_to_ha(mn, new_coa, seq))
    t_ba_ha = t_ha_sent + 2 * d_ha
    cap.add(t_ba_ha, ba_from(mn.ha, mn, new_coa, seq))
    t_ha_bind = t_ha_sent + d_ha  # when the HA tunnels to the new address
    for i, cn in enumerate(cns):
        start = t0 + GAP * (1 + 3 * i)
        if plan.procedure == "home_only":
            t_use = t_switch = None
        elif plan.procedure == "standard":
            t_use, t_switch = _standard(cap, mn, cn, new_coa, start, t_ba_ha, plan)
        else:
            t_use, t_switch = _early(cap, mn, cn, new_coa, old_coa, start, t0, t_ba_ha, plan)
        _data(
            cap,
            mn,
            cn,
            new_coa,
            old_coa,
            t0,
            t_ba_ha,
            t_ha_bind,
            t_use,
            t_switch,
            plan,
            d_ha,
            phase=0.3 + 0.1 * i,
        )


def _standard(cap, mn, cn, coa, start, t_ba_ha, plan):
    """Figure 1 after BU->HA: HoTI, CoTI; BU->CN when BA, HoT and CoT are in; BA<-CN."""
    d = cn.delays
    hc, cc = mn.next_cookie(), mn.next_cookie()
    cap.add(start, hoti(mn, coa, cn, hc))
    t_hot = start + d.rtt_bt
    cap.add(t_hot, hot(mn, coa, cn, hc, plan.home_index))
    cap.add(start + GAP, coti(coa, cn, cc))
    if plan.lose_cot:
        return None, None
    t_cot = start + GAP + d.rtt_ro
    cap.add(t_cot, cot(coa, cn, cc, plan.careof_index))
    t_bu = max(t_ba_ha, t_hot, t_cot) + GAP
    return _final_bu(cap, mn, cn, coa, t_bu, plan, mode_waits_for_ba=plan.mode == "conservative")


def _final_bu(cap, mn, cn, coa, t_bu, plan, mode_waits_for_ba):
    d, seq = cn.delays, mn.next_seq()
    ht = cn.token(mn.hoa, plan.home_index, crypto.HOME)
    ct = cn.token(coa, plan.careof_index, crypto.CARE_OF)
    sign_ct = bytes(8) if plan.forged_bu else ct
    cap.add(t_bu, bu_to_cn(mn, coa, cn, seq, plan.home_index, plan.careof_index, ht, sign_ct))
    t_ba = t_bu + d.rtt_ro
    cap.add(t_ba, ba_from(cn.addr, mn, coa, seq, key=crypto.kbm(ht, ct)))
    return (t_ba if mode_waits_for_ba else t_bu), t_bu + d.d_ro


def _early(cap, mn, cn, coa, old_coa, start, t0, t_ba_ha, plan):
    """Figure 2: HoTI/HoT before the handover from the old address; at t0 EBU and CoTI;
    EBA (unless the CN drops EBUs) and CoT; then the standard BU and BA."""
    d, old = cn.delays, plan.old or cn.delays
    hc = mn.next_cookie()
    t_pre = t0 + plan.pre_test
    cap.add(t_pre, hoti(mn, old_coa, cn, hc))
    cap.add(t_pre + old.rtt_bt, hot(mn, old_coa, cn, hc, plan.home_index))
    ht = cn.token(mn.hoa, plan.home_index, crypto.HOME)
    seq, cc = mn.next_seq(), mn.next_cookie()
    cap.add(
        start, bu_to_cn(mn, coa, cn, seq, plan.home_index, 0, ht, None, ack=not plan.ebu_no_ack)
    )
    t_ebu = start
    cap.add(start + GAP, coti(coa, cn, cc))
    t_eba = None
    if plan.ebu_no_ack:  # nothing to wait for from the CN: a conservative MN waits for the HA
        t_eba = t_ba_ha
    elif cn.supports_ebu:
        t_eba = t_ebu + d.rtt_ro
        cap.add(t_eba, ba_from(cn.addr, mn, coa, seq, key=crypto.kbm(ht, None)))
    if plan.lose_cot:
        return (t_ebu if plan.mode == "optimistic" else max(t_ba_ha, t_eba or float("inf"))), (
            t_ebu + d.d_ro if cn.supports_ebu else None
        )
    t_cot = start + GAP + d.rtt_ro
    cap.add(t_cot, cot(coa, cn, cc, plan.careof_index))
    conservative = plan.mode == "conservative"
    t_final_use, t_final_switch = _final_bu(
        cap, mn, cn, coa, t_cot + GAP, plan, mode_waits_for_ba=conservative
    )
    if not cn.supports_ebu:  # the early part did nothing: the standard BU decides
        return (t_ebu if not conservative else t_final_use), t_final_switch
    t_use = t_ebu if not conservative else max(t_ba_ha, t_eba)
    return t_use, t_ebu + d.d_ro


def _data(cap, mn, cn, coa, old_coa, t0, t_ba_ha, t_ha_bind, t_use, t_switch, plan, d_ha, phase):
    d = cn.delays
    be_sent = 0
    for t in _ticks(t0 - plan.data_before, t0 + plan.data_after, plan.period, phase):
        if t < t0:
            if old_coa is not None:
                cap.add(t, ro_data_up(mn, old_coa, cn))
        elif t_use is not None and t > t_use:
            cap.add(t, ro_data_up(mn, coa, cn))
            arrives = t + d.d_ro
            if (t_switch is None or arrives < t_switch) and be_sent < 1 and not cn.supports_ebu:
                be_sent += 1  # RFC 6275 9.3.1: no binding for this care-of address
                cap.add(arrives + d.d_ro, binding_error(mn, coa, cn))
        elif t > t_ba_ha:
            cap.add(t, reverse_tunnelled(mn, coa, cn))
    for t in _ticks(t0 - plan.data_before, t0 + plan.data_after, plan.period, phase + 1.0):
        if t_switch is not None and t >= t_switch:
            cap.add(t + d.d_ro, ro_data_down(mn, coa, cn))
        elif t + d.d_hc >= t_ha_bind:
            cap.add(t + d.d_hc + d_ha, ha_tunnelled(mn, coa, cn))
        elif old_coa is not None and t + d.d_ro < t0:
            cap.add(t + d.d_ro, ro_data_down(mn, old_coa, cn))


def return_home(cap: Capture, mn: MN, cns: list[CN], t0: float, d_ha: float, plan: Plan) -> None:
    """RFC 6275 11.5.4: deregister with the HA from the home address (lifetime 0), then
    per CN a home test straight from home and a deregistration BU keyed SHA1(home token)."""
    seq = mn.next_seq()
    cap.add(t0, bu_to_ha(mn, mn.hoa, seq))
    t_ba = t0 + 2 * d_ha
    cap.add(t_ba, ba_from(mn.ha, mn, mn.hoa, seq))
    for i, cn in enumerate(cns):
        d, start = cn.delays, t_ba + GAP * (1 + 3 * i)
        hc = mn.next_cookie()
        cap.add(start, hoti(mn, mn.hoa, cn, hc))
        t_hot = start + d.rtt_ro  # from home the home test takes the direct path
        cap.add(t_hot, hot(mn, mn.hoa, cn, hc, plan.home_index))
        ht = cn.token(mn.hoa, plan.home_index, crypto.HOME)
        s = mn.next_seq()
        cap.add(t_hot + GAP, bu_to_cn(mn, mn.hoa, cn, s, plan.home_index, 0, ht, None))
        cap.add(t_hot + GAP + d.rtt_ro, ba_from(cn.addr, mn, mn.hoa, s, key=crypto.kbm(ht, None)))
