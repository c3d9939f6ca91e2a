"""Option groups: decorators that give a command a set of options and hand it one value.

In the manner of sqlite-utils' ``output_options``, adapted to typer: the decorator adds
the group's parameters to the signature typer reads, and replaces one parameter of the
command function by the value built from them::

    @app.command("verify")
    @guarded
    @protocol_options("oracle")
    @key_options
    def verify_cmd(files: ..., config: ProtocolConfig, keys: KeyTable) -> None: ...

- :func:`protocol_options` adds the options of the protocol constants the named
  packages use (ebutool.core.constants.PROTOCOL_CONSTANTS: option, unit, default, bound)
  and hands the command one validated ProtocolConfig as ``config`` (or the values given,
  as ``overrides``);
- :func:`key_options` adds ``--kcn``, ``--kcn-file``, ``--nonces`` and ``--keys`` and
  hands it the oracle's key table (those options and EBUTOOL_KCN) as ``keys``;
- :func:`esp_options` adds ``--esp-sa`` (repeatable) and ``--esp-replay-window`` and
  hands it the ESP security associations of those files as ``esp_sas`` (every command
  that reads captures); below ``@key_options``, the ``esp_sas`` section of the
  ``--keys`` file is added to them.

Put them below ``@guarded``, so that a bad value is a one-line usage error.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import typer

from ebutool.core.constants import (
    KIND_MH_TYPE,
    PROTOCOL_CONSTANTS,
    USERS,
    ConstantSpec,
    ProtocolConfig,
)
from ebutool.esp.sa import DEFAULT_REPLAY_WINDOW

if TYPE_CHECKING:
    from ebutool.esp.sa import EspSA
    from ebutool.oracle.keys import KeyTable

F = TypeVar("F", bound=Callable[..., Any])


def with_option_group(
    replaced: str,
    options: Sequence[inspect.Parameter],
    build: Callable[[Mapping[str, Any]], Any],
) -> Callable[[F], F]:
    """A decorator: the command's parameter ``replaced`` becomes the parameters
    ``options`` on the command line; the command gets ``build(their values)`` in its place."""
    names = [p.name for p in options]

    def decorate(fn: F) -> F:
        sig = inspect.signature(fn)
        if replaced not in sig.parameters:
            raise TypeError(f"{fn.__name__} has no parameter {replaced!r} to hand the group to")
        # typer needs the annotations as objects; the replaced one's type may exist for
        # type checkers only (imported under TYPE_CHECKING), so it is never evaluated.
        kept = [_evaluated(p, fn) for p in sig.parameters.values() if p.name != replaced]
        clash = {p.name for p in kept} & set(names)
        if clash:
            raise TypeError(f"{fn.__name__}: parameters {sorted(clash)} clash with the group's")

        @functools.wraps(fn)
        def command(*args: Any, **kwargs: Any) -> Any:
            given = {name: kwargs.pop(name) for name in names}
            kwargs[replaced] = build(given)
            return fn(*args, **kwargs)

        params = kept + list(options)
        command.__signature__ = sig.replace(  # type: ignore[attr-defined]
            parameters=params, return_annotation=inspect.Signature.empty
        )
        command.__annotations__ = {p.name: p.annotation for p in params}
        return command  # type: ignore[return-value]

    return decorate


def _evaluated(param: inspect.Parameter, fn: Callable[..., Any]) -> inspect.Parameter:
    """``param`` with its annotation evaluated (``from __future__ import annotations``
    leaves it a string) in the namespace of the function that declares it."""
    if not isinstance(param.annotation, str):
        return param
    namespace = inspect.unwrap(fn).__globals__
    try:
        return param.replace(annotation=eval(param.annotation, namespace))
    except NameError:
        # A type for type checkers only: the parameter another group (an outer
        # decorator) replaces, e.g. ``keys: KeyTable`` below ``@esp_options``.
        return param


def _option(name: str, annotation: Any, default: Any = None) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


# --- protocol constants --------------------------------------------------------------------------


def constant_help(spec: ConstantSpec, *, synth: bool = False) -> str:
    """The --help text of a constant's option: its name, unit, range (``synth``: as synth
    checks it), meaning, default."""
    bounds = spec.synth_bounds if synth else spec.bounds
    return f"{spec.constant} ({spec.unit}, {bounds}): {spec.meaning} [default {spec.default_text}]"


def constants_used_by(users: Sequence[str]) -> list[ConstantSpec]:
    """The constants any of ``users`` (package names, USERS) depends on, in declared order."""
    unknown = set(users) - set(USERS)
    if unknown:
        raise ValueError(f"unknown users of protocol constants: {sorted(unknown)}")
    return [s for s in PROTOCOL_CONSTANTS if s.used_by & set(users)]


def protocol_options(*users: str, overrides: bool = False) -> Callable[[F], F]:
    """Options for the protocol constants ``users`` (the packages the command runs, e.g.
    "analysis", "oracle") depend on.  The command receives ``config: ProtocolConfig``
    (the defaults, changed by the options given), or with ``overrides`` the values given
    as ``overrides: dict[str, float]`` (field -> value; for a base other than the
    defaults, e.g. a scenario's).  Every value is checked against its spec either way."""
    specs = constants_used_by(users)
    options = [
        _option(
            s.name,
            Annotated[
                (int | None) if s.kind == KIND_MH_TYPE else (float | None),
                typer.Option(s.option, *s.aliases, help=constant_help(s, synth="synth" in users)),
            ],
        )
        for s in specs
    ]

    def build(values: Mapping[str, Any]) -> ProtocolConfig | dict[str, float]:
        # ProtocolConfig checks every value against its spec (UsageError naming the option).
        config = ProtocolConfig().with_(**values)
        if overrides:
            return {name: value for name, value in values.items() if value is not None}
        return config

    return with_option_group("overrides" if overrides else "config", options, build)


def command_constants(command: Callable[..., Any]) -> list[str]:
    """The ProtocolConfig fields a decorated command offers as options (for docs and tests)."""
    params = inspect.signature(command).parameters
    return [s.name for s in PROTOCOL_CONSTANTS if s.name in params]


# --- key material for the oracle ---------------------------------------------------------------

# Never echoed anywhere: key material only goes to the oracle.
KEY_OPTIONS = [
    _option(
        "kcn",
        Annotated[
            list[str] | None,
            typer.Option(
                "--kcn",
                metavar="[ADDR=]HEX",
                help="Kcn in hex for CN ADDR, or for every CN without ADDR (repeatable). A "
                "command line is visible to other local users: prefer --kcn-file or EBUTOOL_KCN.",
            ),
        ],
    ),
    _option(
        "kcn_file",
        Annotated[
            list[str] | None,
            typer.Option(
                "--kcn-file",
                metavar="[ADDR=]PATH",
                help="File holding Kcn in hex, for CN ADDR or every CN (repeatable).",
            ),
        ],
    ),
    _option(
        "nonces",
        Annotated[
            list[str] | None,
            typer.Option(
                "--nonces",
                metavar="[ADDR=]PATH",
                help='JSON nonce table {"INDEX": "HEX" | {"nonce": "HEX", "generated": EPOCH_S}}, '
                "for CN ADDR or every CN (repeatable).",
            ),
        ],
    ),
    _option(
        "keys_file",
        Annotated[
            str | None,
            typer.Option(
                "--keys",
                metavar="PATH",
                help='One JSON file for all CNs: {"ADDR" or "*": {"kcn": HEX | "kcn_file": PATH, '
                '"nonces": {...} | PATH}}.',
            ),
        ],
    ),
]


def key_table(values: Mapping[str, Any]) -> KeyTable:
    """The oracle's key table from the key options' values (and EBUTOOL_KCN): analyze,
    verify and replay read keys the same way."""
    from ebutool.cli.options import claim_file, err
    from ebutool.core.keyfile import shown_path
    from ebutool.oracle.keys import load_key_table, split_spec

    # inputs like the captures: an output of the command may not overwrite them
    if values["keys_file"]:
        claim_file(values["keys_file"], f"--keys {values['keys_file']}", output=False)
    for option, name in (("--kcn-file", "kcn_file"), ("--nonces", "nonces")):
        for spec in values[name] or ():
            claim_file(split_spec(spec, option)[1], f"{option} {spec}", output=False)
    table = load_key_table(
        kcn=values["kcn"] or (),
        kcn_files=values["kcn_file"] or (),
        nonces=values["nonces"] or (),
        keys_file=values["keys_file"],
        env=os.environ,
    )
    for path, where in table.named_files:  # read by now; claimed before any output is written
        claim_file(path, f"{where} {shown_path(path)}", output=False)
    for line in table.warnings:  # shown even with --quiet: keys others can read
        err(f"warning: {line}")
    return table


def key_options(fn: F) -> F:
    """Options for the oracle's keys; the command receives ``keys: KeyTable``."""
    return with_option_group("keys", KEY_OPTIONS, key_table)(fn)


# --- ESP security associations -----------------------------------------------------------------

ESP_OPTIONS = [
    _option(
        "esp_sa",
        Annotated[
            list[str] | None,
            typer.Option(
                "--esp-sa",
                metavar="FILE",
                help="ESP security associations to decrypt ESP-protected signalling with "
                "(repeatable): Wireshark's esp_sa file, `ip xfrm state` output or a JSON "
                'file with "esp_sas" (format by content; docs/esp.md).',
            ),
        ],
    ),
    _option(
        "esp_replay_window",
        Annotated[
            int,
            typer.Option(
                "--esp-replay-window",
                metavar="N",
                min=1,
                help="ESP anti-replay window (packets, >= 1; RFC 4303 3.4.3) of every SA "
                "whose file gives none (an SA file's own replay window wins).",
            ),
        ],
        DEFAULT_REPLAY_WINDOW,
    ),
]


def esp_sa_list(values: Mapping[str, Any]) -> list[EspSA]:
    """The SAs of every ``--esp-sa`` file (a file that cannot be read: a usage error),
    each with ``--esp-replay-window`` where its file gives no window."""
    from ebutool.cli.options import claim_file, err
    from ebutool.esp.sa import with_replay_window
    from ebutool.esp.sa_files import load_sa_files

    for path in values["esp_sa"] or ():  # (an input: no output may overwrite it)
        claim_file(path, f"--esp-sa {path}", output=False)
    # shown even with --quiet, like the keys files' warnings: SA files hold keys
    sas = load_sa_files(values["esp_sa"] or (), warn=lambda line: err(f"warning: {line}"))
    return EspSAList(with_replay_window(sas, values["esp_replay_window"]), values)


class EspSAList(list["EspSA"]):
    """The SAs of the ``--esp-sa`` files, with the option values they came from."""

    def __init__(self, sas: Sequence[EspSA], values: Mapping[str, Any]):
        super().__init__(sas)
        self.paths: list[str] = list(values["esp_sa"] or ())
        self.window: int = values["esp_replay_window"]


def keys_file_sas(given: EspSAList, keys: KeyTable, quiet: bool) -> list[EspSA]:
    """``given`` and the SAs of the ``--keys`` file's ``esp_sas`` section (unless the same
    file is also an ``--esp-sa`` file), said once on stderr."""
    from ebutool.cli.options import err
    from ebutool.core.keyfile import shown_path
    from ebutool.esp.sa import with_replay_window
    from ebutool.esp.sa_files import parse_json_sas, read_sa_file

    path = keys.esp_sas_file
    if path is None or any(_same_file(path, p) for p in given.paths):
        return list(given)
    where = f"--keys {shown_path(path)}"
    sas = with_replay_window(parse_json_sas(read_sa_file(path, "--keys"), where), given.window)
    if not quiet:
        err(f"note: using the {len(sas)} ESP SA(s) of the esp_sas section of {where}")
    return list(given) + sas


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def esp_options(fn: F) -> F:
    """The ``--esp-sa`` and ``--esp-replay-window`` options; the command receives
    ``esp_sas: list[EspSA]`` (with the ``--keys`` file's ``esp_sas`` when the command
    also has :func:`key_options`, put above this one)."""

    @functools.wraps(fn)
    def with_keys_sas(*args: Any, **kwargs: Any) -> Any:
        keys = kwargs.get("keys")
        if keys is not None and getattr(keys, "esp_sas_file", None):
            kwargs["esp_sas"] = keys_file_sas(kwargs["esp_sas"], keys, kwargs.get("quiet", False))
        else:
            kwargs["esp_sas"] = list(kwargs["esp_sas"])
        return fn(*args, **kwargs)

    grouped = with_option_group("esp_sas", ESP_OPTIONS, esp_sa_list)(with_keys_sas)
    return cast(F, grouped)


# --- limits of reading ---------------------------------------------------------------------------


def reading_options(fn: F) -> F:
    """``--max-trace-line-bytes`` for a command that reads traces: the length limit of a
    JSON Lines line (ebutool.trace.lines), handed to every reader (and -j worker) through
    the environment.  The command itself receives nothing."""
    from ebutool.trace.lines import ENV_MAX_TRACE_LINE_BYTES, MAX_TRACE_LINE_BYTES

    option = _option(
        "max_trace_line_bytes",
        Annotated[
            int | None,
            typer.Option(
                "--max-trace-line-bytes",
                min=1,
                metavar="N",
                help="Longest JSON Lines trace line read, in octets; a longer line is a "
                f"counted warning and skipped [default {MAX_TRACE_LINE_BYTES}]",
            ),
        ],
    )
    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def command(*args: Any, **kwargs: Any) -> Any:
        value = kwargs.pop("max_trace_line_bytes")
        before = os.environ.get(ENV_MAX_TRACE_LINE_BYTES)
        if value is not None:
            os.environ[ENV_MAX_TRACE_LINE_BYTES] = str(value)
        try:
            return fn(*args, **kwargs)
        finally:  # a library user's process is left as it was
            if before is None:
                os.environ.pop(ENV_MAX_TRACE_LINE_BYTES, None)
            else:
                os.environ[ENV_MAX_TRACE_LINE_BYTES] = before

    params = [_evaluated(p, fn) for p in sig.parameters.values()] + [option]
    command.__signature__ = sig.replace(  # type: ignore[attr-defined]
        parameters=params, return_annotation=inspect.Signature.empty
    )
    command.__annotations__ = {p.name: p.annotation for p in params}
    return command  # type: ignore[return-value]
