"""Fewer garbage-collector passes during long streaming runs.

Reading a capture allocates many short-lived container objects (Records, messages,
tuples) and keeps few.  With CPython's default generation-0 threshold (700
allocations) the cyclic collector then runs hundreds of times per million packets, and
its older-generation passes rescan every long-lived object of the process (pandas and
numpy alone leave ~60,000 after import): about a fifth of `analyze`'s CPU time on the
benchmark capture (docs/performance.md).  Reference counting still frees almost
everything at once; the collector is only needed for cycles, which these runs hardly
make.  So the long-running entry points raise the generation-0 threshold for their
duration and restore it afterwards (nested uses are fine).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Allocations (net, of GC-tracked objects) between generation-0 collections during a run;
# measured on the 1M-packet benchmark: 700 (CPython's default) 0.94 s, 5,000 0.77 s,
# 20,000 0.74 s, collector disabled 0.75 s.
GEN0_THRESHOLD = 20_000


@contextmanager
def fewer_collections(threshold: int = GEN0_THRESHOLD) -> Iterator[None]:
    """Run the body with the generation-0 threshold at least ``threshold``."""
    old = gc.get_threshold()
    if old[0] and old[0] < threshold:  # 0: the caller disabled automatic collection
        gc.set_threshold(threshold, *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def give_back_freed_memory() -> None:
    """Return to the system the pages the C allocator holds free (glibc's malloc_trim):
    after a phase that freed many small blocks (the analysis of a capture) the process
    keeps them resident, and what comes next (compare's kept columns, in fresh large
    arrays) would count on top of them in the peak (issue 12).  Nothing elsewhere."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to give back this way
        return
    trim(0)
