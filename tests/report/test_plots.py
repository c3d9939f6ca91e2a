"""Figures, checked through matplotlib's objects (labels, lines, legends), not pixels;
and the behaviour without matplotlib (the optional extra ebutool[plot])."""

from __future__ import annotations

import sys

import matplotlib
import pytest

matplotlib.use("Agg")

from ebutool.analysis.formula_table import Sweep, sweep_table  # noqa: E402
from ebutool.core.errors import UsageError  # noqa: E402
from ebutool.report import plots  # noqa: E402
from ebutool.report.timeline import ladder_from_events  # noqa: E402
from tests.support.cli import run_cli

MS = 1_000_000
T0 = 1_700_000_000_000_000_000


def _legend_texts(fig):
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    return [t.get_text() for lg in legends for t in lg.get_texts()]


# ---------------------------------------------------------------- model sweep


def test_sweep_figure_axes_lines_legend():
    df = sweep_table(Sweep("rtt_bt", 10, 400, 10), rtt_ha=40, rtt_ro=30)
    fig = plots.sweep_figure(df, "rtt_bt", {"rtt_ha": 40, "rtt_ro": 30})
    (ax,) = fig.axes
    assert ax.get_xlabel() == "RTT_BT (ms)"
    assert "(ms)" in ax.get_ylabel()
    assert "RTT_HA = 40 ms" in ax.get_title() and "RTT_RO = 30 ms" in ax.get_title()
    lines = ax.get_lines()
    assert len(lines) == 6  # one per formula
    texts = _legend_texts(fig)
    assert len(texts) == 6
    assert any(t.startswith("standard, send, conservative") for t in texts)
    assert any(t.startswith("early, receive") for t in texts)
    # std_recv == std_send_conserv everywhere: the legend says so
    assert any("standard, receive" in t and "(= send, conservative)" in t for t in texts)
    # the data are the table's: the last point of the early receive line is RTT_RO = 30
    early_recv = next(ln for ln in lines if ln.get_label().startswith("early, receive"))
    assert list(early_recv.get_xdata())[-1] == 400 and list(early_recv.get_ydata())[-1] == 30
    # a line at 0 (early, send, optimistic) is not hidden under the x axis
    assert ax.get_ylim()[0] < 0


@pytest.mark.parametrize("ext", ["png", "svg", "pdf"])
def test_cli_sweep_writes_nonempty_figure_by_extension(tmp_path, ext):
    out = tmp_path / f"sweep.{ext}"
    result = run_cli(
        "model",
        "--rtt-ha",
        "40",
        "--rtt-bt",
        "120",
        "--sweep",
        "rtt_ro=10:200:10",
        "--plot",
        str(out),
        "-q",
        "-f",
        "csv",
    )
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert len(data) > 1000
    magic = {"png": b"\x89PNG", "svg": b"<?xml", "pdf": b"%PDF"}[ext]
    assert data.startswith(magic)


def test_figure_format_rejects_unknown_extension():
    with pytest.raises(UsageError, match=r"\.png, \.svg or \.pdf"):
        plots.figure_format("out.jpeg")
    assert plots.figure_format("A.PDF") == "pdf"


def test_save_figure_unwritable_path_is_usage_error(tmp_path):
    df = sweep_table(Sweep("rtt_ro", 1, 2, 1), rtt_ha=1, rtt_bt=1)
    fig = plots.sweep_figure(df, "rtt_ro", {"rtt_ha": 1, "rtt_bt": 1})
    with pytest.raises(UsageError, match="cannot write figure"):
        plots.save_figure(fig, str(tmp_path / "no" / "such" / "dir.png"))


# ---------------------------------------------------------------- compare distributions


def _samples():
    return {
        "send": {
            "a.pcap": {"observed": [1.0, 2.0, 3.0], "predicted": [1.5, 2.5]},
            "b.pcap": {"observed": [10.0], "predicted": []},
        },
        "receive": {
            "a.pcap": {"observed": [4.0], "predicted": [4.0]},
            "b.pcap": {"observed": [], "predicted": [9.0, 11.0]},
        },
    }


