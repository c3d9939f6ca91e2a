"""The home agent and the correspondent nodes of the simulation.

The correspondent follows RFC 6275 section 9 and the draft's section 4.1: it
answers HoTI/CoTI with tokens from its Kcn and nonce table, accepts a binding
update whose MAC verifies, creates a *tentative* binding (TENTATIVE_BINDING_LIFETIME)
for an early binding update when it supports them, and silently drops an EBU when
it does not (a legacy RFC 6275 node: the MAC would need a care-of token for nonce
index 0).  Route-optimised data from an MN it has no binding for is dropped and,
if configured, answered with a Binding Error (status 1), at most one per interval.
"""

from __future__ import annotations

from ebutool.core import constants as C
from ebutool.core.units import ms_to_ns_us
from ebutool.oracle import crypto
from ebutool.synth import packets as P
from ebutool.synth.flows import flow_times
from ebutool.synth.scenario import Correspondent, Flow, HomeAgent
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

BA_ACCEPTED = 0
BE_UNKNOWN_BINDING = 1  # RFC 6275 6.1.9: unknown binding for Home Address option


class HomeAgentSim:
    def __init__(self, sim, cfg: HomeAgent):
        self.sim, self.cfg = sim, cfg
        self.bindings: dict[str, str] = {}  # home address -> care-of address

    def receive(self, pkt: P.Pkt) -> None:
        if pkt.inner is not None:  # reverse tunnel from an MN: forward
            self.sim.ha_to_cn(pkt.inner)
            return
        msg = pkt.msg
        if isinstance(msg, BindingUpdate) and msg.flags & BU_FLAG_H and pkt.hoa:
            self.bindings[pkt.hoa] = pkt.src
            if msg.flags & BU_FLAG_A:
                ba = BindingAcknowledgement(
                    status=BA_ACCEPTED, sequence=msg.sequence, lifetime=msg.lifetime
                )
                self.sim.ha_to_coa(pkt.src, P.mh(ba, self.cfg.address, pkt.src, home=pkt.hoa))

    def intercept(self, hoa: str, pkt: P.Pkt) -> None:
        """A packet for ``hoa`` reached the home link: tunnel it to the registered
        care-of address, or hand it over on the home link when there is none."""
        coa = self.bindings.get(hoa)
        if coa is None:
            self.sim.deliver(hoa, pkt)
        else:
            self.sim.ha_to_coa(coa, P.tunnelled(self.cfg.address, coa, pkt))


