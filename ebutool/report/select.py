"""Which columns a table shows: ``--columns a,b,c`` (or ``all``), and the compact set
that fits a terminal's width (the ``table`` format on a terminal)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ebutool.core.errors import UsageError
from ebutool.report.output_format import RenderOptions, is_epoch_column

if TYPE_CHECKING:
    import pandas as pd

ALL = "all"  # --columns all: every column
GAP = 2  # spaces between two columns of the ``table`` format (tabulate's "simple")


def parse_columns(spec: str | None) -> list[str] | None:
    """``a,b,c`` as a list; ``None`` or ``all`` as None (every column)."""
    if spec is None:
        return None
    names = [n.strip() for n in spec.split(",") if n.strip()]
    if not names:
        raise UsageError("--columns: give column names separated by commas (or 'all')")
    if names == [ALL]:
        return None
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UsageError(f"--columns: {', '.join(repr(n) for n in twice)} given twice")
    return names


def check_columns(names: Sequence[str] | None, valid: Sequence[str]) -> None:
    """One line naming the unknown columns and the valid ones (exit status 2)."""
    if names is None:
        return
    unknown = [n for n in names if n not in valid]
    if unknown:
        raise UsageError(
            f"--columns: unknown column{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(n) for n in unknown)}; valid: {', '.join(valid)} (or 'all')"
        )


def select_columns(df: pd.DataFrame, names: Sequence[str] | None) -> pd.DataFrame:
    """``df`` with only ``names``, in that order (None: every column)."""
    if names is None:
        return df
    check_columns(names, [str(c) for c in df.columns])
    return df[list(names)]


def _width(df: pd.DataFrame, column: object, opts: RenderOptions) -> int:
    """The printed width of one column in the ``table`` format."""
    from ebutool.report.cells import cell

    places = opts.time_decimals if is_epoch_column(column) else opts.decimals
    widest = len(str(column))
    for v in df[column]:
        v = cell(v)
        if isinstance(v, float) and not isinstance(v, bool):
            text = f"{v:.{places}f}"
        elif isinstance(v, bool):
            text = "false" if not v else "true"
        else:
            text = "" if v is None else str(v)
        widest = max(widest, len(text))
    return widest


def fit_columns(df: pd.DataFrame, width: int, opts: RenderOptions | None = None) -> list[str]:
    """The columns of ``df``, in order, that fit ``width`` characters side by side,
    leaving out those empty in every row (at least one column)."""
    opts = opts or RenderOptions()
    chosen: list[str] = []
    used = 0
    for c in df.columns:
        if len(df) and df[c].isna().all():
            continue
        w = _width(df, c, opts) + (GAP if chosen else 0)
        if chosen and used + w > width:
            continue
        chosen.append(str(c))
        used += w
    if not chosen and len(df.columns):
        chosen = [str(df.columns[0])]
    return chosen
