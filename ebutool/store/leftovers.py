"""The temporary files a killed ``extract`` leaves in a store, and their removal when a
later run starts on the same host.

An extraction writes each file under a temporary name and renames it into place (a part
that exists is complete, ebutool.store.writer); the binding facts of a large input spill
to a temporary directory (ebutool.store.facts).  A process killed meanwhile (SIGKILL,
out of memory, a node lost) leaves them behind, and the run started again writes new
ones under its own names: without a sweep they would pile up in the store.  Each such
name carries :func:`temp_tag`, ``SPACE.PID``: the process id, and a short hash of the
host's name and of the PID namespace the id belongs to (containers on one host can share
a name but not their process ids).  :func:`remove_leftovers` removes only the names of
this process's own space whose process no longer runs; another host's or another
container's (a store shared by the workers of a cluster) are never touched: a process
there may still be writing them.

    .NAME.parquet.SPACE.PID.tmp    a part or its bindings, being written
    .facts-SPACE.PID-XXXXXXXX/     the spilled runs of an input's binding facts
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket

from ebutool.store.layout import BINDINGS, NAME_MAX, PARTS, cut_name

SPACE_CHARS = 8  # hex digits of the host and PID namespace's hash in a temporary name
_TMP_FILE = re.compile(r"^\..+\.(?P<space>[0-9a-f]{8})\.(?P<pid>\d{1,10})\.tmp$")
# (mkdtemp's suffix: letters, digits and "_")
_FACTS_DIR = re.compile(r"^\.facts-(?P<space>[0-9a-f]{8})\.(?P<pid>\d{1,10})-[a-z0-9_]+$")


def _space() -> str:
    """A hash of this host's name and of the PID namespace this process's id is in."""
    try:
        ns = os.stat("/proc/self/ns/pid").st_ino
    except OSError:  # (not Linux: the host's name alone)
        ns = 0
    text = f"{socket.gethostname()}\0{ns}".encode("utf-8", "surrogateescape")
    return hashlib.sha256(text).hexdigest()[:SPACE_CHARS]


def temp_tag() -> str:
    """``SPACE.PID`` of this process, for the names of its temporary files in a store."""
    return f"{_space()}.{os.getpid()}"


def temp_file(out: str) -> str:
    """``.NAME.SPACE.PID.tmp`` beside ``out``, NAME (out's) cut so that the temporary
    name is no longer than a file name may be: whatever part name fits, its temporary
    name fits (one process writes one part at a time, so the cut names never meet)."""
    tail = f".{temp_tag()}.tmp"
    name = cut_name(os.path.basename(out), NAME_MAX - 1 - len(tail))
    return os.path.join(os.path.dirname(out), f".{name}{tail}")


def facts_prefix() -> str:
    """The prefix of this process's spill directories of binding facts (``.facts-SPACE.PID-``)."""
    return f".facts-{temp_tag()}-"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):  # another user's, or no pid
        return True
    return True


def _left(name: str, space: str) -> bool:
    """Whether ``name`` is a temporary file or directory of a process of ``space`` (this
    process's) that no longer runs."""
    m = _TMP_FILE.match(name) or _FACTS_DIR.match(name)
    return m is not None and m.group("space") == space and not _running(int(m.group("pid")))


def remove_leftovers(store: str) -> list[str]:
    """Remove the temporary files and directories in ``store`` of the processes of this
    host and PID namespace that no longer run (module doc); their paths.  One that cannot
    be removed (a read-only store) stays."""
    space = _space()
    removed = []
    for sub in (PARTS, BINDINGS):
        folder = os.path.join(store, sub)
        try:
            names = os.listdir(folder)
        except OSError:  # (no such folder, or not readable: nothing to sweep there)
            continue
        for name in sorted(names):
            if not name.startswith(".") or not _left(name, space):
                continue
            path = os.path.join(folder, name)
            try:
                if os.path.isdir(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
            except OSError:  # gone meanwhile, or a read-only store: left as it is
                continue
            removed.append(path)
    return removed
