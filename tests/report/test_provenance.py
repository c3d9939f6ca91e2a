"""Provenance (issue 17 item 6): the dict ebutool.report.provenance builds.

Hashes are checked against hashlib on octets the test writes itself; the constants
against ProtocolConfig values the test chooses; the left-out counts against a table
whose quality cells the test sets.
"""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import pandas as pd
import pytest

from ebutool.core.constants import PROTOCOL_CONSTANTS, ProtocolConfig
from ebutool.core.version import __version__
from ebutool.report.provenance import build_provenance, provenance_json
from ebutool.stream.content_hash import HASH_CHUNK


def test_inputs_hashed_like_hashlib(tmp_path):
    small = tmp_path / "small.pcap"
    small.write_bytes(b"\xd4\xc3\xb2\xa1" + bytes(range(256)) * 3)
    big = tmp_path / "big.bin"
    data = os.urandom(2 * HASH_CHUNK + 12345)  # more than one piece, and a ragged end
    big.write_bytes(data)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    record = build_provenance([str(small), str(big), str(empty)])
    got = {d["name"]: d for d in record["inputs"]}
    for path in (small, big, empty):
        octets = path.read_bytes()
        assert got[str(path)]["sha256"] == hashlib.sha256(octets).hexdigest()
        assert got[str(path)]["size_bytes"] == len(octets)
    assert got[str(big)]["size_bytes"] == 2 * HASH_CHUNK + 12345


def test_stdin_and_unreadable_inputs_are_empty_with_a_reason(tmp_path):
    record = build_provenance(["-", str(tmp_path / "gone.pcap")])
    stdin, gone = record["inputs"]
    assert stdin["sha256"] is None and stdin["size_bytes"] is None
    assert "standard input" in stdin["reason"]
    assert gone["sha256"] is None and "cannot be read" in gone["reason"]
    (store,) = build_provenance([str(tmp_path)])["inputs"]
    assert store["sha256"] is None and "directory" in store["reason"]


def test_constants_in_force_show_changed_values():
    config = ProtocolConfig(max_token_lifetime=100.0, ebu_mh_type=11)
    record = build_provenance([], config=config)
    entries = {c["name"]: c for c in record["protocol_constants"]}
    assert set(entries) == {s.name for s in PROTOCOL_CONSTANTS}
    assert entries["max_token_lifetime"]["value"] == 100.0
    assert entries["max_token_lifetime"]["changed"] is True
    assert entries["max_token_lifetime"]["option"] == "--max-token-lifetime"
    assert entries["ebu_mh_type"]["value"] == 11 and entries["ebu_mh_type"]["changed"]
    unchanged = [n for n, c in entries.items() if not c["changed"]]
    assert "max_nonce_lifetime" in unchanged and len(unchanged) == len(entries) - 2
    assert entries["max_nonce_lifetime"]["value"] == entries["max_nonce_lifetime"]["default"]


def test_left_out_counts_and_vantage_from_the_episode_table():
    df = pd.DataFrame(
        {
            "quality": ["ok", "refresh", "ok", "incomplete", "refresh"],
            "complete": [True, True, True, False, True],
            "rtt_ro_ms": np.array([1.0, 2.0, np.nan, 4.0, 5.0]),
        }
    )
    df.attrs["vantage"] = [{"source": "a.pcap", "role": "mn", "evidence": "x", "given": False}]
    record = build_provenance([], episodes=df, command="analyze", command_line=["analyze", "x"])
    stats = record["statistics"]
    assert stats["episodes"] == 5 and stats["counted"] == 2
    assert stats["left_out"] == {"refresh": 2, "incomplete": 1}
    assert record["vantage"][0]["role"] == "mn"
    assert record["clock_offsets"] is None and record["clock_offsets_reason"]
    assert record["command_line"] == ["analyze", "x"] and "command_line_reason" not in record
    assert record["ebutool_version"] == __version__


def test_no_episode_table_means_no_counts_with_a_reason():
    record = build_provenance([], command="decode")
    assert record["statistics"]["episodes"] is None
    assert record["statistics"]["reason"]
    assert record["command_line"] is None and record["command_line_reason"]


def test_clock_offsets_kept_when_known():
    offsets = [{"source": "cn.pcap", "ref": "mn.pcap", "offset_ms": np.float64(700.25)}]
    record = build_provenance([], clock_offsets=offsets)
    assert record["clock_offsets"] == [{"source": "cn.pcap", "ref": "mn.pcap", "offset_ms": 700.25}]
    assert "clock_offsets_reason" not in record


@pytest.mark.parametrize("value", [float("nan"), np.int64(3), np.float32(1.5)])
def test_json_able_and_byte_stable(tmp_path, value):
    (tmp_path / "f").write_bytes(b"abc")
    one = build_provenance([str(tmp_path / "f")], extra={"x": value})
    two = build_provenance([str(tmp_path / "f")], extra={"x": value})
    text = provenance_json(one)
    assert text == provenance_json(two)  # no time stamp: same run, same octets
    back = json.loads(text)
    assert back["inputs"][0]["sha256"] == hashlib.sha256(b"abc").hexdigest()
    assert back["x"] == (None if isinstance(value, float) and value != value else float(value))
