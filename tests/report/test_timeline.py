"""Ladder diagrams: the data (order, offsets from t0, lanes) and the text rendering."""

from __future__ import annotations

import sys

import pytest

from ebutool.report.timeline import (
    episode_list,
    find_episode,
    ladder_from_episode,
    ladder_from_events,
    load_episodes,
    render_text,
)
from tests.support.cli import SAMPLES, run_cli

MS = 1_000_000
T0 = 1_700_000_000_000_000_000

# The draft's Figure 2 with made-up times: HoTI/HoT before the handover, then
# BU->HA, EBU, CoTI in parallel, BA, EBA, CoT, then BU->CN, BA<-CN.
EARLY = [
    (T0 + 62 * MS, 16, "CoT", "CN", "MN"),  # deliberately out of order
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
    assert [r.msg for r in rows] == [
        "HoTI",
        "HoT",
        "handover",
        "BU",
        "EBU",
        "CoTI",
        "BA",
        "EBA",
        "CoT",
        "BU",
        "BA",
    ]
    assert [r.t_ms for r in rows] == pytest.approx(
        [-250, -180, 0, 0, 0.05, 0.09, 40, 61, 62, 62.2, 95]
    )
    assert rows[0].via == ("HA",) and rows[1].via == ("HA",)  # through the tunnel
    assert rows[4].via == ()  # EBU on the direct path
    assert ladder.lanes == ("MN", "HA", "CN")


def test_table_has_one_row_per_step():
    df = ladder_from_events(EARLY, T0).table()
    assert list(df.columns) == ["t_ms", "frame", "msg", "sender", "receiver", "via", "time"]
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
    text = render_text(
        ladder_from_events(
            EARLY,
            T0,
            title="episode 1: early",
            addresses={"MN": "2001:db8::100", "CN": "2001:db8:3::1"},
        )
    )
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
    assert "|" not in ebu[mn + 1 : cn] and ebu[cn - 1] == ">" and ebu.lstrip().startswith("0.050")
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
    assert line[header.index("HA")] == "|"  # the HA bar is still there
    assert "X" * 100 not in line


# ---------------------------------------------------------------- from captures (samples/)

MIXED = str(SAMPLES / "mixed.pcap")
EARLY_PCAP = str(SAMPLES / "early-conservative.pcap")


def test_episode_numbers_are_analyzes():
    import ebutool

    rows = ebutool.analyze(MIXED)
    listed = episode_list(load_episodes(MIXED))
    assert len(listed) == len(rows) > 1
    assert list(listed["episode"]) == list(rows["episode"])
    assert list(listed["kind"]) == list(rows["kind"]) and list(listed["cn"]) == list(rows["cn"])


def test_ladder_of_an_early_episode_is_figure_2():
    import ebutool

    row = ebutool.analyze(EARLY_PCAP).iloc[0]
    ep = find_episode(load_episodes(EARLY_PCAP), int(row["episode"]))
    rows = ladder_from_episode(ep).rows()
    msgs = [r.msg for r in rows]
    # the home test before the handover, then the early exchange, then the standard BU/BA
    assert msgs.index("HoTI") < msgs.index("HoT") < msgs.index("handover") < msgs.index("EBU")
    assert msgs.index("EBU") < msgs.index("EBA")
    assert [r.t_ms for r in rows if r.msg == "HoTI"][0] < 0
    # offsets are from t0: the HA's BA comes RTT_HA after the BU to the HA
    bu = next(r for r in rows if r.msg == "BU" and r.receiver == "HA")
    ba = next(r for r in rows if r.msg == "BA" and r.sender == "HA")
    assert ba.t_ms - bu.t_ms == pytest.approx(row["rtt_ha_ms"])
    eba = next(r for r in rows if r.msg == "EBA")
    ebu = next(r for r in rows if r.msg == "EBU")
    assert eba.t_ms - ebu.t_ms == pytest.approx(row["rtt_ro_ms"])
    assert ladder_from_episode(ep).t0_ns == round(row["t_handover"] * 1e9, -3)


def test_cli_lists_episodes_when_several():
    result = run_cli("timeline", MIXED, "-f", "csv")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("episode,mn,cn,kind,mode,")
    assert len(lines) - 1 == len(load_episodes(MIXED))
    assert "--episode N" in result.stderr


def test_cli_draws_the_only_episode_of_an_mn():
    eps = load_episodes(MIXED)
    counts = {}
    for e in eps:
        counts.setdefault(e.mn, []).append(e)
    mn, (only,) = next((k, v) for k, v in counts.items() if len(v) == 1)
    result = run_cli("timeline", MIXED, "--mn", mn)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"episode {only.id}: MN {mn}")
    assert "handover (t0)" in result.stdout


