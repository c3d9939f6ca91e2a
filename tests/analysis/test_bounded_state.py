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


def test_requests_beyond_the_exchange_limit_are_counted_and_flag_the_row(tmp_path):
    """One MN sends 40 BUs (distinct sequence numbers, none answered) and 40 CoTIs (distinct
    cookies) to one CN: an episode keeps 32 of each (MAX_EXCHANGES); the 8 + 8 others are
    counted warnings ``exchange_limit`` and the row says it is incomplete."""
    from ebutool.analysis.state import MAX_EXCHANGES

    hoa, coa, cn = "2001:db8:1::1", "2001:db8:2::1", "2001:db8:3::1"
    n = MAX_EXCHANGES + 8
    pkts = [R.mh_packet(coa, cn, 5, R.bu_body(1, 0x8000, 100), hoa=hoa)]
    pkts += [R.mh_packet(coa, cn, 2, R.hoti_body(bytes([i]) * 8)) for i in range(n)]
    pkts += [R.mh_packet(coa, cn, 5, R.bu_body(2 + i, 0x8000, 100), hoa=hoa) for i in range(n - 1)]
    path = tmp_path / "chatty.pcap"
    path.write_bytes(pcap_bytes([(T0 + i * 1000, p) for i, p in enumerate(pkts)], LINKTYPE_RAW))
    diag = Diagnostics()
    df = analyze(path, diag=diag)
    assert diag.counts["exchange_limit"] == 2 * (n - MAX_EXCHANGES)
    assert len(df) == 1
    row = df.iloc[0]
    assert "exchange_limit" in row["diagnosis"].split(";")
    assert row["quality"] == "state_evicted"
    # within the limit: no warning, the row enters statistics as before
    few = tmp_path / "few.pcap"
    few.write_bytes(pcap_bytes([(T0 + i * 1000, p) for i, p in enumerate(pkts[:20])], LINKTYPE_RAW))
    diag2 = Diagnostics()
    df2 = analyze(few, diag=diag2)
    assert diag2.counts["exchange_limit"] == 0
    assert all("exchange_limit" not in str(d) for d in df2["diagnosis"])
