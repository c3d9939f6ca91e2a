"""The Oracle's checks of binding updates and their acknowledgements (BU/EBU, BA/EBA).

:class:`BindingChecks` holds the CN oracle's checks of a BU's and a BA's authenticator,
the keygen tokens they are checked with (the CN's own from Kcn, or those the capture
carried) and the nonce-age rules (RFC 6275 5.2.5-5.2.7, 9.5.1; the EBU draft 4.1; RFC
4866); it is a base of :class:`ebutool.oracle.verify.Oracle`, whose tables it reads and
fills (declared below for the type checker; the Oracle makes them).
"""

from __future__ import annotations

from socket import AF_INET6, inet_pton
from typing import TYPE_CHECKING

from ebutool.core.addr import pton
from ebutool.core.bounded import put
from ebutool.core.constants import (
    BA_STATUS_EXPIRED_CAREOF_NONCE,
    BA_STATUS_EXPIRED_HOME_NONCE,
    BA_STATUS_EXPIRED_NONCES,
    BA_STATUS_SEQ_OUT_OF_WINDOW,
    MOPT_AUTH_DATA,
    MOPT_NONCE_INDICES,
)
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.sequence import seq_greater
from ebutool.core.units import NS_PER_S, to_ns
from ebutool.oracle import crypto
from ebutool.oracle.keys import KeyTable
from ebutool.oracle.tables import (
    Sent,
    Tokens,
    by_time,
    fresh,
    remember,
)

# The verdict vocabulary lives in verdicts.py; re-exported here (verify.VALID, ...).
from ebutool.oracle.verdicts import (
    BASIS_CAPTURE,
    BASIS_KCN,
    INVALID,
    NONCE_STATUSES,
    R_AUTH_MALFORMED,
    R_AUTH_OK,
    R_COT_OPTION_BAD,
    R_CUT_OFF,
    R_INDEX0_AMBIGUOUS,
    R_INDEX0_COT_SEEN,
    R_INDEX0_EARLY,
    R_INDEX0_STANDARD,
    R_MISMATCH,
    R_NO_AUTH,
    R_NO_BU,
    R_NO_CAREOF_TOKEN,
    R_NO_HOME_TOKEN,
    R_NO_KCN,
    R_NO_NONCE_INDICES,
    R_NO_WIRE,
    R_NONCE_AGE_BACKWARDS,
    R_NONCE_AGE_UNKNOWN,
    R_NONCE_INDICES_MALFORMED,
    R_NONCE_OLD,
    R_REJECTED_NO_AUTH,
    R_TOKEN_OLD,
    R_UNKNOWN_NONCE,
    R_UNKNOWN_NONCES,
    STALE_TOKEN,
    UNVERIFIABLE,
    VALID,
    Verdict,
)
from ebutool.records.record import Record
from ebutool.records.retype import own_type
from ebutool.wire.mh.codec import mac_data
from ebutool.wire.mh.messages import (
    BA_STATUS,
    BU_FLAG_H,
    BindingAcknowledgement,
    BindingUpdate,
)
from ebutool.wire.mh.mobility_options import (
    AlternateCareOfAddress,
    BindingAuthorizationData,
    CareOfTestOption,
    NonceIndices,
    malformed_length,
)

if TYPE_CHECKING:
    pass


def cut_off(rec: Record) -> str | None:
    """The reason a BU's or BA's authenticator cannot be checked when the capture cut the
    message short (snaplen); None when it is whole."""
    m = rec.mh
    if m is None or not m.truncated or m.header_len is None:
        return None
    got = len(rec.mh_wire) if rec.mh_wire is not None else 0
    return R_CUT_OFF.format(msg=m.NAME, got=got, total=(m.header_len + 1) * 8)


def _no_auth(msg: BindingUpdate | BindingAcknowledgement) -> str:
    """Why a BU or BA has no usable Binding Authorization Data option: none was sent, or
    one came with a wrong length (kept as an unknown option by the decoder)."""
    bad = malformed_length(msg.options, MOPT_AUTH_DATA)
    return R_NO_AUTH if bad is None else R_AUTH_MALFORMED.format(length=bad)


