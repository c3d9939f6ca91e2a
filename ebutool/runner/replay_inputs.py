"""replay over several inputs: each input through its own reference CN (ebutool.cn_replay).

:func:`replay_files` gives a :class:`ReplayRuns` (the tables of the inputs one after the
other, ``source`` first when several); :func:`replay_stream_file` and
:func:`replay_written` replay one input batch by batch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ebutool.core.constants import DEFAULT_CONFIG, ProtocolConfig
from ebutool.core.diagnostics import Diagnostics
from ebutool.records.from_packet import StreamStats
from ebutool.runner.multi import (
    check_paths,
    per_file,
    readable,
    source_labels,
    tagged,
)

if TYPE_CHECKING:
    import pandas as pd

    from ebutool.cn_replay import ReplayResult
    from ebutool.core.progress import NullProgress, Progress
    from ebutool.esp.sa import EspSA
    from ebutool.oracle.keys import KeyTable

    EspSAs = Sequence[EspSA] | None
    ProgressLike = Progress | NullProgress | None


@dataclass
class ReplayRuns:
    """The replay of each input on its own (a fresh model CN per file)."""

    labels: list[str]
    results: list[ReplayResult]
    several: bool = False  # several inputs given (some may have been unreadable)

    @cached_property
    def exposure(self) -> pd.DataFrame:
        return tagged([r.exposure for r in self.results], self.labels, always=self.several)

    @cached_property
    def divergences(self) -> pd.DataFrame:
        return tagged([r.divergences for r in self.results], self.labels, always=self.several)

    @cached_property
    def decisions(self) -> pd.DataFrame:
        return tagged([r.decisions for r in self.results], self.labels, always=self.several)

    def summary_lines(self) -> list[str]:
        """ReplayResult.summary_line of each input (led by its label when several)."""
        if len(self.results) == 1 and not self.several:
            return [self.results[0].summary_line()]
        pairs = zip(self.labels, self.results, strict=True)
        return [f"{label}: {r.summary_line()}" for label, r in pairs]

    def exit_status(self, strict: bool = False) -> int:
        """1 if any input has a divergence (with ``strict``, also an unobservable row)."""
        return max(r.exit_status(strict) for r in self.results)


def _replay_task(
    path: str,
    diag: Diagnostics,
    stats: StreamStats,
    keys: KeyTable | None,
    config: ProtocolConfig,
    cn_policy: Any,
    trusted: list[str] | None,
    esp_sas: EspSAs = None,
    progress: ProgressLike = None,
) -> ReplayResult:
    from ebutool.cn_replay import replay

    return replay(
        path,
        keys=keys,
        config=config,
        cn_policy=cn_policy,
        diag=diag,
        trusted=trusted,
        stats=stats,
        esp_sas=esp_sas,
    )


def replay_files(
    paths: Sequence[str | os.PathLike[str]],
    jobs: int = 1,
    *,
    keys: KeyTable | None = None,
    config: ProtocolConfig = DEFAULT_CONFIG,
    cn_policy: Any = "early",
    diag: Diagnostics | None = None,
    stats: StreamStats | None = None,
    trusted: Iterable[str] | None = None,
    esp_sas: EspSAs = None,
) -> ReplayRuns:
    """Every input replayed through the reference CN on its own (ebutool.cn_replay.replay:
    same ``keys``, ``config``, ``cn_policy``, ``trusted``)."""
    names = check_paths(paths, "replay")
    results = per_file(
        _replay_task,
        names,
        keys,
        config,
        cn_policy,
        list(trusted) if trusted is not None else None,
        esp_sas,
        jobs=jobs,
        diag=diag if diag is not None else Diagnostics(),
        stats=stats if stats is not None else StreamStats(),
    )
    done, labels = readable(results, source_labels(names))
    return ReplayRuns(labels, done, several=len(names) > 1)


def replay_stream_file(
    path: str | os.PathLike[str],
    *,
    keys: KeyTable | None = None,
    config: ProtocolConfig = DEFAULT_CONFIG,
    cn_policy: Any = "early",
    diag: Diagnostics | None = None,
    stats: StreamStats | None = None,
    trusted: Iterable[str] | None = None,
    esp_sas: EspSAs = None,
    decisions: bool = True,
) -> Iterator[ReplayResult]:
    """One input replayed batch by batch (ebutool.cn_replay.replay_stream): each batch's
    rows as soon as they are made, for a command to write them at once."""
    from ebutool.cn_replay import replay_stream

    (name,) = check_paths([path], "replay")
    return replay_stream(
        name,
        keys,
        config,
        cn_policy,
        diag if diag is not None else Diagnostics(),
        list(trusted) if trusted is not None else None,
        stats if stats is not None else StreamStats(),
        esp_sas,
        decisions=decisions,
    )


def replay_written(
    path: str | os.PathLike[str],
    sinks: Mapping[str, Callable[[pd.DataFrame], None]],
    **kwargs: Any,
) -> ReplayRuns:
    """One input replayed batch by batch, each batch's tables handed to ``sinks`` (table
    name -> a function taking the next piece: "exposure", "divergences", "decisions")
    as soon as they are made; the summary of the whole run (its tables empty)."""
    from ebutool.cn_replay import combine, without_rows

    total = None
    for part in replay_stream_file(path, decisions="decisions" in sinks, **kwargs):
        for what, add in sinks.items():
            add(getattr(part, what))
        part = without_rows(part)
        total = part if total is None else combine([total, part])
    assert total is not None  # (the last batch is always made, even of no record)
    return ReplayRuns([os.fspath(path)], [total])
