"""Cleanups for a program that ends inside a block without leaving it by an exception.

What a block in progress would do on its way out of an exception (end its -j workers,
discard the command's outputs), for when the program ends inside it without that way
out: ebutool.cli.ending.stop, called from sys.unraisablehook (ebutool.cli.main) when a
signal's KeyboardInterrupt or Terminated was raised in a weakref callback or a __del__,
where it cannot propagate.

    with at_stop(lambda: end(workers)):
        ...  # stop() inside: end(workers) runs before the process exits
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

_CLEANUPS: list[Callable[[], None]] = []  # the blocks in progress, innermost last


@contextmanager
def at_stop(cleanup: Callable[[], None]) -> Iterator[None]:
    """Run ``cleanup`` if :func:`run_cleanups` is called inside the block (module doc)."""
    _CLEANUPS.append(cleanup)
    try:
        yield
    finally:
        _CLEANUPS.remove(cleanup)


def run_cleanups() -> None:
    """The cleanups of the blocks in progress, innermost first, each once; one that fails
    does not keep the others from running."""
    while _CLEANUPS:
        try:
            _CLEANUPS.pop()()
        except Exception:  # noqa: BLE001, S110 - the program is ending anyway
            pass
