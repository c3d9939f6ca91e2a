"""How the program ends on a signal: one line on stderr and an immediate exit, shared by the
entry point (ebutool/cli/__init__.py), the command wrapper (options.guarded) and the typer
app (app.py) without importing any of them."""

from __future__ import annotations

import os
import signal
import sys
import weakref

from ebutool.core.at_stop import run_cleanups
from ebutool.core.names import one_line

_PID = os.getpid()  # the program's process (a forked -j worker inherits this value)


def is_program_process() -> bool:
    """True in the program's own process, False in a forked -j worker."""
    return os.getpid() == _PID


def stop(line: str, status: int) -> None:
    """End the program now with one line on stderr: no traceback, no second signal, no
    complaint about a standard output that cannot be flushed any more."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        sys.stderr.write(f"ebutool: {one_line(line)}\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except (OSError, ValueError):
        pass
    if is_program_process():  # (a forked worker's copies of them are its parent's)
        run_cleanups()  # the blocks in progress: their -j workers ended, outputs discarded
    _remove_temporaries()
    os._exit(status)


def _remove_temporaries() -> None:
    """What the interpreter's exit would still do and os._exit skips: the finalizers of
    the temporary directories still open in $TMPDIR (tempfile.TemporaryDirectory: a
    table's spilled pieces, annotate's comment store), which a signal in the middle of a
    write left behind.  Only in the program's own process: a forked worker's copies of
    them are its parent's."""
    if not is_program_process():
        return
    hook = sys.excepthook
    sys.excepthook = lambda *exc: None  # a cleanup that fails stays silent
    try:
        weakref.finalize._exitfunc()  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001, S110 - ending anyway
        pass
    finally:
        sys.excepthook = hook
