"""A small discrete-event simulation of mobile nodes, a home agent and correspondents.

Time is integer nanoseconds of scenario time, always a whole number of
microseconds (so pcap, pcapng and JSON traces hold exactly the same times).  Links
are one-way delays (a network's ``uplink_extra_ms`` makes them asymmetric: packets
from the MN take that much longer): MN <-> HA and MN <-> CN from the network the MN is attached to
(with that network's jitter and loss), HA <-> CN from the correspondent's
``ha_delay_ms`` (no jitter, no loss).  Nodes process instantly.  Everything random
(cookies, jitter, loss) comes from one ``random.Random(seed)`` drawn in event order,
so one seed gives the same packets, byte for byte.

The capture is taken at the mobile nodes (DESIGN.md section 4, the default vantage
point): every packet an MN sends, when it sends it, and every packet that reaches
an MN, when it arrives.  With several MNs it is the union of their captures.
``simulate(..., views=("ha", "cn", "ar"))`` also keeps the same run as captured at the
home agents (what reaches them and what they send: tunnelled packets and their
decapsulated inner packets), at the correspondents (what reaches them, what they
send) and at the MNs' access routers (``ar_delay_ms`` from the MN; every packet to or
from an MN twice, as it arrives and as it leaves with its hop limit one less), each
in ``SynthResult.views`` (:func:`ebutool.synth.output.write_capture`
writes one with its own clock offset and drift).
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from ebutool.core.constants import ProtocolConfig
from ebutool.core.units import ms_to_ns_us
from ebutool.records.record import HandoverEvent
from ebutool.synth import packets as P
from ebutool.synth.mobile import MobileNodeSim
from ebutool.synth.nodes import CorrespondentSim, HomeAgentSim
from ebutool.synth.scenario import HOME, Correspondent, Network, Scenario

VIEWS = ("ha", "cn", "ar")  # vantage points besides the MNs' own ("mn": SynthResult.packets)
AR_FORWARDING = 2  # the access router captures a packet on both of its interfaces


@dataclass
class SynthResult:
    """What a run produced: the capture at the MNs and the handover events."""

    scenario: Scenario
    seed: int
    config: ProtocolConfig
    packets: list[tuple[int, bytes]] = field(default_factory=list)  # (epoch ns, IPv6 octets)
    built: list = field(default_factory=list)  # the Pkt behind each packet (what was meant)
    handovers: list[HandoverEvent] = field(default_factory=list)
    lost: int = 0  # packets the links dropped
    # the same run captured at other vantage points: "ha", "cn" -> (epoch ns, IPv6 octets)
    views: dict[str, list[tuple[int, bytes]]] = field(default_factory=dict)


class Sim:
    def __init__(
        self, scenario: Scenario, seed: int, config: ProtocolConfig, views: tuple[str, ...] = ()
    ):
        self.scenario, self.config = scenario, config
        self.rng = random.Random(seed)
        self.now = 0
        self._queue: list = []
        self._order = itertools.count()
        self.result = SynthResult(scenario, seed, config)
        for role in views:
            if role not in VIEWS:
                raise ValueError(f"unknown view {role!r} (one of {', '.join(VIEWS)})")
            self.result.views[role] = []
        self.has = {n: HomeAgentSim(self, h) for n, h in scenario.home_agents.items()}
        self.cns = {n: CorrespondentSim(self, c) for n, c in scenario.correspondents.items()}
        self.cn_by_addr = {c.cfg.address: c for c in self.cns.values()}
        self.mns = {n: MobileNodeSim(self, m) for n, m in scenario.mobile_nodes.items()}
        self.mn_by_addr = {}
        for m in self.mns.values():
            for a in {m.cfg.home_address, m.cfg.start_coa, *(h.coa for h in m.cfg.handovers)} - {
                None
            }:
                self.mn_by_addr[a] = m

    # -- the event queue ---------------------------------------------------------
    def at(self, t_ns: int, fn: Callable, *args) -> None:
        """Run ``fn(*args)`` at ``t_ns``; same-time events run in scheduling order."""
        heapq.heappush(self._queue, (t_ns, 0, next(self._order), fn, args))

    def at_data(self, t_ns: int, fn: Callable, *args) -> None:
        """Like :meth:`at` for a data packet's departure: it runs after every signalling
        event of the same instant (a node that gets an acknowledgement at t sends its
        data packet of time t already on the new path)."""
        heapq.heappush(self._queue, (t_ns, 1, next(self._order), fn, args))

    def run(self) -> SynthResult:
        end = ms_to_ns_us(self.scenario.duration_ms)
        for m in self.mns.values():
            m.schedule()
        for i, f in enumerate(self.scenario.flows):
            if f.direction in ("both", "mn_to_cn"):
                self.mns[f.mn].start_flow(i, f)
            if f.direction in ("both", "cn_to_mn"):
                self.cns[f.cn].start_flow(i, f)
        while self._queue and self._queue[0][0] < end:
            self.now, _, _, fn, args = heapq.heappop(self._queue)
            fn(*args)
        return self.result

    # -- links -------------------------------------------------------------------
    def crossing(self, net: Network | None, base_ms: float) -> int | None:
        """Delay of one crossing of ``net``'s access link plus ``base_ms``, or None
        when the packet is lost there."""
        if net is not None and net.loss > 0 and self.rng.random() < net.loss:
            self.result.lost += 1
            return None
        jitter = (
            self.rng.uniform(0.0, net.jitter_ms) if net is not None and net.jitter_ms > 0 else 0.0
        )
        return ms_to_ns_us(base_ms + jitter)

    def capture(self, pkt: P.Pkt) -> None:
        self.result.packets.append((self.scenario.start_ns + self.now, pkt.wire))
        self.result.built.append(pkt)

    def seen_at(self, role: str, pkt: P.Pkt) -> None:
        """``pkt`` passes the vantage point ``role`` now (kept when that view is asked for)."""
        view = self.result.views.get(role)
        if view is not None:
            view.append((self.scenario.start_ns + self.now, pkt.wire))

    def arrive(self, role: str, handler: Callable, *args) -> None:
        """A packet (the last of ``args``) reaches the node of ``role``: seen, then handled."""
        self.seen_at(role, args[-1])
        handler(*args)

    def handover_event(self, mn: str, coa: str, prev: str | None) -> None:
        self.result.handovers.append(
            HandoverEvent(ts_ns=self.scenario.start_ns + self.now, mn=mn, coa=coa, prev_coa=prev)
        )

    def network(self, coa: str) -> Network:
        return self.scenario.network_of(coa)

    def mn_to_ha(self, mn, pkt: P.Pkt) -> None:
        self.capture(pkt)
        net = mn.net
        d = self.crossing(net, net.ha_delay_ms + net.uplink_extra_ms) if net is not None else 0
        if d is not None:
            self.past_router(net, self.now + ms_to_ns_us(net.ar_delay_ms) if net else None, pkt)
            self.at(self.now + d, self.arrive, "ha", self.has[mn.cfg.home_agent].receive, pkt)

    def mn_to_cn(self, mn, cn: Correspondent, pkt: P.Pkt) -> None:
        self.capture(pkt)
        net = mn.net
        base = net.cn_delay_ms[cn.name] + net.uplink_extra_ms if net is not None else cn.ha_delay_ms
        d = self.crossing(net, base)
        if d is not None:
            self.past_router(net, self.now + ms_to_ns_us(net.ar_delay_ms) if net else None, pkt)
            self.at(self.now + d, self.arrive, "cn", self.cns[cn.name].receive, pkt)

    def past_router(self, net: Network | None, t_ns: int | None, pkt: P.Pkt) -> None:
        """``pkt`` crosses the access router of ``net`` at ``t_ns`` (kept when the "ar"
        view is asked for: once as it arrives, once as it leaves, its hop limit one
        less; the router forwards instantly)."""
        if net is None or t_ns is None or "ar" not in self.result.views:
            return
        self.at(t_ns, self.seen_at, "ar", pkt)
        self.at(t_ns, self.seen_at, "ar", P.forwarded(pkt))

    def ha_to_cn(self, pkt: P.Pkt) -> None:
        self.seen_at("ha", pkt)
        cn = self.cn_by_addr.get(pkt.dst)
        if cn is not None:
            self.at(self.now + ms_to_ns_us(cn.cfg.ha_delay_ms), self.arrive, "cn", cn.receive, pkt)

    def cn_to_coa(self, cn: Correspondent, coa: str, pkt: P.Pkt) -> None:
        self.seen_at("cn", pkt)
        net = self.network(coa)
        d = self.crossing(net, net.cn_delay_ms[cn.name])
        if d is not None:
            self.past_router(net, self.now + d - ms_to_ns_us(net.ar_delay_ms), pkt)
            self.at(self.now + d, self.deliver, coa, pkt)

    def cn_to_home(self, cn: Correspondent, hoa: str, pkt: P.Pkt) -> None:
        self.seen_at("cn", pkt)
        mn = self.mn_by_addr[hoa]
        ha = self.has[mn.cfg.home_agent]
        self.at(self.now + ms_to_ns_us(cn.ha_delay_ms), self.arrive, "ha", ha.intercept, hoa, pkt)

    def ha_to_coa(self, coa: str, pkt: P.Pkt) -> None:
        self.seen_at("ha", pkt)
        if coa == HOME:
            return
        net = self.network(coa)
        d = self.crossing(net, net.ha_delay_ms)
        if d is not None:
            self.past_router(net, self.now + d - ms_to_ns_us(net.ar_delay_ms), pkt)
            self.at(self.now + d, self.deliver, coa, pkt)

    def deliver(self, addr: str, pkt: P.Pkt) -> None:
        """A packet reaches ``addr``: captured and handled if an MN is there now."""
        mn = self.mn_by_addr.get(addr)
        if mn is not None and mn.address == addr:
            self.capture(pkt)
            mn.receive(pkt)


def simulate(
    scenario: Scenario,
    seed: int | None = None,
    config: ProtocolConfig | None = None,
    views: tuple[str, ...] = (),
) -> SynthResult:
    """Run ``scenario``; ``seed`` overrides the scenario's, ``config`` its [protocol];
    ``views`` ("ha", "cn") also keeps the run as seen at those nodes (module doc)."""
    cfg = config if config is not None else scenario.config()
    check_resolution(cfg)
    return Sim(scenario, scenario.seed if seed is None else seed, cfg, tuple(views)).run()


def check_resolution(cfg: ProtocolConfig) -> None:
    """A synth timer below the clock's microsecond
    would round to 0: a retransmission that never lets time pass (the run never ends), a
    token never valid.  A usage error naming the option instead."""
    from ebutool.core.constants import PROTOCOL_CONSTANTS, SYNTH_TIMERS
    from ebutool.core.errors import UsageError

    for spec in PROTOCOL_CONSTANTS:
        if spec.name in SYNTH_TIMERS:
            problem = spec.synth_problem(getattr(cfg, spec.name))
            if problem is not None:
                raise UsageError(problem)
