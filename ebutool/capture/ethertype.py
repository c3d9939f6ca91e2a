"""EtherType chains: the IPv6 EtherType after any number of VLAN tags.

Shared by the link types whose frames name their payload with an EtherType
(Ethernet, Linux cooked, 802.11 LLC/SNAP, Cisco HDLC).
"""

from __future__ import annotations

ETHERTYPE_IPV6 = 0x86DD
# 802.1Q, 802.1ad (QinQ) and the pre-standard 0x9100 QinQ tag: 4 octets each
# (2 octets tag control + 2 octets inner EtherType), any number stacked.
VLAN_TYPES = frozenset((0x8100, 0x88A8, 0x9100))


def ethertype_chain(data: bytes, type_at: int, payload_at: int) -> int | None:
    """Follow VLAN tags from the EtherType at ``type_at`` (payload at ``payload_at``):
    the offset of the IPv6 header (version nibble 6), or None."""
    n = len(data)
    while type_at + 2 <= n:
        etype = (data[type_at] << 8) | data[type_at + 1]
        if etype == ETHERTYPE_IPV6:
            if payload_at < n and data[payload_at] >> 4 == 6:
                return payload_at
            return None
        if etype not in VLAN_TYPES:
            return None
        # A tag: 2 octets of tag control, then the next EtherType.
        type_at = payload_at + 2
        payload_at += 4
    return None
