"""The oracle's memory, kept small per entry and bounded (docs/verify.md).

Three tables, each a plain dict with the newest entries last:

* keygen tokens seen in HoT/CoT messages (and RFC 4866 Care-of Test options), per
  (CN, address, nonce index): a flat tuple ``(token, ts_ns, frame, token, ts_ns, frame,
  ...)``, newest first (the order candidates are tried, so a BU shares the tuple rather
  than copying it), at most :data:`MAX_CANDIDATES` tokens.  A flat tuple costs one
  object per key instead of a list plus one object per token;
* BUs/EBUs sent, per (MN, CN, sequence): a :class:`Sent` (for a home registration,
  only its time) holding only what the BA that
  answers it needs -- the tokens (the same tuple objects as the token table when there
  is one candidate, so nothing is copied), the position of the key that authenticated
  the BU, and no Kbm: the keys are recomputed at BA time (one SHA1 in the usual case);
* care-of -> home address pairs (handled in verify.py: a str -> (str, int) dict).

Retention is by time (verify.py's sweep) and, as a safety net for captures with very
many concurrent exchanges, by count (:data:`MAX_TABLE_ENTRIES`): beyond that number the
entry updated longest ago is dropped.  Neither changes a verdict below the bound.
"""

from __future__ import annotations

from itertools import compress
from operator import itemgetter
from typing import Any

from ebutool.core.bounded import put
from ebutool.core.diagnostics import Diagnostics
from ebutool.oracle import crypto

# A flat token tuple: (token, ts_ns, frame, token, ts_ns, frame, ...), newest first.
Tokens = tuple[Any, ...]

MAX_CANDIDATES = 4  # tokens kept per (CN, address, index): retransmissions, spoofs
# Kbms an oracle keeps (Sent.kbm; emptied when full): a BA's is its BU's, and an MN's BUs
# reuse its home token while it is valid (on the benchmark store half the Kbms are found)
KBM_CACHE = 256

# At most this many entries per table (tokens: keys; BUs sent; address pairs).  At the
# benchmark's 7 exchanges/s the tables hold ~1,500-3,500 entries each after 400 s, so
# the bound only acts on captures with ~20x more concurrent exchanges; it caps the
# oracle at roughly 65536 x 4 tables x ~350 octets (under 100 MB) whatever the rate.
MAX_TABLE_ENTRIES = 1 << 16  # Oracle(max_entries=...): the default is --max-state-entries
FROM_CONFIG = -1  # Oracle(max_entries=FROM_CONFIG): ProtocolConfig.max_state_entries

_TS = itemgetter(1)
_OLDEST_TS = itemgetter(-2)  # the last token's time: its oldest, newest first by time


def put_bounded(
    table: dict,
    key: object,
    value: object,
    max_entries: int | None,
    diag: Diagnostics | None = None,
    name: str = "oracle",
    frame: int | None = None,
) -> None:
    """table[key] = value as the newest entry; drop the oldest beyond ``max_entries``
    (a ``state_evicted`` warning in ``diag`` naming the table ``name``, when given).
    (Re-inserting moves a refreshed key to the end, so the oldest is first.)"""
    put(table, key, value, max_entries, diag, name, frame)


def remember(
    table: dict,
    key: object,
    token: bytes,
    ts_ns: int,
    frame: int,
    max_entries: int | None,
    diag: Diagnostics | None = None,
    name: str = "oracle keygen token",
) -> None:
    """Add one token in front of ``table[key]``, keeping the newest MAX_CANDIDATES.
    (Tokens older than a trim left to the reads may be among them: they are the
    oldest, so they are still the ones :func:`fresh` drops.)"""
    old = table.get(key)
    if old is None:
        new = (token, ts_ns, frame)
    else:
        new = (token, ts_ns, frame) + old[: 3 * (MAX_CANDIDATES - 1)]
    put(table, key, new, max_entries, diag, name, frame)


