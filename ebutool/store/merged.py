"""``analyze STORE``: the episode table of a record store, as ``analyze --merge`` of its inputs.

The records of every part, merged by time (:func:`ebutool.store.parts.store_records`),
go through the same analysis as one capture (:func:`ebutool.analysis.analyze_records`),
so an episode that crosses the boundary between two rotated files comes out whole; the
``source`` column names the input the episode began in.

A store whose parts are views of one run (captures of several vantage points, as
``analyze --merge`` recognises them) is analysed as those views merged, not by time
(:mod:`ebutool.store.vantages`): the table of ``analyze mn.pcap ha.pcap cn.pcap --merge``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ebutool.analysis import analyze_records, make_oracle, record_pieces
from ebutool.core.constants import DEFAULT_CONFIG, ProtocolConfig
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.exact_time import TIME_DECIMALS
from ebutool.records.from_packet import StreamStats
from ebutool.store.parts import Part, store_parts, store_records, time_decimals
from ebutool.store.vantages import (
    analyze_store_views,
    given_roles,
    time_merged_role,
    views_in_store,
)
from ebutool.stream.reader import read_ahead

if TYPE_CHECKING:
    import pandas as pd

    from ebutool.oracle.keys import KeyTable


# analyze --merge's name of its inputs (ebutool.runner.files_streamed.MERGED_LABEL)
MERGED_INPUTS = "the merged inputs"


def analyze_store(
    store: str | os.PathLike[str],
    *,
    mn: str | None = None,
    cn: str | None = None,
    config: ProtocolConfig = DEFAULT_CONFIG,
    keys: KeyTable | None = None,
    diag: Diagnostics | None = None,
    stats: StreamStats | None = None,
    oracle: Any = None,
    vantage: dict[str, str] | str | None = None,
    clock_offsets: dict[str, tuple[float, float]] | None = None,
) -> pd.DataFrame:
    """One row per episode of the store's records (module doc); options as
    :func:`ebutool.analysis.analyze`; ``vantage`` ({input path or base name: role}, or
    one role for every part) and ``clock_offsets`` ({input path or label: (seconds,
    ppm)}) as analyze's for files: roles given here or to extract say where each part
    was taken (ebutool.store.vantages)."""
    diag = diag if diag is not None else Diagnostics()
    if oracle is None:
        oracle = make_oracle(keys, config, diag)
    parts = store_parts(os.fspath(store))
    given = given_roles(parts, vantage)
    if views_in_store(parts, given):
        options: dict[str, Any] = dict(mn=mn, cn=cn, config=config, oracle=oracle or False)
        df = analyze_store_views(
            parts, given, diag=diag, stats=stats, clock_offsets=clock_offsets, **options
        )
    else:
        records = read_ahead(store_records(os.fspath(store), diag, stats, parts=parts))
        role = time_merged_role(parts, given)
        df = analyze_records(
            records, mn, cn, config, diag, oracle=oracle or False, check=False,
            vantage=role, label=vantage_label(parts),
        )  # fmt: skip
    df.attrs[TIME_DECIMALS] = time_decimals(parts)  # a nanosecond capture's 9 decimals
    return df


def vantage_label(parts: list[Part]) -> str:
    """The store's name in its vantage decision (stderr, ``attrs["vantage"]``): that of
    ``analyze --merge`` of its inputs, the one input's label or the merged inputs'."""
    return parts[0].label if len(parts) == 1 else MERGED_INPUTS


def of_views(store: str | os.PathLike[str], vantage: dict[str, str] | str | None) -> bool:
    """Whether the store's parts are views of one run (ebutool.store.vantages), whose
    table :func:`analyze_store` makes whole (``vantage`` as its)."""
    parts = store_parts(os.fspath(store))
    return views_in_store(parts, given_roles(parts, vantage))


def analyze_store_pieces(
    store: str | os.PathLike[str],
    *,
    mn: str | None = None,
    cn: str | None = None,
    config: ProtocolConfig = DEFAULT_CONFIG,
    keys: KeyTable | None = None,
    diag: Diagnostics | None = None,
    stats: StreamStats | None = None,
    vantage: dict[str, str] | str | None = None,
) -> tuple[Iterator[pd.DataFrame], list[dict]]:
    """:func:`analyze_store` in pieces, as ebutool.analysis.analyze_pieces gives a
    capture's table (the same rows, order and episode numbers), for a store whose parts
    are not views of one run (:func:`of_views`: refused)."""
    diag = diag if diag is not None else Diagnostics()
    parts = store_parts(os.fspath(store))
    given = given_roles(parts, vantage)
    if views_in_store(parts, given):
        raise ValueError(f"{store}: its parts are views of one run: use analyze_store")
    oracle = make_oracle(keys, config, diag)
    records = read_ahead(store_records(os.fspath(store), diag, stats, parts=parts))
    role = time_merged_role(parts, given)
    label = vantage_label(parts)
    return record_pieces(records, label, mn, cn, config, diag, stats, oracle, role)
