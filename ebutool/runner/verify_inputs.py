"""verify over several inputs: the CN oracle's verdicts of each input, ``source`` first.

:func:`verify_files` (whole table), :func:`verify_files_streamed` (in pieces, none held),
:func:`verify_stream` (one input's verdicts as they are made).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING

from ebutool.core.constants import DEFAULT_CONFIG, ProtocolConfig
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.exact_time import TIME_DECIMALS
from ebutool.records.from_packet import StreamStats
from ebutool.runner.files_streamed import (
    Spilled,
    StreamedTable,
    tagged_spilled,
)
from ebutool.runner.inputs import read_input
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


def _verify_task(
    path: str,
    diag: Diagnostics,
    stats: StreamStats,
    keys: KeyTable | None,
    config: ProtocolConfig,
    esp_sas: EspSAs = None,
    progress: ProgressLike = None,
) -> pd.DataFrame:
    from ebutool.oracle.verify import Oracle, verdicts_frame, verify

    if is_store(path):
        df = verdicts_frame(Oracle(keys, config, diag=diag).run(read_input(path, diag, stats)))
    else:
        df = verify(path, keys=keys, config=config, diag=diag, stats=stats, esp_sas=esp_sas)
    df.attrs[TIME_DECIMALS] = stats.time_decimals  # a nanosecond capture's 9 decimals
    return df


def verify_stream(
    path: str,
    *,
    keys: KeyTable | None = None,
    config: ProtocolConfig = DEFAULT_CONFIG,
    diag: Diagnostics,
    stats: StreamStats,
    esp_sas: EspSAs = None,
    counts: Counter[str] | None = None,
    rows: int = 10_000,
) -> Generator[pd.DataFrame, None, None]:
    """The verdicts of one input (what :func:`verify_files` gives for it) as consecutive
    tables of at most ``rows`` rows, made while the input is read; ``counts`` counts the
    verdicts.  The first table may be empty, the others are not."""
    from itertools import islice

    from ebutool.oracle.verify import Oracle, verdicts_frame

    check_paths([path], "verify")
    verdicts = Oracle(keys, config, diag=diag).run(read_input(path, diag, stats, esp_sas=esp_sas))
    first = True
    while True:
        piece = list(islice(verdicts, rows))
        if counts is not None:
            counts.update(v.verdict for v in piece)
        if piece or first:
            df = verdicts_frame(piece)
            df.attrs[TIME_DECIMALS] = stats.time_decimals  # (as decode's: at_resolution)
            yield df
        if len(piece) < rows:
            return
        first = False


def verify_files(
    paths: Sequence[str | os.PathLike[str]],
    jobs: int = 1,
    *,
    keys: KeyTable | None = None,
    config: ProtocolConfig = DEFAULT_CONFIG,
    diag: Diagnostics | None = None,
    stats: StreamStats | None = None,
    esp_sas: EspSAs = None,
) -> pd.DataFrame:
    """The CN oracle's verdicts on every input, each file checked on its own (a token
    never vouches for a message in another file); ``source`` first when several."""
    names = check_paths(paths, "verify")
    frames = per_file(
        _verify_task,
        names,
        keys,
        config,
        esp_sas,
        jobs=jobs,
        diag=diag if diag is not None else Diagnostics(),
        stats=stats if stats is not None else StreamStats(),
    )
    return tagged(*readable(frames, source_labels(names)), always=len(names) > 1)


def _verify_spilled(
    path: str,
    diag: Diagnostics,
    stats: StreamStats,
    root: str,
    keys: KeyTable | None,
    config: ProtocolConfig,
    esp_sas: EspSAs = None,
    progress: ProgressLike = None,
) -> Spilled:
    counts: Counter[str] = Counter()
    pieces = verify_stream(
        path, keys=keys, config=config, diag=diag, stats=stats, esp_sas=esp_sas, counts=counts
    )
    out = Spilled.into(root, pieces)
    out.attrs = {"counts": counts, TIME_DECIMALS: stats.time_decimals}
    return out


def verify_files_streamed(
    paths: Sequence[str | os.PathLike[str]],
    jobs: int = 1,
    *,
    keys: KeyTable | None = None,
    config: ProtocolConfig = DEFAULT_CONFIG,
    diag: Diagnostics,
    stats: StreamStats,
    counts: Counter[str],
    esp_sas: EspSAs = None,
) -> StreamedTable:
    """:func:`verify_files` of several inputs in pieces (as :func:`decode_files_streamed`);
    ``counts`` counts the verdicts."""
    names = check_paths(paths, "verify")
    args = (keys, config, esp_sas)
    made = tagged_spilled(_verify_spilled, names, *args, jobs=jobs, diag=diag, stats=stats)
    for table in made.tables:
        counts.update(table.attrs["counts"])
    return made
