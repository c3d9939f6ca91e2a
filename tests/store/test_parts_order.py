"""Parts one after another in time are chained: the stream heapq.merge would give."""

from __future__ import annotations

import heapq
import random
from itertools import chain

from ebutool.store.parts import Part, _one_after_another


def _part(times: list[int]) -> Part:
    meta = {"records": len(times), "first_ts_ns": min(times, default=None)}
    meta["last_ts_ns"] = max(times, default=None)
    return Part("f", meta)


def test_chaining_is_the_merge_whenever_allowed() -> None:
    rng = random.Random(16)
    allowed = 0
    for _ in range(3000):
        pieces = [
            [rng.randrange(0, 40) for _ in range(rng.randrange(0, 5))]
            for _ in range(rng.randrange(2, 5))
        ]
        # items tagged (time, part, position): the merge's order is then observable
        tagged = [[(t, i, j) for j, t in enumerate(p)] for i, p in enumerate(pieces)]
        if _one_after_another([_part(p) for p in pieces]):
            allowed += 1
            merged = list(heapq.merge(*tagged, key=lambda x: x[0]))
            assert list(chain.from_iterable(tagged)) == merged
    assert allowed > 100  # (the random pieces do reach the chained case)


def test_rotated_pieces_chain_and_overlapping_ones_merge() -> None:
    assert _one_after_another([_part([1, 5]), _part([]), _part([5, 9]), _part([9])])
    assert not _one_after_another([_part([1, 5]), _part([4, 9])])
    assert not _one_after_another([_part([1, 5]), Part("f", {"records": 2})])  # older store
