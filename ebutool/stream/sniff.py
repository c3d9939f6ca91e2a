"""Opening an input: a path or "-" (stdin), told apart by content, never by name."""

from __future__ import annotations

import io
import os
import sys
from typing import BinaryIO

from ebutool.capture.magic import CAPTURE_MAGICS
from ebutool.core.errors import InputError
from ebutool.core.keyfile import shown_path


def open_input(source: str | os.PathLike) -> tuple[str, BinaryIO, str]:
    """(kind, binary stream, display name); kind is "capture" or "jsonl".

    The stream is buffered so the sniffed octets are not consumed (stdin works)."""
    name = "-" if str(source) == "-" else os.fspath(source)
    if name == "-":
        raw = sys.stdin.buffer
    else:
        try:
            raw = open(name, "rb")  # noqa: SIM115 - closed by the caller / at exit
        except FileNotFoundError:
            raise InputError(f"{shown_path(name)}: no such file") from None
        except IsADirectoryError:
            raise InputError(f"{name}: is a directory, not a capture or trace") from None
        except OSError as exc:
            raise InputError(f"{name}: cannot open ({exc.strerror})") from None
    stream = raw if hasattr(raw, "peek") else io.BufferedReader(raw, 1 << 20)  # type: ignore[type-var]
    head = stream.peek(4)[:4]
    if not head:
        raise InputError(f"{name}: empty file (0 bytes), not a capture or trace")
    if head in CAPTURE_MAGICS:
        return "capture", stream, name
    stripped = head.lstrip()
    if stripped[:1] == b"{" or (not stripped and head.isspace()):
        return "jsonl", stream, name
    # Let the capture reader produce its precise "not a capture" diagnosis.
    return "capture", stream, name