_KCN_TOKEN_CACHE = 256  # Kcn-basis tokens cached (cleared when full: a HoT's token is
# used by the BU a few ms later, so a small cache suffices)
_STANDARD_FORMS = (crypto.KEY_STANDARD,)
_DEREG_FORMS = (crypto.KEY_DEREG,)
_EARLY_FORMS = (crypto.KEY_EARLY, crypto.KEY_EARLY_RFC4866)


# The options the oracle reads from a BU or BA, by position in what _options gives.
_OPTION_CLASSES = (NonceIndices, BindingAuthorizationData, AlternateCareOfAddress, CareOfTestOption)
# option class -> the position it fills, or -1 (an instance of at most one of the classes:
# they are slotted, so no class derives from two of them)
_POSITION: dict[type, int] = {}


def _options(msg: BindingUpdate | BindingAcknowledgement) -> list:
    """The first option of each of _OPTION_CLASSES in ``msg`` (None when absent): what
    ``msg.first_options(*_OPTION_CLASSES)`` gives, each option's class looked up once in
    _POSITION rather than tested against every class (it runs for every BU and BA)."""
    found: list = [None, None, None, None]
    for o in msg.options:
        i = _POSITION.get(type(o))
        if i is None:
            i = _POSITION[type(o)] = next(
                (i for i, c in enumerate(_OPTION_CLASSES) if isinstance(o, c)), -1
            )
        if i >= 0 and found[i] is None:
            found[i] = o
    return found


def packed(text: str) -> bytes:
    """16 octets of an IPv6 address text: the C inet_pton (addr.pton's ipaddress parse
    is ~10 us per new address, and every episode brings new ones); what it rejects
    (e.g. a scope suffix) goes to addr.pton, which gives the octets or the ValueError."""
    try:
        return inet_pton(AF_INET6, text)
    except (OSError, TypeError):
        return pton(text)


class NoKey(Exception):
    """A token could not be made; carries the verdict and reason."""

    def __init__(self, verdict: str, reason: str) -> None:
        super().__init__(reason)
        self.verdict, self.reason = verdict, reason


