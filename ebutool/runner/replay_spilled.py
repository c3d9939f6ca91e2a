"""``replay`` of several inputs in pieces (issue 12), as decode and verify write theirs.

Each input is replayed batch by batch (ebutool.runner.replay_inputs.replay_stream_file) in the
per-file task (so ``-j N`` replays several at once); each batch's three tables
(exposure, divergences, decisions) are spilled, one
:class:`ebutool.runner.files_streamed.Spilled` per table per file, and only the run's
summary (ebutool.cn_replay.without_rows/combine) is kept.  Once every input is read,
each table is a :class:`ebutool.runner.files_streamed.StreamedTable` whose pieces,
each led by its file's ``source``, concatenated are
:func:`ebutool.runner.replay_inputs.replay_files`' table (ebutool.runner.multi.tagged), which
memory never holds.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from ebutool.analysis import source_labels
from ebutool.core.constants import DEFAULT_CONFIG
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.exact_time import TIME_DECIMALS
from ebutool.records.from_packet import StreamStats
from ebutool.runner.files_streamed import Spilled, StreamedTable, spill_root
from ebutool.runner.multi import check_paths, per_file, readable
from ebutool.runner.replay_inputs import ReplayRuns, replay_stream_file

if TYPE_CHECKING:
    from ebutool.cn_replay import ReplayResult
    from ebutool.core.constants import ProtocolConfig

REPLAY_TABLES = ("exposure", "divergences", "decisions")


def _replay_spilled(
    path: str,
    diag: Diagnostics,
    stats: StreamStats,
    roots: dict[str, str],
    keys: Any,
    config: ProtocolConfig,
    cn_policy: Any,
    trusted: list[str] | None,
    esp_sas: Any = None,
    progress: Any = None,
) -> tuple[dict[str, Spilled], ReplayResult]:
    """One input replayed batch by batch: each table ``roots`` names (table -> folder)
    spilled under its folder, and the run's summary (its tables empty)."""
    from ebutool.cn_replay import combine, without_rows

    spills = {what: Spilled.into(root, ()) for what, root in roots.items()}
    total = None
    batches = replay_stream_file(
        path, keys=keys, config=config, cn_policy=cn_policy, diag=diag, stats=stats,
        trusted=trusted, esp_sas=esp_sas, decisions="decisions" in roots,
    )  # fmt: skip
    for part in batches:
        for what, spilled in spills.items():
            spilled.add(getattr(part, what))
        part = without_rows(part)
        total = part if total is None else combine([total, part])
    assert total is not None  # (the last batch is always made, even of no record)
    for spilled in spills.values():  # the file's resolution, once it is read (as decode's)
        spilled.attrs[TIME_DECIMALS] = stats.time_decimals
    return spills, total


def replay_files_streamed(
    paths: Sequence[str | os.PathLike[str]],
    jobs: int = 1,
    *,
    tables: Iterable[str] = REPLAY_TABLES,
    keys: Any = None,
    config: ProtocolConfig = DEFAULT_CONFIG,
    cn_policy: Any = "early",
    diag: Diagnostics,
    stats: StreamStats | None = None,
    trusted: Iterable[str] | None = None,
    esp_sas: Any = None,
) -> tuple[ReplayRuns, dict[str, StreamedTable]]:
    """:func:`ebutool.runner.replay_inputs.replay_files` with the ``tables`` named written in
    pieces: the summaries (ReplayRuns whose tables are not to be read) and each table's
    StreamedTable (its :meth:`StreamedTable.pieces` to be read once)."""
    names = check_paths(paths, "replay")
    with ExitStack() as on_error:  # (each folder removed if this raises: spill_root)
        roots = {what: on_error.enter_context(spill_root()) for what in tables}
        folders = {what: root.name for what, root in roots.items()}
        args = (folders, keys, config, cn_policy, list(trusted) if trusted is not None else None)
        stats = stats if stats is not None else StreamStats()
        results = per_file(
            _replay_spilled, names, *args, esp_sas, jobs=jobs, diag=diag, stats=stats
        )
        done, labels = readable(results, source_labels(names))
        made = {}
        for what, root in roots.items():
            spilled = [spills[what] for spills, _ in done]
            for table, label in zip(spilled, labels, strict=True):
                table.label = label
            made[what] = StreamedTable(spilled, root, numbered=False, tag="source")
        return ReplayRuns(labels, [r for _, r in done], several=len(names) > 1), made


__all__ = ["REPLAY_TABLES", "replay_files_streamed"]
