"""Inputs already read, analysed as views of one run (issue 13 item 3): the one place
that groups them by vantage point and hands them to ebutool.analysis.view_table.

Used for captures given with ``--merge``/``--vantage`` (ebutool.runner.views) and for
the parts of a record store (ebutool.store.merged), so both give the same table:

- :func:`share_across_roles`: whether inputs of different vantage points share
  messages (the test of ``--merge`` for views of one run);
- :func:`views_table`: each input's role (given, else decided on the evidence of all
  its records), the inputs of one role merged by time into one view (the pieces of a
  rotated capture), the views merged (:func:`ebutool.analysis.view_table.analyze_views`),
  an input of no mergeable role analysed on its own after them; episodes numbered
  over all, ``source`` the label of the input each began in, the vantage decisions in
  ``df.attrs["vantage"]``.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ebutool.analysis.merged_views import View
from ebutool.analysis.vantage import Evidence, VantageDecision, role_for
from ebutool.analysis.view_table import analyze_views
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.exact_time import merged_attrs

if TYPE_CHECKING:
    import pandas as pd

MERGEABLE = ("mn", "path", "ha", "cn")  # roles with a place on the path of the messages


def share_across_roles(inputs: Iterable[tuple[str | None, set[int]]]) -> bool:
    """Whether two of ``inputs`` ((role, message keys) each, ebutool.analysis.footprint)
    of different known roles share a message."""
    seen: list[tuple[str, set[int]]] = []
    for role, keys in inputs:
        if role is None:
            continue
        if any(r != role and keys & k for r, k in seen):
            return True
        seen.append((role, keys))
    return False


def views_table(
    streams: Sequence[list],
    labels: Sequence[str],
    paths: Sequence[str],
    *,
    given: dict[str, str],
    clock_offsets: dict[str, tuple[float, float]],
    diag: Diagnostics,
    **options: Any,
) -> pd.DataFrame:
    """The inputs' records (``streams``, each in its own time order) as views of one run
    (module doc); ``given``: {path or base name: role}; ``clock_offsets``: {path or
    label: (seconds, ppm)}; ``options``: ``mn``, ``cn``, ``config``, ``oracle``."""
    import pandas as pd

    by_role: dict[str | None, list[int]] = {}
    decisions = []
    for i, records in enumerate(streams):
        decision = _decision(records, role_for(paths[i], given))
        decisions.append(decision.as_dict(labels[i]))
        role = decision.role
        if role not in MERGEABLE:
            diag.for_source(labels[i]).warn(
                "ambiguous_vantage",
                f"{labels[i]}: vantage point not recognised: not merged with the other views "
                "(give it with --vantage PATH=ROLE)",
            )
            role = None
        by_role.setdefault(role, []).append(i)
    views, offsets = [], {}
    for role, members in by_role.items():
        if role is None:
            continue
        label = ", ".join(labels[i] for i in members)
        merged = list(heapq.merge(*(streams[i] for i in members), key=lambda r: r.ts_ns))
        views.append(View(label, role, merged))
        for i in members:
            for key in (paths[i], labels[i]):
                if key in clock_offsets:
                    offsets[label] = clock_offsets[key]
    frames = [analyze_views(views, diag=diag, clock_offsets=offsets, **options)] if views else []
    for i in by_role.get(None, []):
        frames.append(_alone(streams[i], labels[i], diag, options))
    df = _numbered(frames)
    df.attrs["vantage"] = decisions
    # the records name the file as read: the column names the input by its label, as the
    # other tables of several inputs do (and as a store's records, read under it, do)
    label_of = dict(zip(paths, labels, strict=True))
    df["source"] = pd.Series(
        [label_of.get(s, s) if isinstance(s, str) else s for s in df["source"]],
        index=df.index,
        dtype=df["source"].dtype,
    )
    return df


def _decision(records: list, role: str | None) -> VantageDecision:
    if role is not None:
        return VantageDecision(role, "--vantage", given=True)
    evidence = Evidence()
    for rec in records:
        evidence.add(rec)
    return evidence.decide()


def _alone(records: list, label: str, diag: Diagnostics, options: dict) -> pd.DataFrame:
    import pandas as pd

    from ebutool.analysis import analyze_records

    df = analyze_records(records, diag=diag, check=False, label=label, **options)
    df["source"] = pd.Series(label, index=df.index, dtype=object)
    return df


def _numbered(frames: list[pd.DataFrame]) -> pd.DataFrame:
    import pandas as pd

    attrs: dict[str, list] = {"vantage": [], "clocks": [], "notes": []}
    for f in frames:
        for k in attrs:
            attrs[k] += f.attrs.get(k, [])
    exact = merged_attrs(frames)  # pd.concat drops the frames' differing attrs
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    df["episode"] = pd.Series(range(1, len(df) + 1), index=df.index, dtype=df["episode"].dtype)
    df.attrs.update(attrs)
    df.attrs.update(exact)
    return df


__all__ = ["MERGEABLE", "share_across_roles", "views_table"]
