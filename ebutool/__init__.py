"""ebutool: analysis and trace replay of Mobile IPv6 (Early) Binding Update signalling.

The library works without the CLI::

    import ebutool
    df = ebutool.decode("samples/early-conservative.pcap")  # one row per MH message

``decode``, ``analyze``, ``verify`` and ``replay`` take one or several inputs, as the
commands do: files ("-" = stdin) and directories (the captures in them); several are
each read on their own (``jobs`` processes), with a ``source`` column first (analyze's
``source`` column is always there).  They go through ebutool.runner.  ``extract``
writes a record store (ebutool.store) that they read like one capture.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ebutool.core.constants import DEFAULT_CONFIG, ProtocolConfig
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import EbutoolError, InputError, UsageError
from ebutool.core.version import __version__

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandas as pd

    from ebutool.cn_replay import ReplayResult
    from ebutool.runner.replay_inputs import ReplayRuns

Input = str | os.PathLike[str]


def _inputs(paths: tuple[Input, ...]) -> list[str]:
    from ebutool.runner.inputs import expand_inputs

    return expand_inputs(paths)


def read_records(
    path: Input, diag: Diagnostics | None = None, stats: Any = None, esp_sas: Any = None
) -> Iterator[Any]:
    """The message stream (Records and HandoverEvents) of a capture or JSON trace.
    ``esp_sas``: ESP security associations (``ebutool.esp.load_sa_files(paths)``) to
    decrypt ESP-protected signalling with; ``decode``, ``analyze``, ``verify`` and
    ``replay`` take them as the option ``esp_sas`` too."""
    from ebutool.stream.reader import read_records as _read

    return _read(path, diag if diag is not None else Diagnostics(), stats, esp_sas=esp_sas)


def decode(
    *paths: Input, diag: Diagnostics | None = None, jobs: int = 1, esp_sas: Any = None
) -> pd.DataFrame:
    """One row per Mobility Header message of the inputs as a pandas DataFrame (with
    ``esp_sas``, ESP decrypted and the columns esp_spi, esp_seq, esp_algorithm added)."""
    from ebutool.runner.decode_inputs import decode_files

    return decode_files(_inputs(paths), jobs, diag, esp_sas=esp_sas)


def analyze(*paths: Input, jobs: int = 1, **options: Any) -> pd.DataFrame:
    """One row per binding-update episode (DESIGN.md section 5 columns) as a DataFrame.
    ``options``: ``mn``, ``cn``, ``config``, ``keys``, ``diag``, ``stats``, ``oracle``,
    ``merge`` (several files as one capture, or the views of one run from several
    vantage points merged into one timeline), ``vantage`` ({path: role}),
    ``clock_offsets`` ({path: seconds or (seconds, ppm)} for merged views),
    ``no_merge`` (not even a rotated capture's pieces), ``progress``, ``esp_sas``, ``cluster``
    (a record store's analysis split by mobile node on Dask: "local:N" or
    "tcp://HOST:PORT"; ``jobs`` > 1 does it in local processes; the same table)
    (ebutool.runner.analyze_inputs.analyze_files)."""
    from ebutool.runner.analyze_inputs import analyze_files

    return analyze_files(_inputs(paths), jobs, **options)


def verify(*paths: Input, jobs: int = 1, **options: Any) -> pd.DataFrame:
    """One row per checked message (frame, time, msg, mn, cn, coa, seq, verdict, reason).
    ``options``: ``keys``, ``config``, ``diag``, ``stats``, ``esp_sas``."""
    from ebutool.runner.verify_inputs import verify_files

    return verify_files(_inputs(paths), jobs, **options)


def replay(*paths: Input, jobs: int = 1, **options: Any) -> ReplayResult | ReplayRuns:
    """Replay the inputs through the reference CN model (see ebutool.cn_replay): one
    input gives its ReplayResult, several a ReplayRuns (the same tables, with a
    ``source`` column first).  ``options``: ``keys``, ``config``, ``cn_policy``,
    ``diag``, ``stats``, ``trusted``, ``esp_sas``."""
    from ebutool.runner.replay_inputs import replay_files

    runs = replay_files(_inputs(paths), jobs, **options)
    return runs.results[0] if len(runs.results) == 1 else runs


def extract(
    *paths: Input,
    store: Input,
    jobs: int = 1,
    cluster: str | None = None,
    **options: Any,
) -> Any:
    """Extract the inputs (captures, directories) into the record store ``store``, one
    Parquet part per file, only new or changed files (ebutool.store); ``cluster``:
    "local", "local:N" or "tcp://HOST:PORT" runs one Dask task per file
    (ebutool.runner.cluster; the ``ebutool[dask]`` extra).  Returns an
    ebutool.store.ExtractReport.  ``analyze(store)`` then reads it like one capture.
    ``esp_sas`` (an option): ESP SAs to decrypt with, as for ``analyze``."""
    from ebutool.runner.cluster import extract_files

    return extract_files(list(paths), store, jobs, cluster=cluster, **options)


__all__ = [
    "extract",
    "analyze",
    "verify",
    "replay",
    "__version__",
    "ProtocolConfig",
    "DEFAULT_CONFIG",
    "Diagnostics",
    "EbutoolError",
    "InputError",
    "UsageError",
    "read_records",
    "decode",
]
