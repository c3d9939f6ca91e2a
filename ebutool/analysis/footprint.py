"""What a file holds that tells how it relates to the other inputs (issue 13 item 3):
its first and last record times and a bounded set of its messages' invariant keys.

Counted as the records stream past (:meth:`Footprint.watch`), kept as plain values
in ``df.attrs["footprint"]`` (so a worker process can send it back).  Two files that
share messages are views of one run (or the same capture twice); one capture rotated
over several files (tcpdump -C/-W) shares none and its pieces follow each other in
time (:func:`rotated_chains`).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from ebutool.analysis.clock import invariant_key

MAX_KEYS = 4096  # message keys remembered per file (the first ones: views share their start)
ROTATION_MAX_GAP_NS = 60 * 10**9  # the longest silence between two pieces of one capture


def stable_key(rec) -> int | None:
    """The invariant key of a Mobility Header message as a 64-bit number, the same in
    every process (Python's own hash of bytes is salted per process)."""
    key = invariant_key(rec)
    if key is None:
        return None
    digest = hashlib.blake2b(repr(key).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


@dataclass
class Footprint:
    """First and last record time (ns) and up to MAX_KEYS message keys."""

    first_ns: int | None = None
    last_ns: int | None = None
    keys: set[int] = field(default_factory=set)

    def add(self, rec) -> None:
        ts = rec.ts_ns
        if self.first_ns is None or ts < self.first_ns:
            self.first_ns = ts
        if self.last_ns is None or ts > self.last_ns:
            self.last_ns = ts
        if len(self.keys) < MAX_KEYS and getattr(rec, "mh_wire", None) is not None:
            key = stable_key(rec)
            if key is not None:
                self.keys.add(key)

    def watch(self, records: Iterable) -> Iterator:
        for rec in records:
            self.add(rec)
            yield rec

    def as_dict(self) -> dict[str, object]:
        return {"first_ns": self.first_ns, "last_ns": self.last_ns, "keys": sorted(self.keys)}

    @classmethod
    def from_dict(cls, d: dict) -> Footprint:
        return cls(d.get("first_ns"), d.get("last_ns"), set(d.get("keys", [])))


@dataclass(frozen=True, slots=True)
class Piece:
    """A file as :func:`rotated_chains` sees it."""

    label: str
    role: str | None
    linktype: object
    footprint: Footprint


def follows(a: Piece, b: Piece) -> bool:
    """``b`` can be the piece of one rotated capture right after ``a``: same vantage
    (a piece too short to tell its vantage goes with any), same link type, ``b``
    begins no earlier than ``a`` ends and not long after, and they share no message."""
    fa, fb = a.footprint, b.footprint
    if a.role is not None and b.role is not None and a.role != b.role:
        return False
    if a.linktype != b.linktype or a.linktype is None:
        return False
    if fa.last_ns is None or fb.first_ns is None:
        return False
    gap = fb.first_ns - fa.last_ns
    return 0 <= gap <= ROTATION_MAX_GAP_NS and not (fa.keys & fb.keys)


def rotated_chains(pieces: Sequence[Piece]) -> list[list[int]]:
    """Indices of ``pieces`` that are one rotated capture, in time order (chains of
    two or more files; each file in at most one chain)."""
    order = sorted(
        (i for i, p in enumerate(pieces) if p.footprint.first_ns is not None),
        key=lambda i: pieces[i].footprint.first_ns or 0,
    )
    chains: list[list[int]] = []
    used: set[int] = set()
    for n, i in enumerate(order):
        if i in used:
            continue
        chain = [i]
        used.add(i)
        for j in order[n + 1 :]:
            last = pieces[chain[-1]].footprint.last_ns or 0
            if (pieces[j].footprint.first_ns or 0) - last > ROTATION_MAX_GAP_NS:
                break  # (time order: every later file begins later still)
            if j not in used and follows(pieces[chain[-1]], pieces[j]):
                chain.append(j)
                used.add(j)
        if len(chain) > 1:
            chains.append(chain)
    return chains


def shared(pieces: Sequence[Piece]) -> list[tuple[int, int, int]]:
    """(i, j, n): pairs of files that share ``n`` message keys."""
    holders: dict[int, list[int]] = {}
    for i, piece in enumerate(pieces):
        for key in piece.footprint.keys:
            holders.setdefault(key, []).append(i)
    counts: Counter[tuple[int, int]] = Counter()
    for files in holders.values():
        for n, i in enumerate(files):
            for j in files[n + 1 :]:
                counts[(i, j)] += 1
    return [(i, j, n) for (i, j), n in sorted(counts.items())]
