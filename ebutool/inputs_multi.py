"""Several inputs: directory arguments, and per-file work in N processes.

    from ebutool.inputs_multi import expand_inputs, analyze_files, map_files

- :func:`expand_inputs` turns command-line arguments into input paths: a directory
  means every capture or trace directly in it, recognised by content (pcap/pcapng
  magic, or a JSON Lines trace starting with ``{``), sorted by name; other arguments
  (files, ``-``) are kept as given, so a missing file still gets its own error.
- :func:`map_files` runs ``func(path, *args)`` for every path in up to ``jobs``
  processes (``concurrent.futures.ProcessPoolExecutor``) and returns the results in
  argument order; ``jobs=1`` runs in-process.
- :func:`read_files` reads every file's record stream in parallel (the expensive part:
  every packet of every capture) and returns the records with the per-file
  diagnostics and stats merged.
- :func:`analyze_files` is ``ebutool.analysis.analyze`` over several files with the
  reading done in ``jobs`` processes: the records of all files are merged by time in
  the parent and analysed there, so the table is the one the serial ``analyze`` gives
  (episodes may span files, e.g. a capture rotated into several files).  Diagnoses
  are the same in number; the kept messages come file by file instead of interleaved.
  ``per_file=True`` instead analyses each file on its own in the workers and
  concatenates the tables in argument order (with a ``source`` column).
- :func:`decode_files`: the ``decode`` table of each file, concatenated in order.
"""
from __future__ import annotations

import heapq
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Iterable, Sequence

from .diagnostics import Diagnostics
from .inputs import CAPTURE_MAGICS
from .stream import StreamStats


# --- arguments ----------------------------------------------------------------------------

def sniff(path: str | os.PathLike) -> str | None:
    """"capture", "jsonl" or None for the file at ``path``, from its first octets."""
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


def expand_inputs(args: Iterable[str | os.PathLike]) -> list[str]:
    """Paths to read for the command-line ``args`` (see module doc)."""
    out: list[str] = []
    for arg in args:
        name = os.fspath(arg)
        if name != "-" and os.path.isdir(name):
            entries = sorted(e for e in os.listdir(name) if not e.startswith("."))
            for entry in entries:
                p = os.path.join(name, entry)
                if os.path.isfile(p) and sniff(p) is not None:
                    out.append(p)
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


def merge_stats(into: StreamStats, other: StreamStats) -> StreamStats:
    into.frames += other.frames
    into.ipv6 += other.ipv6
    into.relevant += other.relevant
    into.skipped.update(other.skipped)
    into.messages.update(other.messages)
    return into


def _read_one(path: str) -> tuple[list, Diagnostics, StreamStats]:
    from .analysis.episodes import check_order
    from .stream import read_records
    diag, stats = Diagnostics(), StreamStats()
    records = list(check_order(read_records(path, diag, stats), diag))
    return records, diag, stats


def read_files(paths: Sequence[str], jobs: int = 1, diag: Diagnostics | None = None,
               stats: StreamStats | None = None) -> list[list]:
    """The record stream of each file (each checked for time order), read in ``jobs``
    processes; per-file diagnostics and stats are merged into ``diag``/``stats``."""
    out = []
    for records, d, s in map_files(_read_one, list(paths), jobs):
        if diag is not None:
            diag.merge(d)
        if stats is not None:
            merge_stats(stats, s)
        out.append(records)
    return out


def analyze_files(paths: Sequence[str | os.PathLike], jobs: int = 1, *, mn: str | None = None,
                  cn: str | None = None, config=None, keys=None, diag: Diagnostics | None = None,
                  stats: StreamStats | None = None, oracle=None, per_file: bool = False,
                  quiet: bool = True):
    """The episode table of several inputs, reading them in ``jobs`` processes (module doc).

    Same parameters and result as ``ebutool.analysis.analyze(*paths, ...)``; ``paths``
    should come from :func:`expand_inputs`.  ``quiet=False`` shows the progress bar
    (ebutool.progress: stderr, terminals only) when one file is read in this process."""
    from .analysis import analyze, analyze_records, make_oracle
    from .constants import DEFAULT_CONFIG
    from .errors import UsageError
    paths = [os.fspath(p) for p in paths]
    if not paths:
        raise UsageError("analyze needs at least one capture or trace")
    config = config if config is not None else DEFAULT_CONFIG
    diag = diag if diag is not None else Diagnostics()
    if jobs <= 1 and not per_file:
        if quiet or len(paths) != 1 or paths[0] == "-":
            return analyze(*paths, mn=mn, cn=cn, config=config, keys=keys, diag=diag,
                           stats=stats, oracle=oracle)
        # analyze() of one file, with a progress bar on the read
        from .analysis.episodes import check_order
        from .progress import reading_progress
        from .stream import read_records
        if oracle is None:
            oracle = make_oracle(keys, config, diag)
        with reading_progress(paths[0], quiet=quiet) as prog:
            records = check_order(read_records(paths[0], diag, stats, progress=prog), diag)
            return analyze_records(records, mn, cn, config, diag, oracle or False, check=False)
    if per_file:
        import pandas as pd
        parts = map_files(_analyze_one, paths, jobs, mn, cn, config, keys, oracle is False)
        frames = []
        for path, (df, d, s) in zip(paths, parts):
            diag.merge(d)
            if stats is not None:
                merge_stats(stats, s)
            frames.append(df.assign(source=path))
        return pd.concat(frames, ignore_index=True)
    if oracle is None:
        oracle = make_oracle(keys, config, diag)
    from .analysis import _address
    mn_c, cn_c = _address(mn, "--mn"), _address(cn, "--cn")
    streams = read_files(paths, jobs, diag, stats if stats is not None else StreamStats())
    records = streams[0] if len(streams) == 1 else heapq.merge(*streams, key=lambda r: r.ts_ns)
    return analyze_records(records, mn_c, cn_c, config, diag, oracle or False, check=False)


def _analyze_one(path: str, mn, cn, config, keys, no_oracle: bool):
    from .analysis import analyze
    diag, stats = Diagnostics(), StreamStats()
    df = analyze(path, mn=mn, cn=cn, config=config, keys=keys, diag=diag, stats=stats,
                 oracle=False if no_oracle else None)
    return df, diag, stats


def _decode_one(path: str):
    from .decode import decode_frame
    from .stream import read_records
    diag, stats = Diagnostics(), StreamStats()
    df = decode_frame(read_records(path, diag, stats))
    return df, diag, stats


def decode_files(paths: Sequence[str], jobs: int = 1, diag: Diagnostics | None = None,
                 stats: StreamStats | None = None):
    """The ``decode`` table of each file, concatenated in argument order."""
    import pandas as pd
    frames = []
    for df, d, s in map_files(_decode_one, [os.fspath(p) for p in paths], jobs):
        if diag is not None:
            diag.merge(d)
        if stats is not None:
            merge_stats(stats, s)
        frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


__all__ = ["expand_inputs", "sniff", "default_jobs", "map_files", "read_files", "merge_stats",
           "analyze_files", "decode_files"]
