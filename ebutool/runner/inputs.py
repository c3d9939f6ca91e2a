"""Command-line arguments -> the inputs to read.

- :func:`expand_inputs` turns arguments into input paths: a directory means every capture
  and JSON Lines trace directly in it, recognised by content (pcap/pcapng magic, a trace
  line; also when gzip/bzip2/xz/zstd-compressed), sorted by name.  Keys and scenario
  files, and a trace beside the capture it was converted from (same name up to the
  first dot), are left out and listed for the caller to report;
  other arguments (files, ``-``) are kept as given, so a missing file still gets its own
  error.  Subdirectories, and entries that are no regular file (a named pipe, a
  device, a broken link), are not read: they are listed too (nothing is skipped
  unsaid).  Hidden files and subdirectories are not looked at.  A record store made
  by ``ebutool extract`` is kept as one input (ebutool.store).
- :func:`read_input`: the message stream of a capture, a trace or a record store
  (``ebutool extract``); analyze, compare, decode, verify and replay read a store like
  one capture.
- :func:`source_labels` (from ebutool.analysis) names each input in ``source`` columns
  and warnings.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO

from ebutool.capture.magic import CAPTURE_MAGICS
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import InputError, UsageError
from ebutool.core.names import readable_name
from ebutool.store.layout import is_store
from ebutool.stream.sniff import open_input
from ebutool.trace.check import LINE_TYPES
from ebutool.trace.lines import UTF8_BOM, bounded_lines

if TYPE_CHECKING:
    from ebutool.core.progress import NullProgress, Progress
    from ebutool.esp.sa import EspSA
    from ebutool.records.from_packet import StreamStats

    EspSAs = Sequence[EspSA] | None
    ProgressLike = Progress | NullProgress | None


def sniff(path: str | os.PathLike[str]) -> str | None:
    """ "capture", "jsonl" or None for the file at ``path``: what
    :func:`ebutool.stream.sniff.open_input` (the rule every command opens an input by,
    plain or compressed alike) makes of it, narrowed so keys and scenario files (JSON
    too) are not taken for traces: "capture" when it begins with a capture's magic
    number, "jsonl" when its first line that is neither blank nor over the trace line
    limit is a trace line (a JSON object whose "type" is header, packet or handover:
    what the trace reader requires of it), however many blank lines come first."""
    try:
        kind, stream, _ = open_input(path, Diagnostics())
    except (OSError, InputError):
        return None
    try:
        if kind == "capture":  # (also what open_input answers for unknown content)
            return "capture" if stream.peek(4)[:4] in CAPTURE_MAGICS else None  # type: ignore[attr-defined]
        return "jsonl" if _first_line_is_a_trace_line(stream) else None
    except (OSError, InputError):
        return None
    finally:
        stream.close()


def _first_line_is_a_trace_line(stream: BinaryIO) -> bool:
    """The trace reader's test of its first line (ebutool.trace.jsonl): blank lines and
    lines over the limit are passed over (read in bounded pieces), the next decides,
    parsed as the reader parses it (a name given twice, NaN, nesting too deep: the
    reader refuses the file, "not a JSON Lines trace", so it is none here either)."""
    from ebutool.trace.jsonl import parse_line

    for lineno, line in enumerate(bounded_lines(stream), 1):
        if lineno == 1 and line is not None and line[:3] == UTF8_BOM:
            line = line[3:]  # (ignored by the reader, RFC 8259 8.1)
        if line is None or not line.strip():
            continue
        try:
            obj = parse_line(line)
        except ValueError:  # not JSON, or not UTF-8: the reader refuses the file too
            return False
        return isinstance(obj, dict) and obj.get("type") in LINE_TYPES
    return False  # only blank lines: the reader refuses the file ("only blank lines")


def expand_inputs(
    args: Iterable[str | os.PathLike[str]], left_out: list[str] | None = None
) -> list[str]:
    """Paths to read for the command-line ``args`` (see module doc).  The files of a
    directory that are not captures, and its subdirectories, are appended to
    ``left_out`` (so the caller can say so: nothing is skipped silently)."""
    out: list[str] = []
    names = [os.fspath(a) for a in args]
    if names.count("-") > 1:
        raise UsageError("'-' (standard input) can be given only once")
    for name in names:
        if name != "-" and is_store(name):
            out.append(name)  # a record store (ebutool extract) is read like one capture
        elif name != "-" and os.path.isdir(name):
            out.extend(_inputs_in(name, left_out))
        else:
            out.append(name)
    return out


def _inputs_in(directory: str, left_out: list[str] | None) -> list[str]:
    entries = sorted(e for e in os.listdir(directory) if not e.startswith("."))
    paths = [os.path.join(directory, e) for e in entries]
    files = [p for p in paths if os.path.isfile(p)]
    folders = [p for p in paths if os.path.isdir(p)]  # not read (module doc)
    # a named pipe, a socket, a device, a broken link: not read (a pipe would be waited on)
    others = [p for p in paths if p not in files and p not in folders]
    kinds = {p: sniff(p) for p in files}
    # A folder of results also holds keys files, scenario files and the JSON traces
    # converted from its captures (issue 6): a trace whose name begins like a capture
    # beside it ("run.jsonl" beside "run.pcap") is that capture again and is left out.
    captured = {_stem(p) for p, kind in kinds.items() if kind == "capture"}
    found = []
    unread: list[Unread] = []
    for p, kind in kinds.items():
        if kind == "capture" or (kind == "jsonl" and _stem(p) not in captured):
            found.append(p)
            continue
        why = _why_unreadable(p) if kind is None else None
        if why is not None:
            unread.append(Unread(p, why))
        if left_out is not None:
            left_out.append(unread[-1] if why is not None else p)
    if left_out is not None:
        left_out.extend(others + folders)
    if not found:
        raise InputError(
            f"{readable_name(directory)}: is a directory with no pcap or pcapng capture or "
            "JSON Lines trace in it"
            + (f" (its files: {_names(files)}" if files else " (and no file")
            + (f"; {_unread(unread)}" if unread else "")
            + (f"; {_not_files(others)}" if others else "")
            + (f"; {_subdirectories(folders)}" if folders else "")
            + ")"
        )
    return found


class Unread(str):
    """The path of a directory's file that could not be opened or read (permission
    denied, an I/O error), with ``why`` (the system's words): whether it is a capture is
    not known, so it is named as such, never as "no capture or trace"."""

    why: str

    def __new__(cls, path: str, why: str = "") -> Unread:  # (a default: pickle's copy)
        self = super().__new__(cls, path)
        self.why = why
        return self


def _why_unreadable(path: str) -> str | None:
    """Why the file at ``path`` cannot be opened or its first octet read; None if it can."""
    try:
        with open(path, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def left_out_note(left_out: Sequence[str]) -> str:
    """How a command names what it does not read in a directory (:func:`expand_inputs`'
    ``left_out``; of files and of subdirectories the first three by name, then how many
    more): its note on stderr, and extract's closing line.  A file that could not be
    opened or read (:class:`Unread`) is named with why, apart from the files that are no
    capture or trace; it does not change the exit status (docs/capture.md)."""
    unread = [p for p in left_out if isinstance(p, Unread)]
    left_out = [p for p in left_out if not isinstance(p, Unread)]
    folders = [p for p in left_out if os.path.isdir(p)]
    files = [p for p in left_out if os.path.isfile(p)]
    others = [p for p in left_out if p not in files and p not in folders]
    parts = [_unread(unread)] if unread else []
    if files:
        parts.append(
            f"{len(files)} file{'s' if len(files) != 1 else ''} in the directory not read "
            f"(no capture or trace, or a trace beside its capture): {_names(files)}"
        )
    if others:
        parts.append(_not_files(others))
    if folders:
        parts.append(_subdirectories(folders))
    return "; ".join(parts)


def _unread(unread: Sequence[Unread]) -> str:
    n = len(unread)
    shown = ", ".join(f"{readable_name(os.path.basename(p))} ({p.why})" for p in unread[:3])
    return (
        f"{n} file{'s' if n != 1 else ''} in the directory could not be read, capture or "
        f"not: {shown}" + (f" and {n - 3} more" if n > 3 else "")
    )


def _not_files(others: Sequence[str]) -> str:
    n = len(others)
    return (
        f"{n} {'entries' if n != 1 else 'entry'} not read (not a regular file: a named "
        f"pipe, a socket, a device or a broken link): {_names(others)}"
    )


def _subdirectories(folders: Sequence[str]) -> str:
    n = len(folders)
    return (
        f"{n} subdirector{'ies' if n != 1 else 'y'} not read (only the files directly in a "
        f"directory are; give a subdirectory as an argument to read it): {_names(folders)}"
    )


def _names(paths: Sequence[str]) -> str:
    """The first three files' names (a directory's with a "/"; a name that is not UTF-8
    as ebutool.core.names shows it), then how many more."""
    shown = ", ".join(
        readable_name(os.path.basename(p)) + ("/" if os.path.isdir(p) else "") for p in paths[:3]
    )
    return shown + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")


def _stem(path: str) -> str:
    return os.path.basename(path).split(".", 1)[0]


def read_input(
    path: str,
    diag: Diagnostics,
    stats: StreamStats | None,
    progress: ProgressLike = None,
    esp_sas: Sequence[EspSA] | None = None,
) -> Iterator[Any]:
    """The message stream of one input: a capture or trace (its reader, decrypting ESP
    with ``esp_sas``), or a record store (ebutool.store: its parts merged by time, as
    ``--merge`` of its inputs; a store holds records already decrypted at extraction)."""
    if is_store(path):
        from ebutool.store import store_records

        store_sas_note(path, esp_sas, diag)
        return store_records(path, diag, stats)
    from ebutool.stream.reader import read_records

    return read_records(path, diag, stats, progress=progress, esp_sas=esp_sas)


def store_sas_note(path: str, esp_sas: EspSAs, diag: Diagnostics) -> None:
    """A store's records are read as extracted: ESP SAs given for a store some of whose
    parts were extracted with other SAs (or none) are a counted warning, never silently
    unused (``esp_sa_not_applied``; ``extract --esp-sa`` applies them)."""
    if not esp_sas:
        return
    from ebutool.esp.sa import sas_digest
    from ebutool.store import store_parts

    want = sas_digest(esp_sas)
    parts = store_parts(path)
    other = [p for p in parts if p.meta.get("esp_sas_sha256") != want]
    if other:
        diag.warn(
            "esp_sa_not_applied",
            f"{readable_name(path)}: the ESP SAs given are not applied to a record store, "
            f"and {len(other)} of its {len(parts)} parts were extracted with other SAs or none: "
            "extract again with them (ebutool extract --esp-sa FILE)",
        )
