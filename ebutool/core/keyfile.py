"""Reading files that hold keys (the ``--keys`` JSON, Kcn files, nonce tables, ESP SA
files): one bounded reader for all of them.

- **Size**: at most ``max_bytes`` octets are ever read (:data:`MAX_KEY_FILE_BYTES`, a
  Kcn file :data:`MAX_KCN_FILE_BYTES`); a larger file (``/dev/zero``) is an error that
  names the limit, read in bounded memory.
- **Depth**: JSON nested deeper than :data:`MAX_KEY_JSON_DEPTH` levels is an error that
  names the limit (the key formats need 4), never a RecursionError.
- **Duplicate keys** in a JSON object are an error naming where (the JSON path), not
  silently the last one.
- **Permissions**: a regular file readable or writable by group or others gets a warning
  (ssh's rule for private keys), given to ``warn``.
- **Nothing read is echoed**: messages name the file and the place, never a value, and a
  key name only when it is one of the names the format knows (:func:`shown_name`).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import stat
from collections.abc import Callable, Iterable
from typing import Any

from ebutool.core.errors import UsageError

MAX_KEY_FILE_BYTES = 16 * 1024 * 1024  # a full nonce table (65,536 entries) fits 4x over
MAX_KCN_FILE_BYTES = 64 * 1024  # a Kcn is 20 octets: 40 hex digits
MAX_KEY_JSON_DEPTH = 8  # {CN: {"nonces": {INDEX: {"nonce": ...}}}} is 4 deep
KEY_FILE_SHARED_BITS = 0o077  # group/other permission bits that draw the warning

_HEX_LIKE = re.compile(r"^(0[xX])?[0-9A-Fa-f:\s]{16,}$")

Warn = Callable[[str], None]


def shown_name(name: object, known: Iterable[str] = ()) -> str:
    """``name`` as it may appear in a message: a known field name, a nonce index (up to
    5 digits) or something address-like; anything else is not shown (it may be a
    mistyped secret)."""
    text = str(name)
    if text in set(known) or text == "*" or (text.isdigit() and len(text) <= 5):
        return json.dumps(text)
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return "(a name not shown)"
    return json.dumps(text)


def shown_path(path: str) -> str:
    """A file name for a message, unless it looks like key material typed in the wrong
    place (a long hexadecimal string)."""
    return (
        "(a file name that looks like key material, not shown)" if _HEX_LIKE.match(path) else path
    )


def read_key_bytes(path: str, where: str, max_bytes: int, warn: Warn | None = None) -> bytes:
    """At most ``max_bytes`` octets of ``path`` (module doc); ``where`` names the option."""
    name = shown_path(path)
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            if stat.S_ISDIR(st.st_mode):
                raise UsageError(f"{where}: {name}: is a directory")
            if warn is not None and stat.S_ISREG(st.st_mode):
                if st.st_mode & KEY_FILE_SHARED_BITS:
                    warn(
                        f"{where}: {name} is accessible by group or others "
                        f"(mode {stat.S_IMODE(st.st_mode):04o}): keys files should be "
                        "readable by their owner only (chmod 600)"
                    )
            data = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise UsageError(f"{where}: {name}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{where}: {name}: is a directory") from None
    except OSError as exc:
        raise UsageError(f"{where}: {name}: cannot read ({exc.strerror})") from None
    if len(data) > max_bytes:
        raise UsageError(
            f"{where}: {name}: larger than {max_bytes} octets, the limit for this keys file"
        )
    return data


def read_key_text(path: str, where: str, max_bytes: int, warn: Warn | None = None) -> str:
    try:
        return read_key_bytes(path, where, max_bytes, warn).decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{where}: {shown_path(path)}: not a text file") from None


class _Object(dict):
    """A JSON object that remembers which keys it had twice."""

    duplicates: list[str]


def _pairs(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object()
    obj.duplicates = []
    for k, v in pairs:
        if k in obj:
            obj.duplicates.append(k)
        obj[k] = v
    return obj


def _check_tree(obj: Any, limit: int, known: Iterable[str]) -> str | None:
    """The first problem of the parsed tree (too deep, a duplicate key) or None;
    iterative, so no depth is too much for it."""
    stack: list[tuple[Any, str, int]] = [(obj, "$", 1)]
    while stack:
        node, path, depth = stack.pop()
        if not isinstance(node, (dict, list)):
            continue
        if depth > limit:
            return f"nested deeper than {limit} levels, the limit for a keys file"
        if isinstance(node, _Object) and node.duplicates:
            return f"{path}: key {shown_name(node.duplicates[0], known)} is given twice"
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for k, v in items:
            stack.append((v, f"{path}.{shown_name(k, known)}", depth + 1))
    return None


def load_key_json(
    path: str,
    where: str,
    known: Iterable[str] = (),
    max_bytes: int = MAX_KEY_FILE_BYTES,
    max_depth: int = MAX_KEY_JSON_DEPTH,
    warn: Warn | None = None,
) -> Any:
    """A keys JSON file within the limits (module doc); ``known`` are the field names a
    message may show."""
    text = read_key_text(path, where, max_bytes, warn)
    name = shown_path(path)
    try:
        obj = json.loads(text, object_pairs_hook=_pairs)
    except RecursionError:
        raise UsageError(
            f"{where}: {name}: nested deeper than {max_depth} levels, the limit for a keys file"
        ) from None
    except json.JSONDecodeError as exc:
        # exc.msg/lineno/colno describe the place, not the content
        raise UsageError(
            f"{where}: {name}: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    problem = _check_tree(obj, max_depth, known)
    if problem is not None:
        raise UsageError(f"{where}: {name}: {problem}")
    return obj


__all__ = [
    "MAX_KEY_FILE_BYTES",
    "MAX_KCN_FILE_BYTES",
    "MAX_KEY_JSON_DEPTH",
    "KEY_FILE_SHARED_BITS",
    "shown_name",
    "shown_path",
    "read_key_bytes",
    "read_key_text",
    "load_key_json",
]
