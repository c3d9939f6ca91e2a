"""``python -m ebutool``: the command line, as the ``ebutool`` entry point runs it."""

from ebutool.cli import run

run()
