"""A record store analysed in pieces (issue 12 with 16): ``analyze STORE -f csv`` (and
every format written in pieces) streams its rows as a capture's are, the same table as
:func:`ebutool.store.analyze_store` makes whole; a store of views is still made whole."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from ebutool.core.diagnostics import Diagnostics
from ebutool.oracle.keys import load_keys_file
from ebutool.records.from_packet import StreamStats
from ebutool.report import render_table
from ebutool.store import analyze_store, extract
from ebutool.store import merged as store_merged
from tests.support.cli import SAMPLES
from tests.support.splitcap import split_pcap


@pytest.mark.parametrize("name", ["standard", "early-conservative", "mixed"])
def test_pieces_are_the_whole_store_table(tmp_path, name):
    pieces = split_pcap(SAMPLES / f"{name}.pcap", tmp_path / "rot", 3)
    extract(pieces, tmp_path / "s")
    keys = load_keys_file(str(SAMPLES / f"{name}.keys.json"))
    d1, d2 = Diagnostics(), Diagnostics()
    made, decisions = store_merged.analyze_store_pieces(
        tmp_path / "s", keys=keys, diag=d1, stats=StreamStats()
    )
    got = pd.concat(list(made), ignore_index=True)
    whole = analyze_store(tmp_path / "s", keys=keys, diag=d2, stats=StreamStats())
    assert len(whole) > 0
    assert render_table(got, "csv") == render_table(whole, "csv")
    assert decisions == whole.attrs["vantage"] and d1.counts == d2.counts


def test_cli_streams_a_store(tmp_path, cli, monkeypatch):
    extract(split_pcap(SAMPLES / "mixed.pcap", tmp_path / "rot", 2), tmp_path / "s")
    whole = cli("analyze", SAMPLES / "mixed.pcap", "-f", "csv", "-q")
    calls = []
    real = store_merged.analyze_store_pieces
    monkeypatch.setattr(
        store_merged, "analyze_store_pieces", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    res = cli("analyze", tmp_path / "s", "-f", "csv", "-q")
    assert res.exit_code == 0, res.stderr
    assert calls == [1]
    # the whole capture's rows; ``source`` names the store's part, not the capture
    got, want = (pd.read_csv(io.StringIO(r.stdout)).drop(columns="source") for r in (res, whole))
    pd.testing.assert_frame_equal(got, want)


@pytest.mark.parametrize("fmt", ["csv", "table"])
def test_cluster_with_a_capture_is_refused_in_every_format(cli, fmt):
    res = cli("analyze", SAMPLES / "standard.pcap", "--cluster", "local:2", "-f", fmt)
    assert res.exit_code == 2 and "record store" in res.stderr
