"""A record store given to analyze goes through the one per-input task (the one
dispatch to ebutool.store.analyze_store), alone or as one of compare's inputs."""

from __future__ import annotations

import pandas as pd
import pytest

import ebutool.runner.analyze_inputs as tasks
from ebutool.core.errors import UsageError
from ebutool.runner.analyze_inputs import analyze_files
from ebutool.store import extract
from tests.support.cli import SAMPLES

pytest.importorskip("pyarrow")
PCAP = SAMPLES / "early-optimistic.pcap"


@pytest.fixture
def store(tmp_path):
    extract([PCAP], tmp_path / "s")
    return str(tmp_path / "s")


def test_store_goes_through_the_per_input_task(store, monkeypatch):
    calls = []
    real = tasks.analyze_task

    def spy(path, *args, **kwargs):
        calls.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(tasks, "analyze_task", spy)
    got = analyze_files([store])
    assert calls == [store]
    want = analyze_files([str(PCAP)])
    pd.testing.assert_frame_equal(got.drop(columns="source"), want.drop(columns="source"))


def test_store_with_other_inputs_is_refused(store):
    with pytest.raises(UsageError, match="analysed on its own"):
        analyze_files([store, str(PCAP)])


def test_store_vantage_role_is_checked(store):
    with pytest.raises(UsageError):
        analyze_files([store], vantage="nonsense")
