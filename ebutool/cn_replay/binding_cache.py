"""The reference correspondent node: a binding cache per (MN, CN).

Written from RFC 6275 section 9.5 (a CN receiving Binding Updates) and the Early
Binding Updates draft sections 4.1, 4.2 and 6.2.  The model is pure: it is told
which binding updates arrive when and whether their authentication holds, and says
what a conforming CN does with each (the binding cache change and the
acknowledgement it sends).  Nothing here reads files or knows about the trace.

States of one entry, keyed by (home address of the MN, CN)::

    none --EBU accepted--> tentative --BU accepted (same CoA)--> regular
                           tentative --lifetime ran out--------> none   ("expired")
    any  --BU accepted--> regular;  any --deregistration--> none

Times are integer nanoseconds on one clock; the replay layer uses the clock of the
capture point (see ``docs/replay.md``, "Time").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from ebutool.core.constants import DEFAULT_CONFIG, ProtocolConfig
from ebutool.core.sequence import seq_greater
from ebutool.core.units import NS_PER_S, seconds, to_ns

# BA status codes the model produces (RFC 6275 6.1.8).
STATUS_ACCEPTED = 0
STATUS_SEQ_OUT_OF_WINDOW = 135
NONCE_STATUSES = (136, 137, 138)  # expired home / care-of / both nonce indices
ANY_NONCE_STATUS = -1  # one of NONCE_STATUSES, which one is not known

NEVER = 1 << 62  # expiry of an entry whose lifetime is unknown


class Policy(StrEnum):
    """What kind of CN is modelled."""

    early = "early"  # supports Early Binding Updates (the draft)
    standard = "standard"  # RFC 6275 only: an EBU's MAC fails, it is silently dropped
    observed = "observed"  # early or standard, inferred per CN from the trace (the replay layer)


@dataclass(frozen=True)
class CNPolicies:
    """The policy of each CN: ``per_cn`` (CN address -> Policy), else ``default``.

    ``observed`` is resolved by the replay layer before the model runs
    (:func:`ebutool.cn_replay.answers.resolve_observed`); ``inferred`` then holds, per CN
    whose policy was observed, why it was judged early or standard."""

    default: Policy = Policy.early
    per_cn: Mapping[str, Policy] = field(default_factory=dict)
    inferred: Mapping[str, str] = field(default_factory=dict)

    def of(self, cn: str) -> Policy:
        return self.per_cn.get(cn, self.default)

    @classmethod
    def coerce(
        cls, value: CNPolicies | Policy | str | Mapping[str | None, Policy | str]
    ) -> CNPolicies:
        """From a CNPolicies, a Policy or its name (every CN), or a mapping CN address ->
        policy in which the key ``"*"`` (or None) gives the default for the other CNs.
        Raises ValueError for an unknown policy name."""
        if isinstance(value, CNPolicies):
            return value
        if isinstance(value, Mapping):
            per = {
                k: Policy(getattr(v, "value", v)) for k, v in value.items() if k not in ("*", None)
            }
            dflt = next((value[k] for k in ("*", None) if k in value), Policy.early)
            return cls(Policy(getattr(dflt, "value", dflt)), per)
        return cls(Policy(getattr(value, "value", value)))

    def describe(self) -> str:
        """``early``; ``early (2001:db8::1 standard)``; with what was inferred for observed CNs."""
        parts = []
        for cn in sorted(set(self.per_cn) | set(self.inferred)):
            why = self.inferred.get(cn)
            parts.append(f"{cn} {self.of(cn).value}" + (f" [observed: {why}]" if why else ""))
        return self.default.value + (f" ({'; '.join(parts)})" if parts else "")


class State(StrEnum):
    tentative = "tentative"
    regular = "regular"


class Action(StrEnum):
    """What the model did with one binding update (the ``action`` column)."""

    tentative = "tentative"  # EBU accepted: new tentative entry
    tentative_kept = "tentative_kept"  # EBU for the CoA of a tentative entry: lifetime NOT extended
    regular_kept = "regular_kept"  # EBU for the already verified CoA: entry stays regular
    verified = "verified"  # BU for the tentative entry's CoA: now regular
    regular = "regular"  # BU accepted: new regular entry (or a new CoA)
    refreshed = "refreshed"  # BU for the CoA of a regular entry: lifetime renewed
    deleted = "deleted"  # deregistration accepted (entry removed if any)
    rejected_sequence = "rejected_sequence"  # RFC 6275 9.5.1: BA status 135
    rejected_nonce = "rejected_nonce"  # RFC 6275 9.5.1: BA status 136/137/138
    discarded = "discarded"  # authentication failed: silently discarded
    unsupported = "unsupported"  # EBU at a CN that does not grant it: silently dropped
    unanswered = "unanswered"  # would be accepted, but no sign it reached the CN: no change


_REFUSED = (Action.rejected_sequence, Action.rejected_nonce, Action.discarded, Action.unsupported)


@dataclass(frozen=True, slots=True)
class Update:
    """One binding update from an MN to a CN, as the model receives it."""

    index: int  # position in the replay's list of updates
    frame: int
    at_ns: int  # when the CN acts on it (see docs/replay.md "Time")
    mn: str  # home address
    cn: str
    coa: str  # care-of address to bind (== mn for a deregistration from home)
    seq: int
    lifetime_s: float  # requested lifetime, seconds
    ack_requested: bool  # A flag
    early: bool  # an EBU (DESIGN.md 3)
    deregistration: bool  # lifetime 0 or CoA == HoA
    auth_ok: bool  # the authentication check passed
    auth_status: int | None = None  # a nonce status (136-138) when the CN could not even check
    maybe_lost: bool = False  # no answer reached the MN and nothing shows the CN got it


@dataclass(frozen=True, slots=True)
class ExpectedAck:
    """The acknowledgement a conforming CN sends (None in an Outcome = none sent)."""

    status: int
    seq: int
    early: bool  # an EBA (answers an EBU that was accepted)
    lifetime_s: float

    def matches(self, status: int) -> bool:
        if self.status == ANY_NONCE_STATUS:
            return status in NONCE_STATUSES
        return status == self.status

    def describe(self) -> str:
        name = "EBA" if self.early else "BA"
        status = "136-138" if self.status == ANY_NONCE_STATUS else str(self.status)
        return f"{name} status {status} seq {self.seq}"


@dataclass(slots=True)
class BindingEntry:
    mn: str
    cn: str
    coa: str
    state: State
    seq: int | None  # last accepted sequence number (None: unknown, any is accepted)
    since_ns: int  # when this CoA was bound (tentatively or not)
    expires_ns: int  # valid while now <= expires_ns
    frame: int  # frame of the update that created or last changed it
    tentative: TentativeBinding | None = None  # the tentative period this CoA went through


@dataclass(slots=True)
class TentativeBinding:
    """One tentative binding: a row of the flooding-exposure table."""

    mn: str
    cn: str
    coa: str
    frame: int  # the EBU that created it
    start_ns: int
    expires_ns: int  # start + min(requested, TENTATIVE_BINDING_LIFETIME)
    end_ns: int | None = None
    end_reason: str = "open"  # verified / expired / replaced / deleted / open
    unverified_packets: int = 0
    unverified_bytes: int = 0  # of the packets whose length is known
    unverified_unknown_length: int = 0  # packets of unknown length (then the sum is unknown)
    overstay_packets: int = 0
    overstay_bytes: int = 0  # of the packets whose length is known
    overstay_unknown_length: int = 0
    violations: int = 0

    @property
    def verified(self) -> bool:
        return self.end_reason == "verified"


@dataclass(frozen=True, slots=True)
class Outcome:
    update: Update
    action: Action
    ack: ExpectedAck | None
    entry: BindingEntry | None  # the entry after the update (None: no entry); it lives on
    detail: str = ""
    state_after: str = "none"  # the entry's state right after this update (a snapshot)


@dataclass(frozen=True, slots=True)
class Lookup:
    """What the model says about a CN's packet to ``coa`` at one time."""

    entry: BindingEntry | None  # the entry in force for (mn, cn)
    lapsed: TentativeBinding | None  # the tentative binding of ``coa`` that expired unverified
    gone: str  # why there is no (matching) entry, for the divergence detail


