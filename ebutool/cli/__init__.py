"""The command line: the typer app (app.py), shared options (options.py), option groups
(option_groups.py), one module per command (commands/)."""

from __future__ import annotations

import os
import signal
import sys

from ebutool.cli.ending import stop
from ebutool.core.errors import EXIT_INTERNAL, EXIT_SIGINT, EXIT_SIGTERM, Terminated


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated()


def main() -> None:
    """The ``ebutool`` program.  SIGINT (Ctrl-C) and SIGTERM are handled from the first
    statement on, before the heavy imports: one line, exit status 130 or 143 (README
    "Exit status"); signals blocked by the parent are unblocked once handled.  A command
    module that cannot be loaded is a bug: one line naming it and the cause, exit
    status 4; EBUTOOL_DEBUG=1 shows the traceback."""
    try:
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
