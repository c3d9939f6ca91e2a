"""Ladder diagrams: the data (order, offsets from t0, lanes) and the text rendering."""
from __future__ import annotations

import pytest

from ebutool.timeline import ladder_from_events, render_text

MS = 1_000_000
T0 = 1_700_000_000_000_000_000

# The draft's Figure 2 with made-up times: HoTI/HoT before the handover, then
# BU->HA, EBU, CoTI in parallel, BA, EBA, CoT, then BU->CN, BA<-CN.
EARLY = [
    (T0 + 62 * MS, 16, "CoT", "CN", "MN"),        # deliberately out of order
    (T0 - 250 * MS, 3, "HoTI", "MN", "CN"),
    (T0 - 180 * MS, 4, "HoT", "CN", "MN"),
    (T0, 10, "BU", "MN", "HA"),
    (T0 + 50_000, 11, "EBU", "MN", "CN"),
    (T0 + 90_000, 12, "CoTI", "MN", "CN"),
    (T0 + 40 * MS, 14, "BA", "HA", "MN"),
    (T0 + 61 * MS, 15, "EBA", "CN", "MN"),
    (T0 + 62_200_000, 17, "BU", "MN", "CN"),
    (T0 + 95 * MS, 18, "BA", "CN", "MN"),
]


def test_rows_in_time_order_with_handover_at_zero():
    ladder = ladder_from_events(EARLY, T0)
    rows = ladder.rows()
    assert [r.msg for r in rows] == ["HoTI", "HoT", "handover", "BU", "EBU", "CoTI", "BA", "EBA",
                                     "CoT", "BU", "BA"]
    assert [r.t_ms for r in rows] == pytest.approx([-250, -180, 0, 0, 0.05, 0.09, 40, 61, 62, 62.2, 95])
    assert rows[0].via == ("HA",) and rows[1].via == ("HA",)       # through the tunnel
    assert rows[4].via == ()                                        # EBU on the direct path
    assert ladder.lanes == ("MN", "HA", "CN")


def test_table_has_one_row_per_step():
    df = ladder_from_events(EARLY, T0).table()
    assert list(df.columns) == ["t_ms", "frame", "msg", "sender", "receiver", "via", "ts"]
    assert len(df) == len(EARLY) + 1
    hoti = df[df["msg"] == "HoTI"].iloc[0]
    assert hoti["t_ms"] == pytest.approx(-250.0) and hoti["via"] == "HA" and hoti["frame"] == 3


def test_ha_only_episode_has_no_cn_lane():
    ladder = ladder_from_events([(T0, 1, "BU", "MN", "HA"), (T0 + MS, 2, "BA", "HA", "MN")], T0)
    assert ladder.lanes == ("MN", "HA")
    text = render_text(ladder)
    assert "CN" not in text


def test_unknown_lane_is_an_error():
    with pytest.raises(ValueError, match="unknown lane"):
        ladder_from_events([(T0, 1, "BU", "MN", "XX")], T0)


def test_tunnelled_frames_drawn_through_ha():
    ev = [(T0 + MS, 7, "data", "MN", "CN"), (T0 + 2 * MS, 8, "data", "MN", "CN")]
    rows = ladder_from_events(ev, T0, tunnelled={7}).rows()
    assert rows[1].via == ("HA",) and rows[2].via == ()


def _line(text, needle):
    (line,) = [ln for ln in text.splitlines() if needle in ln]
    return line


def test_text_ladder_lines():
    text = render_text(ladder_from_events(EARLY, T0, title="episode 1: early",
                                          addresses={"MN": "2001:db8::100", "CN": "2001:db8:3::1"}))
    lines = text.splitlines()
    assert lines[0] == "episode 1: early"
    assert lines[1] == "MN 2001:db8::100  CN 2001:db8:3::1"
    header = _line(text, "t-t0 (ms)")
    assert "frame" in header
    mn, ha, cn = header.index("MN"), header.index("HA"), header.index("CN")
    assert mn < ha < cn
    # a message from the MN to the HA: arrow from the MN bar to the HA bar, pointing right
    bu = _line(text, "   10  ")
    assert bu.lstrip().startswith("0.000")
    assert bu[mn] == "|" and bu[ha - 1] == ">" and bu[ha] == "|"
    assert " BU " in bu[mn:ha]
    # the HA's answer points left
    ba = _line(text, "   14  ")
    assert ba.lstrip().startswith("40.000") and ba[mn + 1] == "<" and " BA " in ba
    # HoTI is tunnelled: two arrow heads, at HA and at CN; label on the first segment
    hoti = _line(text, "    3  ")
    assert hoti.lstrip().startswith("-250.000")
    assert hoti[ha - 1] == ">" and hoti[cn - 1] == ">" and "HoTI" in hoti[mn:ha]
    # direct MN -> CN passes over the HA lane
    ebu = _line(text, "   11  ")
    assert "|" not in ebu[mn + 1:cn] and ebu[cn - 1] == ">" and ebu.lstrip().startswith("0.050")
    # the handover line comes before the first message at t0
    assert lines.index(_line(text, "handover (t0)")) < lines.index(bu)
    assert "~~~" in _line(text, "handover (t0)")


def test_data_rows_are_dotted():
    text = render_text(ladder_from_events([(T0 + 30 * MS, 13, "data", "MN", "CN")], T0))
    line = _line(text, "   13  ")
    assert "....>|" in line and " data " in line


def test_long_label_is_cut_to_fit_between_lanes():
    ev = [(T0, 1, "BU", "MN", "HA")]
    text = render_text(ladder_from_events(ev, T0, labels={1: "X" * 100}), gap=12)
    line = _line(text, "    1  ")
    header = _line(text, "t-t0 (ms)")
    assert line[header.index("HA")] == "|"          # the HA bar is still there
    assert "X" * 100 not in line
