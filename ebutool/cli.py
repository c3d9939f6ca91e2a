"""The ``ebutool`` command line: wiring only (each command lives in ebutool/commands)."""
from __future__ import annotations

import importlib
from typing import Annotated, Optional

import typer

from . import __version__
from .commands import COMMAND_MODULES

app = typer.Typer(
    name="ebutool",
    help="Analysis and trace replay of Mobile IPv6 (Early) Binding Update signalling.\n\n"
         "Example: ebutool analyze samples/early-conservative.pcap",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ebutool {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(version: Annotated[Optional[bool], typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")] = None):
    """Analysis and trace replay of Mobile IPv6 (Early) Binding Update signalling."""


for _name in COMMAND_MODULES:
    try:
        _mod = importlib.import_module(f".commands.{_name}", __package__)
    except ModuleNotFoundError as _exc:
        if _exc.name and _exc.name.startswith("ebutool.commands."):
            continue  # command not written yet
        raise
    _mod.register(app)


def main() -> None:
    app()
