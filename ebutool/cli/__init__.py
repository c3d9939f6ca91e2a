"""The command line: the typer app (app.py), shared options (options.py), option groups
(option_groups.py), one module per command (commands/)."""

from __future__ import annotations

import os
import sys


def main() -> None:
    """The ``ebutool`` program.  A command module that cannot be loaded is a bug: one
    line naming it and the cause, exit status 4 (README "Exit status"); EBUTOOL_DEBUG=1
    shows the traceback."""
    from ebutool.cli.commands import CommandImportError

    try:
        from ebutool.cli.app import app
    except CommandImportError as exc:
        if os.environ.get("EBUTOOL_DEBUG"):
            raise
        sys.stderr.write(f"ebutool: internal error: {exc} (set EBUTOOL_DEBUG=1 for a traceback)\n")
        sys.exit(4)
    app()
