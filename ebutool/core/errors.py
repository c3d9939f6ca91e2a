"""Exceptions that end a run, each mapped to an exit status by the CLI."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1  # a check ran and found problems (e.g. an invalid MAC)
EXIT_USAGE = 2  # bad command line
EXIT_UNREADABLE = 3  # input cannot be read at all


class EbutoolError(Exception):
    """Base class; ``str(exc)`` is a one-line diagnosis meant for the user."""

    exit_code = EXIT_UNREADABLE


class InputError(EbutoolError):
    """The input file is not a capture/trace ebutool can read (exit 3)."""

    exit_code = EXIT_UNREADABLE


class UsageError(EbutoolError):
    """Options that do not fit together or a malformed option value (exit 2)."""

    exit_code = EXIT_USAGE
