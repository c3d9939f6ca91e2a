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
first uses of the nonces in the table (bounded by the nonce table; under a wildcard
"*" key entry, by the CNs seen times the table; a first use older than the sweeps keep
is moved to a table of old first uses, so that a BU using that nonce much later is still
known to be too old) and care-of -> home address pairs
seen (2 x MAX_TOKEN_LIFETIME); the token, sent-BU and address tables are also bounded
by count (tables.MAX_TABLE_ENTRIES).  Entries are small tuples (tables.py); binding keys
are not stored but recomputed from the tokens when a MAC is checked.

Nothing here formats a key, a nonce, a Kbm or a token that the capture does not carry.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from ebutool.core.bounded import make_room, put
from ebutool.core.constants import (
    DEFAULT_CONFIG,
    ProtocolConfig,
)
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import UsageError
from ebutool.core.units import NS_PER_S, to_ns
from ebutool.oracle import crypto
from ebutool.oracle.binding_checks import BindingChecks, NoKey
from ebutool.oracle.keys import KeyTable
from ebutool.oracle.tables import (
    FROM_CONFIG,
    Sent,
    Tokens,
    drop_expired,
    remember,
    sweep_tokens,
)

# The verdict vocabulary lives in verdicts.py; re-exported here (verify.VALID, ...).
from ebutool.oracle.verdicts import (
    BASIS_KCN,
    COLUMNS,
    INVALID,
    R_CAREOF_TOKEN_BAD,
    R_CAREOF_TOKEN_OK,
    R_HOME_TOKEN_BAD,
    R_HOME_TOKEN_OK,
    R_NO_KCN,
    R_NO_NONCES,
    R_NONCE_OLD,
    UNVERIFIABLE,
    VALID,
    VERDICTS,
    Verdict,
    verdicts_frame,
)
from ebutool.records.record import Record
from ebutool.records.retype import retype
from ebutool.wire.mh.messages import (
    HomeTest,
)

if TYPE_CHECKING:
    import pandas as pd

_SWEEP_EVERY_NS = 1_000_000_000  # at least this long between sweeps of the token tables
_SWEEPS_PER_LIFETIME = 8