def test_cli_text_ladder_has_every_message():
    (ep, *_) = load_episodes(EARLY_PCAP)
    result = run_cli("timeline", EARLY_PCAP, "--episode", str(ep.id))
    assert result.exit_code == 0, result.output
    # message lines: "<t-t0 ms> <frame>  |..."; the frames in capture-time order
    shown = [
        int(ln.split()[1])
        for ln in result.stdout.splitlines()
        if len(ln.split()) > 2 and ln.split()[1].isdigit() and "|" in ln
    ]
    assert shown == [s.frame for s in sorted(ep.timeline, key=lambda s: (s.ts_ns, s.frame))]
    assert len(shown) == len(ep.timeline) > 5


@pytest.mark.parametrize("ext,magic", [("svg", b"<?xml"), ("png", b"\x89PNG"), ("pdf", b"%PDF")])
def test_cli_figure_by_extension(tmp_path, ext, magic):
    out = tmp_path / f"ladder.{ext}"
    result = run_cli("timeline", EARLY_PCAP, "-e", "1", "-o", str(out), "-q")
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(magic) and out.stat().st_size > 1000
    assert result.stdout == ""


def test_cli_text_file(tmp_path):
    out = tmp_path / "ladder.txt"
    result = run_cli("timeline", EARLY_PCAP, "-e", "1", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "handover (t0)" in out.read_text()


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["-e", "999"], "no episode 999: episodes are numbered 1-"),
        (["-o", "x.png"], "episodes: choose one with --episode N"),
        (["-e", "1", "-o", "x.jpg"], ".svg, .png, .pdf or .txt"),
        (["-e", "1", "--mn", "2001:db8:ffff::1"], "not to --mn 2001:db8:ffff::1"),
        (["--mn", "nonsense"], "not an IPv6 address"),
        # (the bound in typer's words, which change with its version: the option named)
        (["-e", "0"], "Invalid value for '--episode'"),
    ],
)
def test_cli_usage_errors(args, fragment):
    result = run_cli("timeline", MIXED, *args)
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr or fragment in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("out", ["-", "ladder.svg"])
def test_cli_nothing_to_draw_is_exit_0(tmp_path, out):
    # issue 15 item 7: no episode (here: of this MN) is an answer, not a usage error
    target = out if out == "-" else str(tmp_path / out)
    result = run_cli("timeline", MIXED, "--mn", "2001:db8:ffff::1", "-o", target)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    last = result.stderr.strip().splitlines()[-1]
    assert "no binding-update episode of MN 2001:db8:ffff::1" in last
    assert "nothing to draw" in last
    if out != "-":
        assert not (tmp_path / out).exists() and "not written" in last


def test_cli_unreadable_input_exit_3(tmp_path):
    bad = tmp_path / "x.pcap"
    bad.write_bytes(b"not a capture at all")
    result = run_cli("timeline", str(bad))
    assert result.exit_code == 3
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_figure_without_matplotlib(monkeypatch, tmp_path):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    out = tmp_path / "l.svg"
    result = run_cli("timeline", EARLY_PCAP, "-e", "1", "-o", str(out))
    assert result.exit_code == 2
    assert "plotting needs matplotlib: pip install 'ebutool[plot]'" in result.stderr
    assert not out.exists()
    result = run_cli("timeline", EARLY_PCAP, "-e", "1")
    assert result.exit_code == 0 and "handover (t0)" in result.stdout


def test_unknown_t0_counts_from_first_message_without_handover():
    from types import SimpleNamespace

    from ebutool.analysis import Step

    ep = SimpleNamespace(
        id=7,
        mn="2001:db8::1",
        ha="2001:db8::2",
        cn="2001:db8::3",
        kind="incomplete",
        mode="unknown",
        t0_ns=None,
        t0_source=None,
        prev_coa=None,
        coa="2001:db8:9::1",
        timeline=[Step(T0 + 5 * MS, 2, "CoT", "CN", "MN"), Step(T0, 1, "BA", "HA", "MN")],
    )
    ladder = ladder_from_episode(ep)
    assert [(r.msg, r.t_ms) for r in ladder.rows()] == [("BA", 0.0), ("CoT", 5.0)]
    text = render_text(ladder)
    assert "handover" not in text.split("\n", 2)[2]  # no marker line (the subtitle explains)
    assert "t0 unknown" in text
