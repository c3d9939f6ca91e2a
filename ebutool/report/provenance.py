"""Provenance: how an output was made, as one JSON-able dict (issue 17 item 6).

:func:`build_provenance` gathers what a table in a paper needs to be traced back:
ebutool's version, the command line, the protocol constants in force (each
:class:`~ebutool.core.constants.ConstantSpec` with the value the run used and whether it
differs from the default), the claim's settings, the inputs' names, sizes and SHA-256
(hashed in pieces, ebutool.stream.sniff.input_digest), each input's vantage point and the
clock offsets where a run estimated them, and how many episodes were left out of the
statistics and why (ebutool.analysis.summary.exclusion_counts).  A value that is not
known is None with a ``*_reason`` beside it, never a guess.  There is no time stamp in
it: the same run on the same inputs gives the same provenance, octet for octet.

It goes into Parquet key-value metadata under :data:`PARQUET_KEY` and, for the text
formats, into the sidecar file of ``--provenance FILE.json`` (docs/reports.md
"Provenance")::

    from ebutool.report.provenance import build_provenance, provenance_json
    record = build_provenance(["a.pcap"], config=config, episodes=df, command="analyze")
    open("a.provenance.json", "wb").write(provenance_json(record))
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from ebutool.core.constants import DEFAULT_CONFIG, PROTOCOL_CONSTANTS, ProtocolConfig
from ebutool.core.names import readable_text
from ebutool.core.version import __version__
from ebutool.stream.sniff import input_digest

if TYPE_CHECKING:
    import pandas as pd

    from ebutool.analysis.claim_stats import ClaimSettings

PROVENANCE_FORMAT = 1  # the layout's version: a reader checks it
PARQUET_KEY = "ebutool.provenance"  # Parquet key-value metadata key (value: the JSON)
NO_EPISODES = "this run makes no episode table, so no statistics leave episodes out"
NO_CLOCK = "no clock offset was estimated in this run (each input is read on its own clock)"


def constants_in_force(config: ProtocolConfig) -> list[dict[str, Any]]:
    """One entry per run-time protocol constant (declared order): its field and RFC
    name, option, unit, the value in force, the default and whether it was changed."""
    out = []
    for spec in PROTOCOL_CONSTANTS:
        value = getattr(config, spec.name)
        out.append(
            {
                "name": spec.name,
                "constant": spec.constant,
                "option": spec.option,
                "unit": spec.unit,
                "value": value,
                "default": spec.default,
                "changed": value != spec.default,
            }
        )
    return out


def statistics_counts(episodes: pd.DataFrame | None) -> dict[str, Any]:
    """How many episodes there were, how many entered the statistics, and the others
    counted by reason (None with a reason when the run has no episode table)."""
    if episodes is None:
        return {"episodes": None, "counted": None, "left_out": None, "reason": NO_EPISODES}
    from ebutool.analysis.summary import COUNTING_RULE, exclusion_counts

    left = exclusion_counts(episodes) if len(episodes) else {}
    return {
        "episodes": len(episodes),
        "counted": len(episodes) - sum(left.values()),
        "left_out": left,
        "rule": COUNTING_RULE,
    }


class EpisodeTally:
    """:func:`statistics_counts` of a table seen in pieces (a streamed output): each
    piece :meth:`add`-ed in order, then :meth:`counts`, the same as of the whole."""

    def __init__(self) -> None:
        self.rows = 0
        self.left: dict[str, int] = {}  # reason -> episodes, in order of first row

    def add(self, df: pd.DataFrame) -> None:
        from ebutool.analysis.summary import left_out

        self.rows += len(df)
        if not len(df):
            return
        for key, n in left_out(df).items():
            self.left[key] = self.left.get(key, 0) + n

    def counts(self) -> dict[str, Any]:
        from ebutool.analysis.summary import COUNTING_RULE, ranked

        return {
            "episodes": self.rows,
            "counted": self.rows - sum(self.left.values()),
            "left_out": ranked(self.left),
            "rule": COUNTING_RULE,
        }


def build_provenance(
    inputs: Sequence[str],
    *,
    config: ProtocolConfig | None = None,
    episodes: pd.DataFrame | None = None,
    tally: EpisodeTally | None = None,
    vantage: Sequence[Mapping[str, Any]] | None = None,
    command: str | None = None,
    command_line: Sequence[str] | None = None,
    settings: ClaimSettings | None = None,
    clock_offsets: Sequence[Mapping[str, Any]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The provenance of one output (module doc).  ``inputs``: the files read (as the
    run named them; each is hashed now); ``config``: the protocol constants in force;
    ``episodes``: the episode table the output came from (its vantage decisions and
    the merged views' ``clocks`` in ``attrs``, and the rows left out of the statistics),
    or for a table written in pieces its ``tally`` and ``vantage`` decisions;
    ``command_line``: the arguments as given; ``extra``: further plain entries."""
    if vantage is not None:
        vantage = list(vantage)
    else:
        vantage = list(episodes.attrs.get("vantage", [])) if episodes is not None else []
    clocks = clock_offsets
    if clocks is None and episodes is not None:
        clocks = episodes.attrs.get("clocks")  # merged views (ebutool.analysis.view_table)
    record: dict[str, Any] = {
        "provenance_format": PROVENANCE_FORMAT,
        "ebutool_version": __version__,
        "command": command,
        "command_line": list(command_line) if command_line is not None else None,
        "inputs": [input_digest(p) for p in inputs],
        "protocol_constants": constants_in_force(config or DEFAULT_CONFIG),
        "claim_settings": asdict(settings) if settings is not None else None,
        "vantage": vantage,
        "clock_offsets": [dict(c) for c in clocks] if clocks else None,
        "statistics": tally.counts() if tally is not None else statistics_counts(episodes),
    }
    if not clocks:
        record["clock_offsets_reason"] = NO_CLOCK
    if command_line is None:
        record["command_line_reason"] = "called as a library function"
    record.update(extra or {})
    return plain(record)


def plain(value: Any) -> Any:
    """``value`` with numpy scalars made Python numbers and non-finite floats None (the
    JSON standard has neither), and strings that UTF-8 cannot hold (a file name that is
    not UTF-8: ebutool.core.names) escaped, recursively."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()  # a numpy scalar
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return readable_text(value)  # a file name (or argument) that is not UTF-8
    return value


def provenance_json(record: Mapping[str, Any]) -> bytes:
    """The provenance as UTF-8 JSON text (one key a line, ending in a newline)."""
    return (json.dumps(record, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def read_parquet_provenance(path: str) -> dict[str, Any] | None:
    """The provenance in a Parquet file's key-value metadata (None if it has none)."""
    import pyarrow.parquet as pq

    kv = pq.read_metadata(path).metadata or {}
    raw = kv.get(PARQUET_KEY.encode())
    return json.loads(raw) if raw is not None else None


__all__ = [
    "EpisodeTally",
    "PARQUET_KEY",
    "PROVENANCE_FORMAT",
    "build_provenance",
    "constants_in_force",
    "plain",
    "provenance_json",
    "read_parquet_provenance",
    "statistics_counts",
]
