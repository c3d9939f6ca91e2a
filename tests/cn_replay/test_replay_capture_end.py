"""Exposure rows at the end of the capture: an end (verification, expiry, replacement)
that the model places after the capture's last packet was not observed; the row is
``open`` and ends at the capture's end (docs/replay.md "Flooding exposure").

Expected times are computed here from the packets built (docs/replay.md "Time": the CN
acts on an update sent at t at t + RTT, the RTT of the nearest exchange on the path when
the update has no answer), never read back from ebutool's output."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest

from ebutool.core.constants import DEFAULT_CONFIG
from tests.cn_replay.test_replay_scenarios import COA1, MS, T0, Trace, run
from tests.support.cli import run_cli

S = 1_000_000_000
LIFE_MS = DEFAULT_CONFIG.tentative_binding_lifetime * 1000


def _epoch(ms: float) -> float:
    return (T0 + round(ms * MS)) / S


def test_verification_after_the_capture_end_is_not_observed():
    """EBU at 1 ms answered at 31 (RTT 30): tentative from 31.  The BU at 2990 has no
    answer in the capture (it ends at 3000 with a data packet), so the CN acts on it at
    2990 + 30 = 3020: after the last packet.  Within the capture the binding was still
    tentative when it ended: open, 31 .. 3000, not verified."""
    tr = Trace()
    tr.ha_bu(0, 1)
    tr.ebu(1, 10)
    tr.ba(31, 10)
    tr.ha_ba(40, 1)
    data_ms = [100 * i for i in range(1, 31)]  # 100 .. 3000 ms
    for t in data_ms:
        tr.data(t)
    tr.bu(2990, 11)
    r = run(tr)
    row = r.exposure.iloc[0]
    start, last = 31, 3000
    assert 2990 + 30 > last  # the CN's action lies past the capture's end
    assert row["end_reason"] == "open"
    assert not row["verified"]
    assert row["tentative_end"] == pytest.approx(_epoch(last), abs=1e-6)
    assert row["tentative_ms"] == pytest.approx(last - start)
    assert row["unverified_packets"] == len([t for t in data_ms if start <= t <= last])
    assert r.summary["verified"] == 0


def test_expiry_after_the_capture_end_is_not_observed():
    """EBU at 1 ms answered at 501 (RTT 500): tentative from 501 to 501 + 3000 = 3501.
    The capture ends at 3300 (a data packet); the unanswered BU at 3200 takes effect at
    3200 + 500 = 3700, after the expiry, so the model expires the binding at 3501, a
    time the capture never reached: the row must be open, 501 .. 3300, and the summary
    counts no expiry."""
    tr = Trace()
    tr.ha_bu(0, 1)
    tr.ebu(1, 10)
    tr.ba(501, 10)
    tr.ha_ba(520, 1)
    data_ms = [600 + 300 * i for i in range(10)]  # 600 .. 3300 ms
    for t in data_ms:
        tr.data(t)
    tr.bu(3200, 11)
    r = run(tr)
    row = r.exposure.iloc[0]
    start, last = 501, 3300
    assert start + LIFE_MS > last  # the lifetime runs out after the capture's end
    assert row["end_reason"] == "open"
    assert row["tentative_end"] == pytest.approx(_epoch(last), abs=1e-6)
    assert row["tentative_ms"] == pytest.approx(last - start)
    assert row["overstay_packets"] == 0
    assert r.summary["expired_unverified"] == 0


def test_tentative_binding_begun_after_the_capture_end_has_no_observed_numbers(tmp_path):
    """The capture's last packet is an EBU without the A flag at 1000 ms; the CN acts
    on it at 1000 + 50 (the RTT of the CoTI/CoT on the same path): after the capture
    ended.  Nothing of that binding was observed: its end, duration and packet counts
    are empty (not 0 ms and 0 packets), and ``end_reason`` says why."""
    tr = Trace(sign=True)  # (the CLI's keyless oracle checks the EBU with the HoT's token)
    tr.ha_bu(0, 1)
    tr.hoti_hot(2, COA1)
    tr.coti_cot(5, COA1, rtt=50)
    tr.ha_ba(40, 1)
    for t in range(100, 1000, 100):
        tr.data_home(t)
    tr.ebu(1000, 10, ack=False)
    r = run(tr)
    assert len(r.exposure) == 1
    row = r.exposure.iloc[0]
    assert row["tentative_start"] == pytest.approx(_epoch(1000 + 50), abs=1e-6)
    assert row["end_reason"] == "after_capture"
    for col in (
        "tentative_end",
        "tentative_ms",
        "unverified_packets",
        "unverified_bytes",
        "overstay_packets",
        "overstay_bytes",
        "violations",
    ):
        assert pd.isna(row[col]), col
    assert not row["verified"]
    assert r.summary["tentative_bindings"] == 1
    assert r.summary["overstay_packets"] == 0 and r.summary["overstay_bytes"] == 0
    path = tr.write(tmp_path / "end.pcap")
    out = run_cli("replay", path, "-f", "csv", "-q")
    assert out.exit_code == 0, out.output
    (cells,) = list(csv.DictReader(io.StringIO(out.stdout)))
    assert cells["end_reason"] == "after_capture"
    assert cells["tentative_ms"] == cells["unverified_packets"] == cells["violations"] == ""
    out = run_cli("replay", path, "-f", "json", "-q")
    (obj,) = json.loads(out.stdout)
    assert obj["tentative_end"] is None and obj["overstay_packets"] is None
