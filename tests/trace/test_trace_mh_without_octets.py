"""A trace `data` record with proto 135 (a Mobility Header) and no `mh_hex` is a message
whose octets the trace does not hold: a capture cut it before its MH type, or an older
ebutool wrote the trace (before 7f2ab05 no octets were kept for a Mobility Header the
capture cut), or a simulator logged a message it could not write out.  Such a record
read as signalling of no particular type, silently: a CN's BA logged so left the BU
`bu_unanswered`, `capture_ended_mid_episode`, mode `optimistic`, quality `incomplete`,
with no warning.  Now it is counted (`malformed_mh`, as the capture reader counts a cut
Mobility Header) and the row says `mh_cut_off`: no request before it is unanswered, the
mode is unknown, the row is out of statistics.

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
AUTH = {"type": "BindingAuthorizationData", "authenticator": "00" * 12}


def _bu(seq: int, flags: str, options: list) -> dict:
    return {"mh_type": 5, "sequence": seq, "flags": flags, "lifetime_s": 240, "options": options}


def _ba(seq: int, options: list) -> dict:
    return {
        "mh_type": 6,
        "status": 0,
        "flags": 0,
        "sequence": seq,
        "lifetime_s": 240,
        "options": options,
    }


def _trace(tmp_path, cn_ba: dict | None) -> str:
    """A standard handover; the CN's answer to the BU at +110 ms is ``cn_ba``."""
    up = {"src": NEW, "hoa": HOA}
    lines = [
        {"type": "header", "format": "ebutool-trace", "version": 1},
        {"time_ns": T0, "msg": "BU", "dst": HA, "mh": _bu(10, "AH", []), **up},
        {"time_ns": T0 + 20 * MS, "msg": "BA", "src": HA, "dst": NEW, "rh2": HOA,
         "mh": _ba(10, [])},
        {"time_ns": T0 + 21 * MS, "msg": "CoTI", "src": NEW, "dst": CN,
         "mh": {"mh_type": 2, "init_cookie": "11" * 8}},
        {"time_ns": T0 + 50 * MS, "msg": "CoT", "src": CN, "dst": NEW,
         "mh": {"mh_type": 4, "nonce_index": 2, "init_cookie": "11" * 8, "keygen_token": "22" * 8}},
        {"time_ns": T0 + 80 * MS, "msg": "BU", "dst": CN, **up, "mh": _bu(
            20, "A", [{"type": "NonceIndices", "home_index": 1, "careof_index": 2}, AUTH])},
        {"time_ns": T0 + 111 * MS, "msg": "data", "dst": CN, "proto": 17, **up},
    ]  # fmt: skip
    if cn_ba is not None:
        lines.insert(-1, {"time_ns": T0 + 110 * MS, "src": CN, "dst": NEW, "rh2": HOA, **cn_ba})
    path = tmp_path / "t.jsonl"
    path.write_text(
        "".join(
            json.dumps({"type": "packet", **o} if "format" not in o else o) + "\n" for o in lines
        )
    )
    return str(path)


def _row(path: str):
    diag = Diagnostics()
    df = ebutool.analyze(path, diag=diag, vantage="mn")
    assert len(df) == 1, df[["cn", "kind", "diagnosis"]].to_string()
    return df.iloc[0], diag


def test_the_whole_ba_completes_the_episode(tmp_path):
    row, diag = _row(_trace(tmp_path, {"msg": "BA", "mh": _ba(20, [AUTH])}))
    assert (row["kind"], row["complete"]) == ("standard", True)
    assert not diag.counts


@pytest.mark.parametrize("proto", [135, 62])
def test_a_mobility_header_without_its_octets_is_counted_and_not_read_as_no_answer(tmp_path, proto):
    row, diag = _row(_trace(tmp_path, {"msg": "data", "proto": proto}))
    assert diag.counts["malformed_mh"] == 1
    assert [d.code for d in diag.kept] == ["malformed_mh"]
    assert "without its octets" in diag.kept[0].message
    notes = row["diagnosis"].split(";")
    assert "mh_cut_off" in notes
    assert "bu_unanswered" not in notes and "capture_ended_mid_episode" not in notes
    assert (row["mode"], row["quality"]) == ("unknown", "ambiguous_classification")


def test_a_data_record_of_another_protocol_is_no_message(tmp_path):
    row, diag = _row(_trace(tmp_path, {"msg": "data", "proto": 17}))
    assert not diag.counts
    assert "mh_cut_off" not in row["diagnosis"].split(";")
