"""ebutool: analysis and trace replay of Mobile IPv6 (Early) Binding Update signalling.

The library works without the CLI::

    import ebutool
    df = ebutool.decode("samples/early-conservative.pcap")  # one row per MH message
"""

from __future__ import annotations

from ebutool.core.constants import DEFAULT_CONFIG, ProtocolConfig
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import EbutoolError, InputError, UsageError
from ebutool.core.version import __version__


def read_records(path, diag: Diagnostics | None = None, stats=None):
    """The message stream (Records and HandoverEvents) of a capture or JSON trace."""
    from ebutool.stream.reader import read_records as _read

    return _read(path, diag if diag is not None else Diagnostics(), stats)


def decode(path, diag: Diagnostics | None = None):
    """One row per Mobility Header message of ``path`` as a pandas DataFrame."""
    from ebutool.report.message_table import decode_frame

    return decode_frame(read_records(path, diag))


def analyze(*paths, **options):
    """One row per binding-update episode (DESIGN.md section 5 columns) as a DataFrame."""
    from ebutool.analysis import analyze as _analyze

    return _analyze(*paths, **options)


def verify(path, **options):
    """One row per checked message (frame, time, msg, mn, cn, coa, seq, verdict, reason)."""
    from ebutool.oracle.verify import verify as _verify

    return _verify(path, **options)


def replay(path, **options):
    """Replay a trace through the reference CN model (see ebutool.cn_replay)."""
    from ebutool.cn_replay import replay as _replay

    return _replay(path, **options)


__all__ = [
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
