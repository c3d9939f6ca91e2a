"""The mobile node of the simulation: RFC 6275 return routability and the draft's
early binding updates (sections 3, 4.1, 4.3).

At each handover (t0) the MN sends BU->HA, then for every correspondent:

* early procedure, with a valid home keygen token (younger than MAX_TOKEN_LIFETIME):
  EBU->CN (H=0, Nonce Indices with care-of index 0, MAC with SHA1(home token)) and
  CoTI->CN; after the CoT (and the HA's BA) the standard BU with both nonce indices;
* otherwise (standard procedure, or the draft's section 4.3: no home token yet):
  HoTI (tunnelled through the HA) and CoTI; after BA<-HA, HoT and CoT the BU->CN.

Route-optimised data (source = care-of address, Home Address option) starts, for a
conservative MN, after the (E)BA (an early one also waits for BA<-HA); for an
optimistic one right after the (E)BU is sent.  Before that data goes through the
reverse tunnel.  A Binding Error from the CN stops route-optimised data until the
standard BA.  Unanswered requests are retransmitted after INITIAL_BINDACK_TIMEOUT,
doubling up to MAX_BINDACK_TIMEOUT; binding updates respect MAX_UPDATE_RATE.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ebutool.core.units import ms_to_ns_us
from ebutool.oracle import crypto
from ebutool.synth import packets as P
from ebutool.synth.flows import flow_times
from ebutool.synth.scenario import HOME, Correspondent, Flow, Handover, MobileNode
from ebutool.wire.mh.messages import (
    BU_FLAG_A,
    BU_FLAG_H,
    BindingAcknowledgement,
    BindingError,
    BindingUpdate,
    CareOfTest,
    CareOfTestInit,
    HomeTest,
    HomeTestInit,
)
from ebutool.wire.mh.mobility_options import NonceIndices

BA_REJECTED = 128  # RFC 6275 6.1.8: status values from 128 reject
BE_UNKNOWN_BINDING = 1


@dataclass
class Token:
    value: bytes
    index: int
    received_ns: int


class Session:
    """The MN's state towards one correspondent node."""

    def __init__(self, cn: Correspondent):
        self.cn = cn
        self.ro = False  # may send route-optimised data now
        self.home: Token | None = None  # the most recent home keygen token
        self.hot_cookies: set[bytes] = set()
        self.reset()

    def reset(self) -> None:
        self.proc: str | None = None  # "early" | "standard" for the current care-of address
        self.need_hot = False
        self.cot_cookie: bytes | None = None
        self.careof: Token | None = None
        self.ebu_seq: int | None = None
        self.bu_seq: int | None = None
        self.eba = self.ba = self.bu_sent = self.be = False


