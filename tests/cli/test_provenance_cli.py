"""``--provenance FILE.json`` and parquet's provenance metadata (issue 17 item 6).

Hashes are compared with hashlib over the sample's octets read here; the constants with
the values the test gives on the command line; parquet's metadata is read with pyarrow.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.support.cli import SAMPLES

MIXED = SAMPLES / "mixed.pcap"
STANDARD = SAMPLES / "standard.pcap"
KCN = "00112233445566778899aabbccddeeff00112233"


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _constant(record: dict, name: str) -> dict:
    return next(c for c in record["protocol_constants"] if c["name"] == name)


def test_analyze_sidecar_names_inputs_constants_and_command(cli, tmp_path):
    side = tmp_path / "p.json"
    res = cli(
        "analyze", MIXED, "-f", "csv", "-o", tmp_path / "t.csv", "--provenance", side,
        "--max-token-lifetime", "100", "--summary", "--kcn", KCN,
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    record = json.loads(side.read_text())
    (entry,) = record["inputs"]
    assert entry == {"name": str(MIXED), "size_bytes": MIXED.stat().st_size, "sha256": _sha(MIXED)}
    token = _constant(record, "max_token_lifetime")
    assert token["value"] == 100.0 and token["changed"] is True
    assert _constant(record, "max_nonce_lifetime")["changed"] is False
    assert record["command"] == "analyze"
    words = record["command_line"]
    assert words[:2] == ["ebutool", "analyze"] and words[-1] == str(MIXED)
    assert words[words.index("--max-token-lifetime") + 1] == "100.0"
    assert KCN not in json.dumps(record) and words[words.index("--kcn") + 1] == "<hidden>"
    assert record["vantage"][0]["role"] == "mn"
    stats = record["statistics"]
    assert (
        stats["episodes"] >= 1
        and stats["counted"] + sum(stats["left_out"].values()) == stats["episodes"]
    )
    assert record["claim_settings"]["min_samples"] >= 1


def test_left_out_counts_match_the_episode_table(cli, tmp_path):
    """The sidecar's counts are those of the quality column of the same run's CSV."""
    import pandas as pd

    side, table = tmp_path / "p.json", tmp_path / "e.csv"
    res = cli("analyze", MIXED, STANDARD, "-f", "csv", "-o", table, "--provenance", side, "-q")
    assert res.exit_code == 0, res.output
    df = pd.read_csv(table)
    stats = json.loads(side.read_text())["statistics"]
    assert stats["episodes"] == len(df)
    assert stats["counted"] <= int((df["quality"] == "ok").sum())


def test_parquet_carries_provenance_without_the_option(cli, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "e.parquet"
    res = cli("analyze", MIXED, "-f", "parquet", "-o", out, "--tentative-lifetime", "1.5", "-q")
    assert res.exit_code == 0, res.output
    meta = pq.read_metadata(out).metadata
    record = json.loads(meta[b"ebutool.provenance"])
    assert record["inputs"][0]["sha256"] == _sha(MIXED)
    assert _constant(record, "tentative_binding_lifetime")["value"] == 1.5
    assert not list(tmp_path.glob("*.json"))  # no sidecar was asked for
    # the table itself is unchanged by the metadata
    assert pq.read_table(out).num_rows >= 1


@pytest.mark.parametrize(
    "command", [["decode"], ["verify"], ["replay"], ["compare", STANDARD]], ids=str
)
def test_every_table_command_writes_the_sidecar(cli, tmp_path, command):
    side = tmp_path / "p.json"
    res = cli(*command, MIXED, "-f", "markdown", "-o", tmp_path / "t.md", "--provenance", side)
    assert res.exit_code in (0, 1), res.output
    record = json.loads(side.read_text())
    assert record["command"] == command[0]
    hashes = {d["name"]: d["sha256"] for d in record["inputs"]}
    assert hashes[str(MIXED)] == _sha(MIXED)
    if command[0] == "compare":
        assert hashes[str(STANDARD)] == _sha(STANDARD)
        assert record["statistics"]["episodes"] >= 1
        assert [v["source"] for v in record["vantage"]] == ["standard.pcap", "mixed.pcap"]
    else:
        assert record["statistics"]["episodes"] is None and record["statistics"]["reason"]


def test_sidecar_path_checked_before_the_work(cli, tmp_path):
    out = tmp_path / "t.csv"
    res = cli("analyze", MIXED, "-o", out, "--provenance", tmp_path / "no" / "p.json")
    assert res.exit_code == 2
    assert "--provenance" in res.stderr and not out.exists()
    res = cli("decode", MIXED, "--provenance", "-")
    assert res.exit_code == 2 and "file path" in res.stderr


def test_failed_run_leaves_no_sidecar(cli, tmp_path):
    side = tmp_path / "p.json"
    res = cli("analyze", tmp_path / "missing.pcap", "--provenance", side)
    assert res.exit_code != 0
    assert not side.exists() and not list(tmp_path.iterdir())
