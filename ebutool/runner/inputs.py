"""Command-line arguments -> the inputs to read.

- :func:`expand_inputs` turns arguments into input paths: a directory means every capture
  directly in it, recognised by content (pcap/pcapng magic; JSON traces, keys and scenario
  files beside them are left out, and listed for the caller to report), sorted by name;
  other arguments (files, ``-``) are kept as given, so a missing file still gets its own
  error.  Hidden files and subdirectories are not looked at.  A record store made by
  ``ebutool extract`` is kept as one input (ebutool.store).
- :func:`source_labels` (from ebutool.analysis) names each input in ``source`` columns
  and warnings.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from ebutool.capture.magic import CAPTURE_MAGICS
from ebutool.core.errors import InputError, UsageError
from ebutool.store.layout import is_store


def sniff(path: str | os.PathLike[str]) -> str | None:
    """ "capture", "jsonl" or None for the file at ``path``, from its first octets."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
    except OSError:
        return None
    if head[:4] in CAPTURE_MAGICS:
        return "capture"
    stripped = head.lstrip()
    if stripped[:1] == b"{":
        return "jsonl"
    return None


def expand_inputs(
    args: Iterable[str | os.PathLike[str]], left_out: list[str] | None = None
) -> list[str]:
    """Paths to read for the command-line ``args`` (see module doc).  The files of a
    directory that are not captures are appended to ``left_out`` (so the caller can
    say so: nothing is skipped silently)."""
    out: list[str] = []
    names = [os.fspath(a) for a in args]
    if names.count("-") > 1:
        raise UsageError("'-' (standard input) can be given only once")
    for name in names:
        if name != "-" and is_store(name):
            out.append(name)  # a record store (ebutool extract) is read like one capture
        elif name != "-" and os.path.isdir(name):
            out.extend(_captures_in(name, left_out))
        else:
            out.append(name)
    return out


def _captures_in(directory: str, left_out: list[str] | None) -> list[str]:
    entries = sorted(e for e in os.listdir(directory) if not e.startswith("."))
    files = [p for p in (os.path.join(directory, e) for e in entries) if os.path.isfile(p)]
    # Captures only (issue 6): a folder of results also holds keys files, scenario
    # files and the JSON traces converted from its captures.
    found = []
    for p in files:
        if sniff(p) == "capture":
            found.append(p)
        elif left_out is not None:
            left_out.append(p)
    if not found:
        raise InputError(f"{directory}: is a directory with no pcap or pcapng capture in it")
    return found
