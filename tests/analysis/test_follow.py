"""analyze --follow's analysis (ebutool.analysis.follow): rows as the episodes close.

Ground truth: captures built octet by octet from the RFC text (tests.support.rfc_scenarios),
the moment a row must close said by the scenario's own times; and the batch analysis,
which a followed row must equal except for the fields docs/outputs.md names."""

from __future__ import annotations

import pandas as pd
import pytest

from ebutool.analysis import analyze, make_oracle
from ebutool.analysis.follow import Follower, follow
from ebutool.core.constants import DEFAULT_CONFIG
from ebutool.core.diagnostics import Diagnostics
from ebutool.stream.reader import read_records
from tests.support.cli import SAMPLES
from tests.support.rfc_scenarios import Scenario, ns

# Columns a followed row may hold differently (docs/outputs.md "--follow"): none of
# them differs in these captures, except the numbering, which is closing order.
KEY = ["mn", "cn", "coa", "t_handover"]


def _cells(df: pd.DataFrame) -> list[list]:
    df = df.sort_values(KEY, kind="stable").reset_index(drop=True)
    return [[None if pd.isna(v) else v for v in row] for row in df.astype(object).to_numpy()]


@pytest.mark.parametrize("name", ["standard", "early-conservative", "early-optimistic", "mixed"])
@pytest.mark.parametrize("suffix", [".pcap", ".jsonl"])
def test_followed_rows_equal_the_batch_rows_and_come_before_the_end(name, suffix):
    path = SAMPLES / f"{name}{suffix}"
    batch = analyze(path)
    records = list(read_records(path, Diagnostics()))
    fl = Follower(oracle=make_oracle(), vantage="mn", source=path.name)
    tables, closed_at = [], []
    for i, rec in enumerate(records):
        df = fl.feed(rec)
        if df is not None:
            tables.append(df)
            closed_at += [i] * len(df)
    last = fl.finish()
    if last is not None:
        tables.append(last)
    followed = pd.concat(tables, ignore_index=True)
    assert len(followed) == len(batch) > 0
    assert list(followed.columns) == list(batch.columns)
    assert list(followed.dtypes) == list(batch.dtypes)
    assert sorted(followed["episode"]) == list(range(1, len(batch) + 1))
    cols = [c for c in batch.columns if c != "episode"]
    assert _cells(followed[cols]) == _cells(batch[cols])
    # every episode of these captures completes: its row is out long before the input ends
    assert len(closed_at) == len(batch) and max(closed_at) < len(records) - 10


def _standard(s: Scenario, t: float, seq: int) -> None:
    """A standard handover at ``t`` ms: HA registration, home and care-of tests, BU/BA to
    the CN, then route-optimised data each way (times chosen here)."""
    s.bu_ha(t, seq)
    s.hoti(t, b"H" * 8)
    s.coti(t, b"C" * 8)
    s.ba_ha(t + 40, seq)
    s.hot(t + 60, b"H" * 8, index=1)
    s.cot(t + 20, b"C" * 8, index=2)
    s.bu_cn(t + 70, seq, 1, 2)
    s.ba_cn(t + 90, seq, key=(1, 2))
    s.data_up(t + 100)
    s.data_down(t + 130)  # the last fact the row needs: it closes here


def _records(tmp_path, *scenarios: Scenario) -> list:
    merged = Scenario()
    merged.packets = sorted(p for s in scenarios for p in s.packets)
    return list(read_records(merged.write(tmp_path), Diagnostics()))


def _closing(records, **kw) -> list[tuple[int, pd.DataFrame]]:
    """(index of the record after which rows came, the rows); index len() = at the end."""
    fl = Follower(vantage="mn", **kw)
    out = [(i, df) for i, r in enumerate(records) if (df := fl.feed(r)) is not None]
    last = fl.finish()
    return out + ([(len(records), last)] if last is not None else [])


def test_a_completed_episode_closes_on_the_packet_that_completes_it(tmp_path):
    s = Scenario()
    _standard(s, 1000, 10)
    s.data_up(5000)  # later traffic of the same binding
    s.data_down(9000)
    records = _records(tmp_path, s)
    closing = _closing(records)
    assert len(closing) == 1
    at, df = closing[0]
    assert records[at].ts_ns == ns(1130)  # the first data packet CN -> MN
    assert df.iloc[0]["kind"] == "standard" and bool(df.iloc[0]["complete"])
    assert df.iloc[0]["send_latency_ms"] == pytest.approx(100.0)
    assert df.iloc[0]["recv_latency_ms"] == pytest.approx(130.0)