class Oracle(BindingChecks):
    """Feed it every record of a stream (:meth:`check`, or :meth:`run`).

    ``max_entries`` bounds each table by count as well as by time
    (default: ``config.max_state_entries``, --max-state-entries; None: by time only); evictions
    are ``state_evicted`` warnings in ``diag`` when given."""

    _peak_kept = False  # check() keeps ``largest`` (ScheduledOracle)

    def __init__(
        self,
        keys: KeyTable | None = None,
        config: ProtocolConfig = DEFAULT_CONFIG,
        max_entries: int | None = FROM_CONFIG,
        diag: Diagnostics | None = None,
    ) -> None:
        for name in ("max_nonce_lifetime", "max_token_lifetime"):
            value = getattr(config, name)
            if not value > 0:
                raise UsageError(
                    f"{name.upper()} must be a positive number of seconds "
                    f"(--{name.replace('_', '-')})"
                )
        if max_entries == FROM_CONFIG:
            max_entries = int(config.max_state_entries)
        if max_entries is not None and max_entries < 1:
            raise UsageError("the oracle's table bound must be at least 1 entry")
        self.keys = keys if keys is not None else KeyTable()
        self.config = config
        self._mh_types = config.mh_types
        self.max_entries = max_entries
        self.diag = diag  # where table evictions are counted (state_evicted), if given
        self._nonce_ns = to_ns(config.max_nonce_lifetime)
        self._token_ns = to_ns(config.max_token_lifetime)
        # Token tables: (CN, address, index) -> flat (token, ts_ns, frame, ...) tuple
        # (tables.py); the care-of one also holds RFC 4866 option tokens under index None.
        self._home: dict[tuple[str, str, int], Tokens] = {}
        self._careof: dict[tuple[str, str, int | None], Tokens] = {}
        self._sent: dict[tuple[str, str, int], Sent | int] = {}  # int: a home registration
        self._first_use: dict[tuple[str, int], int] = {}
        # First uses the sweeps dropped (older than 2 x the longest lifetime): a BU using
        # such a nonce is too old (RFC 6275 5.2.7), not of unknown age; a new HoT/CoT
        # with that index (a regenerated nonce) starts a new first use.
        self._old_use: dict[tuple[str, int], int] = {}
        self._coa_mn: dict[str, tuple[str, int]] = {}
        # Kcn-basis keygen tokens already computed (a HoT's token is the BU's): pure
        # functions of (Kcn, address, nonce, home), so caching cannot change a verdict.
        self._kcn_tokens: dict[tuple[bytes, str, bytes, bool], bytes] = {}
        self._kbms: dict[tuple[bytes, bytes | str], bytes] = {}  # likewise (Sent.kbm)
        self._now: int | None = None  # the latest capture time seen
        self._in_order = True  # no record so far came before an earlier one (_sweep)
        self._token_cut: int | None = None  # the trim of old tokens a sweep left to reads
        self._swept: int | None = None  # when the tables were last swept
        # Sweep a fraction of the shortest retention time at a time: memory stays within
        # 1/_SWEEPS_PER_LIFETIME of the bound, and a long capture is not rescanned each second.
        self._sweep_every_ns = max(
            _SWEEP_EVERY_NS, min(self._token_ns, self._nonce_ns) // _SWEEPS_PER_LIFETIME
        )
        self.counts: Counter = Counter()
        self.largest = 0  # the most entries one table held after a check (if _peak_kept)

    # -- public ---------------------------------------------------------------------
    def check(self, rec: object) -> Verdict | None:
        """The verdict on ``rec``, or None for what a CN does not check (data, HoTI,
        CoTI, BRR, BE, home registrations and their BAs, handover events)."""
        v: Verdict | None = None
        if isinstance(rec, Record) and rec.mh is not None:
            if self._mh_types:  # the draft's own MH types (ebu_mh_type, eba_mh_type)
                rec = retype(rec, self._mh_types)
            ts_ns = rec.ts_ns
            now = self._now
            if now is None or ts_ns > now:
                self._now = ts_ns
                if self._swept is None:
                    self._swept = ts_ns
                elif ts_ns - self._swept >= self._sweep_every_ns:
                    self._sweep(ts_ns)
                    self._swept = ts_ns
            elif ts_ns < now and self._in_order:
                self._settle()  # from now on the sweeps trim and scan whole tables (_sweep)
                self._in_order = False
            hoa = rec.hoa
            if hoa is not None:  # (bounded.put, inlined: every BU)
                table, src, limit = self._coa_mn, rec.src, self.max_entries
                if table.pop(src, None) is None and limit is not None and len(table) >= limit:
                    make_room(table, limit, self.diag, "oracle care-of address", rec.frame)
                table[src] = (hoa, ts_ns)
            msg = rec.msg
            if msg == "BU" or msg == "EBU":
                v = self._check_bu(rec)
            elif msg == "BA":
                v = self._check_ba(rec)
            elif msg == "HoT":
                v = self._check_test(rec, True)
            elif msg == "CoT":
                v = self._check_test(rec, False)
            if v is not None:
                v.source = rec.source
                self.counts[v.verdict] += 1
        if self._peak_kept:  # (a ScheduledOracle's peak, here: this runs per message)
            most = self.largest  # the sizes compared one by one: max() of a tuple costs 2x
            if (
                len(self._home) > most
                or len(self._careof) > most
                or len(self._sent) > most
                or len(self._first_use) > most
                or len(self._coa_mn) > most
                or len(self._old_use) > most
            ):
                self.largest = max(
                    len(self._home),
                    len(self._careof),
                    len(self._sent),
                    len(self._first_use),
                    len(self._coa_mn),
                    len(self._old_use),
                )
        return v

    def run(self, records: Iterable[object]) -> Iterator[Verdict]:
        for rec in records:
            v = self.check(rec)
            if v is not None:
                yield v

    def memory(self) -> dict[str, int]:
        """Sizes of the oracle's bounded tables (for tests and monitoring)."""
        self._settle()
        return {
            "home_tokens": sum(len(v) // 3 for v in self._home.values()),
            "careof_tokens": sum(len(v) // 3 for v in self._careof.values()),
            "sent": len(self._sent),
            "first_use": len(self._first_use),
            "old_use": len(self._old_use),
            "coa_mn": len(self._coa_mn),
        }

    # -- bounded memory ----------------------------------------------------------------
    # Retention (RFC 6275 5.2.7, 12): a CN accepts a token at most MAX_NONCE_LIFETIME
    # (240 s) after its nonce's first use, so no valid BU uses a token older than that.
    # Tokens are nevertheless kept 2 x MAX_TOKEN_LIFETIME (420 s): a BU that uses a token
    # between MAX_TOKEN_LIFETIME and 2 x MAX_TOKEN_LIFETIME old is then reported as
    # "token older than MAX_TOKEN_LIFETIME" (invalid, with the key form that matched)
    # rather than "no ... keygen token seen" (unverifiable).  Keeping only
    # max(MAX_NONCE_LIFETIME, MAX_TOKEN_LIFETIME) would change those verdicts, so the
    # retention is unchanged; what it costs is kept small per entry (tables.py).
    # Sent BUs are kept MAX_NONCE_LIFETIME (unchanged): a CN answers a BU at once, so
    # that covers retransmissions and any capture delay by far; a shorter time could
    # turn a late BA's verdict into "no Binding Update seen".
    # The sweeps run every few tens of seconds over tables of thousands of entries.  While
    # the records come in time order (_in_order), every table is in the order of its
    # entries' (newest) times, each token tuple newest first, so what a sweep drops leads
    # the table: it stops at the first entry it keeps.  The older tokens of the token
    # tuples it keeps are dropped when the tuple is next read (tables.fresh, with
    # _token_cut) or before a record out of time order (_settle): the same tokens as a
    # trim of every tuple at the sweep, as long as no token older than the cut comes
    # later -- so only when this oracle's latest time is past the cut (a ScheduledOracle
    # is swept on the run's clock, its own may lag).  _first_use is scanned whole (a
    # ScheduledOracle puts other groups' times into it).
    def _sweep(self, now: int) -> None:
        token_cut = now - 2 * self._token_ns
        ordered = self._in_order
        if ordered and self._now is not None and self._now >= token_cut:
            drop_expired(self._home, token_cut)
            drop_expired(self._careof, token_cut)
            if self._token_cut is None or token_cut > self._token_cut:
                self._token_cut = token_cut
        else:
            self._settle()
            sweep_tokens(self._home, token_cut, ordered)
            sweep_tokens(self._careof, token_cut, ordered)
        sent_cut = now - self._nonce_ns
        dead: list = []
        if ordered:
            for k, s in self._sent.items():
                if (s if isinstance(s, int) else s.ts_ns) >= sent_cut:
                    break
                dead.append(k)
        else:
            dead = [
                k
                for k, s in self._sent.items()
                if (s if isinstance(s, int) else s.ts_ns) < sent_cut
            ]
        for k in dead:
            del self._sent[k]
        dead = []
        if ordered:
            for coa, (_, ts) in self._coa_mn.items():
                if ts >= token_cut:
                    break
                dead.append(coa)
        else:
            dead = [coa for coa, (_, ts) in self._coa_mn.items() if ts < token_cut]
        for coa in dead:
            del self._coa_mn[coa]
        first_cut = now - 2 * max(self._nonce_ns, self._token_ns)
        for used in [used for used, ts in self._first_use.items() if ts < first_cut]:
            old = self._first_use.pop(used)
            put(self._old_use, used, old, self.max_entries, self.diag, "oracle old nonce use")

    def _note_first_use(self, used: tuple[str, int], ts_ns: int, frame: int | None) -> None:
        """``used`` (CN, nonce index) is first used at ``ts_ns`` (a HoT/CoT)."""
        self._old_use.pop(used, None)
        put(
            self._first_use,
            used,
            ts_ns,
            self.max_entries,
            self.diag,
            "oracle nonce first use",
            frame,
        )

    def _settle(self) -> None:
        """Trim now the old tokens a sweep left to the reads (_sweep)."""
        cut = self._token_cut
        if cut is not None:
            self._token_cut = None
            sweep_tokens(self._home, cut, True)
            sweep_tokens(self._careof, cut, True)

    # -- HoT / CoT --------------------------------------------------------------------
    def _check_test(self, rec: Record, home: bool) -> Verdict:
        msg = rec.mh
        assert isinstance(msg, HomeTest)  # check() sends HoT and CoT (a CareOfTest) here
        cn, addr, index, ts_ns = rec.src, rec.dst, msg.nonce_index, rec.ts_ns
        mn: str | None
        coa: str | None
        if home:
            mn, coa = addr, rec.tunnel_dst
        else:
            pair = self._coa_mn.get(addr)
            mn, coa = (pair[0] if pair is not None else None), addr
        token = bytes(msg.keygen_token)
        used = (cn, index)
        first = self._first_use.get(used)
        if first is None:
            first = ts_ns
            self._note_first_use(used, first, rec.frame)
        remember(
            self._home if home else self._careof,
            (cn, addr, index),
            token,
            ts_ns,
            rec.frame,
            self.max_entries,
            self.diag,
        )
        # (ts_ns / NS_PER_S: units.seconds, inlined in the per-message paths)
        v = Verdict(rec.frame, ts_ns / NS_PER_S, rec.msg, mn, cn, coa, None)
        v.time_ns = ts_ns
        if home:
            v.home_index = index
        else:
            v.careof_index = index
        # (a HoT/CoT timestamped before its nonce's first use: out of order, no age)
        v.nonce_age_ms = (ts_ns - first) / 1e6 if ts_ns >= first else None
        keys = self.keys
        # an empty table: keyless, no lookups (keys._cns: KeyTable.__bool__ without its call)
        kcn = keys.kcn(cn) if keys._cns else None
        if kcn is None or keys.nonce_table(cn) is None:
            v.verdict, v.reason = UNVERIFIABLE, R_NO_KCN if kcn is None else R_NO_NONCES
            return v
        v.basis = BASIS_KCN
        try:
            expected = self._kcn_token(cn, addr, index, home, ts_ns)
        except NoKey as exc:
            v.verdict, v.reason = exc.verdict, exc.reason
            return v
        if ts_ns - first > self._nonce_ns:
            v.verdict, v.reason = INVALID, R_NONCE_OLD
            return v
        if crypto.same(expected, token):
            v.verdict, v.reason = VALID, R_HOME_TOKEN_OK if home else R_CAREOF_TOKEN_OK
        else:
            v.verdict = INVALID
            v.reason = (R_HOME_TOKEN_BAD if home else R_CAREOF_TOKEN_BAD).format(index=index)
        return v


def verify(
    path,
    keys: KeyTable | None = None,
    config: ProtocolConfig = DEFAULT_CONFIG,
    diag: Diagnostics | None = None,
    stats=None,
    esp_sas=None,
) -> pd.DataFrame:
    """One row per checked message of the capture/trace ``path`` (columns :data:`COLUMNS`);
    several inputs: ebutool.verify, through ebutool.runner.  ``esp_sas``: ESP SAs
    (ebutool.esp) to decrypt protected signalling with."""
    from ebutool.stream.reader import read_records

    diag = diag if diag is not None else Diagnostics()
    oracle = Oracle(keys, config, diag=diag)
    return verdicts_frame(oracle.run(read_records(path, diag, stats, esp_sas=esp_sas)))


__all__ = [
    "Verdict",
    "Oracle",
    "verify",
    "verdicts_frame",
    "COLUMNS",
    "VERDICTS",
    "VALID",
    "INVALID",
    "UNVERIFIABLE",
]
