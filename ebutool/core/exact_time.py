"""Epoch times printed at the capture's resolution, exactly: 9 decimals for nanosecond captures.

Epoch-second columns (``time``, ``t_*``, ...) are floats.  A float near today's epoch
(2^30 to 2^31 s: 2004 to 2038) has 52 fraction bits, so consecutive floats are
2^-22 s (about 0.24 us) apart: it holds the microsecond (6 decimals) but not the
nanosecond, and printing it with 9 decimals shows digits that were never captured.
So a table keeps, beside its floats, the exact integer nanoseconds they were made from
(``df.attrs["exact_ns"]``: float -> ns) and the resolution of its captures
(``df.attrs["time_decimals"]``: 6, or 9 when an input had nanosecond timestamps: pcap
magic 0xa1b23c4d, a pcapng interface ticking faster than 1 us).  A text renderer
prints an epoch column with 9 decimals from the integers when every one of its values
has its exact ns, else (a value whose ns is unknown, or two times within 0.24 us that
share a float) with 6 decimals from the floats.  JSON writes those 9 decimals as its
number's text (ebutool.report.formats.RawNumber), Zeek as its ``time``; durations in
ms get 3 decimals at microsecond resolution, 6 at nanosecond (:func:`ms_decimals`).
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping

NS_PER_S = 1_000_000_000
EXACT_NS = "exact_ns"
TIME_DECIMALS = "time_decimals"
US_DECIMALS, NS_DECIMALS = 6, 9
MS_SHIFT = 3  # a duration in ms has 3 decimals fewer than one in seconds
AMBIGUOUS = -1  # two different ns values rounded to one float


class ExactMap(dict[float, int]):
    """{float seconds: ns}: a dict whose deep copy is a plain copy.  Its keys and values
    are immutable, so the two are the same; but pandas deep-copies a table's attrs at
    each column taken from it (``__finalize__``), and copy.deepcopy visiting every float
    and int of a 5,561-episode map made the CSV rendering of ``analyze STORE/`` ~0.3 s."""

    def __deepcopy__(self, memo: dict) -> ExactMap:
        return ExactMap(self)


def exact_map(ns_values: Iterable[int | None], into: dict | None = None) -> dict[float, int]:
    """{float seconds: ns} of ``ns_values`` (None skipped), added to ``into``."""
    out: dict[float, int] = ExactMap() if into is None else into
    for ns in ns_values:
        if ns is None:
            continue
        f = ns / NS_PER_S
        old = out.get(f)
        out[f] = ns if old is None or old == ns else AMBIGUOUS
    return out


def merged_attrs(frames: Iterable) -> dict:
    """The exact-time attrs of tables put one after the other (pd.concat drops attrs
    that differ): the union of their maps and the finest resolution."""
    exact: dict[float, int] = ExactMap()
    decimals = US_DECIMALS
    for df in frames:
        for f, ns in df.attrs.get(EXACT_NS, {}).items():
            old = exact.get(f)
            exact[f] = ns if old is None or old == ns else AMBIGUOUS
        decimals = max(decimals, df.attrs.get(TIME_DECIMALS, US_DECIMALS))
    return {EXACT_NS: exact, TIME_DECIMALS: decimals}


def at_resolution(pieces: Iterable, stats) -> Generator:
    """Consecutive pieces of one table (a streamed output, ebutool.report.streamed),
    each marked with the resolution of the captures read so far (``stats.time_decimals``,
    an ebutool.records.from_packet.StreamStats): a piece is rendered before the rest of
    the input is read, so a nanosecond interface that appears only later in a pcapng
    leaves the earlier pieces at 6 decimals."""
    for df in pieces:
        df.attrs[TIME_DECIMALS] = stats.time_decimals
        yield df


def resolution(attrs: Mapping) -> int:
    """Decimals of a second the table's inputs resolve: 6 (us) or 9 (ns)."""
    return int(attrs.get(TIME_DECIMALS, US_DECIMALS))


def ms_decimals(attrs: Mapping) -> int:
    """Decimals a duration in milliseconds has at the table's resolution: 3 (us), 6 (ns).
    A ``*_ms`` float made from integer ns (ns / 1e6) holds them: below 2^53 ns it is
    exact to far more than 6 decimals."""
    return resolution(attrs) - MS_SHIFT


def ns_formatter(values: Iterable, attrs: Mapping):
    """A function giving the 9-decimal text of one float of an epoch column whose values
    are ``values``, from its exact ns: None unless the table is at nanosecond resolution
    and every value of the column has its ns (module doc)."""
    if resolution(attrs) < NS_DECIMALS:
        return None
    exact: Mapping[float, int] = attrs.get(EXACT_NS) or {}
    floats = [v for v in values if isinstance(v, float) and v == v]
    if not floats or not all(exact.get(v, AMBIGUOUS) >= 0 for v in floats):
        return None
    return lambda v: ns_text(exact[v])


def epoch_formatter(values: Iterable, attrs: Mapping, decimals: int):
    """A function formatting one float of an epoch column whose values are ``values``:
    from exact ns with 9 decimals when the table is at nanosecond resolution and every
    value has its ns, else the float with ``decimals`` (the default: 6)."""
    exact: Mapping[float, int] = attrs.get(EXACT_NS) or {}
    nine = None if decimals < US_DECIMALS else ns_formatter(values, attrs)
    if nine is None:
        return lambda v: f"{v:.{decimals}f}"
    return lambda v: nine(v) if v in exact else f"{v:.{decimals}f}"


def ns_text(ns: int) -> str:
    """Integer ns since the epoch as seconds with 9 decimals, exactly."""
    sec, frac = divmod(ns, NS_PER_S)
    return f"{sec}.{frac:09d}"