def test_cdf_figure_one_line_per_nonempty_series_with_counts():
    fig = plots.distribution_figure(_samples(), "cdf", title="t")
    assert len(fig.axes) == 2
    send, recv = fig.axes
    assert send.get_title() == "send latency" and recv.get_title() == "receive latency"
    assert send.get_xlabel() == "latency after handover (ms)"
    assert send.get_ylabel() == "fraction of episodes"
    labels = [ln.get_label() for ln in send.get_lines()]
    assert labels == ["a.pcap, observed (n=3)", "a.pcap, predicted (n=2)", "b.pcap, observed (n=1)"]
    assert [t.get_text() for t in send.get_legend().get_texts()] == labels
    # the empirical CDF of [1, 2, 3] ends at (3, 1.0) and starts at 0
    obs = send.get_lines()[0]
    assert list(obs.get_ydata()) == pytest.approx([0.0, 1 / 3, 2 / 3, 1.0])
    assert list(obs.get_xdata()) == [1.0, 1.0, 2.0, 3.0]
    # same group, same colour; predicted dashed
    assert send.get_lines()[0].get_color() == send.get_lines()[1].get_color()
    assert send.get_lines()[1].get_linestyle() == "--"


def test_box_figure_boxes_per_nonempty_series():
    fig = plots.distribution_figure(_samples(), "box")
    send, recv = fig.axes
    assert len(send.patches) == 3  # a observed, a predicted, b observed
    assert len(recv.patches) == 3  # a observed, a predicted, b predicted (b observed is empty)
    # group, then n = observed / predicted samples
    assert [t.get_text() for t in send.get_xticklabels()] == ["a.pcap\nn=3 / 2", "b.pcap\nn=1 / 0"]
    assert [t.get_text() for t in recv.get_xticklabels()] == ["a.pcap\nn=1 / 1", "b.pcap\nn=0 / 2"]
    assert send.get_ylabel() == "latency after handover (ms)"
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == [
        "observed (left box of a pair)",
        "predicted (right box, hatched)",
    ]


def test_distribution_figure_bad_kind():
    with pytest.raises(UsageError, match="cdf or box"):
        plots.distribution_figure(_samples(), "violin")


# ---------------------------------------------------------------- ladder


def test_ladder_figure_lanes_arrows_and_offsets():
    ev = [
        (T0 - 250 * MS, 3, "HoTI", "MN", "CN"),
        (T0, 10, "BU", "MN", "HA"),
        (T0 + 40 * MS, 14, "BA", "HA", "MN"),
    ]
    ladder = ladder_from_events(ev, T0, title="episode 1")
    fig = plots.ladder_figure(ladder)
    (ax,) = fig.axes
    texts = [t.get_text() for t in ax.texts]
    assert {"Mobile Node", "Home Agent", "Correspondent Node"} <= set(texts)
    assert {"HoTI", "BU", "BA", "handover (t0)"} <= set(texts)
    # time offsets from t0 and frame numbers on the left
    assert any(t.strip().startswith("-250.000") and t.strip().endswith("3") for t in texts)
    assert any(t.strip().startswith("40.000") and t.strip().endswith("14") for t in texts)
    # arrows: HoTI goes MN->HA->CN (2), BU and BA one each
    assert len([c for c in ax.get_children() if type(c).__name__ == "Annotation"]) == 4
    assert ax.get_title(loc="left") == "episode 1"


# ---------------------------------------------------------------- without matplotlib


def test_require_matplotlib_hint(no_matplotlib):
    with pytest.raises(UsageError) as exc:
        plots.require_matplotlib()
    assert str(exc.value) == "plotting needs matplotlib: pip install 'ebutool[plot]'"


def test_model_plot_without_matplotlib_exits_2_with_hint(no_matplotlib, tmp_path):
    out = tmp_path / "s.png"
    result = run_cli(
        "model",
        "--rtt-ha",
        "40",
        "--rtt-bt",
        "120",
        "--sweep",
        "rtt_ro=10:20:10",
        "--plot",
        str(out),
    )
    assert result.exit_code == 2
    assert "plotting needs matplotlib: pip install 'ebutool[plot]'" in result.stderr
    assert not out.exists()
    assert result.stdout == ""  # nothing done before the check


def test_model_without_plot_works_without_matplotlib(no_matplotlib):
    result = run_cli(
        "model",
        "--rtt-ha",
        "40",
        "--rtt-bt",
        "120",
        "--sweep",
        "rtt_ro=10:20:10",
        "-f",
        "csv",
        "-q",
    )
    assert result.exit_code == 0, result.output
    assert len(result.stdout.strip().splitlines()) == 3  # header + 2 rows


def test_importing_ebutool_does_not_import_matplotlib():
    import subprocess

    code = (
        "import sys, ebutool, ebutool.cli.app, ebutool.report.plots, "
        "ebutool.analysis.formula_table, ebutool.report.timeline, "
        "ebutool.report.compare, ebutool.cli.commands.model, ebutool.cli.commands.compare, "
        "ebutool.cli.commands.timeline; "
        "print('matplotlib' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
