"""Exceptions that end a run, each mapped to an exit status by the CLI."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1  # a check ran and found problems (e.g. an invalid MAC)
EXIT_USAGE = 2  # bad command line
EXIT_UNREADABLE = 3  # input cannot be read at all
EXIT_INTERNAL = 4  # a bug: an exception nothing else handled
EXIT_OUTPUT = 5  # output cannot be written (disk full, EIO, closed standard output)
EXIT_SIGINT = 130  # 128 + SIGINT
EXIT_SIGTERM = 143  # 128 + SIGTERM


class EbutoolError(Exception):
    """Base class; ``str(exc)`` is a one-line diagnosis meant for the user."""

    exit_code = EXIT_UNREADABLE


class InputError(EbutoolError):
    """The input file is not a capture/trace ebutool can read (exit 3)."""

    exit_code = EXIT_UNREADABLE


class UsageError(EbutoolError):
    """Options that do not fit together or a malformed option value (exit 2)."""

    exit_code = EXIT_USAGE


class OutputError(EbutoolError):
    """An output cannot be written: disk full, I/O error, closed standard output (exit 5)."""

    exit_code = EXIT_OUTPUT


class Terminated(BaseException):
    """SIGTERM arrived (raised by the handler of ebutool.cli.main): one line, exit 143;
    like KeyboardInterrupt it is not an Exception, so nothing swallows it."""

    exit_code = EXIT_SIGTERM
