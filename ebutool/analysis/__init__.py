"""Episode reconstruction, classification and latency analysis (``ebutool analyze``).

    import ebutool
    df = ebutool.analyze("samples/early.pcap")          # one row per episode
    from ebutool.analysis import build_episodes, summarize

An *episode* is one binding-update procedure of one MN with one peer for one new
care-of address (DESIGN.md section 4; columns in section 5 and docs/analysis.md).
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ebutool.analysis.claim import claim_statement
from ebutool.analysis.classify import KINDS, MODES
from ebutool.analysis.columns import DESIGN_COLUMNS, EPISODE_COLUMNS, episodes_frame
from ebutool.analysis.episodes import Reconstructor, check_order
from ebutool.analysis.footprint import Footprint
from ebutool.analysis.metrics import finalize
from ebutool.analysis.observable import apply_vantage
from ebutool.analysis.rows import (
    FALLBACK_KIND,
    PIECE_ROWS,
    UNKNOWN_MH_STATUS,
    EpisodeRows,
    build_rows,
    fallback_note,
)
from ebutool.analysis.spill import SPILL_ROWS
from ebutool.analysis.state import Episode, Step
from ebutool.analysis.summary import SUMMARY_COLUMNS, summarize
from ebutool.analysis.vantage import ROLES, Evidence, VantageDecision, lookahead, resolve
from ebutool.core.addr import canonical
from ebutool.core.constants import DEFAULT_CONFIG, ProtocolConfig
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import EbutoolError, UsageError
from ebutool.core.exact_time import at_resolution
from ebutool.core.gc_tuning import fewer_collections
from ebutool.core.names import readable_name
from ebutool.records.retype import retyped
from ebutool.stream.reader import read_ahead

if TYPE_CHECKING:
    import pandas as pd

    from ebutool.core.progress import NullProgress, Progress
    from ebutool.esp.sa import EspSA
    from ebutool.oracle.keys import KeyTable
    from ebutool.records.from_packet import StreamStats
    from ebutool.records.record import Record

__all__ = [
    "analyze",
    "analyze_records",
    "analyze_pieces",
    "merged_records",
    "source_labels",
    "filter_address",
    "build_episodes",
    "order_key",
    "answers_ebu",
    "add_fallback_cause",
    "iter_episodes",
    "summarize",
    "claim_statement",
    "make_oracle",
    "episodes_frame",
    "Episode",
    "Step",
    "EPISODE_COLUMNS",
    "DESIGN_COLUMNS",
    "SUMMARY_COLUMNS",
    "KINDS",
    "MODES",
    "ROLES",
    "VantageDecision",
]


def make_oracle(
    keys=None, config: ProtocolConfig = DEFAULT_CONFIG, diag: Diagnostics | None = None
):
    """The CN oracle (ebutool.oracle.verify.Oracle) when it is installed, else None
    (then every episode's ``auth`` is "unknown")."""
    try:
        from ebutool.oracle.verify import Oracle
    except ImportError:
        return None
    try:
        return Oracle(keys=keys, config=config, diag=diag)
    except EbutoolError:
        raise  # e.g. an unreadable key file: the user must know
    except Exception as exc:  # auth is optional, the analysis is not
        if diag is not None:
            diag.warn("oracle_error", f"oracle unavailable: {type(exc).__name__}: {exc}")
        return None


def iter_episodes(
    records: Iterable,
    config: ProtocolConfig = DEFAULT_CONFIG,
    diag: Diagnostics | None = None,
    oracle=None,
    vantage: str | None = None,
) -> Iterator[Episode]:
    """Episodes as their MN moves on (streaming; ids are 0 here, see build_episodes).
    ``vantage``: where the capture was taken (ebutool.analysis.vantage; None: the MN);
    the Episodes keep every measured interval, ``analyze`` applies what it can observe."""
    rc = Reconstructor(config, diag, oracle)
    rc.vantage = vantage
    # the draft's own MH types (config.ebu_mh_type, config.eba_mh_type) read as EBU/EBA
    for item in retyped(records, config.mh_types, rc.diag):
        for ho, _ in rc.feed(item):
            yield from finalize(ho, config, None)
    for ho, _ in rc.finish():
        yield from finalize(ho, config, rc.last_ts)


def build_episodes(
    records: Iterable,
    config: ProtocolConfig = DEFAULT_CONFIG,
    diag: Diagnostics | None = None,
    oracle=None,
    check: bool = True,
    vantage: str | None = None,
) -> list[Episode]:
    """All episodes of a message stream (Records and HandoverEvents, capture order),
    sorted by handover time, MN and CN, and numbered from 1.  ``check`` diagnoses
    timestamps that go backwards (off when the caller already did, per file)."""
    diag = diag if diag is not None else Diagnostics()
    if check:
        records = check_order(records, diag)
    eps = list(iter_episodes(records, config, diag, oracle, vantage))
    answers = {e.cn for e in eps if answers_ebu(e)}
    for e in eps:
        add_fallback_cause(e, answers)
    eps.sort(key=order_key)
    for i, e in enumerate(eps, 1):
        e.id = i
    return eps


def order_key(e: Episode) -> tuple:
    """The episodes' order (their numbers): handover time (missing last), MN, CN, CoA."""
    return (e.t0_ns is None, e.t0_ns or 0, e.mn, e.cn or "", e.coa)


def answers_ebu(e: Episode) -> bool:
    """Whether ``e`` shows its CN accepting an EBU (see :func:`add_fallback_cause`)."""
    return bool(e.cn and e.eba_accepted)


def refuses_ebu(e: Episode) -> bool:
    """Whether the CN of ``e`` sent a Binding Error with status 2 (unrecognised Mobility
    Header type) in it (see :func:`add_fallback_cause`)."""
    return any(status == UNKNOWN_MH_STATUS for _, status, _ in e.binding_errors)


def add_fallback_cause(e: Episode, answers: set) -> None:
    """Tell an early_fallback whose EBU or EBA was lost from one with a CN that does not
    know EBUs, where the capture shows it (needs the whole capture, so iter_episodes
    does not do it): ``ebu_refused_binding_error`` when the CN sent a Binding Error with
    status 2 (unrecognised Mobility Header type) in the episode; ``ebu_or_eba_lost`` when
    the same CN accepted an EBU (an EBA) in another episode of the capture (``answers``:
    the CNs of the episodes :func:`answers_ebu`) and this EBU was not refused by a BA
    (rows.fallback_note)."""
    if e.kind != FALLBACK_KIND:
        return
    notes = set(e.diagnosis)
    note = fallback_note(refuses_ebu(e), e.cn in answers, notes)
    if note is not None:
        notes.add(note)
    e.diagnosis = sorted(notes)


def filter_address(value: str | None, option: str) -> str | None:
    """The ``--mn``/``--cn`` filter ``value`` in canonical form (None: no filter)."""
    if value is None:
        return None
    try:
        return canonical(value)
    except ValueError:
        raise UsageError(f"{option} {value!r} is not an IPv6 address") from None


def analyze_records(
    records: Iterable,
    mn: str | None = None,
    cn: str | None = None,
    config: ProtocolConfig = DEFAULT_CONFIG,
    diag: Diagnostics | None = None,
    oracle=None,
    keys=None,
    check: bool = True,
    vantage: str | None = None,
    label: str = "the input",
) -> pd.DataFrame:
    """The episode table of a message stream; ``mn``/``cn`` keep only their rows.
    ``oracle`` None builds the CN oracle (with ``keys``) when installed; False: none.
    ``vantage`` (a ROLES value) says where it was captured, None: detected (``label``
    names the stream in the warning of an ambiguous one)."""
    mn, cn = filter_address(mn, "--mn"), filter_address(cn, "--cn")
    diag = diag if diag is not None else Diagnostics()
    if oracle is None:
        oracle = make_oracle(keys, config, diag)
    if check:
        records = check_order(records, diag)
    with fewer_collections():
        df = _rows_at_vantage(
            read_ahead(records),
            config,
            diag,
            oracle or None,
            vantage,
            label,
            mn,
            cn,
            footprint=False,
        )
    return df


def _rows_at_vantage(
    records: Iterable,
    config: ProtocolConfig,
    diag: Diagnostics,
    oracle,
    vantage: str | None,
    label: str,
    mn: str | None,
    cn: str | None,
    source: str | None = None,
    footprint: bool = True,
) -> pd.DataFrame:
    """The table of ``records`` at their vantage point (given, or detected: stderr is the
    caller's, the decision is in ``df.attrs["vantage"]``: [VantageDecision.as_dict]);
    ``footprint``: with ``df.attrs["footprint"]`` (for several files' views:
    ebutool.runner.views), else the records are not hashed for it."""
    seen = Footprint() if footprint else None
    if seen is not None:
        records = seen.watch(records)
    rows, decision = _rows_and_vantage(records, config, diag, oracle, vantage, label)
    if source is not None:
        rows.relabel(lambda _: source)
    df = apply_vantage(rows.frame(mn, cn), decision.role)
    df.attrs["vantage"] = [decision.as_dict(label)]
    if seen is not None:
        df.attrs["footprint"] = seen.as_dict()  # how it relates to other inputs
    return df


def _rows_and_vantage(
    records: Iterable,
    config: ProtocolConfig,
    diag: Diagnostics,
    oracle,
    vantage: str | None,
    label: str,
    spill_at: int | None = None,
) -> tuple[EpisodeRows, VantageDecision]:
    evidence = Evidence()
    if vantage is None:
        early, records = lookahead(records, evidence)
    else:
        early = VantageDecision(vantage, "--vantage", given=True)
    rows = build_rows(records, config, diag, oracle, early.role, spill_at)
    decision = resolve(vantage, evidence, early, diag, label, len(rows))
    return rows, decision


def analyze_pieces(
    path: str | os.PathLike[str],
    *,
    mn: str | None = None,
    cn: str | None = None,
    config: ProtocolConfig = DEFAULT_CONFIG,
    keys: KeyTable | None = None,
    diag: Diagnostics | None = None,
    stats: StreamStats | None = None,
    oracle: Any = None,
    progress: Progress | NullProgress | None = None,
    esp_sas: Sequence[EspSA] | None = None,
    vantage: str | None = None,
    rows: int = PIECE_ROWS,
    spill_at: int | None = SPILL_ROWS,
) -> tuple[Iterator[pd.DataFrame], list[dict]]:
    """:func:`analyze` for a table of any size: (its rows as consecutive tables of at
    most ``rows`` rows, the vantage decision ``df.attrs["vantage"]`` would hold).  The
    input is read at once; beyond ``spill_at`` rows, finished rows wait on disk in
    sorted runs (ebutool.analysis.spill), so memory does not grow with the table.  The
    concatenated pieces are analyze's table (same rows, order and episode numbers)."""
    diag = diag if diag is not None else Diagnostics()
    if oracle is None:
        oracle = make_oracle(keys, config, diag)
    records = merged_records([path], diag, stats, progress, esp_sas)
    label = source_labels([path])[0]
    return record_pieces(
        records, label, mn, cn, config, diag, stats, oracle, vantage, rows, spill_at, relabel=True
    )


def record_pieces(
    records: Iterable[Record],
    label: str,
    mn: str | None,
    cn: str | None,
    config: ProtocolConfig,
    diag: Diagnostics,
    stats: StreamStats | None,
    oracle: Any,
    vantage: str | None,
    rows: int = PIECE_ROWS,
    spill_at: int | None = SPILL_ROWS,
    *,
    relabel: bool = False,
) -> tuple[Iterator[pd.DataFrame], list[dict]]:
    """:func:`analyze_pieces` of a message stream (ordered by time) read from ``label``;
    ``oracle`` made (make_oracle), False for none; ``relabel``: every row's ``source``
    is ``label`` (else the records' own, e.g. a store's parts)."""
    mn, cn = filter_address(mn, "--mn"), filter_address(cn, "--cn")
    with fewer_collections():
        table, decision = _rows_and_vantage(
            records, config, diag, oracle or None, vantage, label, spill_at
        )
    role = decision.role
    pieces = table.pieces(mn, cn, rows, (lambda _: label) if relabel else None)
    if stats is not None:  # the captures' time resolution (ebutool.core.exact_time)
        pieces = at_resolution(pieces, stats)
    return (apply_vantage(df, role) for df in pieces), [decision.as_dict(label)]


def merged_records(paths, diag: Diagnostics, stats=None, progress=None, esp_sas=None) -> Iterator:
    """The message streams of several files merged by time (each file's own order is
    checked first, so a backwards timestamp is diagnosed with its own frame number),
    read ahead (ebutool.stream.reader.read_ahead).  ``progress`` (ebutool.core.progress) follows the
    reading of a single file; ``esp_sas``: ESP SAs to decrypt with (ebutool.esp)."""
    from ebutool.stream.reader import read_records

    if len(paths) == 1:
        stream = read_records(paths[0], diag, stats, progress=progress, esp_sas=esp_sas)
        return read_ahead(check_order(stream, diag))
    # Several files: each file's warnings say which file their frame numbers belong to.
    views = [diag.for_source(label) for label in source_labels(paths)]
    streams = [
        check_order(read_records(p, d, stats, esp_sas=esp_sas), d)
        for p, d in zip(paths, views, strict=False)
    ]
    return read_ahead(heapq.merge(*streams, key=lambda r: r.ts_ns))


def analyze(
    path: str | os.PathLike[str],
    *,
    mn: str | None = None,
    cn: str | None = None,
    config: ProtocolConfig = DEFAULT_CONFIG,
    keys: KeyTable | None = None,
    diag: Diagnostics | None = None,
    stats: StreamStats | None = None,
    oracle: Any = None,
    progress: Progress | NullProgress | None = None,
    esp_sas: Sequence[EspSA] | None = None,
    vantage: str | None = None,
) -> pd.DataFrame:
    """One row per episode of the capture or trace ``path`` (DESIGN.md section 5 columns
    first, then ``source``, the input's label), numbered 1, 2, ...  Never None: no
    episode gives an empty, typed frame.  ``keys`` (an ebutool.oracle.keys.KeyTable) go
    to the CN oracle that fills the auth column; ``oracle=False`` skips it.  ``progress``
    follows the reading; ``esp_sas`` decrypt ESP (ebutool.esp).  ``vantage`` ("mn",
    "ha", "cn", "path") says where the capture was taken; None detects it
    (ebutool.analysis.vantage; the decision and its evidence are in
    ``df.attrs["vantage"]``).  Several inputs (each on its own, or merged by time) are
    ebutool.analyze's, through ebutool.runner."""
    diag = diag if diag is not None else Diagnostics()
    mn, cn = filter_address(mn, "--mn"), filter_address(cn, "--cn")
    with fewer_collections():  # a long streaming run: see ebutool.core.gc_tuning
        if oracle is None:
            oracle = make_oracle(keys, config, diag)
        # The lean path (analysis/rows.py): rows, not Episodes, are kept until the end.
        records = merged_records([path], diag, stats, progress, esp_sas)
        label = source_labels([path])[0]
        return _rows_at_vantage(
            records, config, diag, oracle or None, vantage, label, mn, cn, source=label
        )


def source_labels(paths: Sequence[str | os.PathLike[str]]) -> list[str]:
    """The ``source`` of each input: its base name, or the path as given where two
    base names clash; "-" (stdin) stays "-"."""
    shown = [readable_name(p) for p in paths]  # (a name that is not UTF-8: escaped)
    base = [os.path.basename(p) or p for p in shown]
    return [b if base.count(b) == 1 else p for p, b in zip(shown, base, strict=False)]
