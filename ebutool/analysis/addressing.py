"""Who sent a record to whom: the mobile node, its peer, the direction, the care-of address.

A capture at the MN shows four kinds of mobility-relevant packets, and each names
the MN (its home address) differently:

* sent from a care-of address: a Home Address option (BU, EBU, route-optimised data);
* sent to a care-of address: a type 2 routing header (BA, route-optimised data);
* tunnelled between MN and HA (HoTI/HoT, reverse-tunnelled data): the inner header
  carries the home address, the outer one the care-of address and the HA;
* CoTI/CoT and Binding Errors carry no home address at all: the care-of address
  has to be mapped to an MN through one of the packets above (:class:`AddressBook`).

Packets sent from home (deregistration) carry no mobility headers; their home
address is the plain source or destination.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ebutool.core.bounded import make_room, put
from ebutool.core.constants import MAX_STATE_ENTRIES
from ebutool.core.diagnostics import Diagnostics
from ebutool.records.record import Record
from ebutool.wire.mh.messages import BU_FLAG_H, BindingError, BindingUpdate

UP, DOWN = True, False  # UP: MN -> peer, DOWN: peer -> MN


@dataclass(slots=True)
class Resolved:
    """One record seen from the MN: which MN, which direction, which peer, which address."""

    mn: str | None  # home address; None = care-of address not mapped yet
    up: bool  # True when the MN sent it
    peer: str  # the HA or CN at the other end (inner header for tunnels)
    coa: str  # the MN's address on this packet (care-of, or home when at home)
    tunnelled: bool = False


@dataclass
class AddressBook:
    """What the stream has taught us about addresses; it grows with the number of MNs,
    care-of addresses and HAs, never with the number of packets, and each table keeps
    at most ``limit`` entries (ebutool.core.bounded: the least recently learnt or used
    one is evicted, a ``state_evicted`` warning in ``diag``)."""

    coa_to_mn: dict[str, str] = field(default_factory=dict)
    ha_of: dict[str, str] = field(default_factory=dict)  # MN -> its HA
    home_agents: dict[str, None] = field(default_factory=dict)  # an ordered set
    mobile_nodes: dict[str, None] = field(default_factory=dict)  # an ordered set
    limit: int | None = MAX_STATE_ENTRIES
    diag: Diagnostics | None = None

    def _node(self, mn: str) -> None:
        # put(self.mobile_nodes, mn, None, ...) written out: it runs for most records
        # (the values are None: ``put``'s pop cannot tell a known node, so it always
        # checks the bound after the pop, as here)
        nodes = self.mobile_nodes
        nodes.pop(mn, None)
        if self.limit is not None and len(nodes) >= self.limit:
            make_room(nodes, self.limit, self.diag, "home address")
        nodes[mn] = None

    def learn_coa(self, coa: str, mn: str | None) -> bool:
        """Map ``coa`` to ``mn``; True when the mapping is new (pending CoTIs may flush)."""
        if self.coa_to_mn.get(coa) == mn:
            return False  # the usual case, once per packet: known (mn is in mobile_nodes)
        if not coa or not mn:
            return False
        self._node(mn)
        if coa == mn or self.coa_to_mn.get(coa) == mn:
            return False
        put(self.coa_to_mn, coa, mn, self.limit, self.diag, "care-of address")
        return True

    def learn_ha(self, mn: str, ha: str) -> None:
        self._node(mn)
        put(self.ha_of, mn, ha, self.limit, self.diag, "home agent of mobile node")
        put(self.home_agents, ha, None, self.limit, self.diag, "home agent")

    def is_ha(self, mn: str, addr: str) -> bool:
        return self.ha_of.get(mn) == addr or addr in self.home_agents

    def mn_of(self, addr: str) -> str | None:
        """The MN an address belongs to: a mapped care-of address or a known home address."""
        if addr in self.coa_to_mn:
            return self.coa_to_mn[addr]
        return addr if addr in self.mobile_nodes else None

    def resolve(self, rec: Record) -> Resolved | None:
        """Direction and parties of ``rec``; None when nothing ties it to an MN."""
        # A Home Address option or a type 2 routing header is route-optimised traffic
        # (RFC 6275 6.3, 6.4), never the inside of an MN-HA tunnel (whose inner header
        # is home address <-> peer in the clear, 10.4.5, 11.3.1): an IPv6-in-IPv6 tunnel
        # around one is another tunnel on the way (an RPL root's, RFC 9008; a 6in6
        # transition tunnel), not the HA's; its endpoints say nothing of the MN.
        if rec.hoa is not None:
            # (Record.care_of_address of a packet with a HAO and no message: its source)
            coa = rec.src if rec.mh is None else rec.care_of_address or rec.src
            res = Resolved(rec.hoa, UP, rec.dst, coa)
            self._node(rec.hoa)
            return res
        if rec.rh2 is not None:
            self._node(rec.rh2)
            return Resolved(rec.rh2, DOWN, rec.src, rec.dst)
        if rec.tunnel_src is not None:
            return self._tunnelled(rec)
        return self._untunnelled(rec)

    def _untunnelled(self, rec: Record) -> Resolved | None:
        """:meth:`resolve` of a packet with no HAO, no type 2 routing header and no MN-HA
        tunnel around it."""
        msg = rec.msg
        if msg == "BE" and isinstance(rec.mh, BindingError):
            return Resolved(rec.mh.home_address, DOWN, rec.src, rec.dst)
        if msg == "CoTI":
            return Resolved(self.coa_to_mn.get(rec.src), UP, rec.dst, rec.src)
        if msg in ("CoT", "BRR"):
            return Resolved(self.mn_of(rec.dst), DOWN, rec.src, rec.dst)
        if msg in ("BU", "EBU", "HoTI"):
            # No HAO and no tunnel: sent from home (RFC 6275 11.5.4, returning home).
            self._node(rec.src)
            if isinstance(rec.mh, BindingUpdate) and rec.mh.flags & BU_FLAG_H:
                self.learn_ha(rec.src, rec.dst)
            # (inside another tunnel, _tunnelled: its source is no care-of address)
            coa = rec.care_of_address if rec.tunnel_src is None else None
            return Resolved(rec.src, UP, rec.dst, coa or rec.src)
        if msg in ("BA", "HoT"):
            mn = self.mn_of(rec.dst) or rec.dst
            return Resolved(mn, DOWN, rec.src, rec.dst)
        if msg == "other" and rec.mh is None and rec.dst in self.coa_to_mn:
            # a Mobility Header the capture cut before it could be read (the episode's
            # feed labels it "other"), e.g. a CoT's: to a care-of address, no routing header
            return Resolved(self.coa_to_mn[rec.dst], DOWN, rec.src, rec.dst)
        if msg == "other" and rec.mh is None and rec.src in self.coa_to_mn:
            # likewise from a care-of address with no Home Address option, e.g. a CoTI's
            return Resolved(self.coa_to_mn[rec.src], UP, rec.dst, rec.src)
        return None

    def _tunnelled(self, rec: Record) -> Resolved | None:
        """IPv6-in-IPv6 between MN (care-of address) and HA; the inner header is home <-> CN.
        The message type decides first, then a known HA endpoint, then a known home address."""
        outer_s, outer_d = rec.tunnel_src, rec.tunnel_dst
        assert outer_s is not None and outer_d is not None  # readers set both or neither
        if rec.msg == "HoTI":
            up = True
        elif rec.msg == "HoT":
            up = False
        elif outer_d in self.home_agents or outer_s in self.home_agents:
            up = outer_d in self.home_agents
        elif rec.src in self.mobile_nodes or rec.dst in self.mobile_nodes:
            up = rec.src in self.mobile_nodes
            if (rec.src if up else rec.dst) in self.ha_of:
                # The MN's HA is known and at neither end (no known HA is): another
                # tunnel on the way (an RPL root's, RFC 9008: an MN at home behind it), not
                # the MN-HA tunnel; its ends are neither care-of address nor HA
                return self._untunnelled(rec)
        else:
            return None
        if up:
            self.learn_ha(rec.src, outer_d)
            return Resolved(rec.src, UP, rec.dst, outer_s, True)
        self.learn_ha(rec.dst, outer_s)
        return Resolved(rec.dst, DOWN, rec.src, outer_d, True)
