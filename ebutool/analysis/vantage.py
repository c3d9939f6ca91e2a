"""Where a capture was taken: its vantage point, from what it holds (issue 13, DESIGN.md
"Vantage point").

``mn``, ``ha``, ``cn``, ``path`` (a router between them) or, for merged views, ``multi``.
The evidence (:class:`Evidence`) is counted as the records stream past
(:meth:`Evidence.watch`, a pass-through generator, so the capture is read once):

* at the HA: HoTI/HoT in IPv6-in-IPv6 *and* the same messages (same init cookie)
  without the tunnel: the HA decapsulates what the MN tunnels to it, and tunnels what
  it intercepts for the home address; no CoTI and no BU to a CN (those do not pass it);
* at a CN: HoTI/HoT without a tunnel (they arrive through the HA), BUs to it from
  care-of addresses, and neither a tunnel nor a BU to a home agent;
* at the MN: BUs to its home agent, HoTI/HoT inside the tunnel only, CoTIs.  A router
  on the MN's access link that captures one of its interfaces sees the very same
  packets (only their hop limits differ): say it with ``--vantage PATH=path``;
* at a router that captures both of its interfaces (transit, ``path``): every message
  twice, as it arrives and as it leaves (the same tunnel or none, within
  FORWARD_WINDOW_NS), and no decapsulation.

Anything else (no evidence, or evidence of two vantage points in one file) is
ambiguous: no vantage, a warning, and no vantage-dependent values (never a guess).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import UsageError
from ebutool.wire.mh.messages import BU_FLAG_H, BindingUpdate, HomeTest, HomeTestInit

ROLES = ("mn", "ha", "cn", "path", "multi")  # values of the vantage column
MAX_COOKIES = 4096  # init cookies remembered per side to pair tunnelled/plain copies
# At most this many records are held back before the reconstruction starts, until the
# evidence decides the vantage point (the reconstruction needs it, see VantageDecision).
LOOKAHEAD_RECORDS = 20000
NO_SIGNALLING = "no Mobile IPv6 signalling to tell"
DECISIVE_TESTS = 4  # HoTI/HoT seen: enough to tell the HA, a CN and the MN apart
_TESTS = (HomeTestInit, HomeTest)  # (a tuple made once: ``A | B`` is a new union per call)
FORWARD_WINDOW_NS = 10_000_000  # a message seen twice this close: forwarded (retransmissions
# are a second apart or more, RFC 6275 INITIAL_BINDACK_TIMEOUT)


@dataclass(frozen=True, slots=True)
class VantageDecision:
    """A file's vantage point (None: ambiguous), whether the user gave it, and why."""

    role: str | None
    evidence: str
    given: bool = False

    def as_dict(self, label: str) -> dict[str, object]:
        """For ``DataFrame.attrs["vantage"]`` (plain values: parquet keeps attrs as JSON)."""
        return {"source": label, "role": self.role, "evidence": self.evidence, "given": self.given}

    def line(self, label: str) -> str:
        """One line for stderr."""
        how = "given" if self.given else "detected"
        if self.role is None:
            return f"vantage of {label}: ambiguous ({self.evidence})"
        return f"vantage of {label}: {self.role} ({how}: {self.evidence})"


