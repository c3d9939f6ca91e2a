"""The temporary files a killed ``extract`` leaves in a store, and their removal when a
later run starts on the same host.

An extraction writes each file under a temporary name and renames it into place (a part
that exists is complete, ebutool.store.writer); the binding facts of a large input spill
to a temporary directory (ebutool.store.facts).  A process killed meanwhile (SIGKILL,
out of memory, a node lost) leaves them behind, and the run started again writes new
ones under its own names: without a sweep they would pile up in the store.  Each such
name carries :func:`temp_tag` (the host's name and the process id), so that
:func:`remove_leftovers` removes only what a process of this host that no longer runs
left; another host's (a store shared by the workers of a cluster) is never touched: a
process there may still be writing it.

    .NAME.parquet.HOST.PID.tmp     a part or its bindings, being written
    .facts-HOST.PID-XXXXXXXX/      the spilled runs of an input's binding facts
"""

from __future__ import annotations

import os
import re
import shutil
import socket

from ebutool.store.layout import BINDINGS, PARTS

# (a part's name and a host's hold dots: the host is the end of what precedes the pid)
_TMP_FILE = re.compile(r"^\.(?P<head>.+)\.(?P<pid>\d+)\.tmp$")
# (mkdtemp's suffix: letters, digits and "_")
_FACTS_DIR = re.compile(r"^\.facts-(?P<host>.+)\.(?P<pid>\d+)-[a-z0-9_]+$")


def temp_tag() -> str:
    """``HOST.PID`` of this process, for the names of its temporary files in a store."""
    return f"{socket.gethostname()}.{os.getpid()}"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: running
        return True
    return True


def _left(name: str, host: str) -> bool:
    """Whether ``name`` is a temporary file or directory of a process of ``host`` (this
    one's name) that no longer runs."""
    m = _TMP_FILE.match(name)
    if m is not None:
        mine = m.group("head").endswith(f".{host}")
    else:
        m = _FACTS_DIR.match(name)
        mine = m is not None and m.group("host") == host
    return mine and m is not None and not _running(int(m.group("pid")))


def remove_leftovers(store: str) -> list[str]:
    """Remove the temporary files and directories in ``store`` of this host's processes
    that no longer run (module doc); their paths."""
    host = socket.gethostname()
    removed = []
    for sub in (PARTS, BINDINGS):
        folder = os.path.join(store, sub)
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            continue
        for name in sorted(names):
            if not name.startswith(".") or not _left(name, host):
                continue
            path = os.path.join(folder, name)
            try:
                if os.path.isdir(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
            except FileNotFoundError:  # (gone meanwhile)
                continue
            removed.append(path)
    return removed
