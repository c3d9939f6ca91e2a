"""What every command shares: options, error handling, the stderr summary."""

from __future__ import annotations

import functools
import os
import stat
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from ebutool.cli.ending import stop
from ebutool.core.at_stop import at_stop
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import (
    EXIT_INTERNAL,
    EXIT_SIGINT,
    EXIT_SIGTERM,
    EbutoolError,
    OutputError,
    Terminated,
    UsageError,
)
from ebutool.core.gc_tuning import fewer_collections
from ebutool.core.names import one_line
from ebutool.core.output_file import OutputFile
from ebutool.core.stdio import command_stdout, stdout_is_terminal
from ebutool.report.output_format import SPILLED_FORMATS, STREAMED_FORMATS, OutputFormat

if TYPE_CHECKING:
    import pandas as pd

    from ebutool.oracle.keys import KeyTable

F = TypeVar("F", bound=Callable[..., Any])

FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
OutputOpt = Annotated[str, typer.Option("--output", "-o", help="Write to PATH ('-' = stdout).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr.")]
ColumnsOpt = Annotated[
    str | None,
    typer.Option(
        "--columns",
        "-c",
        metavar="A,B,C",
        help="Only these columns, in this order ('all': every column; the default on a "
        "terminal with -f table is the columns that fit its width).",
    ),
]


def _weird_path(value: str | None) -> str | None:
    """The ``--weird-log`` path, checked before the work like ``-o`` (a path that cannot
    be written is a usage error now, not after reading the inputs)."""
    if value == "-":
        raise typer.BadParameter("give a file path (standard output is for the table)")
    if value is not None:
        try:
            OutputFile(value, "--weird-log")
        except UsageError as exc:
            raise typer.BadParameter(str(exc)) from None
        except OutputError as exc:  # (a closed standard stream: its own status, 5)
            err(f"error: {exc}")
            raise typer.Exit(exc.exit_code) from None
    return value


WeirdLogOpt = Annotated[
    str | None,
    typer.Option(
        "--weird-log",
        metavar="PATH",
        callback=_weird_path,
        help="Also write the per-packet warnings (diagnosis codes) to PATH as a Zeek-style "
        "weird log.",
    ),
]

JobsOpt = Annotated[
    int,
    typer.Option(
        "--jobs", "-j", min=1, help="Read the files in N processes (results identical to -j 1)."
    ),
]
InputsArg = Annotated[
    list[str],
    typer.Argument(
        help="pcap, pcapng or JSON Lines traces ('-' = stdin), or directories (every pcap/pcapng "
        "capture in them, by content); with several files each is read on its own and a "
        "source column, first, names the file of each row."
    ),
]

# Protocol constants and key options: ebutool.cli.option_groups (protocol_options,
# key_options) gives each command the ones it uses.


def err(text: str) -> None:
    """One line on stderr (a control character in it escaped: ebutool.core.names)."""
    sys.stderr.write(f"ebutool: {one_line(text)}\n")
    sys.stderr.flush()


# The outputs of the command that runs (output_file): put in place when it ends well
# (also with a findings exit status), discarded when it fails.
_OUTPUTS: list[OutputFile] = []


# The files the running command reads and writes, by identity (_file_identity), with the
# option or argument that names them and their resolved path: an output that is one of the
# inputs, or two outputs that are one file, would clobber the input or lose one of them (a
# usage error, before anything is written).
_CLAIMED: list[tuple[object, str, bool, str]] = []
# The record stores the command reads (resolved path ending in a separator, argument): an
# output anywhere inside one would replace a part, or add a file the store does not hold.
_STORES: list[tuple[str, str]] = []


def _file_identity(path: str) -> object | None:
    """What makes two paths the same file: device and inode of an existing regular file
    (also through ./, .. or a symbolic or hard link), the resolved path of a name that
    does not exist yet; None for standard streams, devices and FIFOs (written in place,
    never replaced, and /dev/null may take several outputs)."""
    if path in ("-", ""):
        return None
    try:
        st = os.stat(path)
    except OSError:
        return ("name", os.path.realpath(path))
    if not stat.S_ISREG(st.st_mode):
        return None
    return ("file", st.st_dev, st.st_ino)


