"""analyze over several inputs: each file on its own, or merged by time into one capture.

- :func:`analyze_files`: each file analysed on its own (a fresh CN oracle per file,
  episodes numbered 1, 2, ... over all files, then the ``mn``/``cn`` filter), or with
  ``merge=True`` the files merged by time into one capture (episodes may span files);
  a record store (ebutool.store) is analysed as ``merge=True`` of its inputs (parts of
  several vantage points as views of one run, ebutool.store.vantages).
- :func:`analyze_files_streamed`: the same table in pieces, none held whole.

With one path it gives exactly the table of :func:`ebutool.analysis.analyze`; ``-j N``
gives the same table, warnings and counts as ``-j 1`` (ebutool.runner.multi).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from ebutool.analysis import (
    analyze,
    analyze_records,
    filter_address,
    make_oracle,
)
from ebutool.analysis.vantage import check_role, role_for
from ebutool.core.constants import DEFAULT_CONFIG, ProtocolConfig
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import UsageError
from ebutool.core.exact_time import TIME_DECIMALS, merged_attrs
from ebutool.records.from_packet import StreamStats
from ebutool.runner.files_streamed import (
    StreamedTable,
    merged_sources,
    merged_spilled,
    mn_cn_rows,
    per_file_spilled,
    spill_root,
)
from ebutool.runner.inputs import store_sas_note
from ebutool.runner.multi import (
    check_paths,
    merged_records,
    per_file,
    readable,
    source_labels,
)
from ebutool.runner.views import (
    PieceWarnings,
    analyze_as_views,
    offsets_of,
    stitch_rotated,
    views_asked,
)
from ebutool.store.layout import is_store

if TYPE_CHECKING:
    import pandas as pd

    from ebutool.core.progress import NullProgress, Progress
    from ebutool.esp.sa import EspSA
    from ebutool.oracle.keys import KeyTable

    EspSAs = Sequence[EspSA] | None
    ProgressLike = Progress | NullProgress | None


def analyze_task(
    path: str,
    diag: Diagnostics,
    stats: StreamStats,
    config: ProtocolConfig,
    keys: KeyTable | None,
    oracle: Any,
    mn: str | None = None,
    cn: str | None = None,
    esp_sas: EspSAs = None,
    vantage: dict[str, str] | None = None,
    progress: ProgressLike = None,
    clock_offsets: dict[str, tuple[float, float]] | None = None,
) -> pd.DataFrame:
    if is_store(path):  # a record store (ebutool extract): its parts merged, as --merge
        from ebutool.store import analyze_store

        store_sas_note(path, esp_sas, diag)
        return analyze_store(
            path,
            mn=mn,
            cn=cn,
            config=config,
            keys=keys,
            diag=diag,
            stats=stats,
            oracle=oracle,
            vantage=role_for(path, vantage or {}) or vantage,  # (the store named: every part)
            clock_offsets=clock_offsets,
        )
    df = analyze(
        path,
        mn=mn,
        cn=cn,
        config=config,
        keys=keys,
        diag=diag,
        stats=stats,
        oracle=oracle,
        progress=progress,
        esp_sas=esp_sas,
        vantage=role_for(path, vantage or {}),
    )
    df.attrs[TIME_DECIMALS] = stats.time_decimals  # the episodes' exact times: exact_time
    return df


def analyze_files(
    paths: Sequence[str | os.PathLike[str]],
    jobs: int = 1,
    *,
    mn: str | None = None,
    cn: str | None = None,
    config: ProtocolConfig = DEFAULT_CONFIG,
    keys: KeyTable | None = None,
    diag: Diagnostics | None = None,
    stats: StreamStats | None = None,
    oracle: Any = None,
    merge: bool = False,
    progress: ProgressLike = None,
    esp_sas: EspSAs = None,
    vantage: dict[str, str] | str | None = None,
    clock_offsets: dict[str, Any] | None = None,
    no_merge: bool = False,
    cluster: str | None = None,
    log: Any = None,
) -> pd.DataFrame:
    """One row per episode of the inputs (module doc).  ``oracle``: None builds the CN
    oracle (with ``keys``), False skips it; an Oracle object is shared by all files (and
    keeps the work in this process).  ``esp_sas``: ESP SAs (ebutool.esp) to decrypt
    protected signalling with.  ``vantage``: {path or base name: role} (or one role for
    every input) overrides the detected vantage points; what was decided, and on what
    evidence, is in ``df.attrs["vantage"]`` (VantageDecision.as_dict per file).
    Views of one run (``merge`` or ``vantage`` naming several roles) are merged into
    one timeline (ebutool.runner.views), ``clock_offsets`` ({path: seconds or
    (seconds, ppm)}) instead of the estimated clocks; a capture rotated over several
    files is merged by time unless ``no_merge`` (notes in ``df.attrs["notes"]``).
    A record store with ``jobs`` > 1 or ``cluster`` (a Dask cluster, ebutool.runner.cluster)
    is analysed split by mobile node, one task per group (the same table); ``log`` gets
    the cluster's dashboard address."""
    names = check_paths(paths, "analyze")
    diag = diag if diag is not None else Diagnostics()
    stats = stats if stats is not None else StreamStats()
    given = _roles(names, vantage)
    offsets = offsets_of(clock_offsets)
    if any(is_store(n) for n in names) and (len(names) > 1 or cluster is not None or jobs > 1):
        args = (mn, cn, config, keys, diag, stats, oracle, jobs, cluster, log, esp_sas)
        return _analyze_store(names, *args, (given, offsets))  # (one process: the task below)
    if cluster is not None:
        raise UsageError("--cluster analyses a record store: ebutool extract the captures first")
    if len(names) == 1:
        one = analyze_task(
            names[0], diag, stats, config, keys, oracle, mn, cn, esp_sas, given, progress, offsets
        )
        one.attrs.pop("footprint", None)
        return one
    several = (config, keys, esp_sas, given, offsets)
    return _several(names, jobs, mn, cn, diag, stats, oracle, merge, no_merge, several, progress)


