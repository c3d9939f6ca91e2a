"""File names as text every output can hold.

On Linux a file name is octets; one that is not valid UTF-8 (``b"cap\\xff.pcap"``)
reaches Python with its stray octets as lone surrogates (PEP 383: also in the command
line's arguments), which no UTF-8 output (a CSV, JSON, Parquet, a terminal) can encode.
Such a name is shown with those octets as backslash escapes (``cap\\xff.pcap``):
readable, and never an encoding error.  So that the shown name is the file's name and
no other, a backslash in the name is shown doubled (``\\\\``): ``\\xNN`` is always an
octet and ``\\\\`` a backslash (a file literally named ``\\xff.pcap`` was shown as the
file ``b"\\xff.pcap"``: two inputs, one name in a ``source`` column).  A control
character (C0, DEL, C1, and the Unicode line and paragraph separators U+2028/U+2029) is
shown the same way, as the ``\\xNN`` escapes of its UTF-8 octets (a newline ``\\x0a``,
ESC ``\\x1b``, NEL ``\\xc2\\x85``): a name never breaks a one-line message or repaints a
terminal (``a\\nb.txt`` was a note in two lines).  The file itself is always opened by
the name as given."""

from __future__ import annotations

import os
import re

BACKSLASH = "\\"
# What would end a line or steer a terminal: C0 controls, DEL, C1 controls, and the
# two Unicode separators str.splitlines also ends a line at
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def readable_name(path: str | os.PathLike[str] | bytes) -> str:
    """``path`` as text for messages and output columns (module doc): a backslash
    doubled, an octet that is not UTF-8 as ``\\xNN``; unchanged when it is valid UTF-8
    without a backslash or control character, as nearly every name is (a control
    character as the ``\\xNN`` of its UTF-8 octets).  :func:`name_octets` reverses it."""
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    return one_line(readable_text(text.replace(BACKSLASH, BACKSLASH * 2)))


def name_octets(shown: str) -> bytes:
    """The octets of the file name :func:`readable_name` showed as ``shown``."""
    out, i = bytearray(), 0
    while i < len(shown):
        if shown.startswith(BACKSLASH * 2, i):
            out += BACKSLASH.encode()
            i += 2
        elif shown.startswith("\\x", i) and len(shown) >= i + 4:
            out.append(int(shown[i + 2 : i + 4], 16))
            i += 4
        else:
            out += shown[i].encode("utf-8")
            i += 1
    return bytes(out)


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


def one_line(text: str) -> str:
    """``text`` with every control character (:data:`CONTROL`) as the ``\\xNN``
    escapes of its UTF-8 octets: what is written to stderr stays one line, whatever
    name or message text it quotes.  Backslashes are left as they are: a file name
    goes through :func:`readable_name` first, which doubles them."""
    if CONTROL.search(text) is None:
        return text
    return CONTROL.sub(lambda m: "".join(f"\\x{b:02x}" for b in m[0].encode("utf-8")), text)