def claim_file(path: str, what: str, *, output: bool) -> None:
    """Note that the command reads (``output`` False) or writes ``path``, named ``what``
    on its command line; a usage error if an output is the same file as another output
    or an input."""
    key = _file_identity(path)
    if key is None:
        return
    real = os.path.realpath(path)
    for other_key, other, other_output, _ in _CLAIMED:
        if other_key == key and (output or other_output):
            if output and other_output:
                raise UsageError(f"{what} is the same file as {other}: give each output its own")
            written, read = (what, other) if output else (other, what)
            raise UsageError(f"{written} is the same file as {read}: it would overwrite it")
    if output:
        for root, store in _STORES:
            _outside_store(real, what, root, store)
    _CLAIMED.append((key, what, output, real))


def _outside_store(real: str, what: str, root: str, store: str) -> None:
    if real.startswith(root):
        raise UsageError(
            f"{what} is inside the record store {store} (an input): a store holds only "
            "what extract writes"
        )


def claim_inputs(paths: Iterable[str]) -> None:
    """Note the command's input files (:func:`claim_file`); a record store as a whole (no
    output may be inside it)."""
    from ebutool.store.layout import is_store

    for path in paths:
        if path != "-" and os.path.isdir(path) and is_store(path):
            root = os.path.join(os.path.realpath(path), "")
            for _, what, output, real in _CLAIMED:
                if output:
                    _outside_store(real, what, root, path)
            _STORES.append((root, path))
        claim_file(path, f"input {path}", output=False)


def output_file(path: str, option: str = "-o", *, secret: bool = False) -> OutputFile:
    """The output ``path`` of option ``option``, checked now (call it before the work);
    the command's :func:`guarded` commits it when the command ends well, or discards it
    (ebutool.core.output_file).  An output that is an input or another output of the
    command is a usage error (:func:`claim_file`)."""
    out = OutputFile(path, option, secret=secret)
    claim_file(path, f"{option} {path}", output=True)
    _OUTPUTS.append(out)
    return out


def _finish_outputs(ok: bool) -> None:
    """Commit (``ok``) or discard the command's outputs.  They stay listed until each is
    finished: a signal's exception in the middle leaves the rest to the next call (the
    command's way out, or ebutool.cli.ending.stop through at_stop), not to nobody."""
    _CLAIMED.clear()
    _STORES.clear()
    try:
        for out in list(_OUTPUTS):
            out.commit() if ok else out.discard()
    finally:
        for out in list(_OUTPUTS):
            out.discard()  # after a failed commit, the rest (no-op for committed ones)
        _OUTPUTS.clear()


