"""Several inputs that are views of one run, or pieces of one rotated capture (issue 13
item 3): which is which, and their tables.

- :func:`views_asked`: ``--vantage`` names two roles or more, or ``--merge`` and the
  files' detected vantage points (ebutool.analysis.vantage, from their first records)
  differ: the files are views of one run, analysed by :func:`analyze_as_views`
  (ebutool.analysis.view_table; files of the same vantage merged by time first).
- :func:`stitch_rotated`: after each file was analysed on its own, the files that are
  one capture rotated over several (ebutool.analysis.footprint.rotated_chains: same
  vantage and link type, consecutive non-overlapping times, no shared message) are
  analysed again merged by time, with a note; files analysed apart that share
  messages get a ``shared_messages`` warning.
- :func:`parse_clock_offsets`: ``--clock-offset PATH=SECONDS[,PPM]``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ebutool.analysis.footprint import Footprint, Piece, rotated_chains, shared
from ebutool.analysis.vantage import Evidence, check_role, role_for
from ebutool.analysis.view_groups import share_across_roles, views_table
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import InputError, UsageError
from ebutool.core.exact_time import TIME_DECIMALS
from ebutool.records.from_packet import StreamStats
from ebutool.runner.multi import _read_one, per_file, readable, source_labels
from ebutool.stream.sniff import linktype_of

if TYPE_CHECKING:
    import pandas as pd

GLANCE_RECORDS = 20000  # records read of each file to tell views of one run (--merge)


def parse_clock_offsets(values: Iterable[str]) -> dict[str, tuple[float, float]]:
    """``PATH=SECONDS[,PPM]`` values -> {path: (seconds, ppm)} (one-line usage errors)."""
    out: dict[str, tuple[float, float]] = {}
    for value in values:
        path, sep, spec = value.rpartition("=")
        offset, _, drift = spec.partition(",")
        try:
            if not sep or not path:
                raise ValueError
            out[path] = (float(offset), float(drift) if drift else 0.0)
        except ValueError:
            raise UsageError(
                f"--clock-offset {value!r}: expected PATH=SECONDS or PATH=SECONDS,PPM "
                "(the file's clock minus the reference's)"
            ) from None
        _check_offset(value, *out[path])
    return out


# A clock drift of 1e6 ppm or more would stop or reverse the file's time.
MAX_DRIFT_PPM = 1e6


def _check_offset(value: str, seconds: float, ppm: float) -> None:
    """An offset whose nanoseconds fit an int64 (how times are kept) and a drift that
    keeps time moving forward; NaN or infinite: a usage error (it shifted every packet
    to a meaningless time, or overflowed)."""
    from ebutool.core.constants import MAX_DURATION_S

    if not (math.isfinite(seconds) and abs(seconds) <= MAX_DURATION_S):
        raise UsageError(
            f"--clock-offset {value!r}: the offset must be a finite number of seconds "
            f"within +-{MAX_DURATION_S} (its nanoseconds must fit 64 bits)"
        )
    if not (math.isfinite(ppm) and abs(ppm) < MAX_DRIFT_PPM):
        raise UsageError(
            f"--clock-offset {value!r}: the drift must be a finite number of ppm "
            f"within +-{MAX_DRIFT_PPM:g}"
        )


def offsets_of(given: dict[str, Any] | None) -> dict[str, tuple[float, float]]:
    """The library's ``clock_offsets`` ({path: seconds or (seconds, ppm)}) as pairs."""
    out = {}
    for path, value in (given or {}).items():
        out[str(path)] = (
            (float(value[0]), float(value[1]))
            if isinstance(value, tuple)
            else (
                float(value),
                0.0,
            )
        )
        _check_offset(f"{path}={value}", *out[str(path)])
    return out


def glance(path: str) -> tuple[str | None, set[int]]:
    """The vantage point of ``path`` and its message keys, from up to
    GLANCE_RECORDS records (ebutool.analysis.vantage, ebutool.analysis.footprint)."""
    from ebutool.stream.reader import read_records
    from ebutool.stream.sniff import read_once

    if read_once(path):
        return None, set()  # standard input, a pipe: can be read only once
    evidence, footprint = Evidence(), Footprint()
    try:
        for rec in islice(read_records(path, Diagnostics()), GLANCE_RECORDS):
            evidence.add(rec)
            footprint.add(rec)
    except InputError:
        return None, set()
    return evidence.decide().role, footprint.keys


def views_asked(names: Sequence[str], given: dict[str, str], merge: bool) -> bool:
    """Whether the inputs are to be merged as views of one run (module doc): with
    ``merge``, two files of different vantage points that share messages."""
    named = {role_for(n, given) for n in names} - {None}
    if len(named) >= 2:
        return True
    if not merge:
        return False
    seen = []
    for name in names:
        role, keys = glance(name)
        seen.append((role_for(name, given) or role, keys))
    return share_across_roles(seen)


