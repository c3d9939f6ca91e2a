"""What the analysis reads of a Mobility Header message the capture cut short (snaplen)
before the reader could decode it (``Record.mh`` None, ``Record.mh_wire`` its captured
octets): its MH type when octet 2 is in, and a BA's Status and Sequence Number when the
cut fell in its Lifetime (docs/analysis.md, the ``*_cut_off`` diagnoses)."""

from __future__ import annotations

import struct
from collections.abc import Collection
from dataclasses import replace

from ebutool.core import constants as C
from ebutool.records.record import MSG_DATA, Record
from ebutool.wire.mh.messages import BindingAcknowledgement, OtherMobilityMessage


def cut_type(rec: Record) -> int | None:
    """The MH type of a Mobility Header the reader could not decode (``mh`` None), as
    its octets the capture cut show it; None when they do not reach it (or a trace
    record of one came without its octets)."""
    wire = rec.mh_wire
    return wire[C.MH_TYPE_AT] if wire is not None and len(wire) > C.MH_TYPE_AT else None


_MH_FIXED = struct.Struct("!BBBBH")  # payload proto, Header Len, MH type, reserved, checksum
_BA_HEAD = struct.Struct("!BBH")  # Status, K flag and reserved, Sequence Number


def cut_ba(rec: Record) -> BindingAcknowledgement | None:
    """A BA the capture cut (``mh`` None) after its Sequence Number, inside its Lifetime
    (RFC 6275 6.1.8): its status and sequence number are in the captured octets.  It
    comes back as a BA cut short (``truncated``, no options, its authenticator
    unverifiable) whose ``lifetime`` is not read (0); None for any other record."""
    wire = rec.mh_wire
    if wire is None or len(wire) < C.BA_SEQUENCE_END or wire[C.MH_TYPE_AT] != C.MH_BA:
        return None
    proto, hlen, _, reserved, csum = _MH_FIXED.unpack_from(wire)
    total = (hlen + 1) * 8
    if total <= len(wire) or total < BindingAcknowledgement.OPTIONS_AT:
        return None  # not cut: too short by its own Header Len (malformed)
    status, flags, seq = _BA_HEAD.unpack_from(wire, C.MH_FIXED_LEN)
    return BindingAcknowledgement(
        payload_proto=proto,
        reserved=reserved,
        checksum=csum,
        header_len=hlen,
        options=[],
        truncated=True,
        status=status,
        flags=flags,
        sequence=seq,
    )


def as_cut_ba(rec: Record, eba_types: Collection[int]) -> Record | None:
    """A message of the draft's own EBA type (``--eba-mh-type``, read with the BA layout)
    that the capture cut before that layout could read it (``mh`` None, or an ``other``
    message cut short): the record as a cut BA's, its captured octets' type octet read
    as the BA's (a copy: the record's own ``mh_wire`` is untouched), ``mh`` None, so
    that :func:`cut_ba` and :func:`cut_type` read it as they read a cut BA.  None for
    any other record."""
    wire = rec.mh_wire
    if not eba_types or wire is None or len(wire) <= C.MH_TYPE_AT:
        return None
    if wire[C.MH_TYPE_AT] not in eba_types:
        return None
    m = rec.mh
    if m is not None and not (isinstance(m, OtherMobilityMessage) and m.truncated):
        return None
    at = C.MH_TYPE_AT
    as_ba = bytes(wire[:at]) + bytes((C.MH_BA,)) + bytes(wire[at + 1 :])
    return replace(rec, mh=None, msg=MSG_DATA, mh_wire=as_ba)
