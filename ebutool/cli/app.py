"""The ``ebutool`` command line: wiring only (each command lives in ebutool/cli/commands)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from ebutool.cli.commands import register_commands
from ebutool.cli.ending import stop
from ebutool.cli.options import err
from ebutool.core.errors import EXIT_OUTPUT, EXIT_SIGINT
from ebutool.core.keyfile import shown_path
from ebutool.core.stdio import HeldStdout
from ebutool.core.version import __version__

try:  # typer vendors click from 0.2x on
    from typer._click import exceptions as _click_exc
except ImportError:  # pragma: no cover - older typer, on click itself
    from click import exceptions as _click_exc  # type: ignore[no-redef]


class _OneLineErrors(TyperGroup):
    """Errors of the command line itself (unknown option, malformed value, missing
    argument) as one line on stderr like every other error (README "Exit status"),
    not click's usage block."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        run = (args, prog_name, complete_var, False, windows_expand_args)
        if not standalone_mode:
            return super().main(*run, **extra)
        if sys.stdout is not None:
            return self._main(run, extra, args)
        # Standard output closed (`>&-`): click would drop the help or version text and
        # end with 0; kept aside instead, and refused as a data command's output is
        held = sys.stdout = HeldStdout()
        try:
            return self._main(run, extra, args)
        finally:
            sys.stdout = None
            if held.getvalue():
                err("error: standard output is closed")
                sys.exit(EXIT_OUTPUT)  # (instead of the help's or version's 0)

    def _main(self, run: tuple, extra: dict[str, Any], args: Sequence[str] | None) -> Any:
        try:
            rv = super().main(*run, **extra)
        except _click_exc.UsageError as exc:
            if isinstance(exc, getattr(_click_exc, "NoArgsIsHelpError", ())):
                exc.show()  # bare `ebutool`: the help text
                sys.exit(exc.exit_code)
            hint = f" (see '{exc.ctx.command_path} -h')" if exc.ctx is not None else ""
            err("error: " + _redacted(exc.format_message(), args) + hint)
            sys.exit(exc.exit_code)
        except _click_exc.ClickException as exc:
            err("error: " + _redacted(exc.format_message(), args))
            sys.exit(exc.exit_code)
        except typer.Abort:  # click's name for a KeyboardInterrupt while it parses
            stop("interrupted", EXIT_SIGINT)
        if rv == EXIT_SIGINT:
            # typer turns a KeyboardInterrupt outside the command body (while it builds
            # the context, runs option callbacks) into a silent Exit(130); the command
            # body's own interruptions end in `stop` and never get here
            stop("interrupted", EXIT_SIGINT)
        sys.exit(rv if isinstance(rv, int) else 0)


def _redacted(message: str, args: Sequence[str] | None) -> str:
    """Click's message on one line, with every command-line word that looks like key
    material (a long hexadecimal string, e.g. the Kcn of `--kcn ADDR HEX` typed with a
    space) replaced: a secret typed next to a key option is never echoed."""
    line = " ".join(message.split())
    words = list(args) if args is not None else sys.argv[1:]
    for word in words:
        for part in str(word).split("="):
            if shown_path(part) != part:
                line = line.replace(part, "(not shown)")
    return line


app = typer.Typer(
    name="ebutool",
    cls=_OneLineErrors,
    help="Analysis and trace replay of Mobile IPv6 (Early) Binding Update signalling.\n\n"
    "Example: ebutool analyze samples/early-conservative.pcap",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ebutool {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool | None,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = None,
) -> None:
    """Analysis and trace replay of Mobile IPv6 (Early) Binding Update signalling."""


register_commands(app)  # CommandImportError if a command module cannot be loaded


def main() -> None:
    """The command line (console scripts installed before ebutool.cli.main existed)."""
    app()
