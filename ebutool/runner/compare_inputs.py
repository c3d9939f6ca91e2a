"""compare's episodes over several inputs: each file on its own and numbered on its own.

:func:`episodes_by_file` gives the episode table with a leading ``file`` column, cut to
the columns compare uses when asked (:func:`_lean_task`: read in pieces, ebutool.runner.lean).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from ebutool.analysis import (
    analyze_pieces,
)
from ebutool.core.constants import DEFAULT_CONFIG, ProtocolConfig
from ebutool.core.diagnostics import Diagnostics
from ebutool.records.from_packet import StreamStats
from ebutool.runner.analyze_inputs import analyze_task
from ebutool.runner.lean import kept_columns
from ebutool.runner.multi import (
    check_paths,
    per_file,
    readable,
    source_labels,
    tagged,
)
from ebutool.store.layout import is_store

if TYPE_CHECKING:
    import pandas as pd

    from ebutool.core.progress import NullProgress, Progress
    from ebutool.esp.sa import EspSA
    from ebutool.oracle.keys import KeyTable

    EspSAs = Sequence[EspSA] | None
    ProgressLike = Progress | NullProgress | None


def episodes_by_file(
    paths: Sequence[str | os.PathLike[str]],
    jobs: int = 1,
    *,
    mn: str | None = None,
    cn: str | None = None,
    config: ProtocolConfig = DEFAULT_CONFIG,
    keys: KeyTable | None = None,
    diag: Diagnostics | None = None,
    esp_sas: EspSAs = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Every input analysed on its own (episodes never span files, and are numbered per
    file), the ``mn``/``cn`` filter applied per file; a leading ``file`` column (the
    input's label) even for one input.  What ``ebutool compare`` summarises.
    ``columns``: keep only these (read in pieces: :func:`_lean_task`), else all."""
    import pandas as pd

    names = check_paths(paths, "compare")
    diag = diag if diag is not None else Diagnostics()
    frames = per_file(
        analyze_task if columns is None else partial(_lean_task, columns=list(columns)),
        names,
        config,
        keys,
        None,
        mn,
        cn,
        esp_sas,
        jobs=jobs,
        diag=diag,
        stats=StreamStats(),
    )
    good, labels = readable(frames, source_labels(names))
    if columns is not None and len(good) == 1:
        # one code per row, not a reference (tagged's copy would double the table)
        one = pd.Categorical.from_codes(np.zeros(len(good[0]), np.int8), pd.Index([labels[0]]))
        good[0].insert(0, "file", pd.Series(one, index=good[0].index))
        out = good[0]
    else:
        out = tagged(good, labels, "file", always=True)
    out.attrs["vantage"] = [d for f in good for d in f.attrs.get("vantage", [])]
    return out


def _lean_task(
    path: str,
    diag: Diagnostics,
    stats: StreamStats,
    config: ProtocolConfig,
    keys: KeyTable | None,
    oracle: Any,
    mn: str | None,
    cn: str | None,
    esp_sas: EspSAs,
    progress: ProgressLike = None,
    *,
    columns: list[str],
) -> pd.DataFrame:
    """:func:`analyze_task` keeping only ``columns``: a capture's table is read in
    pieces (ebutool.analysis.analyze_pieces: beyond SPILL_ROWS the rows wait on disk),
    each cut to ``columns`` (ebutool.runner.lean), so memory holds a few words per
    episode instead of the whole table (issue 12)."""
    if is_store(path):
        df = analyze_task(path, diag, stats, config, keys, oracle, mn, cn, esp_sas)
        return df[[c for c in df.columns if c in columns]].copy()
    pieces, vantage_made = analyze_pieces(
        path, mn=mn, cn=cn, config=config, keys=keys, diag=diag, stats=stats,
        oracle=oracle, esp_sas=esp_sas, progress=progress,
    )  # fmt: skip
    return kept_columns(pieces, columns, vantage_made)