def _kept(v: Tokens, cut_ns: int) -> Tokens:
    """The tokens of ``v`` (newest first by time, the first one kept) not older than
    ``cut_ns``: a prefix."""
    i = 4  # the second token's time (the first one is kept)
    while v[i] >= cut_ns:  # (stops: the last one is older)
        i += 3
    return v[: i - 1]


def fresh(table: dict, key: object, cut_ns: int | None) -> Tokens | None:
    """``table[key]`` (None when absent) without its tokens older than ``cut_ns``: the
    trim a sweep left to the reads (verify.Oracle._sweep: ``cut_ns`` None, none left).
    What is kept is stored back, in place (as a sweep does)."""
    v = table.get(key)
    if v is None or cut_ns is None or v[-2] >= cut_ns:
        return v
    v = table[key] = _kept(v, cut_ns)
    return v


def drop_expired(table: dict, cut_ns: int) -> None:
    """Drop the keys whose newest token is older than ``cut_ns``, in a table whose
    entries are in the order of their newest token's time (records in time order): they
    lead it."""
    dead = []
    for k, v in table.items():
        if v[1] >= cut_ns:
            break
        dead.append(k)
    for k in dead:
        del table[k]


def sweep_tokens(table: dict, cut_ns: int, ordered: bool = False) -> None:
    """Drop the tokens older than ``cut_ns`` (and keys left with none).  ``ordered``:
    every tuple's tokens are newest first by time too (the records came in time
    order), so a tuple's last time is its oldest and what is kept is a prefix."""
    dead, changed = [], []
    if ordered:
        # the keys whose oldest token goes, picked without a Python loop over the table
        for k in list(compress(table, map(cut_ns.__gt__, map(_OLDEST_TS, table.values())))):
            v = table[k]
            if v[1] < cut_ns:
                dead.append(k)
                continue
            changed.append((k, _kept(v, cut_ns)))
    else:
        for k, v in table.items():
            if len(v) == 3:  # the usual case: one token
                if v[1] < cut_ns:
                    dead.append(k)
                continue
            times = v[1::3]
            if min(times) >= cut_ns:
                continue
            if max(times) < cut_ns:
                dead.append(k)
            else:
                changed.append(
                    (
                        k,
                        tuple(
                            x
                            for i in range(0, len(v), 3)
                            if v[i + 1] >= cut_ns
                            for x in v[i : i + 3]
                        ),
                    )
                )
    for k in dead:
        del table[k]
    for k, kept in changed:
        table[k] = kept


def by_time(*parts: Tokens) -> Tokens:
    """Flat newest-first token tuples merged into one, newest capture time first: the
    entries in insertion order (oldest first, ``parts`` in order), stably sorted by
    time, reversed.  Already in that order (one part, times not increasing) it is
    returned as is (shared, not copied)."""
    if len(parts) == 1:
        flat = parts[0]
        times = flat[1::3]
        if all(a >= b for a, b in zip(times, times[1:], strict=False)):
            return flat
    entries = [p[i : i + 3] for p in parts for i in range(len(p) - 3, -1, -3)]
    entries.sort(key=_TS)
    return tuple(x for e in reversed(entries) for x in e)


_KBM_OF_HOME = {
    crypto.KEY_EARLY: crypto.kbm_early,
    crypto.KEY_EARLY_RFC4866: crypto.kbm_early_rfc4866,
    crypto.KEY_DEREG: crypto.kbm_dereg,
}