class CorrespondentSim:
    def __init__(self, sim, cfg: Correspondent):
        self.sim, self.cfg = sim, cfg
        # home address -> (care-of address, expiry ns, tentative)
        self.bindings: dict[str, tuple[str, int, bool]] = {}
        self.last_be: dict[str, int] = {}
        self.accepted_data = 0

    # -- keys -------------------------------------------------------------------
    def nonce_index(self) -> int:
        return self.cfg.nonce_index_at(self.sim.now / 1e6)

    def home_token(self, hoa: str, index: int) -> bytes | None:
        nonce = self.cfg.nonces.get(index)
        return P.home_token(self.cfg.kcn, hoa, nonce) if nonce is not None else None

    def careof_token(self, coa: str, index: int) -> bytes | None:
        nonce = self.cfg.nonces.get(index)
        return P.careof_token(self.cfg.kcn, coa, nonce) if nonce is not None else None

    def binding(self, hoa: str) -> str | None:
        b = self.bindings.get(hoa)
        return b[0] if b is not None and self.sim.now < b[1] else None

    def bind(self, hoa: str, coa: str, lifetime_s: float, tentative: bool) -> None:
        self.bindings[hoa] = (coa, self.sim.now + ms_to_ns_us(lifetime_s * 1000), tentative)

    # -- receiving ----------------------------------------------------------------
    def receive(self, pkt: P.Pkt) -> None:
        msg, me = pkt.msg, self.cfg.address
        if isinstance(msg, HomeTestInit) and not isinstance(msg, CareOfTestInit):
            i = self.nonce_index()
            token = self.home_token(pkt.src, i)
            assert token is not None  # nonce_index() names a nonce of the table
            hot = HomeTest(nonce_index=i, init_cookie=msg.init_cookie, keygen_token=token)
            self.sim.cn_to_home(self.cfg, pkt.src, P.mh(hot, me, pkt.src))
        elif isinstance(msg, CareOfTestInit):
            i = self.nonce_index()
            token = self.careof_token(pkt.src, i)
            assert token is not None  # nonce_index() names a nonce of the table
            cot = CareOfTest(nonce_index=i, init_cookie=msg.init_cookie, keygen_token=token)
            self.sim.cn_to_coa(self.cfg, pkt.src, P.mh(cot, me, pkt.src))
        elif isinstance(msg, BindingUpdate) and pkt.hoa:
            self.binding_update(pkt, msg, pkt.hoa)
        elif msg is None and pkt.hoa:
            self.route_optimised_data(pkt, pkt.hoa)
        elif msg is None:
            self.accepted_data += 1

    def binding_update(self, pkt: P.Pkt, bu: BindingUpdate, hoa: str) -> None:
        coa = pkt.src
        ni = bu.option(NonceIndices)
        if ni is None or bu.lifetime == 0:
            return  # deregistration: not simulated
        home = self.home_token(hoa, ni.home_index)
        early = ni.careof_index == 0
        if early:
            if not self.cfg.early_binding_updates:
                return  # legacy CN: silently dropped
            careof, lifetime = None, self.sim.config.tentative_binding_lifetime
        else:
            careof = self.careof_token(coa, ni.careof_index)
            lifetime = min(bu.lifetime * C.LIFETIME_UNIT_S, self.sim.config.max_rr_binding_lifetime)
        if home is None or (not early and careof is None):
            return  # unknown nonce index: MAC cannot verify
        key = crypto.kbm(home, careof)
        if not P.mac_ok(pkt, key, coa, self.cfg.address):
            return  # RFC 6275 9.5.1: silently discard
        self.bind(hoa, coa, lifetime, tentative=early)
        if bu.flags & BU_FLAG_A:
            ba = BindingAcknowledgement(
                status=BA_ACCEPTED, sequence=bu.sequence, lifetime=P.lifetime_units(lifetime)
            )
            self.sim.cn_to_coa(
                self.cfg,
                coa,
                P.signed(ba, key, coa, self.cfg.address, self.cfg.address, coa, home=hoa),
            )

    def route_optimised_data(self, pkt: P.Pkt, hoa: str) -> None:
        if self.binding(hoa) == pkt.src:
            self.accepted_data += 1
            return
        if not self.cfg.binding_errors:
            return
        last = self.last_be.get(hoa)
        interval = ms_to_ns_us(self.cfg.binding_error_interval_ms)
        if last is not None and self.sim.now - last < interval:
            return
        self.last_be[hoa] = self.sim.now
        be = BindingError(status=BE_UNKNOWN_BINDING, home_address=hoa)
        self.sim.cn_to_coa(self.cfg, pkt.src, P.mh(be, self.cfg.address, pkt.src))

    # -- sending data -------------------------------------------------------------
    def start_flow(self, index: int, flow: Flow) -> None:
        mn = self.sim.scenario.mobile_nodes[flow.mn]
        for n, t in enumerate(flow_times(flow)):
            self.sim.at_data(t, self.send_data, index, n, flow, mn.home_address)

    def send_data(self, index: int, n: int, flow: Flow, hoa: str) -> None:
        coa = self.binding(hoa)
        me = self.cfg.address
        if coa is not None:
            pkt = P.data(me, coa, index, n, flow.size, flow.cn_port, flow.mn_port, home=hoa)
            self.sim.cn_to_coa(self.cfg, coa, pkt)
        else:
            pkt = P.data(me, hoa, index, n, flow.size, flow.cn_port, flow.mn_port)
            self.sim.cn_to_home(self.cfg, hoa, pkt)
