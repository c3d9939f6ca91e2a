"""The split by mobile node as it was first written, record by record: the ground truth
that tests/store/test_groups_columns.py holds ebutool.store.groups (on the columns) to.

(Its original doc follows.)  A record store's records split into groups of mobile nodes
whose state does not cross.

Every record is tied to the addresses that name its mobile node the way the analysis
ties it (ebutool.analysis.addressing): the home address and care-of address of a
packet with a Home Address option, a type 2 routing header or a tunnel; the care-of
address of a CoTI/CoT; the home address a Binding Error names; the source of a BU
sent from home.  The store's binding facts (care-of -> home address) and these ties
are joined (union-find): one group per connected set of addresses, so a care-of
address used by two mobile nodes puts both in one group.  Where a record cannot be
tied in advance (a tunnelled data packet whose direction depends on which end the run
knows as a home agent), all its addresses go into one group: a group too large is
only slower, never wrong.  The split is checked afterwards (ebutool.store.grouped:
no mobile node or care-of address in two groups).

:func:`split` also gives what the groups must be told of each other
(:class:`RunFacts`): the Mobility Header messages the oracle sees, for its schedule
(ebutool.oracle.scheduled), and the first record that makes each address a home agent
(checked afterwards too, ebutool.analysis.by_group).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ebutool.wire.mh.codec import decode_mh
from ebutool.wire.mh.messages import (
    BU_FLAG_H,
    BindingAcknowledgement,
    BindingError,
    BindingUpdate,
    HomeTest,
)
from ebutool.wire.mh.mobility_options import BindingAuthorizationData

ACCEPTED_MAX_STATUS = 127  # a BA status 0-127 accepts (RFC 6275 6.1.8)
HOME_SENT = ("BU", "EBU", "HoTI")  # without HAO or tunnel: sent from home
TO_MN = ("CoT", "BRR", "BA", "HoT")
NO_FIELDS_NEEDED = ("HoTI", "CoTI", "BRR")  # messages the split need not decode
NO_FIELDS_MIN = 16  # octets: the longest fixed part of those (HoTI, CoTI: 16; BRR: 8)


@dataclass
class RunFacts:
    """What the split learnt about the whole run (module doc)."""

    group: list[int] = field(default_factory=list)  # per row (run order): its group
    n_groups: int = 0
    oracle_messages: list[tuple[int, int, str | None, int | None]] = field(default_factory=list)
    ha_seeds: list[tuple[int, str]] = field(default_factory=list)  # (position, HA)


class _Union:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, a: str) -> str:
        parent = self.parent
        root = parent.setdefault(a, a)
        while root != parent[root]:
            root = parent[root]
        while a != root:
            parent[a], a = root, parent[a]
        return root

    def join(self, addrs: list[str]) -> str:
        root = self.find(addrs[0])
        for b in addrs[1:]:
            other = self.find(b)
            if other != root:
                self.parent[other] = root
        return root


def _mn_addresses(pairs: list[tuple[tuple, Any]]) -> tuple[set[str], set[str]]:
    """(addresses that name a mobile node, addresses that may be a home agent) of the
    (row, decoded message) ``pairs``."""
    mns: set[str] = set()
    has: set[str] = set()
    for (msg, src, dst, hoa, rh2, tsrc, tdst), m in pairs:
        if hoa is not None:
            mns.add(hoa)
        if rh2 is not None and msg != "handover":
            mns.add(rh2)
        if tsrc is not None and msg == "HoTI":
            mns.add(src)
            has.add(tdst)
        elif tsrc is not None and msg == "HoT":
            mns.add(dst)
            has.add(tsrc)
        if isinstance(m, BindingUpdate) and m.flags & BU_FLAG_H:
            has.add(dst)
        if tsrc is None and hoa is None and msg in HOME_SENT:
            mns.add(src)
        if isinstance(m, BindingError) and tsrc is None and hoa is None and rh2 is None:
            mns.add(m.home_address)
        if isinstance(m, BindingAcknowledgement) and m.status <= ACCEPTED_MAX_STATUS:
            if m.option(BindingAuthorizationData) is None:
                has.add(src)
    for (msg, src, dst, _hoa, _rh2, tsrc, tdst), _ in pairs:  # what a resolved tunnel teaches
        if tsrc is not None and msg not in ("HoTI", "HoT"):
            if src in mns:
                has.add(tdst)
            if dst in mns:
                has.add(tsrc)
    return mns, has


def _anchors(row: tuple, m, mns: set[str], has: set[str]) -> list[str]:
    """The addresses that tie one record to its mobile node (module doc)."""
    msg, src, dst, hoa, rh2, tsrc, tdst = row
    if msg == "handover":  # mn, new care-of address, previous one (or none: one group)
        return [a for a in (hoa, src, rh2) if a] or [None]
    if hoa is not None:
        return [hoa, src]
    if rh2 is not None:
        return [rh2, tdst or dst]
    if tsrc is not None:
        if msg == "HoTI":
            return [src, tsrc]
        if msg == "HoT":
            return [dst, tdst]
        up = src in mns or tdst in has
        down = dst in mns or tsrc in has
        if up and not down:
            return [src, tsrc]
        if down and not up:
            return [dst, tdst]
        return [src, tsrc, dst, tdst]
    if isinstance(m, BindingError):
        return [m.home_address, dst]
    if msg in TO_MN:
        return [dst]
    return [src]


def _parses(msg: str, wire: bytes) -> Any:
    """The decoded message where the split needs its fields; for a HoTI, CoTI or BRR
    only whether it decodes at all (the oracle's clock counts the messages that do):
    True when its fixed fields are surely there, else decoded."""
    if (
        msg in NO_FIELDS_NEEDED
        and len(wire) >= NO_FIELDS_MIN
        and (wire[1] + 1) * 8 >= NO_FIELDS_MIN
    ):
        return True
    return decode_mh(wire, [])


def split(rows: list[tuple], wires: list, facts: list[tuple[str, str]]) -> RunFacts:
    """Group every row ((msg, src, dst, hoa, rh2, tunnel_src, tunnel_dst), run order;
    ``wires``: its Mobility Header octets) with the binding ``facts`` (coa, hoa).
    Rows repeat their addresses (data packets of a flow, a BA's retransmissions): each
    distinct row is tied once; only a Binding Error's tie depends on its content."""
    mhs: dict[int, Any] = {}
    first: dict[tuple, int] = {}  # a distinct row -> its first position
    for pos, (row, wire) in enumerate(zip(rows, wires, strict=True)):
        if wire is not None and row[0] not in ("data", "handover"):
            mhs[pos] = _parses(row[0], wire)
        if row not in first:
            first[row] = pos
    pairs = [(rows[pos], m) for pos, m in mhs.items()] + [(row, None) for row in first]
    mns, has = _mn_addresses(pairs)
    uf = _Union()
    for coa, hoa in facts:
        uf.join([hoa, coa])
    errors = {
        p: _anchors(rows[p], m, mns, has) for p, m in mhs.items() if isinstance(m, BindingError)
    }
    distinct = {row: _anchors(row, None, mns, has) for row in first}
    for a in (*errors.values(), *distinct.values()):
        uf.join(a)
    root_of = {row: uf.find(a[0]) for row, a in distinct.items()}
    roots = [root_of[row] for row in rows]
    for pos, a in errors.items():
        roots[pos] = uf.find(a[0])
    out = RunFacts()
    ids: dict[str, int] = {}
    out.group = [ids.setdefault(r, len(ids)) for r in roots]
    for pos, m in mhs.items():
        if m is not None:
            cn, index = (rows[pos][1], m.nonce_index) if isinstance(m, HomeTest) else (None, None)
            out.oracle_messages.append((pos, out.group[pos], cn, index))
    seeds = [(pos, _ha_seed(rows[pos], m, mns)) for pos, m in mhs.items() if m is not True]
    seeds += [(pos, _ha_seed(row, None, mns)) for row, pos in first.items()]
    seen: set[str] = set()
    for pos, ha in sorted((p, h) for p, h in seeds if h is not None):
        if ha not in seen:
            seen.add(ha)
            out.ha_seeds.append((pos, ha))
    out.n_groups = len(ids)
    return out


def _ha_seed(row: tuple, m, mns: set[str]) -> str | None:
    """The HA a record most likely makes known (a guess: the groups report where they
    learnt each HA, and are run again when the guess was wrong): a tunnelled home test
    or data packet of a known MN, a BU to a home agent, an HA's accepting BA."""
    msg, src, dst, hoa, rh2, tsrc, tdst = row
    if tsrc is not None:
        if msg == "HoTI" or (msg != "HoT" and src in mns):
            return tdst
        if msg == "HoT" or dst in mns:
            return tsrc
        return None
    if isinstance(m, BindingUpdate) and m.flags & BU_FLAG_H:
        return dst
    if isinstance(m, BindingAcknowledgement) and m.status <= ACCEPTED_MAX_STATUS:
        return src if m.option(BindingAuthorizationData) is None else None
    return None
