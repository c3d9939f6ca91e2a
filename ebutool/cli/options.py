"""What every command shares: options, error handling, the stderr summary."""

from __future__ import annotations

import functools
import math
import os
import sys
from typing import Annotated

import typer

from ebutool.core.constants import DEFAULT_CONFIG, ProtocolConfig
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import EbutoolError, UsageError
from ebutool.core.gc_tuning import fewer_collections
from ebutool.report import OutputFormat, render_bytes

FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
OutputOpt = Annotated[str, typer.Option("--output", "-o", help="Write to PATH ('-' = stdout).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr.")]

# Protocol constants (DESIGN.md 3): each is an option of the commands that use it.
MaxNonceLifetimeOpt = Annotated[
    float | None,
    typer.Option(
        "--max-nonce-lifetime",
        help=f"MAX_NONCE_LIFETIME, s [default {DEFAULT_CONFIG.max_nonce_lifetime:g}]",
    ),
]
MaxTokenLifetimeOpt = Annotated[
    float | None,
    typer.Option(
        "--max-token-lifetime",
        help=f"MAX_TOKEN_LIFETIME, s [default {DEFAULT_CONFIG.max_token_lifetime:g}]",
    ),
]
MaxRRBindingLifetimeOpt = Annotated[
    float | None,
    typer.Option(
        "--max-rr-binding-lifetime",
        help=f"MAX_RR_BINDING_LIFETIME, s [default {DEFAULT_CONFIG.max_rr_binding_lifetime:g}]",
    ),
]
InitialBindackTimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--initial-bindack-timeout",
        help=f"INITIAL_BINDACK_TIMEOUT, s [default {DEFAULT_CONFIG.initial_bindack_timeout:g}]",
    ),
]
MaxBindackTimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--max-bindack-timeout",
        help=f"MAX_BINDACK_TIMEOUT, s [default {DEFAULT_CONFIG.max_bindack_timeout:g}]",
    ),
]
MaxUpdateRateOpt = Annotated[
    float | None,
    typer.Option(
        "--max-update-rate",
        help=f"MAX_UPDATE_RATE, 1/s [default {DEFAULT_CONFIG.max_update_rate:g}]",
    ),
]
TentativeLifetimeOpt = Annotated[
    float | None,
    typer.Option(
        "--tentative-binding-lifetime",
        "--tentative-lifetime",
        help="TENTATIVE_BINDING_LIFETIME, s "
        f"[default {DEFAULT_CONFIG.tentative_binding_lifetime:g}]",
    ),
]

# Key material for the oracle (verify, replay, analyze): never echoed anywhere.
KcnOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--kcn",
        metavar="[ADDR=]HEX",
        help="Kcn in hex for CN ADDR, or for every CN without ADDR (repeatable). A command line "
        "is visible to other local users: prefer --kcn-file or EBUTOOL_KCN.",
    ),
]
KcnFileOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--kcn-file",
        metavar="[ADDR=]PATH",
        help="File holding Kcn in hex, for CN ADDR or every CN (repeatable).",
    ),
]
NoncesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--nonces",
        metavar="[ADDR=]PATH",
        help='JSON nonce table {"INDEX": "HEX" | {"nonce": "HEX", "generated": EPOCH_S}}, '
        "for CN ADDR or every CN (repeatable).",
    ),
]
KeysOpt = Annotated[
    str | None,
    typer.Option(
        "--keys",
        metavar="PATH",
        help='One JSON file for all CNs: {"ADDR" or "*": {"kcn": HEX | "kcn_file": PATH, '
        '"nonces": {...} | PATH}}.',
    ),
]


def make_config(
    max_nonce_lifetime=None,
    max_token_lifetime=None,
    max_rr_binding_lifetime=None,
    initial_bindack_timeout=None,
    max_update_rate=None,
    tentative_binding_lifetime=None,
    max_bindack_timeout=None,
) -> ProtocolConfig:
    given = dict(
        max_nonce_lifetime=max_nonce_lifetime,
        max_token_lifetime=max_token_lifetime,
        max_rr_binding_lifetime=max_rr_binding_lifetime,
        initial_bindack_timeout=initial_bindack_timeout,
        max_update_rate=max_update_rate,
        tentative_binding_lifetime=tentative_binding_lifetime,
        max_bindack_timeout=max_bindack_timeout,
    )
    for name, value in given.items():
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise UsageError(
                f"--{name.replace('_', '-')} {value:g}: must be a finite number >= 0 "
                f"({name.upper()}, {'1/s' if name == 'max_update_rate' else 's'})"
            )
    return DEFAULT_CONFIG.with_(
        max_nonce_lifetime=max_nonce_lifetime,
        max_token_lifetime=max_token_lifetime,
        max_rr_binding_lifetime=max_rr_binding_lifetime,
        initial_bindack_timeout=initial_bindack_timeout,
        max_update_rate=max_update_rate,
        tentative_binding_lifetime=tentative_binding_lifetime,
        max_bindack_timeout=max_bindack_timeout,
    )


