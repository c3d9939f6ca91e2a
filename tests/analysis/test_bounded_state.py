"""Issue 12 item 2 (bounded state): the tables keyed by what a capture controls keep at
most --max-state-entries entries; an eviction is a counted ``state_evicted`` warning and
the evicted episode's row is still written, flagged (quality ``state_evicted``), never
silently lost.  Captures are raw bytes (tests/support/rfc_packets): one BU per home
address, as an attacker would send them."""

from __future__ import annotations

import pytest

from ebutool.analysis import analyze
from ebutool.core.constants import DEFAULT_CONFIG
from ebutool.core.diagnostics import Diagnostics
from ebutool.oracle.verify import Oracle
from tests.support import rfc_packets as R
from tests.support.capbuild import LINKTYPE_RAW, pcap_bytes

T0 = 1_700_000_000_000_000_000


def bu(i: int, cn: int = 1) -> bytes:
    hoa, coa, dst = f"2001:db8:1::{i:x}", f"2001:db8:2::{i:x}", f"2001:db8:3::{cn:x}"
    return R.mh_packet(coa, dst, 5, R.bu_body(i, 0x8000, 100), hoa=hoa)


def capture(tmp_path, n: int, cns: int = 1):
    path = tmp_path / "many.pcap"
    frames = [(T0 + i * 1000, bu(i + 1, 1 + i % cns)) for i in range(n)]
    path.write_bytes(pcap_bytes(frames, LINKTYPE_RAW))
    return path


@pytest.mark.parametrize("limit", [10, 25])
def test_evicted_mobile_nodes_are_counted_and_their_rows_flagged(tmp_path, limit):
    n = 60
    diag = Diagnostics()
    df = analyze(
        capture(tmp_path, n), config=DEFAULT_CONFIG.with_(max_state_entries=limit), diag=diag
    )
    assert len(df) == n  # one row per MN: none lost
    evicted = df[df["quality"] == "state_evicted"]
    # the MNs evicted before the end: all but the last `limit` ones
    assert len(evicted) == n - limit
    assert all("state_evicted" in d.split(";") for d in evicted["diagnosis"])
    assert set(evicted["mn"]) == {f"2001:db8:1::{i + 1:x}" for i in range(n - limit)}
    assert diag.counts["state_evicted"] >= n - limit
    assert any("mobile node table full" in d.message for d in diag.kept)


def test_below_the_bound_nothing_is_evicted(tmp_path):
    diag = Diagnostics()
    df = analyze(
        capture(tmp_path, 30), config=DEFAULT_CONFIG.with_(max_state_entries=30), diag=diag
    )
    assert len(df) == 30 and "state_evicted" not in set(df["quality"])
    assert diag.counts["state_evicted"] == 0


def test_oracle_tables_count_their_evictions(tmp_path):
    from ebutool.stream.reader import read_records

    diag = Diagnostics()
    oracle = Oracle(config=DEFAULT_CONFIG.with_(max_state_entries=5), diag=diag)
    verdicts = list(oracle.run(read_records(capture(tmp_path, 20), Diagnostics())))
    assert len(verdicts) == 20
    assert max(oracle.memory().values()) <= 5
    assert diag.counts["state_evicted"] >= 15
    assert any("oracle" in d.message for d in diag.kept if d.code == "state_evicted")


def test_the_option_reaches_analyze(tmp_path):
    from tests.support.cli import run_cli

    res = run_cli("analyze", capture(tmp_path, 12), "-f", "csv", "--max-state-entries", "4")
    assert res.exit_code == 0, res.output
    assert res.stdout.count("state_evicted") >= 8
    assert "state_evicted" in res.stderr