def _quiet_stdout() -> None:
    """Standard output can take no more (gone reader, full disk): point it at /dev/null
    so the interpreter's last flush does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, AttributeError, ValueError):
        pass


def _discard_outputs() -> None:
    _finish_outputs(False)


def guarded(fn: F) -> F:
    """Turn every failure into a one-line diagnosis and an exit status (README "Exit
    status"); never a traceback unless EBUTOOL_DEBUG is set.  The command's outputs
    (:func:`output_file`) are committed when it returns or exits with a status of its
    own, and discarded on any failure."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _CLAIMED.clear()  # a library user's earlier command
        _STORES.clear()
        # (outputs not yet committed are discarded by ebutool.cli.ending.stop too: when a
        # signal's exception is lost in a callback and ends the program from there, or
        # comes while they are being discarded on the way out)
        with at_stop(_discard_outputs):
            return _guarded_call(fn, args, kwargs)

    return wrapper  # type: ignore[return-value]


def _guarded_call(fn: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    """:func:`guarded`'s body."""
    try:
        try:
            with fewer_collections(), command_stdout():
                result = fn(*args, **kwargs)
        except typer.Exit:
            _finish_outputs(True)
            raise
        except BaseException:
            _finish_outputs(False)
            raise
        _finish_outputs(True)
        return result
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except EbutoolError as exc:
        if isinstance(exc, OutputError):
            _quiet_stdout()
        err(f"error: {exc}")
        raise typer.Exit(exc.exit_code) from None
    except BrokenPipeError:
        # The reader of our stdout went away (e.g. `| head`): not an error.
        _quiet_stdout()
        raise typer.Exit(0) from None
    except KeyboardInterrupt:
        # ended now (outputs already discarded): a second signal or the interpreter's
        # shutdown must not turn this into a traceback or a death by the signal
        stop("interrupted", EXIT_SIGINT)
    except Terminated:
        stop("terminated", EXIT_SIGTERM)
    except Exception as exc:  # noqa: BLE001 - last line of defence
        if os.environ.get("EBUTOOL_DEBUG"):
            raise
        err(f"internal error: {type(exc).__name__}: {exc} (set EBUTOOL_DEBUG=1 for a traceback)")
        raise typer.Exit(EXIT_INTERNAL) from None


def print_diagnostics(diag: Diagnostics, quiet: bool, limit: int = 10) -> None:
    """Counted per-packet warnings on stderr: totals per code, then the first few."""
    if quiet or not diag.counts:
        return
    err("warnings: " + ", ".join(f"{code} {n}" for code, n in sorted(diag.counts.items())))
    for d in diag.kept[:limit]:
        err(f"  {d.code}: {d.source + ': ' if d.source else ''}{d.message}")
    if diag.total > limit:
        err(f"  ... {diag.total - min(limit, len(diag.kept))} more")


def input_paths(args: Iterable[str], quiet: bool) -> list[str]:
    """The files the command-line arguments name (a directory: its captures and traces), and a
    note on stderr about a directory's files that are not read."""
    from ebutool.runner.inputs import expand_inputs, left_out_note

    left_out: list[str] = []
    paths = expand_inputs(args, left_out)
    claim_inputs(paths)
    if left_out and not quiet:
        err(f"note: {left_out_note(left_out)}")
    return paths


def check_output(fmt: OutputFormat, out: str = "-") -> None:
    """Refuse binary output (parquet) to a terminal before any work is done; to a pipe or
    a redirected stdout it is fine (``-`` means stdout)."""
    if fmt is OutputFormat.parquet and out == "-" and stdout_is_terminal():
        raise UsageError(
            "--format parquet is binary: write it with -o FILE, or redirect standard output"
        )


def write_table(
    df: pd.DataFrame,
    fmt: OutputFormat,
    out: str | OutputFile = "-",
    decimals: int = 3,
    *,
    columns: str | None = None,
    name: str = "ebutool",
    quiet: bool = False,
    provenance: Mapping[str, Any] | None = None,
) -> None:
    """Write ``df`` rendered as ``fmt`` to ``out``: an :func:`output_file` (committed when
    the command ends), or a path ("-" = standard output) written and committed now;
    ``columns`` is the --columns value, ``name`` the table's name (a Zeek log's #path),
    ``provenance`` what parquet keeps in its metadata (ebutool.cli.provenance_option)."""
    from ebutool.report import render_bytes

    target = out if isinstance(out, OutputFile) else OutputFile(out)
    check_output(fmt, target.path)
    df = shown_columns(df, fmt, target.path, columns, quiet)
    data = render_bytes(df, fmt, decimals, name=name, provenance=provenance)
    if isinstance(out, OutputFile):
        target.write(data)
        return
    try:
        target.write(data)
        target.commit()
    finally:
        target.discard()


def write_pieces(
    tables: Iterable[pd.DataFrame],
    fmt: OutputFormat,
    out: OutputFile,
    decimals: int = 3,
    *,
    columns: str | None = None,
    name: str = "ebutool",
    provenance: Callable[[], Mapping[str, Any] | None] | None = None,
) -> None:
    """Write consecutive pieces of one table to ``out`` as they come (a streamed format:
    ebutool.report.streamed), the same octets as :func:`write_table` of the whole.
    ``provenance`` makes the run's provenance once the last piece is read (parquet keeps
    it in its metadata, written last).  ``tables`` is closed on the way out when it can
    be (a generator: its ``finally`` runs, so a spill behind it is removed even when a
    signal ends the command, which then ends by os._exit: ebutool.cli.ending)."""
    try:
        writer = PieceWriter(fmt, out, decimals, columns=columns, name=name)
        for df in tables:
            writer.add(df)
        writer.close(provenance() if provenance is not None else None)
    finally:
        close = getattr(tables, "close", None)
        if close is not None:
            close()


class PieceWriter:
    """:func:`write_pieces` fed one piece at a time (several tables written side by side)."""

    def __init__(
        self,
        fmt: OutputFormat,
        out: OutputFile,
        decimals: int = 3,
        *,
        columns: str | None = None,
        name: str = "ebutool",
    ) -> None:
        from ebutool.report.parquet_writer import ParquetPieces
        from ebutool.report.select import parse_columns
        from ebutool.report.spilled import SpilledRenderer
        from ebutool.report.streamed import PieceRenderer

        check_output(fmt, out.path)
        self.out, self.columns = out, columns
        self.names = parse_columns(columns)
        fmt = OutputFormat(fmt)
        self.renderer: PieceRenderer | SpilledRenderer | ParquetPieces
        if fmt is OutputFormat.parquet:
            self.renderer = ParquetPieces()
        elif fmt in SPILLED_FORMATS:
            self.renderer = SpilledRenderer(fmt, decimals, name=name)
        else:
            self.renderer = PieceRenderer(fmt, decimals, name=name)

    def add(self, df: pd.DataFrame) -> None:
        from ebutool.report.select import select_columns

        if self.names is not None or self.columns is not None:
            df = select_columns(df, self.names)
        data = self.renderer.piece(df)
        if data is not None:
            self.out.write(data)

    def close(
        self, provenance: Mapping[str, Any] | None = None, attrs: Mapping[str, Any] | None = None
    ) -> None:
        """Write what is left; ``provenance`` and the whole table's ``attrs`` are kept by
        parquet only (its metadata; the text formats' provenance is a sidecar file)."""
        from ebutool.report.parquet_writer import ParquetPieces

        chunks = (
            self.renderer.chunks(provenance, attrs)
            if isinstance(self.renderer, ParquetPieces)
            else self.renderer.chunks()
        )
        for data in chunks:
            self.out.write(data)


def in_pieces(fmt: OutputFormat, out: str | OutputFile, *, parquet: bool = False) -> bool:
    """Whether a table in ``fmt`` to ``out`` can be written in pieces (:class:`PieceWriter`):
    every format (parquet where the command says so: its caller gives the provenance to
    :meth:`PieceWriter.close`), except the table on a terminal, whose columns are chosen
    to fit its width from every row (shown_columns)."""
    path = out.path if isinstance(out, OutputFile) else out
    fmt = OutputFormat(fmt)
    if fmt is OutputFormat.table and path == "-" and stdout_is_terminal():
        return False
    if fmt is OutputFormat.parquet:
        return parquet
    return fmt in STREAMED_FORMATS or fmt in SPILLED_FORMATS


def final_status(diag: Diagnostics, quiet: bool, status: int = 0) -> int:
    """The exit status of a command that read several inputs: 3 (README "Exit status")
    when one of them could not be read (its rows are missing; with --quiet it is named
    here, else in the warnings), else ``status``."""
    from ebutool.core.errors import EXIT_UNREADABLE
    from ebutool.runner.multi import UNREADABLE

    if not diag.counts.get(UNREADABLE):
        return status
    if quiet:
        for d in diag.kept:
            if d.code == UNREADABLE:
                err(f"{UNREADABLE}: {d.source + ': ' if d.source else ''}{d.message}")
    return max(status, EXIT_UNREADABLE)


def shown_columns(
    df: pd.DataFrame, fmt: OutputFormat, out: str, columns: str | None, quiet: bool
) -> pd.DataFrame:
    """The columns --columns names; without it, on a terminal in the ``table`` format,
    those that fit its width, with a note on stderr on how to see all (a pipe or a
    file gets every column)."""
    import shutil

    from ebutool.report.select import fit_columns, parse_columns, select_columns

    names = parse_columns(columns)
    if names is not None or columns is not None:
        return select_columns(df, names)
    if fmt is not OutputFormat.table or out != "-" or not stdout_is_terminal() or df.empty:
        return df
    fit = fit_columns(df, shutil.get_terminal_size().columns)
    if len(fit) < len(df.columns) and not quiet:
        err(
            f"note: {len(fit)} of {len(df.columns)} columns shown to fit the terminal; "
            "all of them: --columns all (or -f csv, or a pipe); choose: --columns a,b,c"
        )
    return df[fit]


def weird_log_output(path: str | None) -> OutputFile | None:
    """The ``--weird-log`` output (None without it), claimed now like ``-o``: call it
    before any input is read, so a weird log that names an input or another output is
    refused before the work (:func:`output_file`), not once the inputs were read."""
    return output_file(path, "--weird-log") if path is not None else None


def write_weird_log(diag: Diagnostics, target: OutputFile | None) -> None:
    """The per-packet warnings as a Zeek ``weird`` log into ``target`` (from
    :func:`weird_log_output`; nothing if None), put in place when the command ends well."""
    if target is None:
        return
    from ebutool.report.zeek import render_weird

    target.write(render_weird(diag).encode("utf-8"))


def print_key_notes(table: KeyTable, quiet: bool) -> None:
    """The key table's notes (e.g. a Kcn without a nonce table) on stderr."""
    if not quiet:
        for note in table.notes:
            err(f"note: {note}")
