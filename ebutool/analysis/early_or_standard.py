"""Early or standard: the class of a BU with care-of nonce index 0 (mixed into Reconstructor).

The reader labels a BU to a CN with care-of nonce index 0 EBU (DESIGN.md section 3), but
RFC 6275 does not reserve index 0: a CoT with index 0 before it, or a MAC that verifies
with the standard Kbm, makes it a standard BU; a CoT or a MAC the capture cut leaves the
question open (an episode note says so).  A BU whose care-of nonce index is not in the
capture at all (cut off, or a Nonce Indices option of a wrong length) is noted too.
The rules are in docs/analysis.md "Early or standard"; they live here, apart from the
matching of messages to episodes (ebutool.analysis.episodes), because they decide what a
message is before it is matched.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ebutool.analysis.addressing import Resolved
from ebutool.analysis.cut_messages import cut_type
from ebutool.analysis.state import INDEX0_AMBIGUOUS_NOTE, CNState, MNState, with_added
from ebutool.core.bounded import put
from ebutool.core.constants import MH_COT, MOPT_NONCE_INDICES, ProtocolConfig
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.units import NS_PER_S
from ebutool.records.record import Record
from ebutool.records.retype import own_type
from ebutool.wire.mh.messages import BU_FLAG_H, BindingAcknowledgement, BindingUpdate, HomeTest
from ebutool.wire.mh.mobility_options import NonceIndices, malformed_length

MAX_COT_ZERO = 4096  # (care-of address, CN) pairs that received a CoT with index 0
MAX_COT_CUT = 4096  # (care-of address, CN) pairs that received a CoT the capture cut
STANDARD_NOTE = "care_of_index_0_standard"  # a BU with care-of index 0 after a CoT with 0
AMBIGUOUS_NOTE = INDEX0_AMBIGUOUS_NOTE  # standard or early cannot be told
# the key forms of an EBU's Kbm (ebutool.oracle.crypto): a BA MACed with one answers an EBU
EARLY_KEY_FORMS = ("early", "early_rfc4866")
# A BU to a CN the capture cut before its Nonce Indices option: its care-of nonce index
# (0 in an EBU, DESIGN.md section 3) is not in the capture, so standard or early cannot
# be told; the reader labels it BU.
CUT_OFF_NOTE = "bu_cut_off"
MALFORMED_NOTE = "nonce_indices_malformed"  # likewise: its Nonce Indices have a wrong length


class EarlyOrStandard:
    """Needs from its host: ``config``, ``diag``, ``oracle``, ``mns``, ``cot_zero``,
    ``cot_cut`` and ``_check(rec)``."""

    config: ProtocolConfig
    diag: Diagnostics
    oracle: Any  # ebutool.oracle.Oracle, or None
    mns: dict[str, MNState]
    cot_zero: dict[tuple[str, str], int]  # (care-of address, CN) -> CoT time
    cot_cut: dict[tuple[str, str], int]  # likewise, a CoT cut: index unread

    def _check(self, rec: Record):
        raise NotImplementedError  # the host's

    def _classify(
        self, rec: Record, res: Resolved | None
    ) -> tuple[Record, str | None, object, bool]:
        """(the record, relabelled if need be; its note or None; the oracle's Verdict or
        None; whether it is a care-of index 0 BU whose MAC the capture cut), for a record
        other than a data packet.  Also remembers the CoTs with care-of index 0, or cut."""
        note = None
        if rec.msg == "CoT" and isinstance(rec.mh, HomeTest) and rec.mh.nonce_index == 0:
            self._cot_zero(rec.dst, rec.src, rec.ts_ns)
        elif rec.mh is None and cut_type(rec) == MH_COT:
            # a CoT the capture cut: its nonce index, perhaps 0, is not in the capture
            put(self.cot_cut, (rec.dst, rec.src), rec.ts_ns, MAX_COT_CUT, self.diag, "cut CoT")
        elif rec.msg == "EBU" and res is not None and res.mn is not None and not own_type(rec):
            rec, note = self._early_or_standard(rec, res)
        # (_check gives None without an oracle: not called then)
        checked = self._check(rec) if rec.mh is not None and self.oracle is not None else None
        if note == STANDARD_NOTE and getattr(checked, "msg", None) == "EBU":
            # taken for standard by a CoT with care-of index 0 before it, but only Kbm_early
            # authenticates it (the oracle): an EBU, e.g. of an MN back at that address
            rec, note = replace(rec, msg="EBU"), None
        verdict = getattr(checked, "verdict", None)
        # its early MAC fails (invalid, or keyless: a standard BU not ruled out)
        undecided = verdict == "invalid" or getattr(checked, "care_of_index_0_undecided", False)
        if rec.msg == "EBU" and note is None and undecided:
            note = AMBIGUOUS_NOTE  # its early MAC fails: forged, or a standard BU
        if note == AMBIGUOUS_NOTE and verdict == "valid":
            note = None  # its MAC verified with the early Kbm: an EBU
        # neither Kbm can be tried on its MAC: presumed early, ambiguous unless its answer
        # shows the CN took it for an EBU (CNState.index0_cut)
        mac_cut = note is None and rec.msg == "EBU" and index0_mac_cut(rec)
        if note is None and rec.msg == "BU" and care_of_index_unread(rec):
            note = CUT_OFF_NOTE if rec.mh is not None and rec.mh.truncated else MALFORMED_NOTE
        return rec, note, checked, mac_cut

    def _mark(self, ep: CNState, rec: Record, note: str | None, mac_cut: bool, checked) -> None:
        """What :meth:`_classify` found, on the episode ``rec`` went to: its note; a BU
        whose MAC the capture cut waits in ``ep.index0_cut`` for an answer that shows the
        CN took it for an EBU (:meth:`_early_answer`), which lifts the ambiguity."""
        if note is not None:
            ep.notes = with_added(ep.notes, note)
        m = rec.mh
        if mac_cut and isinstance(m, BindingUpdate):
            ep.index0_cut = with_added(ep.index0_cut, m.sequence)
        elif ep.index0_cut and isinstance(m, BindingAcknowledgement):
            if self._early_answer(rec, m, checked, ep):
                ep.index0_cut.discard(m.sequence)

    def _early_answer(self, rec: Record, ba: BindingAcknowledgement, checked, ep: CNState) -> bool:
        """``ba`` (of ``rec``) answered an EBU of ``ep`` (by its sequence number) and shows
        that the CN took it for an EBU: it has the draft's own EBA type (--eba-mh-type),
        or the oracle verified its MAC with Kbm_early (a standard BU's BA has the
        standard Kbm)."""
        ex = ep.ebus.get(ba.sequence)
        if ex is None or ex.reply_frame != rec.frame:
            return False
        verdict = getattr(checked, "verdict", None)
        if own_type(rec):  # the draft's own EBA type (--eba-mh-type)
            return verdict != "invalid"  # (a forged one shows nothing)
        return verdict == "valid" and getattr(checked, "key_form", None) in EARLY_KEY_FORMS

    def _cot_zero(self, coa: str, cn: str, ts_ns: int) -> None:
        """A CoT with care-of nonce index 0 reached ``coa``: a later BU from it with
        care-of index 0 may be a standard BU (RFC 6275 does not reserve index 0)."""
        put(self.cot_zero, (coa, cn), ts_ns, MAX_COT_ZERO, self.diag, "care-of index 0 CoT")

    def _standard_mac_verifies(self, rec: Record, cn: str) -> bool:
        """With the CN's keys (Kcn and nonces), the BU's MAC verifies with the standard
        Kbm of its nonce indices (RFC 6275 5.2.5): then it is a standard BU.  (The
        oracle then checks it again as an EBU; the later check is the one it keeps.)"""
        keys = getattr(self.oracle, "keys", None)
        if keys is None or not keys.usable(cn):
            return False
        checked = self._check(replace(rec, msg="BU"))
        # (valid as a BU: the oracle tries Kbm_early too for a care-of index 0 BU that
        # fails the standard key, and names it EBU then: that is no standard MAC)
        return getattr(checked, "verdict", None) == "valid" and checked.msg == "BU"

    def _early_or_standard(self, rec: Record, res: Resolved) -> tuple[Record, str | None]:
        """(the record, a diagnosis code or None) for a BU with care-of nonce index 0
        (labelled EBU by the reader).  It is a standard BU (relabelled, STANDARD_NOTE)
        when the MN received, for that care-of address and CN, a CoT with care-of index
        0 less than MAX_TOKEN_LIFETIME before it, or when the CN's keys are known and its
        MAC verifies with the standard Kbm.  Otherwise it is an EBU, AMBIGUOUS_NOTE
        when a CoT the capture cut (its index unread) came within MAX_TOKEN_LIFETIME
        before it, or when the capture does not show the MN's arrival at that address (a
        token from before the capture could exist): the BU is its first packet from
        there, or the capture began mid-handover (the caller clears that when the MAC
        verifies with the early Kbm)."""
        got = self.cot_zero.get((res.coa, res.peer))
        if got is not None and rec.ts_ns - got <= self.config.max_token_lifetime * NS_PER_S:
            # (its care-of token is usable for MAX_TOKEN_LIFETIME, RFC 6275 5.2.7)
            return replace(rec, msg="BU"), STANDARD_NOTE
        if self._standard_mac_verifies(rec, res.peer):
            return replace(rec, msg="BU"), STANDARD_NOTE
        cut = self.cot_cut.get((res.coa, res.peer))
        if cut is not None and rec.ts_ns - cut <= self.config.max_token_lifetime * NS_PER_S:
            return rec, AMBIGUOUS_NOTE  # that CoT's care-of index may have been 0
        mst = self.mns.get(res.mn or "")
        cur = mst.current if mst is not None else None
        unseen = cur is None or cur.coa != res.coa
        if unseen and (mst is None or mst.n_handovers == 0) or (cur is not None and cur.mid_start):
            return rec, AMBIGUOUS_NOTE
        return rec, None


def care_of_index_unread(rec: Record) -> bool:
    """A BU to a CN (not a home registration, not a deregistration, which needs no care-of
    nonce) whose Nonce Indices option is not readable: the capture cut the message short
    with no Nonce Indices in what it holds, or the option has a wrong length."""
    bu = rec.mh
    if not isinstance(bu, BindingUpdate) or bu.flags & BU_FLAG_H or rec.deregistration:
        return False
    if any(isinstance(o, NonceIndices) for o in bu.options):
        return False
    return bu.truncated or malformed_length(bu.options, MOPT_NONCE_INDICES) is not None


def index0_mac_cut(rec: Record) -> bool:
    """A BU with care-of nonce index 0 (labelled EBU by the reader, not an EBU of the
    draft's own MH type) whose authenticator the capture cut (snaplen; the Binding
    Authorization Data option is always last).  Unless a CoT with care-of index 0 made it
    standard, its class rests on its MAC (the standard Kbm, or the early one failing:
    docs/analysis.md "Early or standard"), which cannot be checked."""
    bu = rec.mh
    return isinstance(bu, BindingUpdate) and bu.truncated and not own_type(rec)
