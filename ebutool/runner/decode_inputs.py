"""decode over several inputs: one row per Mobility Header message of each, ``source`` first.

:func:`decode_files` (whole table), :func:`decode_files_streamed` (in pieces, none held),
:func:`decode_stream` (one input's table as it is read); :func:`count_opaque` counts what
cannot be decoded (ESP, non-first fragments).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Generator, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ebutool.core.constants import NH_ESP, NH_FRAGMENT
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.exact_time import TIME_DECIMALS, at_resolution
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

if TYPE_CHECKING:
    import pandas as pd

    from ebutool.core.progress import NullProgress, Progress
    from ebutool.esp.sa import EspSA

    EspSAs = Sequence[EspSA] | None
    ProgressLike = Progress | NullProgress | None


def count_opaque(records: Iterable[Any], counter: Counter[str]) -> Iterator[Any]:
    """Pass records through, counting mobility-related packets whose content cannot be
    seen: ESP (a BU/BA to the home agent is usually ESP-protected) and fragments."""
    for rec in records:
        proto = getattr(rec, "proto", None)
        if proto == NH_ESP:
            counter["ESP"] += 1
        elif proto == NH_FRAGMENT:
            counter["non-first fragments"] += 1
        yield rec


def _decode_task(
    path: str,
    diag: Diagnostics,
    stats: StreamStats,
    esp_sas: EspSAs = None,
    progress: ProgressLike = None,
) -> tuple[pd.DataFrame, Counter[str]]:
    from ebutool.report.message_table import decode_frame

    opaque: Counter[str] = Counter()
    records = read_input(path, diag, stats, progress, esp_sas=esp_sas)
    df = decode_frame(count_opaque(records, opaque), esp=bool(esp_sas))
    df.attrs[TIME_DECIMALS] = stats.time_decimals
    return df, opaque


def decode_stream(
    path: str,
    diag: Diagnostics,
    stats: StreamStats,
    opaque: Counter[str],
    progress: ProgressLike = None,
    esp_sas: EspSAs = None,
) -> Generator[pd.DataFrame, None, None]:
    """The decode table of one input (what :func:`decode_files` gives for it) as
    consecutive pieces, made while the input is read (ebutool.report.message_table)."""
    from ebutool.report.message_table import decode_chunks

    check_paths([path], "decode")
    records = read_input(path, diag, stats, progress, esp_sas=esp_sas)
    return at_resolution(decode_chunks(count_opaque(records, opaque), esp=bool(esp_sas)), stats)


def decode_files(
    paths: Sequence[str | os.PathLike[str]],
    jobs: int = 1,
    diag: Diagnostics | None = None,
    stats: StreamStats | None = None,
    opaque: Counter[str] | None = None,
    progress: ProgressLike = None,
    esp_sas: EspSAs = None,
) -> pd.DataFrame:
    """One row per Mobility Header message of every input (``source`` first when there
    are several); ``opaque`` counts what cannot be decoded (:func:`count_opaque`).
    With ``esp_sas`` (ebutool.esp) ESP is decrypted and the table gains the columns
    ``esp_spi``, ``esp_seq`` and ``esp_algorithm`` at its end."""
    names = check_paths(paths, "decode")
    parts = per_file(
        _decode_task,
        names,
        esp_sas,
        jobs=jobs,
        diag=diag if diag is not None else Diagnostics(),
        stats=stats if stats is not None else StreamStats(),
        progress=progress,
    )
    done, labels = readable(parts, source_labels(names))
    if opaque is not None:
        for _, counts in done:
            opaque.update(counts)
    return tagged([df for df, _ in done], labels, always=len(names) > 1)


def _decode_spilled(
    path: str,
    diag: Diagnostics,
    stats: StreamStats,
    root: str,
    esp_sas: EspSAs = None,
    progress: ProgressLike = None,
) -> Spilled:
    opaque: Counter[str] = Counter()
    out = Spilled.into(root, decode_stream(path, diag, stats, opaque, None, esp_sas))
    out.attrs = {TIME_DECIMALS: stats.time_decimals, "opaque": opaque}
    return out


def decode_files_streamed(
    paths: Sequence[str | os.PathLike[str]],
    jobs: int = 1,
    *,
    diag: Diagnostics,
    stats: StreamStats,
    opaque: Counter[str],
    esp_sas: EspSAs = None,
) -> StreamedTable:
    """:func:`decode_files` of several inputs in pieces, none held until every input
    is read (ebutool.runner.files_streamed: the same table)."""
    names = check_paths(paths, "decode")
    made = tagged_spilled(_decode_spilled, names, esp_sas, jobs=jobs, diag=diag, stats=stats)
    for table in made.tables:
        opaque.update(table.attrs["opaque"])
    return made