def analyze_files_streamed(
    paths: Sequence[str | os.PathLike[str]],
    jobs: int = 1,
    *,
    mn: str | None = None,
    cn: str | None = None,
    config: ProtocolConfig = DEFAULT_CONFIG,
    keys: KeyTable | None = None,
    diag: Diagnostics,
    stats: StreamStats,
    merge: bool = False,
    esp_sas: EspSAs = None,
    vantage: dict[str, str] | None = None,
    clock_offsets: dict[str, Any] | None = None,
    no_merge: bool = False,
) -> StreamedTable | pd.DataFrame:
    """:func:`analyze_files` of several inputs, none a record store, in pieces written
    nowhere until every input is read (ebutool.runner.files_streamed: the same table,
    never whole in memory); inputs that are views of one run give their whole table."""
    names = check_paths(paths, "analyze")
    if len(names) < 2 or any(is_store(n) for n in names):
        raise ValueError("analyze_files_streamed: several inputs, none a record store")
    several = (config, keys, esp_sas, _roles(names, vantage), offsets_of(clock_offsets))
    return _several(names, jobs, mn, cn, diag, stats, None, merge, no_merge, several, None, True)


def _roles(names: list[str], vantage: dict[str, str] | str | None) -> dict[str, str]:
    """``--vantage`` as {path or base name: role}, each role checked (one role: every input's)."""
    given = dict.fromkeys(names, vantage) if isinstance(vantage, str) else dict(vantage or {})
    return {path: check_role(role) for path, role in given.items()}


