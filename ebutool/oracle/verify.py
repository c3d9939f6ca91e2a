"""The stateless correspondent-node oracle: checks keygen tokens and binding MACs.

:class:`Oracle` plays every correspondent node (CN) of a capture.  Like a real CN it
keeps no per-mobile-node state: what it checks derives from Kcn, the CN's nonce table
and the message (RFC 6275 5.2, 9.5.1; the EBU draft 4.1; RFC 4866).  Two bases:

* ``kcn``: the CN's Kcn and nonce table are known (:class:`~ebutool.oracle.keys.KeyTable`):
  HoT/CoT tokens are recomputed and compared, BU/EBU MACs are checked with keys
  recomputed from the nonce indices the message names.
* ``capture`` (keyless): no keys for that CN: BU/EBU/BA MACs are checked with the keygen
  tokens the capture's own HoT/CoT messages (and RFC 4866 Care-of Test options)
  carried, matched by CN, address, nonce index and time.

The only memory the oracle keeps is bounded by time: tokens seen (kept
2 x MAX_TOKEN_LIFETIME so an expired one is reported as expired, not as unseen),
recent BUs/EBUs to recognise the BA/EBA that answers them (MAX_NONCE_LIFETIME),
first uses of the nonces in the table (bounded by the table) and care-of ->
home address pairs seen (2 x MAX_TOKEN_LIFETIME).

Nothing here formats a key, a nonce, a Kbm or a token that the capture does not carry.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from ..addr import pton
from ..constants import DEFAULT_CONFIG, ProtocolConfig
from ..diagnostics import Diagnostics
from ..errors import UsageError
from ..mh.codec import mac_data
from ..mh.messages import BA_STATUS, BU_FLAG_H
from ..mh.options import (AlternateCareOfAddress, BindingAuthorizationData, CareOfTestOption,
                          NonceIndices)
from ..records import Record
from . import crypto
from .keys import KeyTable
from ..units import seconds as _seconds, to_ns

VALID, INVALID, UNVERIFIABLE = "valid", "invalid", "unverifiable"
VERDICTS = (VALID, INVALID, UNVERIFIABLE)
BASIS_KCN, BASIS_CAPTURE = "kcn", "capture"

# Reasons (the ``reason`` column).  The invalid/unverifiable ones name the exact cause.
R_AUTH_OK = "authenticator matches"
R_HOME_TOKEN_OK = "home keygen token matches Kcn"
R_CAREOF_TOKEN_OK = "care-of keygen token matches Kcn"
R_MISMATCH = "authenticator mismatch"
R_NO_AUTH = "no Binding Authorization Data option"
R_NO_NONCE_INDICES = "no Nonce Indices option"
R_UNKNOWN_NONCE = "unknown nonce index {index}"
R_NONCE_OLD = "nonce older than MAX_NONCE_LIFETIME"
R_TOKEN_OLD = "token older than MAX_TOKEN_LIFETIME"
R_NO_HOME_TOKEN = "no home keygen token seen for nonce index {index}"
R_NO_CAREOF_TOKEN = "no care-of keygen token seen for nonce index {index}"
R_HOME_TOKEN_BAD = "home keygen token does not match Kcn for nonce index {index}"
R_CAREOF_TOKEN_BAD = "care-of keygen token does not match Kcn for nonce index {index}"
R_COT_OPTION_BAD = "care-of keygen token in the Care-of Test option does not match Kcn for nonce index {index}"
R_NO_KCN = "no Kcn for this correspondent node"
R_NO_NONCES = "no nonce table for this correspondent node"
R_NO_BU = "no Binding Update seen for this acknowledgement"
R_NO_WIRE = "no Mobility Header octets to compute the authenticator on"
R_REJECTED_NO_AUTH = "status {status} ({name}) without Binding Authorization Data option"

# BA status values a CN sends when it cannot rebuild the tokens (RFC 6275 6.1.8): it
# then has no Kbm, so such a BA is not expected to be authenticated.
NONCE_STATUSES = (136, 137, 138)

COLUMNS = ["frame", "time", "msg", "mn", "cn", "coa", "seq", "verdict", "reason", "key_form",
           "basis", "home_index", "careof_index", "tokens_from"]
_INT_COLUMNS = ("seq", "home_index", "careof_index")
_MAX_CANDIDATES = 4          # tokens kept per (CN, address, index): retransmissions, spoofs
_SWEEP_EVERY_NS = 1_000_000_000   # at least this long between sweeps of the token tables
_SWEEPS_PER_LIFETIME = 8


@dataclass(slots=True)
class Verdict:
    """One checked message.  ``time`` is epoch seconds; ``key_form`` says which key
    authenticated it (crypto.KEY_FORMS) or, for an invalid MAC, the form expected."""

    frame: int
    time: float
    msg: str                      # HoT, CoT, BU, EBU, BA, EBA
    mn: str | None
    cn: str | None
    coa: str | None
    seq: int | None
    verdict: str = UNVERIFIABLE   # valid | invalid | unverifiable
    reason: str = ""
    key_form: str | None = None
    basis: str | None = None      # kcn | capture | None (nothing to check with)
    home_index: int | None = None
    careof_index: int | None = None
    tokens_from: str | None = None  # keyless: frames of the HoT/CoT whose tokens were used
    source: str = field(default="", repr=False)

    def as_row(self) -> dict:
        return {c: getattr(self, c) for c in COLUMNS}


@dataclass(slots=True)
class _Token:
    token: bytes = field(repr=False)
    ts_ns: int
    frame: int


@dataclass(slots=True)
class _Sent:
    """A BU/EBU remembered for the BA/EBA that answers it (the Kbm the CN computed)."""

    ts_ns: int
    msg: str                                   # "BU", "EBU" or "home" (a home registration)
    keys: list = field(default_factory=list, repr=False)   # [(key_form, Kbm)], best first
    homes: list = field(default_factory=list, repr=False)  # home token candidates
    fail: tuple[str, str] | None = None        # (verdict, reason) when no key could be made
    basis: str | None = None
    home_index: int | None = None
    careof_index: int | None = None
    tokens_from: str | None = None


class _NoKey(Exception):
    """A token could not be made; carries the verdict and reason."""

    def __init__(self, verdict: str, reason: str):
        super().__init__(reason)
        self.verdict, self.reason = verdict, reason


class Oracle:
    """Feed it every record of a stream (:meth:`check`, or :meth:`run`)."""

    def __init__(self, keys: KeyTable | None = None, config: ProtocolConfig = DEFAULT_CONFIG):
        for name in ("max_nonce_lifetime", "max_token_lifetime"):
            value = getattr(config, name)
            if not value > 0:
                raise UsageError(f"{name.upper()} must be a positive number of seconds "
                                 f"(--{name.replace('_', '-')})")
        self.keys = keys if keys is not None else KeyTable()
        self.config = config
        self._nonce_ns = to_ns(config.max_nonce_lifetime)
        self._token_ns = to_ns(config.max_token_lifetime)
        self._home: dict[tuple[str, str, int], list[_Token]] = {}
        self._careof: dict[tuple[str, str, int | None], list[_Token]] = {}
        self._sent: dict[tuple[str, str, int], _Sent] = {}
        self._first_use: dict[tuple[str, int], int] = {}
        self._coa_mn: dict[str, tuple[str, int]] = {}
        self._now = None
        self._swept = None
        # Sweep a fraction of the shortest retention time at a time: memory stays within
        # 1/_SWEEPS_PER_LIFETIME of the bound, and a long capture is not rescanned each second.
        self._sweep_every_ns = max(_SWEEP_EVERY_NS,
                                   min(self._token_ns, self._nonce_ns) // _SWEEPS_PER_LIFETIME)
        self.counts: Counter = Counter()

    # -- public ---------------------------------------------------------------------
    def check(self, rec) -> Verdict | None:
        """The verdict on ``rec``, or None for what a CN does not check (data, HoTI,
        CoTI, BRR, BE, home registrations and their BAs, handover events)."""
        if not isinstance(rec, Record) or rec.mh is None:
            return None
        self._tick(rec.ts_ns)
        if rec.hoa is not None:
            self._coa_mn[rec.src] = (rec.hoa, rec.ts_ns)
        if rec.msg == "HoT":
            v = self._check_test(rec, home=True)
        elif rec.msg == "CoT":
            v = self._check_test(rec, home=False)
        elif rec.msg in ("BU", "EBU"):
            v = self._check_bu(rec)
        elif rec.msg == "BA":
            v = self._check_ba(rec)
        else:
            v = None
        if v is not None:
            v.source = rec.source
            self.counts[v.verdict] += 1
        return v

    def run(self, records: Iterable) -> Iterator[Verdict]:
        for rec in records:
            v = self.check(rec)
            if v is not None:
                yield v

    def memory(self) -> dict[str, int]:
        """Sizes of the oracle's time-bounded tables (for tests and monitoring)."""
        return {"home_tokens": sum(map(len, self._home.values())),
                "careof_tokens": sum(map(len, self._careof.values())),
                "sent": len(self._sent), "first_use": len(self._first_use),
                "coa_mn": len(self._coa_mn)}

    # -- bounded memory ----------------------------------------------------------------
    def _tick(self, ts_ns: int) -> None:
        if self._now is None or ts_ns > self._now:
            self._now = ts_ns
        if self._swept is None:
            self._swept = self._now
        elif self._now - self._swept >= self._sweep_every_ns:
            self._sweep(self._now)
            self._swept = self._now

    def _sweep(self, now: int) -> None:
        token_cut = now - 2 * self._token_ns
        for table in (self._home, self._careof):
            for k in list(table):
                kept = [t for t in table[k] if t.ts_ns >= token_cut]
                if kept:
                    table[k] = kept
                else:
                    del table[k]
        sent_cut = now - self._nonce_ns
        for k in [k for k, s in self._sent.items() if s.ts_ns < sent_cut]:
            del self._sent[k]
        for k in [k for k, (_, ts) in self._coa_mn.items() if ts < token_cut]:
            del self._coa_mn[k]

    def _remember(self, table: dict, key, tok: _Token) -> None:
        lst = table.setdefault(key, [])
        lst.append(tok)
        if len(lst) > _MAX_CANDIDATES:
            del lst[0]

    # -- HoT / CoT --------------------------------------------------------------------
    def _check_test(self, rec: Record, home: bool) -> Verdict:
        msg = rec.mh
        cn, addr, index = rec.src, rec.dst, msg.nonce_index
        if home:
            mn, coa = addr, rec.tunnel_dst
        else:
            mn, coa = self._coa_mn.get(addr, (None, 0))[0], addr
        v = Verdict(rec.frame, _seconds(rec.ts_ns), rec.msg, mn, cn, coa, None)
        if home:
            v.home_index = index
        else:
            v.careof_index = index
        self._remember(self._home if home else self._careof, (cn, addr, index),
                       _Token(bytes(msg.keygen_token), rec.ts_ns, rec.frame))
        kcn = self.keys.kcn(cn)
        if kcn is None or self.keys.nonce_table(cn) is None:
            v.verdict, v.reason = UNVERIFIABLE, R_NO_KCN if kcn is None else R_NO_NONCES
            return v
        v.basis = BASIS_KCN
        try:
            expected = self._kcn_token(cn, addr, index, home, rec.ts_ns)
        except _NoKey as exc:
            v.verdict, v.reason = exc.verdict, exc.reason
            return v
        if crypto.same(expected, bytes(msg.keygen_token)):
            v.verdict, v.reason = VALID, R_HOME_TOKEN_OK if home else R_CAREOF_TOKEN_OK
        else:
            v.verdict = INVALID
            v.reason = (R_HOME_TOKEN_BAD if home else R_CAREOF_TOKEN_BAD).format(index=index)
        return v

    def _kcn_token(self, cn: str, addr: str, index: int, home: bool, ts_ns: int) -> bytes:
        """The keygen token the CN makes for ``addr`` with nonce ``index`` (Kcn basis)."""
        nonce = self.keys.nonce(cn, index)
        if nonce is None:
            raise _NoKey(INVALID, R_UNKNOWN_NONCE.format(index=index))
        if nonce.generated is not None:
            born = to_ns(nonce.generated)
        else:
            born = self._first_use.setdefault((cn, index), ts_ns)
        if ts_ns - born > self._nonce_ns:
            raise _NoKey(INVALID, R_NONCE_OLD)
        return crypto.keygen_token(self.keys.kcn(cn), pton(addr), nonce.value,
                                   crypto.HOME if home else crypto.CARE_OF)

    def _capture_tokens(self, cn: str, addr: str, index: int, home: bool) -> list[_Token]:
        """Tokens the capture carried for (CN, address, index), newest first."""
        if home:
            found = list(self._home.get((cn, addr, index), ()))
        else:
            found = list(self._careof.get((cn, addr, index), ()))
            found += self._careof.get((cn, addr, None), ())   # RFC 4866 option, index unknown
            found.sort(key=lambda t: t.ts_ns)
        if not found:
            raise _NoKey(UNVERIFIABLE, (R_NO_HOME_TOKEN if home else R_NO_CAREOF_TOKEN)
                         .format(index=index))
        return found[::-1]

    def _tokens(self, basis: str, cn: str, addr: str, index: int, home: bool,
                ts_ns: int) -> list[_Token]:
        if basis == BASIS_KCN:
            return [_Token(self._kcn_token(cn, addr, index, home, ts_ns), ts_ns, 0)]
        return self._capture_tokens(cn, addr, index, home)

    # -- BU / EBU ------------------------------------------------------------------------
    def _check_bu(self, rec: Record) -> Verdict | None:
        bu = rec.mh
        mn = rec.hoa or rec.src
        cn = rec.dst
        if bu.flags & BU_FLAG_H:
            # A home registration (IPsec-protected, not return routability): only noted
            # so that the home agent's BA is recognised.
            self._sent[(mn, cn, bu.sequence)] = _Sent(rec.ts_ns, "home")
            return None
        alt = bu.option(AlternateCareOfAddress)
        coa = alt.address if alt is not None else rec.src
        v = Verdict(rec.frame, _seconds(rec.ts_ns), rec.msg, mn, cn, coa, bu.sequence)
        sent = _Sent(rec.ts_ns, rec.msg)
        self._sent[(mn, cn, bu.sequence)] = sent
        if rec.deregistration:
            forms = (crypto.KEY_DEREG,)
        elif rec.msg == "EBU":
            forms = (crypto.KEY_EARLY, crypto.KEY_EARLY_RFC4866)
        else:
            forms = (crypto.KEY_STANDARD,)
        v.key_form = forms[0] if len(forms) == 1 else None
        ni = bu.option(NonceIndices)
        auth = bu.option(BindingAuthorizationData)
        if ni is not None:
            v.home_index = sent.home_index = ni.home_index
            v.careof_index = sent.careof_index = ni.careof_index   # not used by EBU/dereg keys
        basis = BASIS_KCN if self.keys.usable(cn) else BASIS_CAPTURE
        v.basis = sent.basis = basis
        # The CN's Kbm, for this BU and for the BA that answers it.
        if ni is None:
            sent.fail = (INVALID, R_NO_NONCE_INDICES)
        else:
            try:
                self._make_keys(sent, basis, cn, mn, coa, ni, forms, rec.ts_ns)
            except _NoKey as exc:
                sent.fail = (exc.verdict, exc.reason)
        v.tokens_from = sent.tokens_from
        if auth is None:
            v.verdict, v.reason = INVALID, R_NO_AUTH
            return v
        if sent.fail is not None:
            v.verdict, v.reason = sent.fail
            return v
        data = mac_data(rec.mh_wire) if rec.mh_wire else None
        if data is None:
            v.verdict, v.reason = UNVERIFIABLE, R_NO_WIRE
            return v
        match = self._match(sent.keys, coa, cn, data, bytes(auth.authenticator))
        if match is None:
            v.verdict, v.reason = INVALID, R_MISMATCH
            return v
        form, _, used = match
        v.key_form = form
        # The key that worked goes first for the BA.
        sent.keys.sort(key=lambda k: k[1] is not match[1])
        if basis == BASIS_CAPTURE:
            v.tokens_from = sent.tokens_from = " ".join(str(t.frame) for t in used)
            if any(rec.ts_ns - t.ts_ns > self._token_ns for t in used):
                v.verdict, v.reason = INVALID, R_TOKEN_OLD
                return v
        v.verdict, v.reason = VALID, R_AUTH_OK
        return v

    def _make_keys(self, sent: _Sent, basis: str, cn: str, mn: str, coa: str,
                   ni: NonceIndices, forms: tuple[str, ...], ts_ns: int) -> None:
        homes = self._tokens(basis, cn, mn, ni.home_index, True, ts_ns)
        sent.homes = [h.token for h in homes]
        keys = []
        if forms == (crypto.KEY_STANDARD,):
            careofs = self._tokens(basis, cn, coa, ni.careof_index, False, ts_ns)
            for h in homes:
                for c in careofs:
                    keys.append((crypto.KEY_STANDARD, crypto.kbm(h.token, c.token), (h, c)))
        else:
            for h in homes:
                for form in forms:
                    if form == crypto.KEY_EARLY_RFC4866:
                        key = crypto.kbm_early_rfc4866(h.token)
                    elif form == crypto.KEY_EARLY:
                        key = crypto.kbm_early(h.token)
                    else:
                        key = crypto.kbm_dereg(h.token)
                    keys.append((form, key, (h,)))
        sent.keys = keys

    @staticmethod
    def _match(keys: list, coa: str, cn: str, data: bytes, mac: bytes):
        """The first (form, Kbm, tokens) whose authenticator equals ``mac``."""
        coa_b, cn_b = pton(coa), pton(cn)
        for entry in keys:
            if crypto.same(crypto.authenticator(entry[1], coa_b, cn_b, data), mac):
                return entry
        return None

    # -- BA / EBA --------------------------------------------------------------------------
    def _check_ba(self, rec: Record) -> Verdict | None:
        ba = rec.mh
        mn = rec.rh2 or rec.dst
        cn, coa = rec.src, rec.dst
        auth = ba.option(BindingAuthorizationData)
        sent = self._sent.get((mn, cn, ba.sequence))
        if sent is None:
            if auth is None:
                return None     # most likely a home agent's BA whose BU is not in the capture
            v = Verdict(rec.frame, _seconds(rec.ts_ns), "BA", mn, cn, coa, ba.sequence)
            v.verdict, v.reason = UNVERIFIABLE, R_NO_BU
            return v
        if sent.msg == "home":
            return None
        v = Verdict(rec.frame, _seconds(rec.ts_ns), "EBA" if sent.msg == "EBU" else "BA", mn, cn, coa,
                    ba.sequence, basis=sent.basis, home_index=sent.home_index,
                    careof_index=sent.careof_index, tokens_from=sent.tokens_from)
        v.key_form = sent.keys[0][0] if sent.keys else None
        cot = ba.option(CareOfTestOption)
        cot_problem = None
        if cot is not None:
            ni = ba.option(NonceIndices)
            index = ni.careof_index if ni is not None else None
            self._remember(self._careof, (cn, coa, index),
                           _Token(bytes(cot.keygen_token), rec.ts_ns, rec.frame))
            if index is not None and self.keys.usable(cn):
                try:
                    expected = self._kcn_token(cn, coa, index, False, rec.ts_ns)
                    if not crypto.same(expected, bytes(cot.keygen_token)):
                        cot_problem = R_COT_OPTION_BAD.format(index=index)
                except _NoKey as exc:
                    cot_problem = exc.reason
        if auth is None:
            if ba.status in NONCE_STATUSES:
                v.verdict = UNVERIFIABLE
                v.reason = R_REJECTED_NO_AUTH.format(status=ba.status,
                                                     name=BA_STATUS.get(ba.status, "?"))
            else:
                v.verdict, v.reason = INVALID, R_NO_AUTH
            return v
        keys = list(sent.keys)
        if cot is not None:
            keys += [(crypto.KEY_RFC4866_COT, crypto.kbm(h, bytes(cot.keygen_token)), ())
                     for h in sent.homes]
        if not keys:
            v.verdict, v.reason = sent.fail if sent.fail is not None else (UNVERIFIABLE, R_NO_BU)
            if v.verdict == INVALID:
                v.verdict = UNVERIFIABLE   # the BU's fault; this BA cannot be checked
            return v
        data = mac_data(rec.mh_wire) if rec.mh_wire else None
        if data is None:
            v.verdict, v.reason = UNVERIFIABLE, R_NO_WIRE
            return v
        match = self._match(keys, coa, cn, data, bytes(auth.authenticator))
        if match is None:
            forms = {k[0] for k in keys}
            v.key_form = forms.pop() if len(forms) == 1 else None
            v.verdict, v.reason = INVALID, R_MISMATCH
            return v
        v.key_form = match[0]
        if cot_problem is not None:
            v.verdict, v.reason = INVALID, cot_problem
            return v
        v.verdict, v.reason = VALID, R_AUTH_OK
        return v


def verdicts_frame(verdicts: Iterable[Verdict]) -> "pd.DataFrame":
    """Verdicts as a DataFrame with :data:`COLUMNS` (integer columns nullable)."""
    import pandas as pd
    df = pd.DataFrame([v.as_row() for v in verdicts], columns=COLUMNS)
    for c in _INT_COLUMNS:
        df[c] = df[c].astype("Int64")
    df["frame"] = df["frame"].astype("int64")
    df["time"] = df["time"].astype("float64")
    return df


def verify(path, keys: KeyTable | None = None, config: ProtocolConfig = DEFAULT_CONFIG,
           diag: Diagnostics | None = None, stats=None) -> "pd.DataFrame":
    """One row per checked message of the capture/trace ``path`` (columns :data:`COLUMNS`)."""
    from ..stream import read_records
    oracle = Oracle(keys, config)
    diag = diag if diag is not None else Diagnostics()
    return verdicts_frame(oracle.run(read_records(path, diag, stats)))


__all__ = ["Verdict", "Oracle", "verify", "verdicts_frame", "COLUMNS", "VERDICTS", "VALID",
           "INVALID", "UNVERIFIABLE"]
