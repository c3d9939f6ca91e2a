"""File names as text every output can hold.

On Linux a file name is octets; one that is not valid UTF-8 (``b"cap\\xff.pcap"``)
reaches Python with its stray octets as lone surrogates (PEP 383: also in the command
line's arguments), which no UTF-8 output (a CSV, JSON, Parquet, a terminal) can encode.
Such a name is shown with those octets as backslash escapes (``cap\\xff.pcap``):
readable, and never an encoding error.  The file itself is always opened by the name
as given."""

from __future__ import annotations

import os


def readable_name(path: str | os.PathLike[str]) -> str:
    """``path`` as text for messages and output columns (module doc); unchanged when it
    is valid UTF-8, as nearly every name is."""
    text = os.fspath(path)
    if isinstance(text, bytes):
        return text.decode("utf-8", "backslashreplace")
    return readable_text(text)


def readable_text(text: str) -> str:
    """``text`` with the lone surrogates of undecodable octets as ``\\xNN`` escapes."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        raw = text.encode("utf-8", "surrogateescape")  # the octets of the name
    except UnicodeEncodeError:  # a surrogate no octet gave (not from a file name)
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")
