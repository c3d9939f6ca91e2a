"""``--provenance FILE.json``: how a command's output was made, in a file beside it.

An option group (ebutool.cli.option_groups.with_option_group): the decorator adds
``--provenance`` to a command and hands it a :class:`Provenance` as ``provenance``; the
file is checked before the work (ebutool.core.output_file) and put in place, with the
command's other outputs, when it ends well.  The command calls :meth:`Provenance.record`
once its table is made: the record (ebutool.report.provenance) is written to the file
when one was given, and returned for parquet's key-value metadata whenever the format
is parquet (so a parquet file always carries it)::

    record = provenance.record(fmt, paths, config=config, episodes=df)
    write_table(df, fmt, out, provenance=record)

The command line in the record is rebuilt from what click parsed: the command, its
arguments and the options given on the command line (not those from defaults or the
environment), with Kcn values hidden; each word written as the inputs' names are
(ebutool.core.names.readable_name: exact, ``name_octets`` gives back its octets).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, TypeVar

import typer

from ebutool.cli.option_groups import with_option_group
from ebutool.cli.options import output_file
from ebutool.core.names import readable_name
from ebutool.core.output_file import OutputFile
from ebutool.report.output_format import OutputFormat

try:  # typer vendors click from 0.2x on (as ebutool.cli.app does)
    from typer._click.core import ParameterSource
    from typer._click.globals import get_current_context
except ImportError:  # pragma: no cover - older typer, on click itself
    from click.core import ParameterSource  # type: ignore[assignment]
    from click.globals import get_current_context  # type: ignore[no-redef]

F = TypeVar("F", bound=Callable[..., Any])
SECRET_OPTIONS = frozenset({"kcn"})  # parameters whose values are key material
HIDDEN = "<hidden>"


def _sidecar_path(value: str | None) -> str | None:
    if value == "-":
        raise typer.BadParameter("give a file path (standard output is for the table)")
    return value


PROVENANCE_OPTION = [
    inspect.Parameter(
        "provenance_path",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            str | None,
            typer.Option(
                "--provenance",
                metavar="FILE.json",
                callback=_sidecar_path,
                help="Also write how the output was made (ebutool's version, command line, "
                "protocol constants in force, the inputs' sizes and SHA-256, vantage, "
                "episodes left out of the statistics) as JSON to FILE.json; a parquet "
                "output carries it in its metadata anyway.",
            ),
        ],
    )
]


class Provenance:
    """The ``--provenance`` target of one command run (module doc)."""

    def __init__(self, target: OutputFile | None, command: str | None, words: list[str] | None):
        self.target = target
        self.command = command
        self.command_line = words

    def record(
        self, fmt: OutputFormat | None, inputs: Sequence[str], **details: Any
    ) -> dict[str, Any] | None:
        """The provenance of this run's output (``details``: build_provenance's keyword
        arguments), written to the ``--provenance`` file if one was given; None when
        neither that file nor a parquet output needs it (no input is hashed then)."""
        if self.target is None and fmt is not OutputFormat.parquet:
            return None
        from ebutool.report.provenance import build_provenance, provenance_json

        made = build_provenance(
            inputs, command=self.command, command_line=self.command_line, **details
        )
        if self.target is not None:
            self.target.write(provenance_json(made))
        return made


def command_line() -> list[str] | None:
    """The running command's line as click parsed it (module doc); None outside click."""
    ctx = get_current_context(silent=True)
    if ctx is None:
        return None
    words, positional = ["ebutool", ctx.info_name or ""], []
    for param in ctx.command.params:
        name = param.name
        if name is None or ctx.get_parameter_source(name) is not ParameterSource.COMMANDLINE:
            continue
        values = _values(ctx.params.get(name), param)
        if getattr(param, "param_type_name", "") == "argument":
            positional.extend(values)
            continue
        opt = max(param.opts, key=len)
        if getattr(param, "is_flag", False):
            off = getattr(param, "secondary_opts", None) and not ctx.params.get(name)
            words.append(max(param.secondary_opts, key=len) if off else opt)
            continue
        for v in values:
            words += [opt, HIDDEN if name in SECRET_OPTIONS else v]
    if any(p.startswith("-") and p != "-" for p in positional):
        words.append("--")
    # each word as the inputs' names are shown (a backslash doubled, an octet that is
    # not UTF-8 as \xNN: ebutool.core.names), so that two words never look alike
    return [readable_name(w) for w in words + positional]


def _values(value: Any, param: Any) -> list[str]:
    if value is None:
        return []
    many = param.multiple or (param.nargs != 1 and isinstance(value, list | tuple))
    return [_word(v) for v in value] if many else [_word(value)]


def _word(value: Any) -> str:
    return str(getattr(value, "value", value))  # an enum member: its value


def provenance_option(fn: F) -> F:
    """Adds ``--provenance``; the command receives ``provenance: Provenance``."""

    def build(values: Mapping[str, Any]) -> Provenance:
        path = values["provenance_path"]
        target = output_file(path, "--provenance") if path is not None else None
        ctx = get_current_context(silent=True)
        return Provenance(target, ctx.info_name if ctx else None, command_line())

    return with_option_group("provenance", PROVENANCE_OPTION, build)(fn)


__all__ = ["Provenance", "command_line", "provenance_option"]