def _several(
    names: list[str],
    jobs: int,
    mn: str | None,
    cn: str | None,
    diag: Diagnostics,
    stats: StreamStats,
    oracle: Any,
    merge: bool,
    no_merge: bool,
    options: tuple[ProtocolConfig, Any, EspSAs, dict[str, str], dict],
    progress: ProgressLike = None,
    streamed: bool = False,
) -> Any:
    """analyze_files of several inputs (not a record store): views of one run, merged
    by time, or each on its own; ``streamed``: in pieces (analyze_files_streamed)."""
    config, keys, esp_sas, given, offsets = options
    mn, cn = filter_address(mn, "--mn"), filter_address(cn, "--cn")
    if merge and no_merge:
        raise UsageError("--merge and --no-merge contradict each other: give one of them")
    if not no_merge and views_asked(names, given, merge):
        if oracle is None:
            oracle = make_oracle(keys, config, diag)
        return analyze_as_views(
            names,
            jobs,
            given=given,
            clock_offsets=offsets,
            diag=diag,
            stats=stats,
            esp_sas=esp_sas,
            mn=mn,
            cn=cn,
            config=config,
            oracle=oracle if oracle is not None else False,
        )
    if merge:
        roles = {role_for(name, given) for name in names}
        role = roles.pop() if len(roles) == 1 else "multi"
        if streamed:
            return _merged_streamed(names, jobs, mn, cn, config, keys, diag, stats, esp_sas, role)
        return _analyze_merged(
            names, jobs, mn, cn, config, keys, diag, stats, oracle, progress, esp_sas, role
        )
    if streamed:
        return per_file_spilled(
            names, jobs, config=config, keys=keys, esp_sas=esp_sas, given=given, diag=diag,
            stats=stats, mn=mn, cn=cn, no_merge=no_merge,
        )  # fmt: skip
    return _each_on_its_own(names, jobs, mn, cn, diag, stats, oracle, no_merge, options)


def _merged_streamed(
    names: list[str],
    jobs: int,
    mn: str | None,
    cn: str | None,
    config: ProtocolConfig,
    keys: Any,
    diag: Diagnostics,
    stats: StreamStats,
    esp_sas: EspSAs,
    role: str | None,
) -> StreamedTable:
    """``--merge``'s one analysis (:func:`_analyze_merged`) in pieces."""
    with spill_root() as root:
        table = merged_spilled(
            root.name, names, jobs, config, keys, esp_sas, role, mn=mn, cn=cn, diag=diag,
            stats=stats,
        )  # fmt: skip
        return StreamedTable([table], root, numbered=False)


def _each_on_its_own(
    names: list[str],
    jobs: int,
    mn: str | None,
    cn: str | None,
    diag: Diagnostics,
    stats: StreamStats,
    oracle: Any,
    no_merge: bool,
    options: tuple[ProtocolConfig, Any, EspSAs, dict[str, str], dict],
) -> pd.DataFrame:
    """Every input analysed on its own, a rotated capture's pieces merged by time."""
    config, keys, esp_sas, given, _ = options
    if oracle not in (None, False):
        jobs = 1  # an oracle object cannot be shared with other processes
    results = per_file(
        analyze_task,
        names,
        config,
        keys,
        oracle,
        None,
        None,
        esp_sas,
        given,
        jobs=jobs,
        diag=diag,
        stats=stats,
        diags=(warnings := PieceWarnings(diag)).per_file,
    )
    # Episode numbers count every episode of every file, so the filter comes last.
    frames, labels = readable(results, source_labels(names))
    notes: list[str] = []
    shown: list[str | None] = list(labels)
    if not no_merge and len(frames) > 1:
        kept = [str(n) for n, r in zip(names, results, strict=True) if r is not None]
        by_time = partial(_pieces_merged, jobs, config, keys, oracle, esp_sas, warnings)
        frames, shown, notes = stitch_rotated(frames, kept, labels, by_time, diag)
    warnings.settle(names, results, shown)
    return _put_together(frames, shown, mn, cn, notes)


def _pieces_merged(
    jobs: int,
    config: ProtocolConfig,
    keys: Any,
    oracle: Any,
    esp_sas: EspSAs,
    warnings: PieceWarnings,
    parts: list[str],
) -> pd.DataFrame:
    """The pieces of one rotated capture merged by time (their counts were taken when
    each was analysed on its own; their warnings are the merged analysis', which
    ``warnings`` hands to the run instead of the pieces' own)."""
    return _analyze_merged(
        parts, jobs, None, None, config, keys, warnings.for_merged(parts), StreamStats(),
        oracle, None, esp_sas,
    )  # fmt: skip


