"""The collector policy of long runs: raised for the run, restored afterwards."""

import gc
from pathlib import Path

import pytest

from ebutool.analysis import analyze
from ebutool.core.gc_tuning import GEN0_THRESHOLD, fewer_collections

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "standard.pcap"


@pytest.fixture
def default_threshold():
    old = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*old)


def test_raised_inside_restored_after_even_on_error(default_threshold):
    with fewer_collections():
        assert gc.get_threshold() == (GEN0_THRESHOLD, 10, 10)
        with fewer_collections():  # nested: still raised
            assert gc.get_threshold()[0] == GEN0_THRESHOLD
        assert gc.get_threshold()[0] == GEN0_THRESHOLD
    assert gc.get_threshold() == (700, 10, 10)
    with pytest.raises(ValueError):
        with fewer_collections():
            raise ValueError("boom")
    assert gc.get_threshold() == (700, 10, 10)


def test_never_lowers_or_reenables(default_threshold):
    gc.set_threshold(GEN0_THRESHOLD * 2, 10, 10)
    with fewer_collections():
        assert gc.get_threshold()[0] == GEN0_THRESHOLD * 2
    gc.set_threshold(0, 10, 10)  # automatic collection off: left off
    with fewer_collections():
        assert gc.get_threshold()[0] == 0
    assert gc.get_threshold() == (0, 10, 10)


def test_analyze_runs_with_it_and_restores(default_threshold, monkeypatch):
    seen = []
    import ebutool.analysis as analysis

    real = analysis.build_rows  # the run itself: reading and analysing every record

    def spy(*args):
        seen.append(gc.get_threshold()[0])
        return real(*args)

    monkeypatch.setattr(analysis, "build_rows", spy)
    assert len(analyze(SAMPLE)) > 0
    assert seen == [GEN0_THRESHOLD] and gc.get_threshold() == (700, 10, 10)
