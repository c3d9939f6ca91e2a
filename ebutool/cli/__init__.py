"""The command line: the typer app (app.py), shared options (options.py), option groups
(option_groups.py), one module per command (commands/)."""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading

from ebutool.cli.ending import is_program_process, stop
from ebutool.core.errors import EXIT_INTERNAL, EXIT_SIGINT, EXIT_SIGTERM, Terminated


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated()


def _on_unraisable(previous: object) -> object:
    """A sys.unraisablehook in front of ``previous``: a KeyboardInterrupt or Terminated
    that the interpreter cannot raise (the signal's handler ran inside a weakref
    callback, a __del__, a finalizer: "Exception ignored in ...", and the run went on as
    if no signal had come) ends the program as the signal would have, with its one line
    (ebutool.cli.ending.stop, which also does what the way out of the blocks in
    progress would: ends -j workers, discards outputs).  Anything else, and anything in
    a forked -j worker (which leaves both signals to this process), goes to ``previous``."""

    def hook(unraisable: sys.UnraisableHookArgs) -> None:
        exc = unraisable.exc_value
        if is_program_process():
            if isinstance(exc, KeyboardInterrupt):
                stop("interrupted", EXIT_SIGINT)
            if isinstance(exc, Terminated):
                stop("terminated", EXIT_SIGTERM)
        previous(unraisable)  # type: ignore[operator]

    hook.ebutool = True  # type: ignore[attr-defined]
    return hook


def _handle_unraisable() -> None:
    """Install :func:`_on_unraisable` once (main may run more than once in a process)."""
    if not getattr(sys.unraisablehook, "ebutool", False):
        sys.unraisablehook = _on_unraisable(sys.unraisablehook)  # type: ignore[assignment]


def main() -> None:
    """The ``ebutool`` program.  SIGINT (Ctrl-C) and SIGTERM are handled from the first
    statement on, before the heavy imports: one line, exit status 130 or 143 (README
    "Exit status"); signals blocked by the parent are unblocked once handled, and one
    whose exception is lost in a callback ends the program too (:func:`_on_unraisable`).
    A command module that cannot be loaded is a bug: one line naming it and the cause,
    exit status 4; EBUTOOL_DEBUG=1 shows the traceback."""
    from ebutool.core.stdio import occupy_closed_fds

    occupy_closed_fds()  # a closed stdin/stdout/stderr (`<&-`): ebutool.core.stdio
    try:
        _handle_unraisable()  # a signal's exception lost in a callback: ends the program
        signal.signal(signal.SIGTERM, _on_sigterm)
        # handled from here on: a signal held back (blocked) until now arrives here
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
        _main()
    except SystemExit:
        _done()
        raise
    except KeyboardInterrupt:
        stop("interrupted", EXIT_SIGINT)
    except Terminated:
        stop("terminated", EXIT_SIGTERM)
    _done()


def run() -> None:
    """The ``ebutool`` program as installed (the console script, ``python -m ebutool``):
    :func:`main`, then the process ends at once when nothing is left to the interpreter
    (:func:`_end_now`).  :func:`main` itself returns or raises as usual (for callers
    that run it in process)."""
    try:
        main()
    except SystemExit as exc:
        _end_now(exc.code)
        raise
    _end_now(0)


def _end_now(code: object) -> None:
    """End the process now, without the interpreter's teardown, which frees every object
    and module one by one: ~0.15-0.2 s of CPU (most of it system time, the memory given
    back page by page) after `analyze` of the 8 x 1 M-packet store, on the critical path
    of every command (docs/performance.md, "the fork mapper").  The command is over:
    its outputs are committed (ebutool.cli.options.guarded) and written files closed;
    what the teardown would still do is run here (the atexit handlers, which also run
    weakref finalizers such as temporary directories', and the last flush of the
    standard streams).  Left to the interpreter, as before: an exit status that is not
    a number, another thread still running (it would be joined), a profiler or tracer
    (it writes its results at exit), and a standard stream that cannot be flushed
    (the interpreter reports that as it always did)."""
    if code is None:
        code = 0
    if not isinstance(code, int) or threading.active_count() > 1:
        return
    if sys.gettrace() is not None or sys.getprofile() is not None:
        return
    if not _flushed():
        return
    atexit._run_exitfuncs()  # (they run once: the interpreter finds none left)
    if _flushed():
        os._exit(code)


def _flushed() -> bool:
    try:
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        return False
    return True


def _done() -> None:
    """The command has ended and its outputs are in place: a signal that arrives while
    the interpreter shuts down (joining -j workers, flushing) no longer changes the
    outcome, and must not end it with a traceback or a death by signal."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _main() -> None:
    from ebutool.cli.commands import CommandImportError

    try:
        from ebutool.cli.app import app
    except CommandImportError as exc:
        if os.environ.get("EBUTOOL_DEBUG"):
            raise
        sys.stderr.write(f"ebutool: internal error: {exc} (set EBUTOOL_DEBUG=1 for a traceback)\n")
        sys.exit(EXIT_INTERNAL)
    app()
