"""One name per message, the same in ``decode``, ``verify`` and the timeline.

A record's own label (:attr:`Record.msg`) comes from the packet alone.  Two names need
what came before it in the stream (issue 11 item 12; DESIGN.md 3):

* a BU whose care-of nonce index is 0 has the form of an EBU, but after a CoT that
  handed out care-of nonce index 0 for the same care-of address and CN it is a
  standard ``BU`` (RFC 6275 does not reserve index 0);
* the BA a CN sends in answer to an EBU (same MN, CN and sequence number) is an ``EBA``.

:class:`MessageNamer` keeps what it needs for that, bounded by count.
"""

from __future__ import annotations

from collections import OrderedDict

from ebutool.records.record import Record
from ebutool.wire.mh.messages import BindingAcknowledgement, BindingUpdate, HomeTest

MAX_REMEMBERED = 4096  # EBUs and index-0 CoTs remembered (oldest forgotten first)


def _remember(table: OrderedDict, key: tuple) -> None:
    table[key] = True
    table.move_to_end(key)
    while len(table) > MAX_REMEMBERED:
        table.popitem(last=False)


class MessageNamer:
    """Feed it the records in stream order; :meth:`name` gives each one's name."""

    def __init__(self) -> None:
        self._cot0: OrderedDict[tuple[str, str], bool] = OrderedDict()  # (CN, care-of)
        self._ebus: OrderedDict[tuple[str, str, int], bool] = OrderedDict()  # (MN, CN, seq)

    def name(self, rec: Record) -> str:
        msg, m = rec.msg, rec.mh
        if msg == "CoT" and isinstance(m, HomeTest) and m.nonce_index == 0:
            _remember(self._cot0, (rec.src, rec.dst))
        elif msg == "EBU" and isinstance(m, BindingUpdate):
            coa = rec.care_of_address or rec.src
            if (rec.dst, coa) in self._cot0:
                return "BU"
            _remember(self._ebus, (rec.hoa or rec.src, rec.dst, m.sequence))
        elif msg == "BA" and isinstance(m, BindingAcknowledgement):
            if (rec.rh2 or rec.dst, rec.src, m.sequence) in self._ebus:
                return "EBA"
        return msg
