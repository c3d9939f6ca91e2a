"""Several inputs: directory arguments, and per-file work in N processes.

    from ebutool.inputs_multi import expand_inputs, analyze_files, map_files

- :func:`expand_inputs` turns command-line arguments into input paths: a directory
  means every capture directly in it, recognised by content (pcap/pcapng magic; JSON
  traces, keys and scenario files beside them are left out, and listed for the caller to
  report), sorted by name; other arguments (files, ``-``) are kept as given, so a missing
  file still gets its own error.  Hidden files and subdirectories are not looked at.
- :func:`map_files` runs ``func(path, *args)`` for every path in up to ``jobs``
  processes (``concurrent.futures.ProcessPoolExecutor``) and returns the results in
  argument order; ``jobs=1`` runs in-process.
- :func:`read_files` reads every file's record stream in parallel (the expensive part:
  every packet of every capture) and returns the records with the per-file
  diagnostics and stats merged.
- :func:`analyze_files` is ``ebutool.analysis.analyze(*paths, ...)`` with the work in
  ``jobs`` processes, giving the same table.  By default (as ``analyze``) each file is
  analysed on its own: in the workers, the tables concatenated in argument order,
  ``source`` labelled and ``episode`` renumbered as ``analyze`` does, then the
  ``mn``/``cn`` filter; diagnoses and stats are identical (file by file), and each kept
  diagnosis carries its file's label (``Diagnosis.source``, the ``source`` column's value).  With
  ``merge=True`` (one capture split over several files) the files are *read* in the
  workers, and their records merged by time and analysed in the parent, so episodes
  may span files; diagnosis counts are identical, kept messages come file by file.
- :func:`decode_files`: the ``decode`` table of each file, concatenated in order.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import InputError, UsageError
from ebutool.records.from_packet import StreamStats
from ebutool.stream.sniff import CAPTURE_MAGICS

# --- arguments ----------------------------------------------------------------------------


def sniff(path: str | os.PathLike) -> str | None:
    """ "capture", "jsonl" or None for the file at ``path``, from its first octets."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
    except OSError:
        return None
    if head[:4] in CAPTURE_MAGICS:
        return "capture"
    stripped = head.lstrip()
    if stripped[:1] == b"{":
        return "jsonl"
    return None


def expand_inputs(
    args: Iterable[str | os.PathLike], left_out: list[str] | None = None
) -> list[str]:
    """Paths to read for the command-line ``args`` (see module doc).  The files of a
    directory that are not captures are appended to ``left_out`` (so the caller can
    say so: nothing is skipped silently)."""
    out: list[str] = []
    args = [os.fspath(a) for a in args]
    if args.count("-") > 1:
        raise UsageError("'-' (standard input) can be given only once")
    for arg in args:
        name = os.fspath(arg)
        if name != "-" and os.path.isdir(name):
            entries = sorted(e for e in os.listdir(name) if not e.startswith("."))
            files = [p for p in (os.path.join(name, e) for e in entries) if os.path.isfile(p)]
            # Captures only (issue 6): a folder of results also holds keys files,
            # scenario files and the JSON traces converted from its captures.
            found = []
            for p in files:
                if sniff(p) == "capture":
                    found.append(p)
                elif left_out is not None:
                    left_out.append(p)
            if not found:
                raise InputError(f"{name}: is a directory with no pcap or pcapng capture in it")
            out.extend(found)
        else:
            out.append(name)
    return out