class BindingChecks:
    """The BU/EBU and BA/EBA checks of :class:`~ebutool.oracle.verify.Oracle` (module doc)."""

    # (made by Oracle.__init__; see there)
    keys: KeyTable
    max_entries: int | None
    diag: Diagnostics | None
    _nonce_ns: int
    _token_ns: int
    _home: dict[tuple[str, str, int], Tokens]
    _careof: dict[tuple[str, str, int | None], Tokens]
    _sent: dict[tuple[str, str, int], Sent | int]
    _first_use: dict[tuple[str, int], int]
    _old_use: dict[tuple[str, int], int]
    _kcn_tokens: dict[tuple[bytes, str, bytes, bool], bytes]
    _kbms: dict[tuple[bytes, bytes | str], bytes]
    _token_cut: int | None
    _in_order: bool

    def _kcn_token(self, cn: str, addr: str, index: int, home: bool, ts_ns: int) -> bytes:
        """The keygen token the CN makes for ``addr`` with nonce ``index`` (Kcn basis)."""
        nonce = self.keys.nonce(cn, index)
        if nonce is None:
            raise NoKey(INVALID, R_UNKNOWN_NONCE.format(index=index))
        kcn = self.keys.kcn(cn)
        if kcn is None:  # callers look for a Kcn first
            raise NoKey(UNVERIFIABLE, R_NO_KCN)
        key = (kcn, addr, nonce.value, home)
        token = self._kcn_tokens.get(key)
        if token is None:
            if len(self._kcn_tokens) >= _KCN_TOKEN_CACHE:
                self._kcn_tokens.clear()
            token = self._kcn_tokens[key] = crypto.keygen_token(
                kcn, packed(addr), nonce.value, crypto.HOME if home else crypto.CARE_OF
            )
        return token

    def _tokens(self, basis: str, cn: str, addr: str, index: int, home: bool, ts_ns: int) -> Tokens:
        """The candidate tokens as a flat tuple, newest first: the CN's own (Kcn basis)
        or those the capture carried for (CN, address, index)."""
        if basis == BASIS_KCN:
            return (self._kcn_token(cn, addr, index, home, ts_ns), ts_ns, 0)
        if home:
            found = fresh(self._home, (cn, addr, index), self._token_cut)
            if found:
                return found
        else:
            found = fresh(self._careof, (cn, addr, index), self._token_cut)
            # an RFC 4866 option's, index unknown
            rfc4866 = fresh(self._careof, (cn, addr, None), self._token_cut)
            if rfc4866 is None:
                if found is not None:
                    return found if len(found) == 3 else by_time(found)
            else:
                return by_time(found, rfc4866) if found is not None else by_time(rfc4866)
        raise NoKey(
            UNVERIFIABLE, (R_NO_HOME_TOKEN if home else R_NO_CAREOF_TOKEN).format(index=index)
        )

    # -- BU / EBU ------------------------------------------------------------------------
    def _check_bu(self, rec: Record) -> Verdict | None:
        bu = rec.mh
        assert isinstance(bu, BindingUpdate)  # check() sends BU and EBU here
        mn = rec.hoa or rec.src
        cn = rec.dst
        ts_ns = rec.ts_ns
        key = (mn, cn, bu.sequence)
        if bu.flags & BU_FLAG_H:
            # A home registration (IPsec-protected, not return routability): only noted
            # so that the home agent's BA is recognised -- by its time alone, an int
            # (32 octets where a Sent takes 112).
            put(self._sent, key, ts_ns, self.max_entries, self.diag, "oracle BU sent", rec.frame)
            return None
        ni, auth, alt, _ = _options(bu)
        coa = alt.address if alt is not None else rec.src
        msg = rec.msg
        forms: tuple[str, ...]
        note = ""
        if rec.deregistration:
            forms = _DEREG_FORMS
        elif msg == "EBU" and (cn, coa, 0) in self._careof and not own_type(rec):
            # Care-of nonce index 0 is not reserved (RFC 6275): after a CoT with index 0
            # for this address and CN, this is a standard BU (DESIGN.md 3)
            forms, note, msg = _STANDARD_FORMS, R_INDEX0_COT_SEEN, "BU"
        elif msg == "EBU":
            forms = _EARLY_FORMS
        else:
            forms = _STANDARD_FORMS
        keys = self.keys
        basis = BASIS_KCN if keys._cns and keys.usable(cn) else BASIS_CAPTURE  # (as above)
        sent = self._sent_for(rec, msg, forms, basis, ni, mn, coa)
        cut = cut_off(rec) if bu.truncated else None
        if cut is not None and ni is None:
            sent.fail = (UNVERIFIABLE, cut)  # the Nonce Indices may be past the cut
        put(self._sent, key, sent, self.max_entries, self.diag, "oracle BU sent", rec.frame)
        v = Verdict(rec.frame, ts_ns / NS_PER_S, msg, mn, cn, coa, bu.sequence)
        v.time_ns = ts_ns
        v.key_form = forms[0] if len(forms) == 1 else None
        v.basis = basis
        if ni is not None:
            v.home_index, v.careof_index = ni.home_index, ni.careof_index
        if cut is not None:
            # Cut by the snaplen: the MAC covers the whole message, and a missing option
            # may be missing from the capture only -- not a wrong or absent MAC.  The
            # keys its nonce indices name are still kept (above) for its BA.
            v.verdict, v.reason = UNVERIFIABLE, cut
            return v
        if auth is None:
            v.verdict, v.reason = INVALID, _no_auth(bu)
            return v
        wire = rec.mh_wire
        # (bu.MH_TYPE: what the mh_type property gives, without its call)
        data = mac_data(wire, bu.MH_TYPE) if wire else None
        if sent.fail is None and data is None:
            v.verdict, v.reason = UNVERIFIABLE, R_NO_WIRE
            return v
        try:  # (packed, inlined: per message)
            coa_b, cn_b = inet_pton(AF_INET6, coa), inet_pton(AF_INET6, cn)
        except (OSError, TypeError):
            coa_b, cn_b = packed(coa), packed(cn)
        covered = coa_b + cn_b + data if data is not None else None  # what the MAC covers
        mac = bytes(auth.authenticator)
        k = self._match_bu(sent, covered, mac, self._kbms) if sent.fail is None else None
        index0 = ni is not None and ni.careof_index == 0 and not rec.deregistration
        if k is None and forms is _STANDARD_FORMS and index0 and covered is not None:
            # Taken for a standard BU (a CoT with care-of index 0 came before it, or the
            # caller named it BU), yet only Kbm_early may match: an EBU (the MN may have
            # moved back to an address where it had a CoT of index 0)
            early = self._sent_for(rec, "EBU", _EARLY_FORMS, basis, ni, mn, coa)
            k = self._match_bu(early, covered, mac, self._kbms) if early.fail is None else None
            if k is not None:
                sent, note, v.msg = early, R_INDEX0_EARLY, "EBU"
                put(self._sent, key, sent, self.max_entries, self.diag, "oracle BU sent", rec.frame)
        elif k is None and forms is _EARLY_FORMS and covered is not None and not own_type(rec):
            # maybe a standard BU with care-of index 0: try the standard Kbm (DESIGN.md 3)
            std = self._sent_for(rec, "BU", _STANDARD_FORMS, basis, ni, mn, coa)
            k = self._match_bu(std, covered, mac, self._kbms) if std.fail is None else None
            if k is not None:
                sent, note, v.msg = std, R_INDEX0_STANDARD, "BU"
                put(self._sent, key, sent, self.max_entries, self.diag, "oracle BU sent", rec.frame)
            elif std.fail is not None and std.fail[0] == UNVERIFIABLE and sent.fail is None:
                v.verdict, v.reason = UNVERIFIABLE, R_INDEX0_AMBIGUOUS.format(why=std.fail[1])
                return v
        if sent.fail is not None:
            v.verdict, v.reason = sent.fail
            v.status = sent.status
            return v
        if k is None:
            v.verdict, v.reason = INVALID, R_MISMATCH
            return v
        v.key_form = sent.form(k)
        sent.match = k  # the key that worked goes first for the BA
        v.verdict, reason = self._bu_age(rec, sent, k, v)
        if note:
            head = R_AUTH_OK if reason.startswith(R_AUTH_OK) else reason
            reason = head + note + reason[len(head) :]
        v.reason = reason
        return v

    def _sent_for(
        self,
        rec: Record,
        msg: str,
        forms: tuple[str, ...],
        basis: str,
        ni: NonceIndices | None,
        mn: str,
        coa: str,
    ) -> Sent:
        """A BU remembered with the tokens of the keys it may use (``forms``), for its
        own MAC and the BA's; ``fail`` says why they could not all be found."""
        sent = Sent(rec.ts_ns, msg, forms)
        sent.basis = basis
        if ni is None:
            bad = malformed_length(rec.mh.options, MOPT_NONCE_INDICES) if rec.mh else None
            reason = R_NO_NONCE_INDICES if bad is None else R_NONCE_INDICES_MALFORMED
            sent.fail = (INVALID, reason.format(length=bad))
            return sent
        sent.home_index, sent.careof_index = ni.home_index, ni.careof_index
        cn = rec.dst
        try:
            sent.homes = self._tokens(basis, cn, mn, ni.home_index, True, rec.ts_ns)
            if forms is _STANDARD_FORMS:
                sent.careofs = self._tokens(basis, cn, coa, ni.careof_index, False, rec.ts_ns)
        except NoKey as exc:
            sent.fail = (exc.verdict, exc.reason)
            if basis == BASIS_KCN and exc.verdict == INVALID:
                self._unknown_nonces(sent, cn, forms is _STANDARD_FORMS)
        return sent

    def _unknown_nonces(self, sent: Sent, cn: str, careof_too: bool) -> None:
        """``sent``'s failure and BA status when the CN's nonce table lacks its nonce
        indices: a CN answers 136 (home), 137 (care-of) or 138 (both; RFC 6275 9.5.1),
        and the reason names every index it lacks, not only the first."""
        home, careof = sent.home_index, sent.careof_index
        assert home is not None and careof is not None  # (set before the tokens)
        home_bad = self.keys.nonce(cn, home) is None
        careof_bad = careof_too and self.keys.nonce(cn, careof) is None
        if home_bad and careof_bad:
            sent.status = BA_STATUS_EXPIRED_NONCES
            sent.fail = (INVALID, R_UNKNOWN_NONCES.format(home=home, careof=careof))
        elif home_bad:
            sent.status = BA_STATUS_EXPIRED_HOME_NONCE
        elif careof_bad:
            sent.status = BA_STATUS_EXPIRED_CAREOF_NONCE

    @staticmethod
    def _match_bu(sent: Sent, covered: bytes | None, mac: bytes, kbms: dict) -> int | None:
        """The position of the first candidate key whose authenticator of ``covered``
        (care-of address | CN | MH data) is ``mac``."""
        if covered is None:
            return None
        for k in range(sent.count()):
            if crypto.same(crypto.authenticator_over(sent.kbm(k, kbms), covered), mac):
                return k
        return None

    def _bu_age(self, rec: Record, sent: Sent, k: int, v: Verdict) -> tuple[str, str]:
        """The verdict and reason of a BU whose MAC matched key ``k``: its nonces' age
        counts from their first use in the capture (RFC 6275 5.2.7); keyless, a token
        older than MAX_TOKEN_LIFETIME is ``stale_token`` (an MN-side rule)."""
        cn, ts_ns = rec.dst, rec.ts_ns
        first_use = self._first_use
        indices = (
            (sent.home_index,) if sent.careofs is None else (sent.home_index, sent.careof_index)
        )
        oldest: int | None = None  # the earliest first use of the nonces (their max age)
        unknown: int | None = None
        unseen = False  # a nonce not first used in the capture: the oldest's age unknown
        backwards: int | None = None  # a nonce first used after this BU's timestamp
        too_old: list[bool] = []  # per index: older than MAX_NONCE_LIFETIME
        for index in indices:
            if index is None:
                continue
            first = first_use.get((cn, index))
            if first is None:
                old = self._old_use.get((cn, index))  # swept: long before (__init__)
                if old is not None and not self._generated_after(cn, index, old):
                    first = old
            if first is not None:
                too_old.append(ts_ns - first > self._nonce_ns)
                if ts_ns < first and backwards is None:
                    backwards = index
                if oldest is None or first < oldest:
                    oldest = first
            else:
                too_old.append(False)
                unseen = True
                if unknown is None and not self._fresh_by_generation(cn, index, ts_ns):
                    unknown = index
        age = ts_ns - oldest if oldest is not None else None
        # (``age`` is then a lower bound: enough to call the BU too old, not the column;
        # a BU timestamped before a first use has no age: timestamps out of order)
        known = age is not None and not unseen and backwards is None
        v.nonce_age_ms = age / 1e6 if known and age is not None else None
        if age is not None and age > self._nonce_ns:
            v.status = _expired_status(too_old)
            return INVALID, R_NONCE_OLD
        if sent.basis == BASIS_CAPTURE:
            v.tokens_from = sent.tokens_from()
            home_ts, careof_ts = sent.token_times(k)
            if ts_ns - home_ts > self._token_ns or (
                careof_ts is not None and ts_ns - careof_ts > self._token_ns
            ):
                return STALE_TOKEN, R_TOKEN_OLD
        if unknown is not None:
            return VALID, R_AUTH_OK + R_NONCE_AGE_UNKNOWN.format(index=unknown)
        if backwards is not None:
            return VALID, R_AUTH_OK + R_NONCE_AGE_BACKWARDS.format(index=backwards)
        return VALID, R_AUTH_OK

    def _generated_after(self, cn: str, index: int, ts_ns: int) -> bool:
        """True when the nonce table's ``generated`` time of the nonce is after
        ``ts_ns``: the CN made this nonce anew since (an old first use is not its)."""
        nonce = self.keys.nonce(cn, index) if self.keys else None
        return nonce is not None and nonce.generated is not None and to_ns(nonce.generated) > ts_ns

    def _fresh_by_generation(self, cn: str, index: int, ts_ns: int) -> bool:
        """True when the nonce table's ``generated`` time shows the nonce cannot have
        expired yet (it was first used no earlier than it was generated)."""
        nonce = self.keys.nonce(cn, index) if self.keys else None
        if nonce is None or nonce.generated is None:
            return False
        return ts_ns - to_ns(nonce.generated) <= self._nonce_ns

    # -- BA / EBA --------------------------------------------------------------------------
    def _check_ba(self, rec: Record) -> Verdict | None:
        ba = rec.mh
        assert isinstance(ba, BindingAcknowledgement)  # check() sends BA here
        mn = rec.rh2 or rec.dst
        cn, coa = rec.src, rec.dst
        ni, auth, _, cot = _options(ba)
        sent: Sent | int | None
        if ba.status == BA_STATUS_SEQ_OUT_OF_WINDOW:
            # It carries the last accepted sequence number, not the refused BU's (RFC
            # 6275 9.5.1): it answers, and is authenticated with the keys of, the newest
            # BU to this CN (DESIGN.md section 4).
            sent = self._newest_sent(mn, cn, ba.sequence, rec.ts_ns)
        else:
            sent = self._sent.get((mn, cn, ba.sequence))
        if sent is None:
            if auth is None and malformed_length(ba.options, MOPT_AUTH_DATA) is None:
                return None  # most likely a home agent's BA whose BU is not in the capture
            v = Verdict(rec.frame, rec.ts_ns / NS_PER_S, "BA", mn, cn, coa, ba.sequence)
            v.time_ns = rec.ts_ns
            v.verdict, v.reason = UNVERIFIABLE, R_NO_BU
            return v
        if isinstance(sent, int):  # a home registration's
            return None
        n = sent.count()
        v = Verdict(
            rec.frame,
            rec.ts_ns / NS_PER_S,
            "EBA" if sent.msg == "EBU" else "BA",
            mn,
            cn,
            coa,
            ba.sequence,
        )
        # (set one by one: a dataclass called with keywords costs ~4x as much)
        v.time_ns = rec.ts_ns
        v.basis = sent.basis
        v.home_index = sent.home_index
        v.careof_index = sent.careof_index
        v.tokens_from = sent.tokens_from()
        if n:
            v.key_form = sent.form(sent.match) if sent.match is not None else sent.forms[0]
        cot_token, cot_problem = b"", None
        if cot is not None:
            # (before a cut's return: the decoder keeps only whole options, so the token
            # of a BA cut after its Care-of Test option is the CN's, for a later BU)
            cot_token = bytes(cot.keygen_token)
            cot_problem = self._cot_option(rec, cn, coa, ni, cot_token)
        cut = cut_off(rec) if ba.truncated else None
        if cut is not None:
            # (as for a BU cut off; a wrong token in a whole option is still wrong)
            v.verdict, v.reason = (INVALID, cot_problem) if cot_problem else (UNVERIFIABLE, cut)
            return v
        if auth is None:
            if ba.status in NONCE_STATUSES:
                v.verdict = UNVERIFIABLE
                v.reason = R_REJECTED_NO_AUTH.format(
                    status=ba.status, name=BA_STATUS.get(ba.status, "?")
                )
            else:
                v.verdict, v.reason = INVALID, _no_auth(ba)
            return v
        n_cot = len(sent.homes) // 3 if cot is not None else 0
        if not n and not n_cot:
            v.verdict, v.reason = sent.fail if sent.fail is not None else (UNVERIFIABLE, R_NO_BU)
            if v.verdict == INVALID:
                v.verdict = UNVERIFIABLE  # the BU's fault; this BA cannot be checked
            return v
        wire = rec.mh_wire
        data = mac_data(wire, ba.MH_TYPE) if wire else None  # (as for the BU)
        if data is None:
            v.verdict, v.reason = UNVERIFIABLE, R_NO_WIRE
            return v
        try:  # (packed, inlined: per message)
            covered = inet_pton(AF_INET6, coa) + inet_pton(AF_INET6, cn) + data
        except (OSError, TypeError):
            covered = packed(coa) + packed(cn) + data
        form = self._match_ba(
            sent, n, cot_token if n_cot else None, covered, bytes(auth.authenticator), self._kbms
        )
        if form is None:
            forms = set(sent.forms) if n else set()
            if n_cot:
                forms.add(crypto.KEY_RFC4866_COT)
            v.key_form = forms.pop() if len(forms) == 1 else None
            v.verdict, v.reason = INVALID, R_MISMATCH
            return v
        v.key_form = form
        if cot_problem is not None:
            v.verdict, v.reason = INVALID, cot_problem
            return v
        v.verdict, v.reason = VALID, R_AUTH_OK
        return v

    def _cot_option(self, rec: Record, cn: str, coa: str, ni, cot_token: bytes) -> str | None:
        """Remember a BA's care-of keygen token (the CN's answer to the care-of test,
        carried in the BA) and check it against Kcn when that is known: the problem's
        reason, or None."""
        index = ni.careof_index if ni is not None else None
        remember(
            self._careof,
            (cn, coa, index),
            cot_token,
            rec.ts_ns,
            rec.frame,
            self.max_entries,
            self.diag,
        )
        if index is None or not (self.keys and self.keys.usable(cn)):
            return None
        try:
            expected = self._kcn_token(cn, coa, index, False, rec.ts_ns)
        except NoKey as exc:
            return exc.reason
        return None if crypto.same(expected, cot_token) else R_COT_OPTION_BAD.format(index=index)

    def _newest_sent(self, mn: str, cn: str, seq: int, ts_ns: int) -> Sent | int | None:
        """The BU from ``mn`` to ``cn`` a status-135 BA carrying ``seq`` answers, if kept
        (an int: a home registration's time): the newest sent no later than ``ts_ns``
        whose number is not greater than ``seq`` (the BA carries the last accepted
        number, so the refused BU's is at most that, modulo 2**16); None when there is
        none (the refused BU came before the capture: the BA cannot be checked)."""
        best: Sent | int | None = None  # the newest whose number is not greater
        best_ts = -1
        for (m, c, number), sent in reversed(self._sent.items()):
            if m != mn or c != cn:
                continue
            sent_ts = sent if isinstance(sent, int) else sent.ts_ns
            if sent_ts > ts_ns:
                continue
            if sent_ts > best_ts and not seq_greater(number, seq):
                best, best_ts = sent, sent_ts
                if self._in_order:
                    break  # (the table is in time order: the first found is the newest)
        return best

    @staticmethod
    def _match_ba(
        sent: Sent,
        n: int,
        cot_token: bytes | None,
        covered: bytes,
        mac: bytes,
        kbms: dict,
    ) -> str | None:
        """The form of the first key whose authenticator of ``covered`` (care-of address
        | CN | MH data) equals ``mac``: the BU's keys, the one that authenticated the BU
        first, then (RFC 4866) SHA1(home | the BA's care-of token) for each home token."""
        m = sent.match
        if m is not None and crypto.same(
            crypto.authenticator_over(sent.kbm(m, kbms), covered), mac
        ):
            return sent.form(m)
        for k in range(n):
            if k != m and crypto.same(crypto.authenticator_over(sent.kbm(k, kbms), covered), mac):
                return sent.form(k)
        if cot_token is not None:
            for i in range(0, len(sent.homes), 3):
                kbm = crypto.kbm(sent.homes[i], cot_token)
                if crypto.same(crypto.authenticator_over(kbm, covered), mac):
                    return crypto.KEY_RFC4866_COT
        return None


def _expired_status(too_old: list[bool]) -> int | None:
    """The BA status for nonces older than MAX_NONCE_LIFETIME (RFC 6275 9.5.1), where
    the capture shows it: ``too_old`` per nonce index of the BU, home first.  An EBU's
    one (home) nonce too old: 136; a BU's two: 138.  A BU with one nonce too old gets
    None (136-138 all possible): a first use in the capture only bounds a nonce's age
    from below, so the other may be too old as well."""
    if len(too_old) == 1:
        return BA_STATUS_EXPIRED_HOME_NONCE if too_old[0] else None
    if len(too_old) == 2 and all(too_old):
        return BA_STATUS_EXPIRED_NONCES
    return None
