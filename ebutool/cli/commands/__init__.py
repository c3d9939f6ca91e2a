"""CLI commands, one module each; every module exposes ``register(app)``.

``COMMAND_MODULES`` lists them; :func:`register_commands` registers every one, and a
module that cannot be imported (or has no ``register``) stops the CLI with a
:class:`CommandImportError` naming the command and the cause: a command never
disappears silently."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer

COMMAND_MODULES = [
    "decode",
    "convert",
    "analyze",
    "extract",
    "verify",
    "replay",
    "synth",
    "model",
    "compare",
    "timeline",
    "annotate",
    "report",
]


class CommandImportError(ImportError):
    """A command module failed to load; the message says which and why."""


def register_commands(app: typer.Typer, names: Sequence[str] = COMMAND_MODULES) -> None:
    """``register(app)`` of every command module in ``names`` (module doc)."""
    for name in names:
        module_name = f"{__name__}.{name}"
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # re-raised, naming the command
            raise CommandImportError(
                f"command {name!r} cannot be loaded: importing {module_name} failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        register = getattr(module, "register", None)
        if not callable(register):
            raise CommandImportError(
                f"command {name!r} cannot be loaded: {module_name} has no register(app)"
            )
        register(app)
