"""ebutool.core.bounded: the least recently used entry goes, and only when the table grows."""

from ebutool.core.bounded import put
from ebutool.core.diagnostics import Diagnostics


def test_put_of_a_known_key_of_an_ordered_set_evicts_nothing():
    table, diag = {}, Diagnostics()
    for k in ("a", "b"):
        put(table, k, None, 2, diag, "home agent")
    put(table, "a", None, 2, diag, "home agent")  # known: refreshed, nothing evicted
    assert list(table) == ["b", "a"]
    put(table, "c", None, 2, diag, "home agent")  # new: the least recently used goes
    assert list(table) == ["a", "c"]
