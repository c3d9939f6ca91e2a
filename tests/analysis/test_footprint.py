"""How files relate (ebutool.analysis.footprint): rotated chains and shared messages, on
hand-made footprints."""

from __future__ import annotations

from ebutool.analysis.footprint import ROTATION_MAX_GAP_NS, Footprint, Piece, rotated_chains, shared

S = 10**9


def piece(label, first_s, last_s, keys=(), role="mn", linktype=101):
    return Piece(label, role, linktype, Footprint(first_s * S, last_s * S, set(keys)))


def test_consecutive_pieces_chain_in_time_order():
    pieces = [piece("c", 20, 30), piece("a", 0, 10), piece("b", 10, 19, role=None)]
    assert rotated_chains(pieces) == [[1, 2, 0]]


def test_what_breaks_a_chain():
    gap = ROTATION_MAX_GAP_NS // S + 1
    assert rotated_chains([piece("a", 0, 10), piece("b", 9, 20)]) == []  # overlap
    assert rotated_chains([piece("a", 0, 10), piece("b", 10 + gap, 99)]) == []  # far apart
    assert rotated_chains([piece("a", 0, 10), piece("b", 11, 20, role="cn")]) == []
    assert rotated_chains([piece("a", 0, 10), piece("b", 11, 20, linktype=1)]) == []
    assert rotated_chains([piece("a", 0, 10, {7}), piece("b", 11, 20, {7})]) == []


def test_shared_counts_common_keys_per_pair():
    pieces = [piece("a", 0, 1, {1, 2, 3}), piece("b", 0, 1, {2, 3}), piece("c", 0, 1, {3, 9})]
    assert shared(pieces) == [(0, 1, 2), (0, 2, 1), (1, 2, 1)]
