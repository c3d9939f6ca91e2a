"""The draft's latency model as a table: one RTT triple, or a sweep of one RTT.

:func:`model_table` evaluates the six formulas of the draft's section 5 (names as in
DESIGN.md section 2, with the ``_ms`` unit suffix of the output contract) for given
round-trip times, and adds what early binding updates save over standard ones::

    saving_<x>_ms = std_<x>_ms - early_<x>_ms           (absolute, ms)
    ratio_<x>     = early_<x>_ms / std_<x>_ms           (< 1: early is faster)

for ``<x>`` in ``send_conserv``, ``send_optimst`` and ``recv``.  A ratio whose
standard latency is 0 (all RTTs 0) is undefined and left empty (NaN).

:func:`parse_sweep` reads ``VAR=START:STOP:STEP`` (inclusive; VAR one of
``rtt_ha``, ``rtt_bt``, ``rtt_ro``) and :func:`sweep_table` gives one row per value.
Nothing here imports matplotlib; figures are drawn by :mod:`ebutool.report.plots`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from ebutool.analysis.formulas import FORMULAS
from ebutool.core.errors import UsageError

VARIABLES = ("rtt_ha", "rtt_bt", "rtt_ro")
RTT_COLUMNS = tuple(f"{v}_ms" for v in VARIABLES)
FORMULA_COLUMNS = tuple(f"{name}_ms" for name in FORMULAS)
# (standard formula, early formula) compared by each saving/ratio column pair
PAIRS = {
    "send_conserv": ("std_send_conserv", "early_send_conserv"),
    "send_optimst": ("std_send_optimst", "early_send_optimst"),
    "recv": ("std_recv", "early_recv"),
}
SAVING_COLUMNS = tuple(f"saving_{p}_ms" for p in PAIRS)
RATIO_COLUMNS = tuple(f"ratio_{p}" for p in PAIRS)
COLUMNS = RTT_COLUMNS + FORMULA_COLUMNS + SAVING_COLUMNS + RATIO_COLUMNS

MAX_SWEEP_VALUES = 100_000


def _check_rtt(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{name} must be a number of milliseconds, not {value!r}") from None
    if math.isnan(v) or math.isinf(v):
        raise UsageError(f"{name} must be a finite number of milliseconds, not {value!r}")
    if v < 0:
        raise UsageError(f"{name} cannot be negative ({v:g} ms)")
    return v


def model_row(rtt_ha: float, rtt_bt: float, rtt_ro: float) -> dict[str, float]:
    """One row of the model table (RTTs in ms; validated: finite, >= 0)."""
    rtts = {
        v: _check_rtt(v.upper(), x)
        for v, x in zip(VARIABLES, (rtt_ha, rtt_bt, rtt_ro), strict=False)
    }
    row: dict[str, float] = {f"{v}_ms": x for v, x in rtts.items()}
    for name, f in FORMULAS.items():
        value = f(rtts["rtt_ha"], rtts["rtt_bt"], rtts["rtt_ro"])
        assert value is not None  # every formula has a value for three finite RTTs
        row[f"{name}_ms"] = float(value)
    for pair, (std, early) in PAIRS.items():
        row[f"saving_{pair}_ms"] = row[f"{std}_ms"] - row[f"{early}_ms"]
    for pair, (std, early) in PAIRS.items():
        s = row[f"{std}_ms"]
        row[f"ratio_{pair}"] = row[f"{early}_ms"] / s if s > 0 else math.nan
    return row


def model_table(rtt_ha: float, rtt_bt: float, rtt_ro: float) -> pd.DataFrame:
    """The one-row model table for one RTT triple (ms); columns :data:`COLUMNS`."""
    return pd.DataFrame([model_row(rtt_ha, rtt_bt, rtt_ro)], columns=list(COLUMNS))


@dataclass(frozen=True)
class Sweep:
    """One swept variable (``rtt_ha``/``rtt_bt``/``rtt_ro``) and its values in ms."""

    variable: str
    start: float
    stop: float
    step: float

    @property
    def values(self) -> list[float]:
        n = int(math.floor((self.stop - self.start) / self.step + 1e-9)) + 1
        return [round(self.start + i * self.step, 9) for i in range(n)]

    def __str__(self) -> str:
        return f"{self.variable}={self.start:g}:{self.stop:g}:{self.step:g}"


def _normalise_variable(name: str) -> str:
    v = name.strip().lower().replace("-", "_")
    if v.endswith("_ms"):
        v = v[:-3]
    if v not in VARIABLES:
        raise UsageError(
            f"--sweep variable must be one of {', '.join(VARIABLES)}, not {name.strip()!r}"
        )
    return v


def parse_sweep(spec: str) -> Sweep:
    """``VAR=START:STOP:STEP`` (ms, STOP included) -> :class:`Sweep`; UsageError if malformed."""
    hint = "expected VAR=START:STOP:STEP in ms, e.g. rtt_bt=10:400:10"
    if "=" not in spec:
        raise UsageError(f"--sweep {spec!r}: {hint}")
    name, _, rng = spec.partition("=")
    variable = _normalise_variable(name)
    parts = rng.split(":")
    if len(parts) != 3:
        raise UsageError(f"--sweep {spec!r}: {hint}")
    nums = []
    for label, text in zip(("START", "STOP", "STEP"), parts, strict=False):
        try:
            x = float(text)
        except ValueError:
            raise UsageError(
                f"--sweep {spec!r}: {label} {text.strip()!r} is not a number"
            ) from None
        if math.isnan(x) or math.isinf(x):
            raise UsageError(f"--sweep {spec!r}: {label} must be finite")
        nums.append(x)
    start, stop, step = nums
    if start < 0:
        raise UsageError(f"--sweep {spec!r}: START cannot be negative (RTTs are >= 0 ms)")
    if step <= 0:
        raise UsageError(f"--sweep {spec!r}: STEP must be > 0")
    if stop < start:
        raise UsageError(f"--sweep {spec!r}: STOP ({stop:g}) is below START ({start:g})")
    n = math.floor((stop - start) / step + 1e-9) + 1
    if n > MAX_SWEEP_VALUES:
        raise UsageError(
            f"--sweep {spec!r}: {n} values is too many (at most {MAX_SWEEP_VALUES}); "
            "use a larger STEP"
        )
    return Sweep(variable, start, stop, step)


def sweep_table(sweep: Sweep, **fixed: float) -> pd.DataFrame:
    """One model row per value of the swept variable; ``fixed`` gives the other two
    RTTs in ms (keywords ``rtt_ha``, ``rtt_bt``, ``rtt_ro``)."""
    others = [v for v in VARIABLES if v != sweep.variable]
    unknown = set(fixed) - set(VARIABLES)
    if unknown:
        raise UsageError(f"unknown RTT {sorted(unknown)[0]!r}; expected {', '.join(VARIABLES)}")
    if sweep.variable in fixed and fixed[sweep.variable] is not None:
        raise UsageError(f"{sweep.variable} is swept; do not also fix it")
    missing = [v for v in others if fixed.get(v) is None]
    if missing:
        raise UsageError(
            "sweeping "
            + sweep.variable
            + " needs "
            + " and ".join("--" + v.replace("_", "-") for v in missing)
        )
    rows = []
    for x in sweep.values:
        rtts = {v: fixed[v] for v in others}
        rtts[sweep.variable] = x
        rows.append(model_row(rtts["rtt_ha"], rtts["rtt_bt"], rtts["rtt_ro"]))
    return pd.DataFrame(rows, columns=list(COLUMNS))