def err(text: str) -> None:
    """One line on stderr."""
    sys.stderr.write(f"ebutool: {text}\n")
    sys.stderr.flush()


def guarded(fn):
    """Turn every failure into a one-line diagnosis and an exit status (README "Exit
    status"); never a traceback unless EBUTOOL_DEBUG is set."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            with fewer_collections():  # every command is one streaming run
                return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except EbutoolError as exc:
            err(f"error: {exc}")
            raise typer.Exit(exc.exit_code) from None
        except BrokenPipeError:
            # The reader of our stdout went away (e.g. `| head`): not an error.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(0) from None
        except KeyboardInterrupt:
            err("interrupted")
            raise typer.Exit(130) from None
        except Exception as exc:  # noqa: BLE001 - last line of defence
            if os.environ.get("EBUTOOL_DEBUG"):
                raise
            err(
                f"internal error: {type(exc).__name__}: {exc} (set EBUTOOL_DEBUG=1 for a traceback)"
            )
            raise typer.Exit(4) from None

    return wrapper


def print_diagnostics(diag: Diagnostics, quiet: bool, limit: int = 10) -> None:
    """Counted per-packet warnings on stderr: totals per code, then the first few."""
    if quiet or not diag.counts:
        return
    err("warnings: " + ", ".join(f"{code} {n}" for code, n in sorted(diag.counts.items())))
    for d in diag.kept[:limit]:
        err(f"  {d.code}: {d.source + ': ' if d.source else ''}{d.message}")
    if diag.total > limit:
        err(f"  ... {diag.total - min(limit, len(diag.kept))} more")


def input_paths(args, quiet: bool) -> list[str]:
    """The files the command-line arguments name (a directory: the captures in it), and a
    note on stderr about a directory's files that are not read."""
    from ebutool.runner.multi import expand_inputs

    left_out: list[str] = []
    paths = expand_inputs(args, left_out)
    if left_out and not quiet:
        shown = ", ".join(os.path.basename(p) for p in left_out[:3])
        more = f" and {len(left_out) - 3} more" if len(left_out) > 3 else ""
        err(
            f"note: {len(left_out)} file{'s' if len(left_out) != 1 else ''} in the directory "
            f"not read (not pcap/pcapng captures): {shown}{more}"
        )
    return paths


def check_output(fmt: OutputFormat, out: str = "-") -> None:
    """Refuse binary output (parquet) to a terminal before any work is done; to a pipe or
    a redirected stdout it is fine (``-`` means stdout)."""
    if fmt is OutputFormat.parquet and out == "-" and sys.stdout.isatty():
        raise UsageError(
            "--format parquet is binary: write it with -o FILE, or redirect standard output"
        )


def write_table(df, fmt: OutputFormat, out: str = "-", decimals: int = 3) -> None:
    """Write ``df`` rendered as ``fmt`` to ``out``: a path, or "-" for standard output."""
    check_output(fmt, out)
    data = render_bytes(df, fmt, decimals)
    if out == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        with open(out, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None


def key_table(kcn, kcn_file, nonces, keys):
    """The oracle's key table from the key options (and EBUTOOL_KCN); shared by
    analyze, verify and replay so that all three read keys the same way."""
    from ebutool.oracle.keys import load_key_table

    return load_key_table(
        kcn=kcn or (), kcn_files=kcn_file or (), nonces=nonces or (), keys_file=keys, env=os.environ
    )


def print_key_notes(table, quiet: bool) -> None:
    """The key table's notes (e.g. a Kcn without a nonce table) on stderr."""
    if not quiet:
        for note in table.notes:
            err(f"note: {note}")