class Sent:
    """A BU/EBU remembered for the BA/EBA that answers it.

    ``homes``/``careofs`` are flat token tuples, newest first: the order the candidate
    keys are tried (``careofs`` only for the standard key); ``match`` is the position of the
    candidate that authenticated the BU (tried first for the BA), or None."""

    __slots__ = (
        "ts_ns",
        "msg",
        "basis",
        "home_index",
        "careof_index",
        "forms",
        "homes",
        "careofs",
        "match",
        "fail",
        "status",
    )

    def __init__(self, ts_ns: int, msg: str, forms: tuple[str, ...] = ()) -> None:
        self.ts_ns = ts_ns
        self.msg = msg  # "BU" or "EBU" (a home registration is kept as its time)
        self.forms = forms  # the key forms this BU may use, best first
        self.basis: str | None = None
        self.home_index: int | None = None
        self.careof_index: int | None = None
        self.homes: Tokens = ()
        self.careofs: Tokens | None = None
        self.match: int | None = None
        self.fail: tuple[str, str] | None = None  # (verdict, reason) when no key could be made
        self.status: int | None = None  # with ``fail`` for unknown nonces: the BA status 136-138

    def count(self) -> int:
        """How many candidate keys (0 when the tokens could not all be found)."""
        if self.fail is not None:
            return 0
        per_home = len(self.careofs) // 3 if self.careofs is not None else len(self.forms)
        return len(self.homes) // 3 * per_home

    def positions(self, k: int) -> tuple[int, int | None]:
        """Where the k-th candidate's tokens are in ``homes`` and ``careofs``: candidates
        go home token (newest first) x care-of token (newest first) or key form."""
        if self.careofs is not None:
            n = len(self.careofs) // 3
            return 3 * (k // n), 3 * (k % n)
        return 3 * (k // len(self.forms)), None

    def form(self, k: int) -> str:
        """The key form of the k-th candidate."""
        return crypto.KEY_STANDARD if self.careofs is not None else self.forms[k % len(self.forms)]

    def candidate(self, k: int) -> tuple[str, bytes]:
        """The k-th candidate key: (key form, Kbm)."""
        return self.form(k), self.kbm(k)

    def kbm(self, k: int, cache: dict | None = None) -> bytes:
        """The k-th candidate's Kbm (:meth:`positions` and :meth:`form` inlined: this
        is computed for every BU and BA), looked up first in ``cache`` (tokens -> Kbm,
        at most KBM_CACHE entries, emptied when full: a pure function of the tokens)."""
        careofs = self.careofs
        if careofs is not None:
            n = len(careofs) // 3
            key = (self.homes[3 * (k // n)], careofs[3 * (k % n)])
        else:
            forms = self.forms
            n = len(forms)
            key = (self.homes[3 * (k // n)], forms[k % n])  # (a form: a str, not octets)
        if cache is not None:
            kbm = cache.get(key)
            if kbm is not None:
                return kbm
        home, other = key
        kbm = crypto.kbm(home, other) if careofs is not None else _KBM_OF_HOME[other](home)
        if cache is not None:
            if len(cache) >= KBM_CACHE:
                cache.clear()
            cache[key] = kbm
        return kbm

    def token_times(self, k: int) -> tuple[int, int | None]:
        """When the capture carried the k-th candidate's home and care-of tokens (ns; the
        care-of time None for a key made of the home token alone).  (:meth:`positions`
        inlined here and in :meth:`tokens_from`: both run for every BU.)"""
        careofs = self.careofs
        if careofs is None:
            return self.homes[3 * (k // len(self.forms)) + 1], None
        n = len(careofs) // 3
        return self.homes[3 * (k // n) + 1], careofs[3 * (k % n) + 1]

    def tokens_from(self) -> str | None:
        """Frames of the tokens of the matching key (keyless basis only)."""
        k = self.match
        if k is None or self.basis != "capture":
            return None
        careofs = self.careofs
        if careofs is None:
            return str(self.homes[3 * (k // len(self.forms)) + 2])
        n = len(careofs) // 3
        return f"{self.homes[3 * (k // n) + 2]} {careofs[3 * (k % n) + 2]}"


__all__ = [
    "MAX_CANDIDATES",
    "FROM_CONFIG",
    "MAX_TABLE_ENTRIES",
    "Sent",
    "put_bounded",
    "remember",
    "fresh",
    "drop_expired",
    "sweep_tokens",
    "by_time",
]
