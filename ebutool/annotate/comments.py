"""What each frame of an episode says in its pcapng comment (``ebutool annotate``).

One comment per episode the frame belongs to (a home registration serves every CN
episode of its handover), as delimited tokens, so that a display filter selects one
handover exactly (``frame.comment contains "episode=3;"`` does not match
``episode=13;``)::

    ebutool: mn=2001:db8::1; episode=3; kind=early; role=EBU; from=MN; to=CN; auth=valid;

``episode`` is the number ``analyze`` gives the episode; ``role`` the message as the
episode's timeline names it (HoTI, HoT, CoTI, CoT, BU, BA, EBU, EBA, BE, BRR, other)
or ``first_ro_data`` for the first route-optimised data packet each way; ``auth`` the
CN oracle's verdict on that message (valid, invalid, unverifiable, stale_token; with
the keys, or against the capture's own tokens); ``diagnosis`` the episode's codes and
``warning`` the per-packet warnings of that frame, comma-separated.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from ebutool.analysis import build_episodes, iter_episodes
from ebutool.analysis.state import Episode, Step
from ebutool.analysis.vantage import Evidence, lookahead
from ebutool.annotate.spool import CommentSpool
from ebutool.core.constants import DEFAULT_CONFIG, ProtocolConfig
from ebutool.core.diagnostics import Diagnostics

PREFIX = "ebutool:"
DATA_ROLE = "first_ro_data"  # the timeline's "data": the first RO data packet each way


class RecordingOracle:
    """The CN oracle, remembering the verdict of each frame it checked (the last one:
    the reconstruction may first try a BU as another message type)."""

    def __init__(self, oracle: Any, sink: Callable[[int, str], None] | None = None) -> None:
        self.oracle = oracle
        self.verdicts: dict[int, str] = {}
        # where each verdict goes (default: self.verdicts; annotate: its on-disk spool)
        self.sink = sink if sink is not None else self.verdicts.__setitem__

    def check(self, rec):
        verdict = self.oracle.check(rec)
        value = getattr(verdict, "verdict", None)
        if value is not None:
            self.sink(rec.frame, value)
        return verdict

    def __getattr__(self, name: str) -> Any:  # keys, ... : the oracle's own
        return getattr(self.oracle, name)


def comment(ep: Episode, step: Step, verdict: str | None, warnings: list[str]) -> str:
    """The comment of ``step``'s frame for episode ``ep`` (module doc)."""
    fields = (ep.mn, ep.id, ep.kind, step.msg, step.sender, step.receiver, verdict)
    return comment_text(*fields, ep.diagnosis, warnings)


def comment_text(
    mn: str,
    episode: int,
    kind: str,
    msg: str,
    sender: str,
    receiver: str,
    verdict: str | None,
    diagnosis: Sequence[str],
    warnings: Sequence[str],
) -> str:
    """The comment of a frame (message ``msg``) of an episode, from its fields."""
    role = DATA_ROLE if msg == "data" else msg
    tokens = [f"mn={mn}", f"episode={episode}", f"kind={kind}", f"role={role}"]
    tokens += [f"from={sender}", f"to={receiver}"]
    if verdict is not None and msg != "data":
        tokens.append(f"auth={verdict}")
    if diagnosis:
        tokens.append("diagnosis=" + ",".join(diagnosis))
    if warnings:
        tokens.append("warning=" + ",".join(warnings))
    return f"{PREFIX} " + " ".join(f"{t};" for t in tokens)


def frame_comments(
    records: Iterable,
    config: ProtocolConfig = DEFAULT_CONFIG,
    diag: Diagnostics | None = None,
    oracle: Any = None,
    vantage: str | None = None,
) -> tuple[dict[int, list[str]], list[Episode]]:
    """(frame number -> its comments, the episodes) of a record stream; ``vantage`` None:
    detected from the first records, as ``analyze`` does."""
    diag = diag if diag is not None else Diagnostics()
    if vantage is None:
        decision, records = lookahead(records, Evidence())
        vantage = decision.role
    recording = RecordingOracle(oracle) if oracle is not None else None
    eps = build_episodes(records, config, diag, recording, vantage=vantage)
    verdicts = recording.verdicts if recording is not None else {}
    warned = frame_warnings(diag)
    out: dict[int, list[str]] = defaultdict(list)
    for ep in eps:
        seen: set[int] = set()
        for step in ep.timeline:
            if step.frame in seen:
                continue
            seen.add(step.frame)
            out[step.frame].append(
                comment(ep, step, verdicts.get(step.frame), warned.get(step.frame, []))
            )
    return dict(out), eps


def frame_warnings(diag: Diagnostics) -> dict[int, list[str]]:
    """frame -> the codes of the per-packet warnings kept about it, each once."""
    warned: dict[int, list[str]] = defaultdict(list)
    for d in diag.kept:
        if d.frame is not None and d.code not in warned[d.frame]:
            warned[d.frame].append(d.code)
    return warned


def spool_comments(
    records: Iterable,
    spool: CommentSpool,
    config: ProtocolConfig = DEFAULT_CONFIG,
    diag: Diagnostics | None = None,
    oracle: Any = None,
    vantage: str | None = None,
) -> SpooledComments:
    """:func:`frame_comments` with memory flat in the number of episodes: the episodes
    go to ``spool`` as they close, the comments are read back in frame order."""
    diag = diag if diag is not None else Diagnostics()
    if vantage is None:
        decision, records = lookahead(records, Evidence())
        vantage = decision.role
    recording = RecordingOracle(oracle, spool.verdict) if oracle is not None else None
    for ep in iter_episodes(records, config, diag, recording, vantage=vantage):
        spool.add(ep)
    spool.number()
    return SpooledComments(spool.rows(), frame_warnings(diag))


class SpooledComments:
    """``get(frame)``: the comments of ``frame``, asked in increasing frame order (as the
    copy in ebutool.annotate.pcapng_copy does), read from a spool's rows."""

    def __init__(self, rows: Iterator[tuple[int, tuple]], warned: dict[int, list[str]]):
        self._rows = rows
        self._warned = warned
        self._next = next(rows, None)

    def get(self, frame: int) -> list[str] | None:
        while self._next is not None and self._next[0] < frame:
            self._next = next(self._rows, None)  # a frame the copy never reached
        notes = []
        while self._next is not None and self._next[0] == frame:
            warnings = self._warned.get(frame, [])
            notes.append(comment_text(*self._next[1], warnings))
            self._next = next(self._rows, None)
        return notes or None
