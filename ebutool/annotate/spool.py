"""The comments of ``ebutool annotate`` kept on disk, so memory stays flat in the number
of episodes (issue 12): each episode is written to a temporary SQLite database as it
closes (:func:`ebutool.analysis.iter_episodes`), with its frames and the oracle's
verdict of each frame checked; at the end the episodes are numbered exactly as
:func:`ebutool.analysis.build_episodes` numbers them (sorted by handover time, MN, CN
and care-of address; ties in the order they closed), the ``early_fallback`` causes that
need the whole capture are applied, and the comments are read back in frame order
while the capture is copied.

The database lives in a temporary directory (``$TMPDIR``) removed on :meth:`close`;
it takes about 190 octets per episode (of one BU: 18.7 MB for 100k).
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from typing import Any

from ebutool.analysis import answers_ebu, order_key, refuses_ebu
from ebutool.analysis.rows import FALLBACK_KIND, fallback_note
from ebutool.analysis.state import Episode
from ebutool.core.errors import OutputError

BATCH = 10_000  # rows buffered before an insert (fewer round trips, little memory)

SCHEMA = """
CREATE TABLE eps (seq INTEGER PRIMARY KEY, t0_none INTEGER, t0 BLOB, mn TEXT,
                  cn_key TEXT, coa TEXT, cn TEXT, kind TEXT, diagnosis TEXT,
                  refused INTEGER, answers INTEGER);
CREATE TABLE steps (frame INTEGER, seq INTEGER, msg TEXT, sender TEXT, receiver TEXT);
CREATE TABLE verdicts (frame INTEGER PRIMARY KEY, verdict TEXT);
CREATE TABLE ids (seq INTEGER PRIMARY KEY, id INTEGER);
CREATE TABLE fallback (seq INTEGER PRIMARY KEY, diagnosis TEXT);
"""

# seq -> id: build_episodes' sort (ebutool.analysis.order_key, whose parts are the columns
# t0_none .. coa; a stable sort: ties keep the order they closed in)
NUMBERING = """
INSERT INTO ids SELECT seq, ROW_NUMBER() OVER
    (ORDER BY t0_none, t0, mn, cn_key, coa, seq) FROM eps
"""

READBACK = """
SELECT s.frame, e.mn, i.id, e.kind, s.msg, s.sender, s.receiver, v.verdict, e.diagnosis
FROM steps s JOIN eps e ON e.seq = s.seq JOIN ids i ON i.seq = s.seq
LEFT JOIN verdicts v ON v.frame = s.frame ORDER BY s.frame, i.id
"""


def ordered_int(n: int) -> bytes:
    """``n`` as octets that sort (memcmp, as SQLite sorts BLOBs) as the integers do,
    whatever its size (a timestamp need not fit SQLite's 64-bit integers)."""
    size = (abs(n).bit_length() + 7) // 8
    if n >= 0:
        return bytes([128 + size]) + n.to_bytes(size, "big")
    return bytes([127 - size]) + bytes(255 - b for b in (-n).to_bytes(size, "big"))


class CommentSpool:
    """Episodes and verdicts in, per-frame comment fields out (module doc)."""

    def __init__(self, directory: str | None = None) -> None:
        try:
            self._dir = tempfile.TemporaryDirectory(prefix="ebutool-annotate-", dir=directory)
        except OSError as exc:
            raise OutputError(f"annotate's temporary comment store: {exc}") from None
        self.path = os.path.join(self._dir.name, "comments.sqlite")
        self.db = sqlite3.connect(self.path)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "temp_store=FILE"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.executescript(SCHEMA)
        self.episodes = 0
        self._eps: list[tuple] = []
        self._steps: list[tuple] = []
        self._verdicts: list[tuple[int, str]] = []

    def verdict(self, frame: int, value: str) -> None:
        """The oracle's verdict on ``frame`` (a later one replaces it)."""
        self._verdicts.append((frame, value))
        if len(self._verdicts) >= BATCH:
            self._flush()

    def add(self, ep: Episode) -> None:
        """A closed episode (its ``id`` is not used: see :meth:`number`)."""
        self.episodes += 1
        seq = self.episodes
        t0_none, t0, mn, cn_key, coa = order_key(ep)
        self._eps.append(
            (seq, t0_none, ordered_int(t0), mn, cn_key, coa)
            + (ep.cn, ep.kind, json.dumps(ep.diagnosis), refuses_ebu(ep), answers_ebu(ep))
        )
        seen: set[int] = set()
        for step in ep.timeline:
            if step.frame not in seen:  # one comment per frame and episode
                seen.add(step.frame)
                self._steps.append((step.frame, seq, step.msg, step.sender, step.receiver))
        if len(self._steps) >= BATCH or len(self._eps) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        with self.db:
            self.db.executemany("INSERT INTO eps VALUES (?,?,?,?,?,?,?,?,?,?,?)", self._eps)
            self.db.executemany("INSERT INTO steps VALUES (?,?,?,?,?)", self._steps)
            self.db.executemany("INSERT OR REPLACE INTO verdicts VALUES (?,?)", self._verdicts)
        self._eps, self._steps, self._verdicts = [], [], []

    def number(self) -> None:
        """After the last episode: the ids and the fallback causes (build_episodes)."""
        self._flush()
        with self.db:
            self.db.execute(NUMBERING)
            self.db.execute("CREATE INDEX eps_cn ON eps (cn) WHERE answers")
            self._fallback_causes()

    def _fallback_causes(self) -> None:
        """ebutool.analysis._fallback_causes, one fallback episode at a time (the new
        diagnoses go to their own table: eps is not changed while it is read)."""
        fallbacks = self.db.execute(
            "SELECT seq, cn, diagnosis, refused FROM eps WHERE kind = ?", (FALLBACK_KIND,)
        )
        ask = self.db.cursor()
        for seq, cn, diagnosis, refused in fallbacks:
            answered = cn is not None and bool(
                ask.execute("SELECT 1 FROM eps WHERE cn = ? AND answers LIMIT 1", (cn,)).fetchone()
            )
            notes = set(json.loads(diagnosis))
            note = fallback_note(bool(refused), answered, notes)
            if note is not None:
                notes.add(note)
            ask.execute("INSERT INTO fallback VALUES (?,?)", (seq, json.dumps(sorted(notes))))
        self.db.execute(
            "UPDATE eps SET diagnosis = f.diagnosis FROM fallback f WHERE f.seq = eps.seq"
        )

    def rows(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        """(frame, (mn, id, kind, msg, sender, receiver, verdict, diagnosis list)) in frame
        order, a frame's episodes by id (after :meth:`number`)."""
        for frame, *fields in self.db.execute(READBACK):
            fields[-1] = json.loads(fields[-1])
            yield frame, tuple(fields)

    def close(self) -> None:
        self.db.close()
        self._dir.cleanup()

    def failed(self, exc: sqlite3.Error) -> OutputError:
        """A one-line diagnosis of a failure of the store (e.g. a full disk)."""
        return OutputError(f"annotate's temporary comment store {self.path}: {exc}")