def _unanswered(tmp_path, other_at_ms: float) -> list:
    """MN 1's home registration and CoTI go unanswered; MN 2 signals ``other_at_ms`` later."""
    s = Scenario()
    s.bu_ha(1000, 10)
    s.ba_ha(1040, 10)
    s.coti(1000, b"C" * 8)
    s.bu_cn(1050, 11, 1, 0, kbm_cidx=None)  # an EBU nobody answers
    t = Scenario(hoa="2001:db8:1::200", old="2001:db8:a::200", new="2001:db8:b::200")
    t.bu_ha(1000 + other_at_ms, 20)
    return _records(tmp_path, s, t)


def test_an_unfinished_episode_closes_when_max_bindack_timeout_runs_out(tmp_path):
    records = _unanswered(tmp_path, 40_000)  # 40 s of silence > MAX_BINDACK_TIMEOUT (32 s)
    closing = _closing(records)
    at, df = closing[0]
    assert records[at].ts_ns == ns(41_000)  # closed by the next packet after the timeout
    assert at < len(records) and df.iloc[0]["mn"] == "2001:db8:1::100"
    assert df.iloc[0]["kind"] != "standard" and not bool(df.iloc[0]["complete"])


def test_the_timeout_is_the_max_bindack_timeout_option(tmp_path):
    records = _unanswered(tmp_path, 40_000)
    config = DEFAULT_CONFIG.with_(max_bindack_timeout=60)
    fl = Follower(config, vantage="mn")
    assert all(fl.feed(r) is None for r in records)  # 40 s < 60 s: still open
    df = fl.finish()
    assert df is not None and set(df["mn"]) == {"2001:db8:1::100", "2001:db8:1::200"}


def test_follow_filters_and_numbers_like_the_batch(tmp_path):
    s = Scenario()
    _standard(s, 1000, 10)
    t = Scenario(hoa="2001:db8:1::200", old="2001:db8:a::200", new="2001:db8:b::200")
    _standard(t, 500, 30)
    records = _records(tmp_path, s, t)
    rows = pd.concat(list(follow(records, vantage="mn", mn="2001:db8:1::100")))
    assert list(rows["mn"]) == ["2001:db8:1::100"]
    assert list(rows["episode"]) == [2]  # the other MN's episode closed first


def test_a_first_handover_whose_home_registration_is_unseen_waits_for_its_close(tmp_path):
    """The capture begins just after the MN's BU to its (far) HA; the CN episode completes
    before the HA's BA, which then shows the capture began inside the handover.  The row
    waits for that: written once, as the batch writes it (review of stop 31: a row with
    the EBU as t0 and quality ok, then a second one for the same episode)."""
    import json

    from ebutool.oracle.keys import load_keys_file

    s = Scenario()
    s.bu_cn(1000.01, seq=20, hidx=1, cidx=0, kbm_cidx=None)  # EBU, home token from before
    s.coti(1000.02, b"C" * 8)
    s.data_up(1015)
    s.ba_cn(1020.01, seq=20, key=(1, None))  # EBA
    s.cot(1020.02, b"C" * 8, index=2)
    s.bu_cn(1020.5, seq=21, hidx=1, cidx=2)
    s.data_down(1030)
    s.ba_cn(1040.5, seq=21, key=(1, 2))
    s.ba_ha(1300, seq=10)  # to the BU to the HA the capture missed
    s.data_up(1400)
    s.data_down(1410)
    nonces = {str(i): {"nonce": n.hex()} for i, n in s.nonces.items()}
    keyfile = tmp_path / "keys.json"
    keyfile.write_text(json.dumps({s.cn: {"kcn": s.kcn.hex(), "nonces": nonces}}))
    keyfile.chmod(0o600)
    keys = load_keys_file(str(keyfile))
    records = _records(tmp_path, s)
    closing = _closing(records, oracle=make_oracle(keys))
    rows = pd.concat([df for _, df in closing], ignore_index=True)
    assert len(rows) == 1
    assert rows.iloc[0]["quality"] == "capture_began_mid_procedure"
    assert pd.isna(rows.iloc[0]["t_handover"])
