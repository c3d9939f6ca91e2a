"""How the program ends on a signal: one line on stderr and an immediate exit, shared by the
entry point (ebutool/cli/__init__.py), the command wrapper (options.guarded) and the typer
app (app.py) without importing any of them."""

from __future__ import annotations

import os
import signal
import sys


def stop(line: str, status: int) -> None:
    """End the program now with one line on stderr: no traceback, no second signal, no
    complaint about a standard output that cannot be flushed any more."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        sys.stderr.write(f"ebutool: {line}\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except (OSError, ValueError):
        pass
    os._exit(status)
