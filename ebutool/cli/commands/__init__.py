"""CLI commands, one module each; every module exposes ``register(app)``.

``COMMAND_MODULES`` lists them; the CLI registers those that import (so one
command's optional dependency never breaks the others)."""

COMMAND_MODULES = [
    "decode",
    "convert",
    "analyze",
    "verify",
    "replay",
    "synth",
    "model",
    "compare",
    "timeline",
]