def default_jobs() -> int:
    """One process per available CPU."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


# --- running ------------------------------------------------------------------------------


def map_files(func: Callable[..., Any], paths: Sequence[str], jobs: int = 1, *args) -> list:
    """``[func(p, *args) for p in paths]``, computed in up to ``jobs`` processes (a
    module-level, picklable ``func``); exceptions propagate (the first in argument order).
    Standard input (``-``) is always handled in this process."""
    jobs = max(1, min(jobs, len(paths)))
    if jobs == 1 or len(paths) <= 1:
        return [func(p, *args) for p in paths]
    results: list = [None] * len(paths)
    remote = [i for i, p in enumerate(paths) if p != "-"]
    with ProcessPoolExecutor(max_workers=min(jobs, max(1, len(remote)))) as pool:
        futures = {i: pool.submit(func, paths[i], *args) for i in remote}
        for i, p in enumerate(paths):
            if p == "-":
                results[i] = func(p, *args)
        for i in remote:
            results[i] = futures[i].result()
    return results


def _labels(paths: Sequence[str]) -> list[str]:
    from ebutool.analysis import _labels as labels  # the ``source`` column's labels

    return labels(paths)


def merge_stats(into: StreamStats, other: StreamStats) -> StreamStats:
    into.frames += other.frames
    into.ipv6 += other.ipv6
    into.relevant += other.relevant
    into.skipped.update(other.skipped)
    into.messages.update(other.messages)
    return into


def _read_one(path: str) -> tuple[list, Diagnostics, StreamStats]:
    from ebutool.analysis.episodes import check_order
    from ebutool.stream.reader import read_records

    diag, stats = Diagnostics(), StreamStats()
    records = list(check_order(read_records(path, diag, stats), diag))
    return records, diag, stats


def read_files(
    paths: Sequence[str],
    jobs: int = 1,
    diag: Diagnostics | None = None,
    stats: StreamStats | None = None,
) -> list[list]:
    """The record stream of each file (each checked for time order), read in ``jobs``
    processes; per-file diagnostics and stats are merged into ``diag``/``stats``."""
    out = []
    paths = list(paths)
    for label, (records, d, s) in zip(
        _labels(paths), map_files(_read_one, paths, jobs), strict=False
    ):
        if diag is not None:
            diag.merge(d.labelled(label) if len(paths) > 1 else d)
        if stats is not None:
            merge_stats(stats, s)
        out.append(records)
    return out


def analyze_files(
    paths: Sequence[str | os.PathLike],
    jobs: int = 1,
    *,
    mn: str | None = None,
    cn: str | None = None,
    config=None,
    keys=None,
    diag: Diagnostics | None = None,
    stats: StreamStats | None = None,
    oracle=None,
    merge: bool = False,
    progress=None,
):
    """``ebutool.analysis.analyze(*paths, ...)`` with the work spread over ``jobs``
    processes; same parameters, same table (module doc).  ``paths`` should come from
    :func:`expand_inputs`.  ``progress`` follows a single file read in this process."""
    from ebutool.analysis import analyze
    from ebutool.core.constants import DEFAULT_CONFIG
    from ebutool.core.errors import UsageError

    paths = [os.fspath(p) for p in paths]
    if not paths:
        raise UsageError("analyze needs at least one capture or trace")
    config = config if config is not None else DEFAULT_CONFIG
    diag = diag if diag is not None else Diagnostics()
    if jobs <= 1 or len(paths) == 1:  # analyze() labels each file's warnings itself
        return analyze(
            *paths,
            mn=mn,
            cn=cn,
            config=config,
            keys=keys,
            diag=diag,
            stats=stats,
            oracle=oracle,
            merge=merge,
            progress=progress,
        )
    from ebutool.analysis import _address

    mn, cn = _address(mn, "--mn"), _address(cn, "--cn")
    if merge:
        return _analyze_merged(paths, jobs, mn, cn, config, keys, diag, stats, oracle)
    # Each file on its own (analyze's default): analysed in the workers without the
    # mn/cn filter, because episode numbers count every episode of every file in order.
    import pandas as pd

    parts = map_files(_analyze_one, paths, jobs, config, keys, oracle is False)
    frames, sources = [], []
    for label, (df, d, s) in zip(_labels(paths), parts, strict=False):
        diag.merge(d.labelled(label))
        if stats is not None:
            merge_stats(stats, s)
        frames.append(df)
        sources += [label] * len(df)
    df = pd.concat(frames, ignore_index=True)
    df["source"] = pd.Series(sources, index=df.index, dtype=df["source"].dtype)
    df["episode"] = pd.array(range(1, len(df) + 1), dtype=df["episode"].dtype)
    keep = pd.Series(True, index=df.index)
    if mn is not None:
        keep &= df["mn"] == mn
    if cn is not None:
        keep &= df["cn"] == cn
    return df[keep].reset_index(drop=True)


def _analyze_merged(paths, jobs, mn, cn, config, keys, diag, stats, oracle):
    """analyze(..., merge=True): the files read in parallel, merged by time, analysed here."""
    from ebutool.analysis import build_episodes, episodes_frame, make_oracle

    if oracle is None:
        oracle = make_oracle(keys, config, diag)
    streams = read_files(paths, jobs, diag, stats if stats is not None else StreamStats())
    records = heapq.merge(*streams, key=lambda r: r.ts_ns)
    eps = build_episodes(records, config, diag, oracle or None, check=False)
    names = dict(zip(paths, _labels(paths), strict=False))
    for e in eps:
        e.source = names.get(e.source, e.source)
    eps = [e for e in eps if (mn is None or e.mn == mn) and (cn is None or e.cn == cn)]
    return episodes_frame(eps)


def _analyze_one(path: str, config, keys, no_oracle: bool):
    from ebutool.analysis import analyze

    diag, stats = Diagnostics(), StreamStats()
    df = analyze(
        path, config=config, keys=keys, diag=diag, stats=stats, oracle=False if no_oracle else None
    )
    return df, diag, stats


def _decode_one(path: str):
    from ebutool.report.message_table import decode_frame
    from ebutool.stream.reader import read_records

    diag, stats = Diagnostics(), StreamStats()
    df = decode_frame(read_records(path, diag, stats))
    return df, diag, stats


def decode_files(
    paths: Sequence[str],
    jobs: int = 1,
    diag: Diagnostics | None = None,
    stats: StreamStats | None = None,
):
    """The ``decode`` table of each file, concatenated in argument order."""
    import pandas as pd

    frames = []
    paths = [os.fspath(p) for p in paths]
    for label, (df, d, s) in zip(_labels(paths), map_files(_decode_one, paths, jobs), strict=False):
        if diag is not None:
            diag.merge(d.labelled(label) if len(paths) > 1 else d)
        if stats is not None:
            merge_stats(stats, s)
        frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


__all__ = [
    "expand_inputs",
    "sniff",
    "default_jobs",
    "map_files",
    "read_files",
    "merge_stats",
    "analyze_files",
    "decode_files",
]
