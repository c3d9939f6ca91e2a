"""The draft's own message types (issue 11 item 10; DESIGN.md 3).

draft-00 introduces EBU and EBA as new Mobility Header messages but assigns them no
numbers; a testbed may send them with MH types of its own (for instance RFC 5096's
experimental type 11).  When the user names those numbers (``--ebu-mh-type``,
``--eba-mh-type``: :attr:`ProtocolConfig.mh_types`), :func:`retype` turns a record of
such a type into an EBU (BU body layout) or a BA (BA body layout; analysis and the
oracle call it EBA when it answers an EBU).  ``mh_wire`` keeps the octets as captured,
so MACs and checksums are computed on what was sent.

Without the options such a message stays ``other``; :class:`RefusedTypes` notices when
a CN answers it with a Binding Error of status 2 ("unrecognised MH type") and says so.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from functools import partial

from ebutool.core import constants as C
from ebutool.core.diagnostics import Diagnostics
from ebutool.records.record import Record
from ebutool.wire.mh.codec import decode_mh, encode_mh
from ebutool.wire.mh.messages import (
    BindingAcknowledgement,
    BindingError,
    BindingUpdate,
    OtherMobilityMessage,
)
from ebutool.wire.mh.mobility_options import CareOfTestInitOption

_MAX_PENDING = 1024  # unknown-type messages remembered for a Binding Error to name them


def own_type(rec: Record) -> bool:
    """``rec``'s message was read from one of the draft's own MH types (--ebu-mh-type,
    --eba-mh-type: :func:`retype`): the type octet of its wire differs from that of the
    layout it was read with (BU 5, BA 6).  Such an EBU or EBA is early by its type
    (DESIGN.md section 2), never a standard BU or BA with care-of nonce index 0."""
    m, wire = rec.mh, rec.mh_wire
    return (
        m is not None
        and wire is not None
        and len(wire) > C.MH_TYPE_AT
        and (wire[C.MH_TYPE_AT] != m.mh_type)
    )


def retype(rec: Record, mh_types: dict[int, int], diag: Diagnostics | None = None) -> Record:
    """``rec`` read with the body layout ``mh_types`` gives its MH type, if any; else
    ``rec`` itself.  A message too short for that layout keeps its ``other`` form, with
    the warning ``bad_ebu_mh_type`` -- unless only the capture cut it (its own length
    holds the layout's fixed fields): the reader's ``malformed_mh`` says that already,
    and the analysis reads it as a cut message of that type (cut_messages.as_cut_ba)."""
    m = rec.mh
    if not mh_types or not isinstance(m, OtherMobilityMessage) or m.type_number not in mh_types:
        return rec
    layout = mh_types[m.type_number]
    wire = rec.mh_wire if rec.mh_wire else encode_mh(m)
    problems: list[str] = []
    as_std = decode_mh(wire[:2] + bytes((layout,)) + wire[3:], problems)
    if as_std is None or as_std.mh_type != layout:
        if diag is not None and not _only_cut(m, layout):
            diag.warn(
                "bad_ebu_mh_type",
                f"frame {rec.frame}: MH type {m.type_number} cannot be read with the "
                f"{'BU' if layout == C.MH_BU else 'BA'} layout ({'; '.join(problems)})",
                rec.frame,
            )
        return rec
    if layout == C.MH_BU:
        coti = as_std.option(CareOfTestInitOption) is not None
        return replace(rec, mh=as_std, mh_wire=wire, msg="EBU", rfc4866=coti)
    return replace(rec, mh=as_std, mh_wire=wire, msg="BA")


def _only_cut(m: OtherMobilityMessage, layout: int) -> bool:
    """True when ``m`` is a message the capture cut (``truncated``) whose whole length,
    by its Header Len, holds the fixed fields of ``layout`` (BU or BA): the type is not
    wrong, the capture is short."""
    if not m.truncated or m.header_len is None:
        return False
    fixed = BindingUpdate.OPTIONS_AT if layout == C.MH_BU else BindingAcknowledgement.OPTIONS_AT
    return (m.header_len + 1) * C.MH_LENGTH_UNIT >= fixed


class RefusedTypes:
    """Watches a stream for a message of an unknown MH type that a CN refuses with a
    Binding Error of status 2 (RFC 6275 9.3.2: "unrecognised MH type value"), and
    warns ``unknown_mh_type_refused`` naming the type, once per type and CN."""

    def __init__(self, diag: Diagnostics) -> None:
        self.diag = diag
        self._pending: OrderedDict[tuple[str, str], tuple[int, int]] = OrderedDict()
        self._said: set[tuple[int, str]] = set()

    def see(self, rec: Record) -> Record:
        """Watch ``rec``; returns it (:func:`retyper`'s step without MH types)."""
        m = rec.mh
        if isinstance(m, OtherMobilityMessage):
            key = (rec.hoa or rec.src, rec.dst)
            self._pending[key] = (m.type_number, rec.frame)
            self._pending.move_to_end(key)
            while len(self._pending) > _MAX_PENDING:
                self._pending.popitem(last=False)
        elif isinstance(m, BindingError) and m.status == C.BE_STATUS_UNKNOWN_MH:
            home = m.home_address if m.home_address not in (None, "::") else rec.dst
            sent = self._pending.pop((home, rec.src), None)
            if sent is None:
                sent = self._pending.pop((rec.dst, rec.src), None)
            if sent is None or (sent[0], rec.src) in self._said:
                return rec
            self._said.add((sent[0], rec.src))
            self.diag.warn(
                "unknown_mh_type_refused",
                f"frame {sent[1]}: MH type {sent[0]} to {rec.src}: the CN does not know this "
                f"message type (Binding Error status 2, frame {rec.frame}); if it is the "
                f"draft's EBU or EBA, name it with --ebu-mh-type {sent[0]} or --eba-mh-type",
                sent[1],
            )
        return rec


def retyper(mh_types: dict[int, int], diag: Diagnostics) -> Callable[[Record], Record]:
    """What :func:`retyped` does to each Record that carries a message (``mh`` not None;
    it leaves the others as they are), for a caller that walks the stream itself: the
    record with :func:`retype` applied or, without ``mh_types``, the record itself after
    :class:`RefusedTypes` saw it."""
    if mh_types:
        return partial(retype, mh_types=mh_types, diag=diag)
    return RefusedTypes(diag).see


def retyped(records, mh_types: dict[int, int], diag: Diagnostics):
    """The stream with :func:`retype` applied; without ``mh_types``, unknown types a CN
    refuses are reported (:class:`RefusedTypes`)."""
    step = retyper(mh_types, diag)
    for item in records:
        if isinstance(item, Record) and item.mh is not None:
            item = step(item)
        yield item