@dataclass
class CorrespondentModel:
    """The binding caches of every modelled CN.

    ``process`` must be called in order of ``Update.at_ns`` and ``lookup`` with
    non-decreasing times interleaved with it; expiry is evaluated lazily at each
    call, so the model needs no timer events.
    """

    config: ProtocolConfig = DEFAULT_CONFIG
    # (a Policy, its name or a mapping CN -> policy are accepted too: see CNPolicies.coerce)
    policy: CNPolicies = field(default_factory=CNPolicies)
    trusted: frozenset[str] | None = None  # draft 6.2: grant EBUs to these MNs only
    entries: dict[tuple[str, str], BindingEntry] = field(default_factory=dict)
    tentatives: list[TentativeBinding] = field(default_factory=list)
    _lapsed: dict[tuple[str, str, str], TentativeBinding] = field(default_factory=dict)
    _gone: dict[tuple[str, str], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.policy = CNPolicies.coerce(self.policy)
        if self.trusted is not None:
            self.trusted = frozenset(self.trusted)

    # -- time ------------------------------------------------------------------------

    def _expire(self, key: tuple[str, str], now_ns: int) -> None:
        entry = self.entries.get(key)
        if entry is None or now_ns <= entry.expires_ns:
            return
        del self.entries[key]
        if entry.state is State.tentative:
            tb = entry.tentative
            assert tb is not None  # a tentative entry keeps its tentative period
            tb.end_ns, tb.end_reason = entry.expires_ns, "expired"
            self._lapsed[(entry.mn, entry.cn, entry.coa)] = tb
            self._gone[key] = (
                f"the tentative binding of {entry.coa} (frame {entry.frame}) expired "
                f"unverified at {seconds(entry.expires_ns):.6f}"
            )
        else:
            self._gone[key] = (
                f"the binding of {entry.coa} (frame {entry.frame}) expired "
                f"at {seconds(entry.expires_ns):.6f}"
            )

    def grants_early(self, mn: str, cn: str) -> bool:
        """Draft 4.1/6.2: does ``cn`` create tentative entries for ``mn``?  (A CN whose
        policy is still ``observed`` here, i.e. one with no EBU in the trace, is early.)"""
        if self.policy.of(cn) is Policy.standard:
            return False
        return self.trusted is None or mn in self.trusted

    # -- binding updates ---------------------------------------------------------------

    def process(self, u: Update) -> Outcome:
        """What the CN does with ``u`` (RFC 6275 9.5.1, 9.5.2, 9.5.4; draft 4.1)."""
        oc = self._process(u)
        after = self.entries.get((u.mn, u.cn))
        if after is None and oc.action in _REFUSED:
            what = "EBU" if u.early else "BU"
            self._gone[(u.mn, u.cn)] = (
                f"no binding: the {what} in frame {u.frame} was not accepted ({oc.action.value})"
            )
        return replace(oc, state_after="none" if after is None else after.state.value)

    def _process(self, u: Update) -> Outcome:
        key = (u.mn, u.cn)
        self._expire(key, u.at_ns)
        entry = self.entries.get(key)

        if u.early and not self.grants_early(u.mn, u.cn):
            why = (
                "the CN does not support Early Binding Updates"
                if self.policy.of(u.cn) is Policy.standard
                else "the MN is not among the CN's trusted MNs (draft 6.2)"
            )
            return Outcome(
                u,
                Action.unsupported,
                None,
                entry,
                f"{why}: the EBU's MAC does not verify as a standard BU, silently dropped",
            )
        if u.auth_status is not None:
            ack = ExpectedAck(u.auth_status, u.seq, False, 0.0)
            return Outcome(
                u,
                Action.rejected_nonce,
                ack,
                entry,
                f"nonce index no longer valid at the CN: {ack.describe()} (RFC 6275 9.5.1)",
            )
        if not u.auth_ok:
            return Outcome(
                u,
                Action.discarded,
                None,
                entry,
                "authentication failed: silently discarded (RFC 6275 9.5.1)",
            )
        if entry is not None and entry.seq is not None and not seq_greater(u.seq, entry.seq):
            return Outcome(
                u,
                Action.rejected_sequence,
                ExpectedAck(STATUS_SEQ_OUT_OF_WINDOW, entry.seq, False, 0.0),
                entry,
                f"sequence {u.seq} is not greater than {entry.seq} modulo 2^16 "
                "(RFC 6275 9.5.1): BA status 135 with the last accepted number",
            )
        if u.maybe_lost:
            # Refusals above change nothing, so they stand as they are; an update the CN
            # would accept is assumed lost on its way there (its answer is still expected).
            cap = (
                0.0
                if u.deregistration
                else self.config.tentative_binding_lifetime
                if u.early
                else self.config.max_rr_binding_lifetime
            )
            return Outcome(
                u,
                Action.unanswered,
                self._ack(u, min(u.lifetime_s, cap), u.early and not u.deregistration),
                entry,
                "no answer reached the MN and the CN sent nothing to the care-of address "
                "before the MN's next update: assumed lost on its way to the CN, the "
                "binding cache is left as it was",
            )

        if u.deregistration:
            if entry is not None:
                self._end(entry, u.at_ns, "deleted")
                del self.entries[key]
                self._gone[key] = (
                    f"the binding was deleted by the deregistration in frame {u.frame}"
                )
            return Outcome(
                u,
                Action.deleted,
                self._ack(u, 0.0, False),
                None,
                "deregistration: entry deleted" if entry else "deregistration: no entry to delete",
            )

        if u.early:
            return self._early(u, key, entry)
        return self._standard(u, key, entry)

    def _early(self, u: Update, key, entry: BindingEntry | None) -> Outcome:
        if entry is not None and entry.coa == u.coa:
            entry.seq, entry.frame = u.seq, u.frame
            if entry.state is State.regular:
                return Outcome(
                    u,
                    Action.regular_kept,
                    self._ack(u, self._left(entry, u.at_ns), True),
                    entry,
                    "EBU for the already verified care-of address: entry stays regular",
                )
            return Outcome(
                u,
                Action.tentative_kept,
                self._ack(u, self._left(entry, u.at_ns), True),
                entry,
                "EBU for the care-of address of the tentative entry: its lifetime is not extended",
            )
        if entry is not None:
            self._end(entry, u.at_ns, "replaced")
        lifetime = min(u.lifetime_s, self.config.tentative_binding_lifetime)
        expires = u.at_ns + to_ns(lifetime)
        tb = TentativeBinding(u.mn, u.cn, u.coa, u.frame, u.at_ns, expires)
        self.tentatives.append(tb)
        self._lapsed.pop((u.mn, u.cn, u.coa), None)
        new = BindingEntry(u.mn, u.cn, u.coa, State.tentative, u.seq, u.at_ns, expires, u.frame, tb)
        self.entries[key] = new
        return Outcome(
            u,
            Action.tentative,
            self._ack(u, lifetime, True),
            new,
            f"tentative binding for {lifetime:g} s (draft 4.1)",
        )

    def _standard(self, u: Update, key, entry: BindingEntry | None) -> Outcome:
        lifetime = min(u.lifetime_s, self.config.max_rr_binding_lifetime)
        expires = u.at_ns + to_ns(lifetime)
        self._lapsed.pop((u.mn, u.cn, u.coa), None)
        if entry is not None and entry.coa == u.coa:
            action = Action.verified if entry.state is State.tentative else Action.refreshed
            if entry.state is State.tentative:
                self._end(entry, u.at_ns, "verified")
            entry.state, entry.seq, entry.expires_ns, entry.frame = (
                State.regular,
                u.seq,
                expires,
                u.frame,
            )
            return Outcome(
                u,
                action,
                self._ack(u, lifetime, False),
                entry,
                f"regular binding for {lifetime:g} s",
            )
        if entry is not None:
            self._end(entry, u.at_ns, "replaced")
        new = BindingEntry(u.mn, u.cn, u.coa, State.regular, u.seq, u.at_ns, expires, u.frame)
        self.entries[key] = new
        return Outcome(
            u,
            Action.regular,
            self._ack(u, lifetime, False),
            new,
            f"regular binding for {lifetime:g} s",
        )

    def _ack(self, u: Update, lifetime_s: float, early: bool) -> ExpectedAck | None:
        """RFC 6275 9.5.4: an accepted update is acknowledged when its A flag is set."""
        return ExpectedAck(STATUS_ACCEPTED, u.seq, early, lifetime_s) if u.ack_requested else None

    @staticmethod
    def _left(entry: BindingEntry, now_ns: int) -> float:
        return max(0, entry.expires_ns - now_ns) / NS_PER_S

    @staticmethod
    def _end(entry: BindingEntry, now_ns: int, reason: str) -> None:
        if entry.state is State.tentative and entry.tentative is not None:
            entry.tentative.end_ns = min(now_ns, entry.tentative.expires_ns)
            entry.tentative.end_reason = reason

    # -- what the CN may send ----------------------------------------------------------

    def assume_prior(self, mn: str, cn: str, coa: str, now_ns: int, frame: int) -> BindingEntry:
        """A regular entry for ``coa`` made before the capture began (its update is not in
        the trace): no expiry and no sequence number known, so any number is accepted."""
        entry = BindingEntry(mn, cn, coa, State.regular, None, now_ns, NEVER, frame)
        self.entries[(mn, cn)] = entry
        return entry

    def has_history(self, mn: str, cn: str) -> bool:
        return (mn, cn) in self.entries or (mn, cn) in self._gone

    def lookup(self, mn: str, cn: str, coa: str, now_ns: int) -> Lookup:
        """The model's view of a packet from ``cn`` to ``coa`` (for ``mn``) at ``now_ns``."""
        key = (mn, cn)
        self._expire(key, now_ns)
        entry = self.entries.get(key)
        lapsed = None
        if entry is None or entry.coa != coa:
            lapsed = self._lapsed.get((mn, cn, coa))
        if entry is None:
            gone = self._gone.get(key, "the CN has no binding for the MN")
        elif entry.coa != coa:
            gone = f"the CN's binding is for {entry.coa} ({entry.state.value}, frame {entry.frame})"
        else:
            gone = ""
        return Lookup(entry, lapsed, gone)

    def close(self, end_ns: int) -> None:
        """At the end of the trace: tentative entries whose lifetime ran out before
        ``end_ns`` expire; the others stay "open"."""
        for key in list(self.entries):
            self._expire(key, end_ns)


def sort_updates(updates: Iterable[Update]) -> list[Update]:
    return sorted(updates, key=lambda u: (u.at_ns, u.index))
