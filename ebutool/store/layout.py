"""Where things are in a record store directory, and how to tell a store from a capture folder.

    STORE/ebutool-store.json       marker: {"format": "ebutool-record-store", "version": 1}
    STORE/parts/NAME.parquet       the records of one input file (ebutool.store.schema)
    STORE/bindings/NAME.parquet    its binding facts (ebutool.store.facts)

``NAME`` is the input's base name and a short hash of its absolute path, so two inputs
with the same base name in different folders get different parts, and the same input
extracted again replaces its own part (a base name of more than 234 octets is cut so that
the part's file name fits in 255).
"""

from __future__ import annotations

import hashlib
import json
import os

from ebutool.core.errors import InputError, UsageError
from ebutool.core.names import readable_text

SCHEMA_VERSION = 1  # of the marker, the parts' columns and their metadata
MARKER = "ebutool-store.json"
FORMAT = "ebutool-record-store"
PARTS = "parts"
BINDINGS = "bindings"
PATH_HASH_CHARS = 12
PART_SUFFIX = ".parquet"
NAME_MAX = 255  # octets of a file name (Linux, macOS)


def is_store(path: str | os.PathLike[str]) -> bool:
    """True for a directory made by ``ebutool extract``."""
    return os.path.isfile(os.path.join(os.fspath(path), MARKER))


def part_name(path: str) -> str:
    """``BASE-HASH``: the input's base name and a short hash of its absolute path (module
    doc), the base name cut so that ``BASE-HASH.parquet`` fits in a file name (the hash
    keeps two inputs whose names are cut alike apart)."""
    full = os.path.abspath(path)
    digest = hashlib.sha256(full.encode("utf-8", "surrogateescape")).hexdigest()
    tail = f"-{digest[:PATH_HASH_CHARS]}"
    # (a base name that is not UTF-8 escaped: pyarrow takes file names as UTF-8 text; a
    # backslash kept single, as before readable_name doubled it: the hash tells names apart,
    # and the part of an input extracted earlier keeps its name)
    base = readable_text(os.path.basename(full))
    return f"{cut_name(base, NAME_MAX - len(tail) - len(PART_SUFFIX))}{tail}"


def cut_name(name: str, octets: int) -> str:
    """``name`` cut to at most ``octets`` octets of its file-system encoding."""
    return os.fsdecode(os.fsencode(name)[:octets])


def part_path(store: str, name: str) -> str:
    return os.path.join(store, PARTS, f"{name}{PART_SUFFIX}")


def bindings_path(store: str, name: str) -> str:
    return os.path.join(store, BINDINGS, f"{name}{PART_SUFFIX}")


def check_store_target(store: str, option: str = "-o") -> None:
    """A store path that can be created: a usage error for an empty name, ``-`` (a store
    is a directory, never standard output) or a missing parent directory, as every
    other command's ``-o`` refuses one (ebutool.core.output_file)."""
    if not store:
        raise UsageError(f"{option}: empty store name")
    if store == "-":
        raise UsageError(f"{option} -: a store is a directory, not standard output; give a path")
    parent = os.path.dirname(os.path.abspath(store))
    if not os.path.isdir(parent):
        raise UsageError(f"cannot write {option} {store}: no such directory {parent}")


def create_store(store: str) -> None:
    """Make ``store`` a record store (an existing store is kept; a non-empty directory
    that is not a store is refused, so extraction never mixes into other files)."""
    check_store_target(store)
    if os.path.exists(store) and not os.path.isdir(store):
        raise UsageError(f"{store}: exists and is not a directory")
    if os.path.isdir(store) and not is_store(store) and os.listdir(store):
        raise UsageError(f"{store}: is a non-empty directory that is not an ebutool store")
    try:
        os.makedirs(os.path.join(store, PARTS), exist_ok=True)
        os.makedirs(os.path.join(store, BINDINGS), exist_ok=True)
        if not is_store(store):
            with open(os.path.join(store, MARKER), "w", encoding="utf-8") as fh:
                json.dump({"format": FORMAT, "version": SCHEMA_VERSION}, fh)
                fh.write("\n")
    except OSError as exc:
        raise UsageError(f"{store}: cannot create the store ({exc.strerror or exc})") from None


def check_store(store: str) -> None:
    """InputError unless ``store`` is a record store of this version."""
    try:
        with open(os.path.join(store, MARKER), encoding="utf-8") as fh:
            marker = json.load(fh)
    except (OSError, ValueError):
        raise InputError(f"{store}: not an ebutool record store (no {MARKER})") from None
    if marker.get("format") != FORMAT or marker.get("version") != SCHEMA_VERSION:
        raise InputError(
            f"{store}: record store version {marker.get('version')!r}, this ebutool reads "
            f"{SCHEMA_VERSION}: extract the captures again into a new store"
        )


def part_files(store: str) -> list[str]:
    """The complete parts of ``store`` (temporary files of an interrupted run left out)."""
    folder = os.path.join(store, PARTS)
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".parquet"))
    except OSError:
        return []
    return [os.path.join(folder, n) for n in names if not n.startswith(".")]