def analyze_as_views(
    names: list[str],
    jobs: int,
    *,
    given: dict[str, str],
    clock_offsets: dict[str, tuple[float, float]],
    diag: Diagnostics,
    stats: StreamStats,
    esp_sas: Any = None,
    **options: Any,
) -> pd.DataFrame:
    """The inputs as views of one run (module doc, ebutool.analysis.view_groups);
    ``options``: ``mn``, ``cn``, ``config``, ``oracle``."""
    lists = per_file(_read_one, names, esp_sas, jobs=jobs, diag=diag, stats=stats)
    streams, labels = readable(lists, source_labels(names))
    paths = [n for n, v in zip(names, lists, strict=True) if v is not None]
    df = views_table(
        streams, labels, paths, given=given, clock_offsets=clock_offsets, diag=diag, **options
    )
    df.attrs[TIME_DECIMALS] = stats.time_decimals  # a nanosecond capture's 9 decimals
    return df


class _WithAttrs(Protocol):
    @property
    def attrs(self) -> Mapping[Any, Any]: ...


TableT = TypeVar("TableT", bound=_WithAttrs)  # a DataFrame, or its pieces spilled


def stitch_rotated(
    frames: list[TableT],
    names: list[str],
    labels: list[str],
    merged: Callable[[list[str]], TableT],
    diag: Diagnostics,
) -> tuple[list[TableT], list[str | None], list[str]]:
    """The per-file tables (DataFrames, or their pieces spilled:
    ebutool.runner.files_streamed; each with the ``footprint`` and ``vantage`` attrs)
    with each rotated capture's pieces replaced by ``merged`` (their table merged by
    time) at the place of its first piece, the labels to go with them, and the stderr
    notes (module doc)."""
    pieces = [
        Piece(label, _role(f), linktype_of(name), Footprint.from_dict(f.attrs.get("footprint", {})))
        for f, name, label in zip(frames, names, labels, strict=True)
    ]
    chains = rotated_chains(pieces)
    in_chain = {i for c in chains for i in c}
    for i, j, n in shared(pieces):
        if i not in in_chain or j not in in_chain:
            diag.warn(
                "shared_messages",
                f"{labels[i]} and {labels[j]} share {n} messages: analysed apart (merge them "
                "as views of one run with --merge or --vantage)",
            )
    notes: list[str] = []
    out: list[TableT] = []
    out_labels: list[str | None] = []
    for i in range(len(frames)):
        chain = next((c for c in chains if min(c) == i), None)
        if chain is None and i in in_chain:
            continue
        if chain is None:
            out.append(frames[i])
            out_labels.append(labels[i])
            continue
        parts = [names[k] for k in chain]
        notes.append(
            f"{', '.join(labels[k] for k in chain)}: one capture rotated over {len(chain)} "
            "files (same vantage and link type, consecutive times): merged by time "
            "(--no-merge keeps them apart)"
        )
        out.append(merged(parts))
        out_labels.append(None)  # its rows keep the piece they began in
    return out, out_labels, notes


class PieceWarnings:
    """The diagnostics of several inputs analysed each on its own, held apart until
    :func:`stitch_rotated` has found the rotated captures among them: an input analysed
    on its own gives ``diag`` its own; the pieces of a rotated capture give the
    diagnostics of their merged analysis instead (a piece read apart has replies at its
    cut whose requests are in the piece before: ``orphan_reply`` warnings of which the
    merged capture has none).

        warnings = PieceWarnings(diag)
        results = per_file(..., diag=diag, diags=warnings.per_file)
        ... stitch_rotated(..., merged=partial(analyse, diag=...warnings.for_merged(parts)))
        warnings.settle(names, results, shown)
    """

    def __init__(self, diag: Diagnostics):
        self.diag = diag
        self.per_file: list[Diagnostics] = []  # per_file's ``diags``, in the inputs' order
        self._merged: dict[str, Diagnostics] = {}  # first piece's path -> merged analysis'

    def for_merged(self, parts: Sequence[str]) -> Diagnostics:
        """A Diagnostics for the merged analysis of a rotated capture's ``parts``."""
        out = self._merged[str(parts[0])] = Diagnostics(keep=self.diag.keep)
        return out

    def settle(
        self, names: Sequence[str], results: Sequence[object], shown: Sequence[str | None]
    ) -> None:
        """Put the diagnostics into ``diag`` in the inputs' order: each input's own,
        unless it is a piece of a rotated capture (its label not among ``shown``, the
        labels stitch_rotated kept), whose merged analysis' come at its first piece."""
        if not self.per_file:  # (one input: per_file gave ``diag`` its diagnostics)
            return
        kept = set(label for label in shown if label is not None)
        labels = source_labels(names)
        for name, label, result, d in zip(names, labels, results, self.per_file, strict=True):
            if result is None or label in kept:
                self.diag.merge(d)
            elif str(name) in self._merged:
                self.diag.merge(self._merged[str(name)])


def _role(df: _WithAttrs) -> str | None:
    decisions = df.attrs.get("vantage", [])
    return decisions[0]["role"] if decisions else None


__all__ = [
    "analyze_as_views",
    "check_role",
    "parse_clock_offsets",
    "offsets_of",
    "stitch_rotated",
    "views_asked",
]
