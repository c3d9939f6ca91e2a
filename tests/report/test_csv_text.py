"""The CSV written cell by cell (ebutool.report.csv_text) is pandas' to_csv's, octet for
octet, on frames of every dtype ebutool's tables have (pandas is the independent truth:
formats._render_csv_pandas calls to_csv)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from ebutool.report import formats
from ebutool.report.output_format import RenderOptions

_floats = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [0.0, -0.0, 1e-05, 0.0001, 1e16, 1e15, 123456789.123456, 1.5e-300, 1700000000.123456]
)
_text = st.text(alphabet=st.sampled_from('ab,"\n\r; é'), max_size=6)
_objects = st.one_of(
    st.none(), _text, st.binary(max_size=4), st.integers(-5, 10**12), _floats, st.booleans()
)

COLUMN_KINDS = {
    "float64": lambda n: st.lists(_floats, min_size=n, max_size=n).map(
        lambda v: pd.Series(v, dtype=np.float64)
    ),
    "int64": lambda n: st.lists(st.integers(-(2**62), 2**62), min_size=n, max_size=n).map(
        lambda v: pd.Series(v, dtype=np.int64)
    ),
    "bool": lambda n: st.lists(st.booleans(), min_size=n, max_size=n).map(
        lambda v: pd.Series(v, dtype=bool)
    ),
    "Int64": lambda n: st.lists(st.none() | st.integers(-9, 10**9), min_size=n, max_size=n).map(
        lambda v: pd.Series(v, dtype="Int64")
    ),
    "boolean": lambda n: st.lists(st.none() | st.booleans(), min_size=n, max_size=n).map(
        lambda v: pd.Series(v, dtype="boolean")
    ),
    "str": lambda n: st.lists(st.none() | _text, min_size=n, max_size=n).map(
        lambda v: pd.Series(v, dtype="str")
    ),
    "object": lambda n: st.lists(_objects, min_size=n, max_size=n).map(
        lambda v: pd.Series(v, dtype=object)
    ),
}
NAMES = ["rtt_ms", "t_start", "time", "mn", "handover_end", "note, with comma"]


@st.composite
def frames(draw):
    n = draw(st.integers(0, 6))
    kinds = draw(st.lists(st.sampled_from(sorted(COLUMN_KINDS)), min_size=1, max_size=5))
    names = draw(st.permutations(NAMES))[: len(kinds)]
    cols = {
        name: draw(COLUMN_KINDS[k](n)).reset_index(drop=True)
        for name, k in zip(names, kinds, strict=True)
    }
    return pd.DataFrame(cols)


@settings(max_examples=400, deadline=None)
@given(frames(), st.sampled_from([6, 9]))
def test_cell_by_cell_is_to_csv(df, decimals):
    opts = RenderOptions(time_decimals=decimals)
    assert formats._render_csv(df, opts) == formats._render_csv_pandas(df, opts)


def test_exact_nanoseconds_as_pandas_prints_them():
    ns = [1_700_000_000_123_456_789, 1_700_000_001_000_000_001]
    df = pd.DataFrame(
        {
            "time": [n / 1e9 for n in ns],
            "obj_time": pd.Series([ns[0] / 1e9, None], dtype=object),
        }
    )
    df.attrs["exact_ns"] = {n / 1e9: n for n in ns}
    df.attrs["time_decimals"] = 9
    opts = RenderOptions(time_decimals=9)
    text = formats._render_csv(df, opts)
    assert text == formats._render_csv_pandas(df, opts)
    assert text.splitlines()[1] == "1700000000.123456789,1700000000.123456789"


def test_a_dtype_it_does_not_know_goes_to_pandas():
    df = pd.DataFrame({"when": pd.to_datetime(["2026-12-04 10:00:00"]), "n": [1]})
    opts = RenderOptions()
    assert formats._render_csv(df, opts) == "when,n\n2026-12-04 10:00:00,1\n"
