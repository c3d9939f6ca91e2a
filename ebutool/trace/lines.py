"""The lines of a JSON Lines trace, each read in bounded memory.

A line longer than the limit (:data:`MAX_TRACE_LINE_BYTES`, option
``--max-trace-line-bytes``, environment ``EBUTOOL_MAX_TRACE_LINE_BYTES``) is never held
whole: :func:`bounded_lines` reads it in pieces of the limit, drops them, and gives
``None`` in its place, so the reader counts a ``trace_line_too_long`` warning and goes on.
Memory is about the limit, whatever the line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from ebutool.core.errors import UsageError

MAX_TRACE_LINE_BYTES = 1 << 20  # 1 MiB: the longest packet line is a few KiB
# A UTF-8 byte order mark some editors and Windows tools put first: RFC 8259 8.1 lets a
# parser ignore one, and a trace's readers do, at the start of the file only.
UTF8_BOM = b"\xef\xbb\xbf"
ENV_MAX_TRACE_LINE_BYTES = "EBUTOOL_MAX_TRACE_LINE_BYTES"  # how the option reaches workers


def max_trace_line_bytes() -> int:
    """The limit in force: the environment's (set by the option), else the default."""
    text = os.environ.get(ENV_MAX_TRACE_LINE_BYTES, "").strip()
    if not text:
        return MAX_TRACE_LINE_BYTES
    try:
        value = int(text, 10)
    except ValueError:
        value = 0
    if value < 1:
        raise UsageError(f"{ENV_MAX_TRACE_LINE_BYTES}: must be a whole number of octets >= 1")
    return value


def bounded_lines(
    stream: BinaryIO | Iterable[bytes], limit: int | None = None
) -> Iterator[bytes | None]:
    """The lines of ``stream`` (with their newline), or None for a line over ``limit``
    octets (the newline not counted), whose content is skipped unread into memory."""
    limit = limit if limit is not None else max_trace_line_bytes()
    if not hasattr(stream, "readline"):  # an iterable of lines already read
        for line in stream:
            yield line if len(line.rstrip(b"\r\n")) <= limit else None
        return
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if len(line) <= limit or line.endswith(b"\n") and len(line) == limit + 1:
            yield line
            continue
        while line and not line.endswith(b"\n"):  # the rest of the long line, dropped
            line = stream.readline(limit)
        yield None


__all__ = [
    "MAX_TRACE_LINE_BYTES",
    "UTF8_BOM",
    "ENV_MAX_TRACE_LINE_BYTES",
    "max_trace_line_bytes",
    "bounded_lines",
]
