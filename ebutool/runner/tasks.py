"""The commands' work on several inputs, through the one runner (ebutool.runner.multi).

Every function takes the input paths (after :func:`ebutool.runner.inputs.expand_inputs`)
and ``jobs``; with one path it gives exactly the table of the single-input function
(:func:`ebutool.analysis.analyze`, :func:`ebutool.oracle.verify.verify`,
:func:`ebutool.cn_replay.replay`, the decode table), with several the tables of the files
one after the other, a ``source`` column first (analyze's ``source`` column is always
there, in its place).  ``-j N`` gives the same tables, warnings and counts as ``-j 1``.

- :func:`analyze_files`: each file analysed on its own (a fresh CN oracle per file,
  episodes numbered 1, 2, ... over all files, then the ``mn``/``cn`` filter), or with
  ``merge=True`` the files merged by time into one capture (episodes may span files);
  a record store (ebutool.store) is analysed as ``merge=True`` of its inputs (parts of
  several vantage points as views of one run, ebutool.store.vantages).
- :func:`episodes_by_file`: compare's episodes, each file on its own and numbered on its
  own, with a leading ``file`` column.
- :func:`decode_files`, :func:`verify_files`, :func:`replay_files` (a :class:`ReplayRuns`).
- :func:`read_input`: the message stream of a capture, a trace or a record store
  (``ebutool extract``); analyze, compare, decode, verify and replay read a store like
  one capture.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

import numpy as np

from ebutool.analysis import (
    analyze,
    analyze_pieces,
    analyze_records,
    filter_address,
    make_oracle,
)
from ebutool.analysis.vantage import check_role, role_for
from ebutool.core.constants import DEFAULT_CONFIG, NH_ESP, NH_FRAGMENT, ProtocolConfig
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import UsageError
from ebutool.core.exact_time import TIME_DECIMALS, at_resolution, merged_attrs
from ebutool.records.from_packet import StreamStats
from ebutool.runner.files_streamed import (
    Spilled,
    StreamedTable,
    merged_sources,
    merged_spilled,
    mn_cn_rows,
    per_file_spilled,
    spill_root,
    tagged_spilled,
)
from ebutool.runner.lean import kept_columns
from ebutool.runner.multi import (
    check_paths,
    merged_records,
    per_file,
    readable,
    source_labels,
    tagged,
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

    from ebutool.cn_replay import ReplayResult
    from ebutool.core.progress import NullProgress, Progress
    from ebutool.esp.sa import EspSA
    from ebutool.oracle.keys import KeyTable

    EspSAs = Sequence[EspSA] | None
    ProgressLike = Progress | NullProgress | None


def read_input(
    path: str,
    diag: Diagnostics,
    stats: StreamStats | None,
    progress: ProgressLike = None,
    esp_sas: Sequence[EspSA] | None = None,
) -> Iterator[Any]:
    """The message stream of one input: a capture or trace (its reader, decrypting ESP
    with ``esp_sas``), or a record store (ebutool.store: its parts merged by time, as
    ``--merge`` of its inputs; a store holds records already decrypted at extraction)."""
    if is_store(path):
        from ebutool.store import store_records

        store_sas_note(path, esp_sas, diag)
        return store_records(path, diag, stats)
    from ebutool.stream.reader import read_records

    return read_records(path, diag, stats, progress=progress, esp_sas=esp_sas)


def store_sas_note(path: str, esp_sas: EspSAs, diag: Diagnostics) -> None:
    """A store's records are read as extracted: ESP SAs given for a store some of whose
    parts were extracted with other SAs (or none) are a counted warning, never silently
    unused (``esp_sa_not_applied``; ``extract --esp-sa`` applies them)."""
    if not esp_sas:
        return
    from ebutool.esp.sa import sas_digest
    from ebutool.store import store_parts

    want = sas_digest(esp_sas)
    parts = store_parts(path)
    other = [p for p in parts if p.meta.get("esp_sas_sha256") != want]
    if other:
        diag.warn(
            "esp_sa_not_applied",
            f"{path}: the ESP SAs given are not applied to a record store, and {len(other)} "
            f"of its {len(parts)} parts were extracted with other SAs or none: "
            "extract again with them (ebutool extract --esp-sa FILE)",
        )


# --- analyze and compare ----------------------------------------------------------------------


def _analyze_task(
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
        one = _analyze_task(
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
        _analyze_task,
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
        _analyze_task if columns is None else partial(_lean_task, columns=list(columns)),
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
    """:func:`_analyze_task` keeping only ``columns``: a capture's table is read in
    pieces (ebutool.analysis.analyze_pieces: beyond SPILL_ROWS the rows wait on disk),
    each cut to ``columns`` (ebutool.runner.lean), so memory holds a few words per
    episode instead of the whole table (issue 12)."""
    if is_store(path):
        df = _analyze_task(path, diag, stats, config, keys, oracle, mn, cn, esp_sas)
        return df[[c for c in df.columns if c in columns]].copy()
    pieces, vantage_made = analyze_pieces(
        path, mn=mn, cn=cn, config=config, keys=keys, diag=diag, stats=stats,
        oracle=oracle, esp_sas=esp_sas, progress=progress,
    )  # fmt: skip
    return kept_columns(pieces, columns, vantage_made)


# --- decode -------------------------------------------------------------------------------------


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


# --- verify -------------------------------------------------------------------------------------


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
        return verdicts_frame(Oracle(keys, config, diag=diag).run(read_input(path, diag, stats)))
    return verify(path, keys=keys, config=config, diag=diag, stats=stats, esp_sas=esp_sas)


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
            yield verdicts_frame(piece)
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
    out.attrs = {"counts": counts}
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


# --- replay -------------------------------------------------------------------------------------


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


__all__ = [
    "analyze_files",
    "episodes_by_file",
    "count_opaque",
    "decode_files",
    "decode_files_streamed",
    "verify_files",
    "verify_files_streamed",
    "replay_files",
    "replay_stream_file",
    "replay_written",
    "ReplayRuns",
    "read_input",
]