@dataclass
class Evidence:
    """What a capture holds that tells where it was taken (module doc)."""

    tunnelled_tests: int = 0  # HoTI/HoT inside IPv6-in-IPv6
    plain_tests: int = 0  # HoTI/HoT without a tunnel
    decapsulated: int = 0  # ... of which the same message was also seen tunnelled
    bu_to_ha: int = 0
    bu_to_cn: int = 0  # BU/EBU without the H flag, from a care-of address (HAO)
    coti: int = 0
    events: int = 0  # handover events (a simulator's JSON trace: the MN's own statements)
    messages: int = 0  # Mobility Header messages
    forwarded: int = 0  # ... of which seen a second time, the same way, at once (transit)
    _tunnelled: set[bytes] = field(default_factory=set)
    _last_seen: dict[tuple, int] = field(default_factory=dict)
    _plain: set[bytes] = field(default_factory=set)

    def add(self, rec) -> None:
        """Count one record (a Record; handover events are ignored)."""
        m = getattr(rec, "mh", None)
        if m is None:
            if rec.msg == "handover":
                self.events += 1
            return
        msg = rec.msg
        self._transit(rec)
        if msg in ("HoTI", "HoT") and isinstance(m, _TESTS):
            self._test(rec.tunnel_src is not None, m.init_cookie)
        elif msg == "CoTI":
            self.coti += 1
        elif msg in ("BU", "EBU") and isinstance(m, BindingUpdate) and not rec.deregistration:
            if m.flags & BU_FLAG_H:
                self.bu_to_ha += 1
            elif rec.hoa is not None:
                self.bu_to_cn += 1

    def _transit(self, rec) -> None:
        self.messages += 1
        if rec.mh_wire is None:
            return
        key = (rec.tunnel_src, rec.tunnel_dst, rec.src, rec.dst, bytes(rec.mh_wire))
        last = self._last_seen.get(key)
        if last is not None and rec.ts_ns - last <= FORWARD_WINDOW_NS:
            self.forwarded += 1
            del self._last_seen[key]
        elif len(self._last_seen) < MAX_COOKIES:
            self._last_seen[key] = rec.ts_ns

    def _test(self, tunnelled: bool, cookie: bytes) -> None:
        mine, other = (
            (self._tunnelled, self._plain) if tunnelled else (self._plain, self._tunnelled)
        )
        if tunnelled:
            self.tunnelled_tests += 1
        else:
            self.plain_tests += 1
        if cookie in other:
            self.decapsulated += 1
            other.discard(cookie)
        elif len(mine) < MAX_COOKIES:
            mine.add(cookie)

    def watch(self, records: Iterable) -> Iterator:
        """``records`` unchanged, each counted on the way."""
        for rec in records:
            self.add(rec)
            yield rec

    @property
    def decisive(self) -> bool:
        return self.tunnelled_tests + self.plain_tests >= DECISIVE_TESTS

    def decide(self) -> VantageDecision:
        """The vantage point this evidence shows (module doc), or an ambiguous one."""
        seen = self._summary()
        if self.forwarded and 2 * self.forwarded >= self.messages and not self.decapsulated:
            return VantageDecision("path", f"{seen}: every message forwarded through this point")
        if self.decapsulated:
            if self.coti or self.bu_to_cn:
                return VantageDecision(None, f"{seen}: HA and MN/CN evidence in one file")
            return VantageDecision("ha", f"{seen}: the HA's decapsulation, no CoTI or BU to a CN")
        if self.tunnelled_tests or (self.bu_to_ha and (self.coti or self.plain_tests)):
            # (an MN at home runs its home tests without the tunnel)
            return VantageDecision(
                "mn",
                f"{seen}: home tests in the MN's tunnel or BUs to its home agent (an access "
                "router on the MN's path sees the same: --vantage PATH=path)",
            )
        if self.plain_tests and not self.bu_to_ha:
            return VantageDecision("cn", f"{seen}: home tests arrive without the tunnel")
        if self.events and not self.plain_tests:
            return VantageDecision("mn", f"{seen}: the MN's handover events")
        if self.bu_to_ha or self.bu_to_cn or self.coti:
            return VantageDecision(None, f"{seen}: no home test to tell MN, HA and CN apart")
        return VantageDecision(None, NO_SIGNALLING)

    def _summary(self) -> str:
        parts = [
            (self.tunnelled_tests, "tunnelled HoTI/HoT"),
            (self.plain_tests, "untunnelled HoTI/HoT"),
            (self.decapsulated, "seen both ways"),
            (self.bu_to_ha, "BU to a home agent"),
            (self.bu_to_cn, "BU/EBU to a CN"),
            (self.coti, "CoTI"),
            (self.events, "handover events"),
            (self.forwarded, "seen arriving and leaving"),
        ]
        return ", ".join(f"{n} {what}" for n, what in parts if n) or "no signalling"


def lookahead(records: Iterable, evidence: Evidence) -> tuple[VantageDecision, Iterator]:
    """The vantage point decided from the first records (up to LOOKAHEAD_RECORDS, or
    until DECISIVE_TESTS home tests were seen), and the whole stream, still counted."""
    it = iter(records)
    held = []
    for rec in it:
        held.append(rec)
        evidence.add(rec)
        if evidence.decisive or len(held) >= LOOKAHEAD_RECORDS:
            break
    early = evidence.decide()

    def stream() -> Iterator:
        yield from held
        yield from evidence.watch(it)

    return early, stream()


def resolve(
    given: str | None,
    evidence: Evidence,
    early: VantageDecision,
    diag: Diagnostics,
    label: str,
    rows: int = 1,
) -> VantageDecision:
    """The file's vantage: ``given`` (checked) if any, else the evidence of the whole
    file; a warning when it is ambiguous, or when the whole file says something else
    than its beginning did (the reconstruction used the latter).  A file with neither
    signalling nor ``rows`` gets no warning (there is nothing to leave empty)."""
    if given is not None:
        return VantageDecision(check_role(given), "--vantage", given=True)
    final = evidence.decide()
    if final.role is None and (final.evidence != NO_SIGNALLING or rows):
        diag.warn(
            "ambiguous_vantage",
            f"{label}: vantage point not recognised ({final.evidence}); vantage-dependent "
            "columns left empty (give it with --vantage PATH=ROLE)",
        )
    elif final.role != early.role:
        diag.warn(
            "vantage_changed",
            f"{label}: its beginning looked like {early.role or 'nothing'}, the whole file "
            f"like {final.role}; give it with --vantage PATH=ROLE",
        )
    return final


def vantage_lines(df) -> list[str]:
    """The stderr lines of a table's vantage decisions (``df.attrs["vantage"]``)."""
    return decision_lines(df.attrs.get("vantage", []))


def decision_lines(decisions: list[dict]) -> list[str]:
    """The stderr lines of vantage decisions (VantageDecision.as_dict each)."""
    out = []
    for d in decisions:
        decision = VantageDecision(d["role"], d["evidence"], d["given"])
        out.append(decision.line(d["source"]))
    return out


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UsageError(f"vantage {role!r} is not one of {', '.join(ROLES)}")
    return role


def parse_vantage_options(values: Iterable[str]) -> dict[str, str]:
    """``--vantage PATH=ROLE`` values -> {path: role} (one-line error when malformed)."""
    out: dict[str, str] = {}
    for value in values:
        path, sep, role = value.rpartition("=")
        if not sep or not path:
            raise UsageError(f"--vantage {value!r}: expected PATH=ROLE (ROLE: {', '.join(ROLES)})")
        out[path] = check_role(role.strip().lower())
    return out


def role_for(path: str, given: dict[str, str]) -> str | None:
    """The role ``--vantage`` gives ``path`` (by the path as given, or its base name)."""
    import os

    if path in given:
        return given[path]
    base = os.path.basename(path)
    return given.get(base)
