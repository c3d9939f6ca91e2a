"""A trace line without `mh_hex` whose `mh` says the capture cut the message
(`"truncated": true`, with the whole message's `header_len`), as an older ebutool, a
simulator or a line edited with jq writes it: the message was encoded from its fields
as if whole.  So a BU the capture cut before its Nonce Indices read as a whole BU without
them: quality ok (not `bu_cut_off`), its authenticator `invalid` ("no Binding
Authorization Data option": it was past the cut), with only a `trace_field_mismatch`
warning (header_len, checksum, truncated).  Now it reads as the capture's cut message:
`malformed_mh` ("cut off after N of M octets"), `bu_cut_off`, auth unknown.

The trace is written here by hand (JSON objects, the messages by their fields).
"""

from __future__ import annotations

import json

import pytest

import ebutool
from ebutool.core.diagnostics import Diagnostics

HOA, HA, CN = "2001:db8:1::100", "2001:db8:1::1", "2001:db8:c::1"
NEW = "2001:db8:b::100"
T0 = 1_700_000_001_000_000_000
MS = 1_000_000
BU_CN_HEADER_LEN = 3  # 32 octets: MH 6 + BU 6 + Nonce Indices 6 + pad 2 + auth data 12
AUTH = {"type": "BindingAuthorizationData", "authenticator": "00" * 12}
NONCES = {"type": "NonceIndices", "home_index": 1, "careof_index": 2}


def _trace(tmp_path, bu_cn: dict) -> str:
    up = {"src": NEW, "hoa": HOA}
    down = {"dst": NEW, "rh2": HOA}
    ba = {"mh_type": 6, "status": 0, "flags": 0, "sequence": 20, "lifetime_s": 240}
    lines = [
        {"time_ns": T0, "msg": "BU", "dst": HA, **up,
         "mh": {"mh_type": 5, "sequence": 10, "flags": "AH", "lifetime_s": 240}},
        {"time_ns": T0 + 20 * MS, "msg": "BA", "src": HA, **down,
         "mh": {**ba, "sequence": 10}},
        {"time_ns": T0 + 21 * MS, "msg": "CoTI", "src": NEW, "dst": CN,
         "mh": {"mh_type": 2, "init_cookie": "11" * 8}},
        {"time_ns": T0 + 50 * MS, "msg": "CoT", "src": CN, "dst": NEW,
         "mh": {"mh_type": 4, "nonce_index": 2, "init_cookie": "11" * 8, "keygen_token": "22" * 8}},
        {"time_ns": T0 + 80 * MS, "msg": "BU", "dst": CN, **up,
         "mh": {"mh_type": 5, "sequence": 20, "flags": "A", "lifetime_s": 240, **bu_cn}},
        {"time_ns": T0 + 110 * MS, "msg": "BA", "src": CN, **down, "mh": {**ba, "options": [AUTH]}},
        {"time_ns": T0 + 111 * MS, "msg": "data", "dst": CN, "proto": 17, **up},
    ]  # fmt: skip
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps({"type": "packet", **o}) + "\n" for o in lines))
    return str(path)


def _analyze(path: str):
    diag = Diagnostics()
    df = ebutool.analyze(path, diag=diag, vantage="mn")
    assert len(df) == 1, df[["cn", "kind", "diagnosis"]].to_string()
    row = df.iloc[0]
    return row, (row["diagnosis"] or "").split(";"), diag


def test_a_whole_bu_from_its_fields(tmp_path):
    row, notes, diag = _analyze(_trace(tmp_path, {"options": [NONCES, AUTH]}))
    assert (row["kind"], row["quality"]) == ("standard", "ok")
    assert "malformed_mh" not in diag.counts and "trace_field_mismatch" not in diag.counts


@pytest.mark.parametrize("checksum", [None, 0x3E50])
def test_a_bu_the_line_says_was_cut_reads_as_cut(tmp_path, checksum):
    bu = {"truncated": True, "header_len": BU_CN_HEADER_LEN, "options": []}
    if checksum is not None:
        bu["checksum"] = checksum
    row, notes, diag = _analyze(_trace(tmp_path, bu))
    assert "trace_field_mismatch" not in diag.counts
    assert diag.counts["malformed_mh"] == 1
    assert "of 32 octets" in next(d.message for d in diag.kept if d.code == "malformed_mh")
    assert "bu_cut_off" in notes
    assert row["quality"] == "ambiguous_classification"
    assert row["auth"] == "unknown"  # unverifiable (cut), not invalid


def test_a_cut_bu_from_its_fields_survives_convert(tmp_path):
    """`ebutool convert` writes its octets (mh_hex) as the cut message's."""
    from ebutool.trace.jsonl import record_json

    path = _trace(tmp_path, {"truncated": True, "header_len": BU_CN_HEADER_LEN, "options": []})
    recs = [r for r in ebutool.read_records(path, Diagnostics()) if r.msg == "BU" and r.hoa]
    cut = [r for r in recs if r.dst == CN][0]
    again = tmp_path / "again.jsonl"
    line = {"type": "packet", **record_json(cut)}
    line.pop("mh")  # its octets only
    again.write_text(json.dumps(line) + "\n")
    (back,) = list(ebutool.read_records(str(again), Diagnostics()))
    assert back.mh.truncated and back.mh.header_len == BU_CN_HEADER_LEN
