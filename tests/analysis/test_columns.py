"""The episode columns, declared once (ebutool.analysis.columns): the docs' list, the CSV
header and the row builder all agree with the one table."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

from ebutool.analysis.columns import (
    COLUMNS,
    DESIGN_COLUMNS,
    EPISODE_COLUMNS,
    episode_row,
    episodes_frame,
    markdown_table,
)
from ebutool.analysis.formulas import FORMULAS
from ebutool.analysis.observable import VANTAGE_COLUMNS
from ebutool.analysis.owd import OWD_COLUMNS
from ebutool.analysis.state import Episode, Step

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "analysis.md"
BEGIN = "<!-- episode columns: written by scripts/episode_columns_doc.py, do not edit -->\n"
END = "<!-- end of episode columns -->\n"

# DESIGN.md section 5, written out here independently of the code
CONTRACT = (
    "mn, ha, cn, prev_coa, coa, kind, mode, t_handover, rtt_ha_ms, rtt_bt_ms, rtt_ro_ms, "
    "send_latency_ms, recv_latency_ms, std_send_conserv_ms, std_send_optimst_ms, std_recv_ms, "
    "early_send_conserv_ms, early_send_optimst_ms, early_recv_ms, auth"
).split(", ")


def _doc_list() -> str:
    text = DOC.read_text(encoding="utf-8")
    assert text.count(BEGIN) == 1 and text.count(END) == 1, "column list markers"
    return text[text.index(BEGIN) + len(BEGIN) : text.index(END)]


def test_the_docs_list_is_the_table():
    assert _doc_list() == markdown_table()


def test_the_docs_list_names_every_column_once_in_order():
    rows = [line for line in _doc_list().splitlines() if line.startswith("| `")]
    assert [r.split("`")[1] for r in rows] == list(EPISODE_COLUMNS)


def test_the_doc_script_finds_nothing_to_change():
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "episode_columns_doc.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr


def test_design_contract_comes_first_then_source():
    assert DESIGN_COLUMNS == CONTRACT
    assert list(EPISODE_COLUMNS)[: len(CONTRACT)] == CONTRACT
    assert list(EPISODE_COLUMNS)[len(CONTRACT)] == "source"
    assert len(set(EPISODE_COLUMNS)) == len(COLUMNS)
    assert set(EPISODE_COLUMNS.values()) <= {"object", "float64", "Int64", "boolean"}


def _distinct_episode() -> Episode:
    """An episode whose every field holds a value no other field holds."""
    return Episode(
        id=7,
        mn="2001:db8::1",
        ha="2001:db8::2",
        cn="2001:db8::3",
        prev_coa="2001:db8::4",
        coa="2001:db8::5",
        kind="early",
        mode="optimistic",
        t0_ns=1_700_000_000_123_456_000,
        t0_source="event",
        complete=True,
        rtt_ha_ms=1.5,
        rtt_bt_ms=2.5,
        rtt_ro_ms=3.5,
        rtt_ro_from="ebu_eba",
        send_latency_ms=4.5,
        recv_latency_ms=5.5,
        predicted={name: 10.0 + i for i, name in enumerate(FORMULAS)},
        auth="valid",
        n_retransmissions=3,
        karn_excluded=["rtt_bt", "rtt_ro"],
        home_test_before_handover=False,
        n_binding_errors=2,
        binding_errors=[(9, 1, 8)],
        diagnosis=["binding_error", "no_final_bu"],
        timeline=[Step(1, 1, "BU", "MN", "HA")],
        source="run.pcap",
        rtt_bt_basis="pre_handover_test",
        rtt_bt_pred_ms=6.5,
        data_gap_send_ms=7.5,
        data_gap_recv_ms=8.5,
    )


def test_each_cell_comes_from_its_own_field():
    ep = _distinct_episode()
    row = episode_row(ep)
    assert list(row) == list(EPISODE_COLUMNS)
    converted = {
        "t_handover": 1_700_000_000.123456,
        "source": "run.pcap",
        "episode": 7,
        "karn_excluded": "rtt_bt;rtt_ro",
        "diagnosis": "binding_error;no_final_bu",
        **{f"{name}_ms": 10.0 + i for i, name in enumerate(FORMULAS)},
        # filled in the finished table, by vantage point (ebutool.analysis.observable)
        **dict.fromkeys(VANTAGE_COLUMNS),
        # merged views only (ebutool.analysis.owd)
        **dict.fromkeys(OWD_COLUMNS),
    }
    for name, value in converted.items():
        assert row[name] == value, name
    plain = set(row) - set(converted)  # the rest: the Episode field of the same name
    assert plain <= {f.name for f in dataclasses.fields(Episode)}
    for name in plain:
        assert row[name] == getattr(ep, name), name


def test_empty_values_are_empty_not_zero():
    ep = dataclasses.replace(_distinct_episode(), source="", karn_excluded=[], diagnosis=[])
    row = episode_row(ep)
    assert row["source"] is None and row["karn_excluded"] is None and row["diagnosis"] is None


def test_frame_has_the_declared_dtypes():
    df = episodes_frame([_distinct_episode()])
    assert {c: str(t) for c, t in df.dtypes.items()} == EPISODE_COLUMNS
    assert df.loc[0, "rtt_ro_ms"] == 3.5 and df.loc[0, "n_binding_errors"] == 2
