"""Test-only extraction tasks that fail on purpose (module-level: sent to Dask workers)."""

from __future__ import annotations

import os
from functools import partial

from ebutool.store.writer import extract_file


def _exit_first_time(marks: str, victim: str, path: str, store: str):
    """Extract ``path``; for ``victim``, first end this worker process abruptly (as a
    killed worker would) -- only on the first attempt, marked by a file in ``marks``."""
    if os.path.basename(path) == victim:
        mark = os.path.join(marks, victim + ".attempted")
        try:
            fd = os.open(mark, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            pass  # a later attempt: do the work
        else:
            os.close(fd)
            os._exit(17)
    return extract_file(path, store)


def exit_first_time(marks: str, victim: str):
    return partial(_exit_first_time, marks, victim)


class Interrupted(Exception):
    """Stands for a run stopped by the user or the machine."""


def _stop_after(marks: str, n: int, path: str, store: str):
    done = len(os.listdir(marks))
    if done >= n:
        raise Interrupted(f"stopped before {path}")
    result = extract_file(path, store)
    with open(os.path.join(marks, os.path.basename(path)), "w"):
        pass
    return result


def stop_after(marks: str, n: int):
    """A task that extracts ``n`` files, then stops the run (raises) on the next."""
    return partial(_stop_after, marks, n)