def _put_together(
    frames: list[pd.DataFrame],
    labels: Sequence[str | None],
    mn: str | None,
    cn: str | None,
    notes: list[str],
) -> pd.DataFrame:
    """The tables one after the other, ``source`` the file's label (a rotated capture's
    table, label None, keeps the piece each episode began in), episodes numbered over
    all, then the ``mn``/``cn`` filter; the vantage decisions and notes in attrs."""
    import pandas as pd

    for f in frames:
        f.attrs.pop("footprint", None)
    decisions = [d for f in frames for d in f.attrs.get("vantage", [])]
    df = pd.concat(frames, ignore_index=True)
    df.attrs["vantage"] = decisions
    df.attrs.update(merged_attrs(frames))  # exact times (concat drops attrs that differ)
    sources = [
        label if label is not None else s
        for f, label in zip(frames, labels, strict=True)
        for s in f["source"]
    ]
    df["source"] = pd.Series(sources, index=df.index, dtype=df["source"].dtype)
    df["episode"] = pd.Series(range(1, len(df) + 1), index=df.index, dtype=df["episode"].dtype)
    out = mn_cn_rows(df, mn, cn)
    out.attrs["vantage"] = decisions
    out.attrs.update(merged_attrs(frames))
    out.attrs["notes"] = notes
    return out


def _analyze_store(
    names: list[str],
    mn: str | None,
    cn: str | None,
    config: ProtocolConfig,
    keys: KeyTable | None,
    diag: Diagnostics,
    stats: StreamStats,
    oracle: Any,
    jobs: int = 1,
    cluster: str | None = None,
    log: Any = None,
    esp_sas: EspSAs = None,
    views: tuple[dict, dict] = ({}, {}),
) -> pd.DataFrame:
    """A record store (ebutool extract) given with other inputs (refused), or to be
    split by mobile node over ``jobs`` processes or the Dask ``cluster``.  ``esp_sas``
    only checked against those the store was extracted with (store_sas_note); ``views``:
    (--vantage, --clock-offset) for a store of several vantage points."""
    if len(names) > 1:
        raise UsageError("a record store is analysed on its own: give only the store")
    from ebutool.runner.cluster import analyze_store_split

    store_sas_note(names[0], esp_sas, diag)
    options: dict[str, Any] = dict(
        mn=mn, cn=cn, config=config, keys=keys, diag=diag, stats=stats, oracle=oracle
    )
    options.update(vantage=role_for(names[0], views[0]) or views[0], clock_offsets=views[1])
    return analyze_store_split(names[0], jobs, cluster=cluster, say=log, **options)


def _analyze_merged(
    names: list[str],
    jobs: int,
    mn: str | None,
    cn: str | None,
    config: ProtocolConfig,
    keys: KeyTable | None,
    diag: Diagnostics,
    stats: StreamStats,
    oracle: Any,
    progress: ProgressLike,
    esp_sas: EspSAs = None,
    vantage: str | None = None,
) -> pd.DataFrame:
    """The files merged by time, analysed as one capture; ``source`` says where each
    episode began.  ``vantage``: the one role --vantage gives them all, ``multi`` when
    it gives several (views of one run are not merged into one timeline yet, so a
    ``multi`` table has no vantage-dependent values), None: detected."""
    if oracle is None:
        oracle = make_oracle(keys, config, diag)
    records = merged_records(
        names, jobs, diag=diag, stats=stats, progress=progress, esp_sas=esp_sas
    )
    df = analyze_records(
        records,
        mn,
        cn,
        config,
        diag,
        oracle=oracle if oracle is not None else False,
        check=False,
        vantage=vantage,
        label="the merged inputs",
    )
    df.attrs[TIME_DECIMALS] = stats.time_decimals  # a nanosecond capture's 9 decimals
    return merged_sources(df, names)