class MobileNodeSim:
    def __init__(self, sim, cfg: MobileNode):
        self.sim, self.cfg = sim, cfg
        self.ha = sim.scenario.home_agents[cfg.home_agent]
        self.coa = cfg.start_coa
        self.net = sim.scenario.networks.get(cfg.start)
        self.gen = 0  # handover counter: stale timers check it
        self.seq: dict[str, int] = {}
        self.bu_times: dict[str, list[int]] = {}
        self.ha_seq: int | None = None
        self.ha_acked = cfg.start != HOME
        self.sessions = {c: Session(sim.scenario.correspondents[c]) for c in cfg.correspondents}
        self.by_addr = {s.cn.address: s for s in self.sessions.values()}

    @property
    def address(self) -> str:
        return self.coa if self.coa is not None else self.cfg.home_address

    @property
    def care_of_address(self) -> str:
        """The current care-of address: the MN signals only away from home."""
        assert self.coa is not None
        return self.coa

    def _cookie(self) -> bytes:
        return self.sim.rng.getrandbits(64).to_bytes(8, "big")

    def _next_seq(self, peer: str) -> int:
        self.seq[peer] = (self.seq.get(peer, 0) + 1) & 0xFFFF
        return self.seq[peer]

    # -- set-up -------------------------------------------------------------------
    def schedule(self) -> None:
        sim, cfg = self.sim, self.cfg
        hoa = cfg.home_address
        if self.coa is not None:  # already registered at t = 0 (steady state)
            sim.has[cfg.home_agent].bindings[hoa] = self.coa
            for s in self.sessions.values():
                sim.cns[s.cn.name].bind(hoa, self.coa, sim.config.max_rr_binding_lifetime, False)
                s.ro = True
        for h in cfg.handovers:
            sim.at(ms_to_ns_us(h.at_ms), self.handover, h)
        if cfg.procedure != "early":
            return
        if cfg.home_test == "anticipated":
            for h in cfg.handovers:
                if h.anticipated and h.at_ms - cfg.home_test_lead_ms >= 0:
                    sim.at(ms_to_ns_us(h.at_ms - cfg.home_test_lead_ms), self.home_test)
        elif cfg.home_test == "periodic":
            for k in range(math.ceil(sim.scenario.duration_ms / cfg.home_test_interval_ms)):
                sim.at(ms_to_ns_us(k * cfg.home_test_interval_ms), self.home_test)

    def start_flow(self, index: int, flow: Flow) -> None:
        cn = self.sim.scenario.correspondents[flow.cn]
        for n, t in enumerate(flow_times(flow)):
            self.sim.at_data(t, self.send_data, index, n, flow, cn)

    # -- requests with retransmission ------------------------------------------------
    def request(
        self, send: Callable[[], None], done: Callable[[], bool], peer: str | None = None
    ) -> None:
        """``send()`` now and again after each timeout until ``done()`` (or the next
        handover); ``peer`` marks a binding update (MAX_UPDATE_RATE applies)."""
        gen, sim = self.gen, self.sim
        cap = ms_to_ns_us(sim.config.max_bindack_timeout * 1000)

        def attempt(timeout: int) -> None:
            if self.gen != gen or done():
                return
            if peer is not None:
                t_ok = self._rate_ok_at(peer)
                if t_ok > sim.now:
                    sim.at(t_ok, attempt, timeout)
                    return
                self.bu_times.setdefault(peer, []).append(sim.now)
            send()
            sim.at(sim.now + timeout, attempt, min(2 * timeout, cap))

        attempt(ms_to_ns_us(sim.config.initial_bindack_timeout * 1000))

    def _rate_ok_at(self, peer: str) -> int:
        """Earliest time a BU to ``peer`` keeps within MAX_UPDATE_RATE: at most n BUs
        in any n / rate seconds, n = max(1, floor(rate))."""
        rate = self.sim.config.max_update_rate
        n = max(1, math.floor(rate))
        window = ms_to_ns_us(n / rate * 1000)
        times = self.bu_times.get(peer, [])
        if len(times) < n or times[-n] + window <= self.sim.now:
            return self.sim.now
        return times[-n] + window

    # -- the procedures -------------------------------------------------------------
    def handover(self, h: Handover) -> None:
        prev = self.coa
        self.coa, self.net = h.coa, self.sim.scenario.networks[h.network]
        self.gen += 1
        self.sim.handover_event(self.cfg.home_address, self.coa, prev)
        self.ha_acked = False
        self.send_ha_bu()
        for s in self.sessions.values():
            self.start_session(s)

    def home_test(self) -> None:
        """A home-address test ahead of a handover (draft 4.1); never from home (4.3)."""
        if self.coa is not None:
            for s in self.sessions.values():
                self.send_hoti(s)

    def send_ha_bu(self) -> None:
        def send():
            self.ha_seq = self._next_seq(self.ha.address)
            bu = BindingUpdate(
                sequence=self.ha_seq,
                flags=BU_FLAG_A | BU_FLAG_H,
                lifetime=P.lifetime_units(self.cfg.ha_lifetime_s),
            )
            coa, ha = self.care_of_address, self.ha.address
            self.sim.mn_to_ha(self, P.mh(bu, coa, ha, hoa=self.cfg.home_address))

        self.request(send, lambda: self.ha_acked, peer=self.ha.address)

    def start_session(self, s: Session) -> None:
        s.reset()
        s.ro = False
        tok = s.home
        max_age = ms_to_ns_us(self.sim.config.max_token_lifetime * 1000)
        if (
            self.cfg.procedure == "early"
            and tok is not None
            and self.sim.now - tok.received_ns <= max_age
        ):
            s.proc = "early"
            self.send_ebu(s, tok)
        else:
            s.proc, s.need_hot = "standard", True
            self.send_hoti(s)
        self.send_coti(s)

    def send_hoti(self, s: Session) -> None:
        cookie = self._cookie()
        s.hot_cookies.add(cookie)

        def send():
            inner = P.mh(HomeTestInit(init_cookie=cookie), self.cfg.home_address, s.cn.address)
            self.sim.mn_to_ha(self, P.tunnelled(self.care_of_address, self.ha.address, inner))

        self.request(send, lambda: cookie not in s.hot_cookies)

    def send_coti(self, s: Session) -> None:
        s.cot_cookie = cookie = self._cookie()

        def send():
            coti = CareOfTestInit(init_cookie=cookie)
            self.sim.mn_to_cn(self, s.cn, P.mh(coti, self.care_of_address, s.cn.address))

        self.request(send, lambda: s.careof is not None)

    def send_ebu(self, s: Session, tok: Token) -> None:
        key = crypto.kbm(tok.value, None)  # Kbm_early = SHA1(home keygen token)

        def send() -> None:
            s.ebu_seq = seq = self._next_seq(s.cn.address)
            self._send_bu(s, seq, NonceIndices(tok.index, 0), key, early=True)

        self.request(send, lambda: s.eba or s.bu_sent, peer=s.cn.address)

    def send_bu(self, s: Session, tok: Token, careof: Token) -> None:
        key = crypto.kbm(tok.value, careof.value)
        s.bu_sent = True

        def send() -> None:
            s.bu_seq = seq = self._next_seq(s.cn.address)
            self._send_bu(s, seq, NonceIndices(tok.index, careof.index), key, early=False)

        self.request(send, lambda: s.ba, peer=s.cn.address)

    def _send_bu(self, s: Session, seq: int, ni: NonceIndices, key: bytes, early: bool) -> None:
        coa = self.care_of_address
        bu = BindingUpdate(
            sequence=seq,
            flags=BU_FLAG_A,
            options=[ni],
            lifetime=P.lifetime_units(self.sim.config.max_rr_binding_lifetime),
        )
        self.sim.mn_to_cn(
            self,
            s.cn,
            P.signed(bu, key, coa, s.cn.address, coa, s.cn.address, hoa=self.cfg.home_address),
        )
        if self.cfg.mode == "optimistic" and not (early and s.be):
            s.ro = True  # optimistic: uses the new address right away

    def maybe_bu(self, s: Session) -> None:
        if (
            s.proc is not None
            and not s.bu_sent
            and self.ha_acked
            and s.careof is not None
            and not s.need_hot
            and s.home is not None
        ):
            self.send_bu(s, s.home, s.careof)

    def maybe_ro(self, s: Session) -> None:
        if s.proc == "early" and s.eba and self.ha_acked:
            s.ro = True

    # -- receiving ------------------------------------------------------------------
    def receive(self, pkt: P.Pkt) -> None:
        if pkt.inner is not None:
            pkt = pkt.inner
        msg, now = pkt.msg, self.sim.now
        if msg is None:
            return
        s = self.by_addr.get(pkt.src)
        if isinstance(msg, BindingAcknowledgement) and pkt.src == self.ha.address:
            if msg.sequence == self.ha_seq and msg.status < BA_REJECTED and not self.ha_acked:
                self.ha_acked = True
                for t in self.sessions.values():
                    self.maybe_ro(t)
                    self.maybe_bu(t)
        elif s is None:
            return
        elif isinstance(msg, CareOfTest):
            if msg.init_cookie == s.cot_cookie and pkt.dst == self.coa:
                s.careof, s.cot_cookie = Token(msg.keygen_token, msg.nonce_index, now), None
                self.maybe_bu(s)
        elif isinstance(msg, HomeTest):
            if msg.init_cookie in s.hot_cookies:
                s.hot_cookies.discard(msg.init_cookie)
                s.home, s.need_hot = Token(msg.keygen_token, msg.nonce_index, now), False
                self.maybe_bu(s)
        elif isinstance(msg, BindingAcknowledgement) and msg.status < BA_REJECTED:
            if msg.sequence == s.ebu_seq and s.ebu_seq is not None:
                s.eba = True
                self.maybe_ro(s)
            elif msg.sequence == s.bu_seq and s.bu_seq is not None:
                s.ba = s.ro = True
        elif isinstance(msg, BindingError) and msg.status == BE_UNKNOWN_BINDING and not s.ba:
            s.be, s.ro = True, False

    def send_data(self, index: int, n: int, flow: Flow, cn: Correspondent) -> None:
        hoa = self.cfg.home_address
        if self.coa is None:  # at home: plain IPv6, no Mobile IPv6 at all
            self.sim.mn_to_cn(
                self, cn, P.data(hoa, cn.address, index, n, flow.size, flow.mn_port, flow.cn_port)
            )
        elif self.sessions[cn.name].ro:
            self.sim.mn_to_cn(
                self,
                cn,
                P.data(
                    self.coa, cn.address, index, n, flow.size, flow.mn_port, flow.cn_port, hoa=hoa
                ),
            )
        else:
            inner = P.data(hoa, cn.address, index, n, flow.size, flow.mn_port, flow.cn_port)
            self.sim.mn_to_ha(self, P.tunnelled(self.coa, self.ha.address, inner))
