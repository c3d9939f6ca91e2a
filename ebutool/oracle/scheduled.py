"""The oracle of one group of a run's records, kept in step with the whole run.

A run split by mobile node (ebutool.store.grouped) analyses each group of records in
its own process, each with its own :class:`~ebutool.oracle.verify.Oracle`.  Two things
of the oracle cross mobile nodes, and would make a group's verdicts differ from those of
the single run:

* the per-CN nonce first-use table (``(CN, nonce index)`` -> first HoT/CoT time, a
  nonce's age counts from it, RFC 6275 5.2.7): every MN of a CN uses its nonces;
* the sweeps of the time-bounded tables, which happen when the run's clock passes a
  sweep interval: a group's clock would tick at other times.

:func:`run_schedule` computes both for the whole run in a pre-pass over the times and
(HoT/CoT) nonce indices of the run's Mobility Header messages, in run order: the
positions where a sweep happens, and the first uses that enter the table.  A
:class:`ScheduledOracle` is told, before each record of its group
(:meth:`ScheduledOracle.advance`), the sweeps and the other groups' first uses that
come before it, and never sweeps on its own clock, so its tables are those of the
single run's oracle for every key its group looks up.  Below the tables' count bound
(``max_entries``): :meth:`ScheduledOracle.peak` reports how close a group came.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ebutool.core.bounded import put
from ebutool.core.constants import DEFAULT_CONFIG, ProtocolConfig
from ebutool.oracle.tables import MAX_TABLE_ENTRIES
from ebutool.oracle.verify import Oracle

NEVER = 1 << 62  # a sweep interval that is never reached


@dataclass
class Schedule:
    """The run's sweeps (position, time) and first nonce uses (position, group, CN,
    index, time), both in run order."""

    sweeps: list[tuple[int, int]] = field(default_factory=list)
    first_uses: list[tuple[int, int, str, int, int]] = field(default_factory=list)


def run_schedule(
    messages: Iterable[tuple[int, int, int, str | None, int | None]],
    config: ProtocolConfig = DEFAULT_CONFIG,
) -> Schedule:
    """The schedule of a run from its Mobility Header messages (those the oracle sees),
    in run order: (position, group, time, CN of a HoT/CoT or None, its nonce index)."""
    probe = Oracle(config=config)  # the retention times and sweep interval of ``config``
    every = probe._sweep_every_ns
    keep = 2 * max(probe._nonce_ns, probe._token_ns)
    out = Schedule()
    first: dict[tuple[str, int], int] = {}
    now = swept = None
    for pos, group, ts, cn, index in messages:
        if now is None or ts > now:
            now = ts
            if swept is None:
                swept = ts
            elif ts - swept >= every:
                out.sweeps.append((pos, ts))
                cut = ts - keep
                for key in [k for k, t in first.items() if t < cut]:
                    del first[key]
                swept = ts
        if cn is not None and index is not None and (cn, index) not in first:
            first[(cn, index)] = ts
            out.first_uses.append((pos, group, cn, index, ts))
    return out


class ScheduledOracle(Oracle):
    """An Oracle for one group (``group``) of a run (module doc).  ``largest``: the
    most entries any one table held after a check (Oracle.check keeps it)."""

    _peak_kept = True

    def __init__(
        self,
        keys=None,
        config: ProtocolConfig = DEFAULT_CONFIG,
        schedule: Schedule | None = None,
        group: int = 0,
        max_entries: int | None = MAX_TABLE_ENTRIES,
    ) -> None:
        super().__init__(keys, config, max_entries)
        self._sweep_every_ns = NEVER
        sched = schedule if schedule is not None else Schedule()
        self._sweeps = sched.sweeps
        self._uses = [u for u in sched.first_uses if u[1] != group]
        self._next_sweep = self._next_use = 0
        self._due = 0  # advance(pos) has nothing to do while pos < _due
        self._set_due()

    def _set_due(self) -> None:
        """The first position at which :meth:`advance` has something to do: the next
        sweep's, or the one after the next first use's (a use at ``pos`` itself comes
        after that record)."""
        s = self._sweeps[self._next_sweep][0] if self._next_sweep < len(self._sweeps) else NEVER
        u = self._uses[self._next_use][0] + 1 if self._next_use < len(self._uses) else NEVER
        self._due = min(s, u)

    def advance(self, pos: int) -> None:
        """Before the record at run position ``pos``: apply the run's sweeps up to it
        (a sweep happens before the record that triggers it is checked) and the other
        groups' first uses before it.  (Called for every message: most have nothing
        to apply, which the first test says.)"""
        if pos < self._due:
            return
        sweeps, uses = self._sweeps, self._uses
        while True:
            s = sweeps[self._next_sweep][0] if self._next_sweep < len(sweeps) else NEVER
            u = uses[self._next_use][0] if self._next_use < len(uses) else NEVER
            if s > pos and u >= pos:
                break
            if s <= u and s <= pos:
                self._sweep(sweeps[self._next_sweep][1])
                self._next_sweep += 1
            else:
                _, _, cn, index, ts = uses[self._next_use]
                if (cn, index) not in self._first_use:
                    self._old_use.pop((cn, index), None)
                    put(self._first_use, (cn, index), ts, self.max_entries, None, "oracle")
                self._next_use += 1
        self._set_due()
