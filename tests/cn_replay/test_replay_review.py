"""ebutool replay on captures built by the independent scenario builder
(tests/support/rfc_scenarios.py: packets written from the RFC text, tokens and MACs by
hashlib), with the CN's keys, so the oracle decides every update (basis ``kcn``).

Every expected value is computed here from the times the test lays out and the rules
of RFC 6275 9.5 and docs/replay.md, never read back from ebutool's output.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from ebutool.cn_replay import replay
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.units import NS_PER_S
from ebutool.oracle.keys import KeyTable, Nonce
from tests.support.cli import run_cli
from tests.support.rfc_scenarios import Scenario, ns

# RFC 6275 6.1.8: BA status "Sequence number out of window"; the BA then carries the
# last accepted sequence number (9.5.1).
STATUS_SEQ_OUT_OF_WINDOW = 135
# Care-of nonce index 0: what marks an EBU (DESIGN.md 3), unless the CN handed out index 0
CAREOF_INDEX_ZERO = 0
HOME_INDEX, CAREOF_INDEX = 1, 2


def keys_of(s: Scenario) -> KeyTable:
    keys = KeyTable()
    keys.set_kcn(s.kcn, s.cn)
    keys.set_nonces({i: Nonce(v) for i, v in s.nonces.items()}, s.cn)
    return keys


def epoch(t_ms: float) -> float:
    return ns(t_ms) / NS_PER_S


# -- the decisions table names an update as the oracle did ------------------------------


@pytest.mark.parametrize("cot_index_zero", [True, False])
def test_decisions_msg_is_the_oracles_name(tmp_path, cot_index_zero):
    """A BU with care-of nonce index 0 after a CoT that handed out index 0, MACed with
    the standard Kbm of (home index, 0): the oracle names it a standard BU
    (docs/verify.md), and the decisions table must say BU, not EBU.  Without that CoT,
    an update with index 0 MACed with the early key is an EBU."""
    s = Scenario()
    s.hoti(1000, b"HHHHHHHH")
    s.hot(1020, b"HHHHHHHH", index=HOME_INDEX)
    if cot_index_zero:
        s.coti(1000, b"CCCCCCCC")
        s.cot(1020, b"CCCCCCCC", index=CAREOF_INDEX_ZERO)
        s.bu_cn(1030, seq=10, hidx=HOME_INDEX, cidx=CAREOF_INDEX_ZERO)
        s.ba_cn(1050, seq=10, key=(HOME_INDEX, CAREOF_INDEX_ZERO))
        name, early_key = "BU", False
    else:
        s.bu_cn(1030, seq=10, hidx=HOME_INDEX, cidx=CAREOF_INDEX_ZERO, kbm_cidx=None)
        s.ba_cn(1050, seq=10, key=(HOME_INDEX, None))
        name, early_key = "EBU", True
    r = replay(s.write(tmp_path), keys=keys_of(s))
    d = r.decisions
    assert list(d["msg"]) == [name]
    assert list(d["authentication"]) == ["valid"]
    assert list(d["action"]) == ["tentative" if early_key else "regular"]
    assert list(d["observed_ack"]) == [f"{'EBA' if early_key else 'BA'} status 0 seq 10"]
    assert r.divergences.empty


# -- a status-135 BA answers the rejected update, not an earlier one with its number ----

RTT_MS = 20.0  # every exchange with the CN in these scenarios takes 20 ms
LAST_ACCEPTED = 21  # the accepted BU's sequence number
STALE = 5  # not greater than 21 modulo 2^16: rejected with status 135
NEWER = 22  # greater than 21: accepted


@pytest.mark.parametrize("stale_ack", [True, False])
@pytest.mark.parametrize("newer_before_answer", [False, True])
def test_status_135_answers_the_rejected_update(tmp_path, stale_ack, newer_before_answer):
    """BU seq 21 with the A flag clear is accepted (no BA: RFC 6275 9.5.4) and the CN
    uses it; later a BU with seq 5 is rejected with BA status 135 carrying 21, the last
    accepted number (9.5.1) -- sent whatever the A flag (9.5.4).  That BA answers the
    seq 5 BU, not the seq 21 one whose number it carries: no divergence, and the seq
    21 BU takes effect one CoTI/CoT round trip after it was sent, not when the 135
    arrived a second later.  With ``newer_before_answer`` the MN also sends an accepted
    BU seq 22 (A flag clear) before the 135 arrives: the 135 cannot answer it (22 is
    greater than 21), so it still answers seq 5."""
    s = Scenario()
    s.hoti(900, b"HHHHHHHH")
    s.hot(900 + RTT_MS, b"HHHHHHHH", index=HOME_INDEX)
    s.coti(901, b"CCCCCCCC")
    s.cot(901 + RTT_MS, b"CCCCCCCC", index=CAREOF_INDEX)
    s.bu_cn(1000, seq=LAST_ACCEPTED, hidx=HOME_INDEX, cidx=CAREOF_INDEX, ack=False)
    data_ms = [1050, 1100]
    stale_ms, newer_ms = 2000, 2005
    s.bu_cn(stale_ms, seq=STALE, hidx=HOME_INDEX, cidx=CAREOF_INDEX, ack=stale_ack)
    if newer_before_answer:
        s.bu_cn(newer_ms, seq=NEWER, hidx=HOME_INDEX, cidx=CAREOF_INDEX, ack=False)
    s.ba_cn(
        stale_ms + RTT_MS,
        seq=LAST_ACCEPTED,
        status=STATUS_SEQ_OUT_OF_WINDOW,
        key=(HOME_INDEX, CAREOF_INDEX),
    )
    data_ms += [2100, 4000]
    for t in data_ms:
        s.data_down(t)
    r = replay(s.write(tmp_path), keys=keys_of(s))

    assert r.divergences.empty, r.divergences[["kind", "detail"]].to_string()
    d = r.decisions
    answer = f"BA status {STATUS_SEQ_OUT_OF_WINDOW} seq {LAST_ACCEPTED}"
    want = [
        (LAST_ACCEPTED, "regular", "none", "none", epoch(1000 + RTT_MS)),
        (STALE, "rejected_sequence", answer, answer, epoch(stale_ms + RTT_MS)),
    ]
    if newer_before_answer:
        # the same care-of address as the regular entry: its lifetime is renewed
        want.append((NEWER, "refreshed", "none", "none", epoch(newer_ms + RTT_MS)))
    assert list(d["seq"]) == [w[0] for w in want]
    assert list(d["action"]) == [w[1] for w in want]
    assert list(d["expected_ack"]) == [w[2] for w in want]
    assert list(d["observed_ack"]) == [w[3] for w in want]
    assert list(d["cn_time"]) == pytest.approx([w[4] for w in want], abs=1e-6)


# -- octets of packets whose length the trace does not give ------------------------------

EBU_MS, EBA_MS = 1000, 1020
UNVERIFIED_MS = [1100, 1200, 1300]  # while tentative: EBA_MS .. EBA_MS + lifetime
OVERSTAY_MS = [5000, 5100]  # after the tentative lifetime ran out unverified
KNOWN_IP_LEN = 1280  # octets, IPv6 header included, as a trace's ip_len gives it


def jsonl_trace(tmp_path, unknown_ms: set[float]) -> Path:
    """An EBU answered by an EBA (the scenario builder's packets, turned into a JSON
    Lines trace by ``ebutool convert``), then the CN's data to the care-of address
    written as trace lines by hand (docs/trace-format.md): those at ``unknown_ms``
    without ``ip_len`` (for data: unknown), the others with KNOWN_IP_LEN."""
    s = Scenario()
    s.hoti(900, b"HHHHHHHH", s.old)
    s.hot(920, b"HHHHHHHH", index=HOME_INDEX, coa=s.old)
    s.bu_cn(EBU_MS, seq=20, hidx=HOME_INDEX, cidx=CAREOF_INDEX_ZERO, kbm_cidx=None)
    s.ba_cn(EBA_MS, seq=20, key=(HOME_INDEX, None))
    out = tmp_path / "trace.jsonl"
    res = run_cli("convert", s.write(tmp_path), "-o", out)
    assert res.exit_code == 0, res.output
    lines = out.read_text().splitlines()
    for t in UNVERIFIED_MS + OVERSTAY_MS:
        line = {"type": "packet", "time_ns": ns(t), "msg": "data", "proto": UDP}
        line |= {"src": s.cn, "dst": s.new, "rh2": s.hoa}
        if t not in unknown_ms:
            line["ip_len"] = KNOWN_IP_LEN
        lines.append(json.dumps(line))
    out.write_text("\n".join(lines) + "\n")
    return out


UDP = 17  # IPv6 next header (IANA protocol numbers)


@pytest.mark.parametrize(
    "unknown_ms",
    [set(), set(UNVERIFIED_MS + OVERSTAY_MS), {UNVERIFIED_MS[1], OVERSTAY_MS[0]}],
    ids=["all_known", "none_known", "one_unknown_each"],
)
def test_byte_sums_with_a_packet_of_unknown_length_are_empty(tmp_path, unknown_ms):
    """A byte sum that includes a packet of unknown length is empty (NA) -- not a sum
    that counts it as 0 octets -- while the packet counts stand; the reason is a
    counted replay_length_unknown warning, and the divergence text says the length is
    unknown.  With every length known the sums are the lengths added up."""
    path = jsonl_trace(tmp_path, unknown_ms)
    diag = Diagnostics()
    r = replay(path, diag=diag)
    assert len(r.exposure) == 1
    row = r.exposure.iloc[0]
    assert row["end_reason"] == "expired"
    assert row["unverified_packets"] == len(UNVERIFIED_MS)
    assert row["overstay_packets"] == row["violations"] == len(OVERSTAY_MS)
    for col, times in (("unverified_bytes", UNVERIFIED_MS), ("overstay_bytes", OVERSTAY_MS)):
        if unknown_ms & set(times):
            assert pd.isna(row[col]), col
        else:
            assert row[col] == KNOWN_IP_LEN * len(times), col
    overstay_unknown = len(unknown_ms & set(OVERSTAY_MS))
    observed = [
        "length unknown" if t in unknown_ms else f"{KNOWN_IP_LEN} octets" for t in OVERSTAY_MS
    ]
    assert [o.rsplit(", ", 1)[1].split(" (")[0] for o in r.divergences["observed"]] == observed
    assert diag.counts["replay_length_unknown"] == (1 if unknown_ms else 0)
    if overstay_unknown:
        assert r.summary["overstay_bytes"] is None
        assert "octets unknown" in r.summary_line()
        assert " 0 octets" not in r.summary_line()
    else:
        assert r.summary["overstay_bytes"] == KNOWN_IP_LEN * len(OVERSTAY_MS)


def test_unknown_byte_sums_are_empty_in_every_format(tmp_path):
    """The command line renders the empty sums as empty, never 0 or "nan": CSV empty
    cells, JSON/NDJSON null, Zeek's unset field, empty Markdown/LaTeX cells, Parquet
    null; the summary says the octets are unknown and why."""
    path = jsonl_trace(tmp_path, set(UNVERIFIED_MS + OVERSTAY_MS))
    cols = "unverified_packets,unverified_bytes,overstay_packets,overstay_bytes"
    want = [len(UNVERIFIED_MS), None, len(OVERSTAY_MS), None]

    def out(fmt: str):
        res = run_cli("replay", path, "-f", fmt, "-o", "-", "-c", cols)
        assert res.exit_code == 1, res.output  # the overstay packets are divergences
        assert "octets unknown" in res.stderr and "replay_length_unknown" in res.stderr
        return res.stdout

    row = next(csv.reader(io.StringIO(out("csv").splitlines()[1])))
    assert row == [str(w) if w is not None else "" for w in want]
    assert [list(json.loads(out("json"))[0].values())] == [want]
    assert list(json.loads(out("ndjson").splitlines()[0]).values()) == want
    zeek = [ln for ln in out("zeek").splitlines() if not ln.startswith("#")]
    assert zeek[0].split("\t") == [str(w) if w is not None else "-" for w in want]
    markdown = out("markdown").splitlines()[-1]  # | 3 |   | 2 |   |
    latex = [ln for ln in out("latex").splitlines() if "&" in ln][-1]  # 3 & & 2 & \\
    for fmt, cells in (
        ("markdown", markdown.split("|")[1:-1]),
        ("latex", latex.strip().removesuffix("\\\\").split("&")),
    ):
        assert [c.strip() for c in cells] == [str(w) if w is not None else "" for w in want], fmt
    pq = tmp_path / "x.parquet"
    res = run_cli("replay", path, "-f", "parquet", "-o", pq, "-c", cols)
    assert res.exit_code == 1, res.output
    assert list(pd.read_parquet(pq).astype(object).iloc[0].where(lambda v: v.notna(), None)) == want


def test_a_135_whose_refused_update_came_before_the_capture_answers_none(tmp_path):
    """BU 40 and then a 135 carrying N = 30: a CN refuses with 135 only an update whose
    number is not greater than N (RFC 6275 9.5.1), so the 135 answers an update before
    the capture, not BU 40, which its own BA answers (review of stop 32: BU 40 was
    paired with the 135, giving a false ack_status and a second false divergence)."""
    s = Scenario()
    s.hoti(900, b"HHHHHHHH")
    s.hot(920, b"HHHHHHHH", index=HOME_INDEX)
    s.coti(901, b"CCCCCCCC")
    s.cot(921, b"CCCCCCCC", index=CAREOF_INDEX)
    s.bu_cn(1000, seq=40, hidx=HOME_INDEX, cidx=CAREOF_INDEX, ack=True)
    s.ba_cn(1010, seq=30, status=135, key=(HOME_INDEX, CAREOF_INDEX))
    s.ba_cn(1020, seq=40, status=0, key=(HOME_INDEX, CAREOF_INDEX))
    r = replay(s.write(tmp_path), keys=keys_of(s))
    row = r.decisions.iloc[0]
    assert (row["seq"], row["expected_ack"], row["observed_ack"]) == (
        40,
        "BA status 0 seq 40",
        "BA status 0 seq 40",
    )
    assert list(r.divergences["kind"]) == ["ack_unexpected"]  # the 135: no update here
    assert "seq 30" in r.divergences["detail"].iloc[0]
