"""Figures a paper can use (issue 17 item 5): text kept as text in SVG, the same bytes
for the same input, groups that never pool modes (``compare --by kind,mode``), and
labels that do not run into each other with four or more inputs.

The episodes are hand-made rows (tests/report/test_compare.py's helper); overlaps are
measured on the Agg canvas with each label's window extent.
"""

from __future__ import annotations

import math
import subprocess
import sys
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from ebutool.core.errors import UsageError
from ebutool.report.compare import (
    compare_table,
    figure_columns,
    latency_samples,
    parse_by,
    plot_title,
    short_names,
)
from tests.report.test_compare import _ep
from tests.support.cli import ROOT, run_cli

pytest.importorskip("matplotlib")

from ebutool.report import plots  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"
LONG = "testbed-2026-11-30-site-a-{}-capture-run.pcap"


def _four_files() -> pd.DataFrame:
    """Five inputs with long names, early and standard in both modes."""
    rows = []
    for i, name in enumerate(("alpha", "bravo", "charlie", "delta", "echo")):
        for kind, mode, send in (
            ("standard", "conservative", 150.0),
            ("early", "conservative", 40.0),
            ("early", "optimistic", 0.0),
        ):
            rows.append(_ep(LONG.format(name), kind, mode, send + i, send / 2 + i))
    return pd.DataFrame(rows)


def _drawn(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def _overlaps(texts, renderer) -> list[tuple[str, str]]:
    """Pairs of texts that overlap or come closer than 2 pixels (they read as one)."""
    shown = [t for t in texts if t.get_visible() and t.get_text()]
    boxes = [(t.get_text(), t.get_window_extent(renderer).padded(1)) for t in shown]
    return [
        (a, b) for i, (a, ba) in enumerate(boxes) for b, bb in boxes[i + 1 :] if ba.overlaps(bb)
    ]


# ------------------------------------------------------------------ text and reproducibility


def _figure():
    eps = _four_files()
    return plots.distribution_figure(latency_samples(eps, "file"), "cdf", title="t")


def test_svg_keeps_text_as_text():
    root = ET.fromstring(plots.figure_bytes(_figure(), "svg"))
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert "latency after handover (ms)" in texts
    assert "fraction of episodes" in texts
    assert "send latency" in texts
    # no glyphs drawn as paths (matplotlib's default names them DejaVuSans-XX)
    assert not [e for e in root.iter(f"{SVG}path") if "DejaVuSans-" in (e.get("id") or "")]


@pytest.mark.parametrize("fmt", ["svg", "pdf", "png"])
def test_same_figure_same_bytes(fmt):
    one, two = plots.figure_bytes(_figure(), fmt), plots.figure_bytes(_figure(), fmt)
    assert one == two
    if fmt == "svg":
        assert b"<dc:date>" not in one
    if fmt == "pdf":
        assert b"/CreationDate" not in one and b"/ModDate" not in one


def test_svg_bytes_the_same_in_another_process(tmp_path):
    code = (
        "import sys; from tests.report.test_paper_figures import _figure; "
        "from ebutool.report import plots; "
        "sys.stdout.buffer.write(plots.figure_bytes(_figure(), 'svg'))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, check=True
    ).stdout
    assert other == plots.figure_bytes(_figure(), "svg")


def test_cli_plot_twice_same_bytes(tmp_path):
    eps = [str(ROOT / "samples" / n) for n in ("standard.pcap", "mixed.pcap")]
    outs = [tmp_path / "a.svg", tmp_path / "b.svg"]
    for out in outs:
        res = run_cli("compare", *eps, "--plot", out, "-q", "-f", "csv")
        assert res.exit_code == 0, res.output
    assert outs[0].read_bytes() == outs[1].read_bytes()


# ------------------------------------------------------------------ overlapping labels


@pytest.mark.parametrize("kind", ["box", "cdf"])
def test_labels_do_not_overlap_with_five_inputs(kind):
    eps = _four_files()
    fig = plots.distribution_figure(
        latency_samples(eps, "file"), kind, title=plot_title("file", kind, eps)
    )
    renderer = _drawn(fig)
    for ax in fig.axes:
        ticks = ax.get_xticklabels()
        assert len([t for t in ticks if t.get_text()]) >= 5 or kind == "cdf"
        assert _overlaps(ticks, renderer) == []
        legend = ax.get_legend()
        axis_texts = [ax.xaxis.label, *ticks]
        if legend is not None:  # the CDF legend sits below the x label, not on it
            lbox = legend.get_window_extent(renderer)
            hit = [
                t.get_text()
                for t in axis_texts
                if t.get_text() and t.get_window_extent(renderer).overlaps(lbox)
            ]
            assert hit == []
            assert _overlaps(legend.get_texts(), renderer) == []
    # the shortened names: the common beginning and end named in the title
    assert "testbed-2026-11-30-site-a-*-capture-run.pcap" in fig.get_suptitle()


def test_short_names():
    names, prefix, suffix = short_names(["run-1-a.pcap", "run-1-b.pcap", "run-1-cc.pcap"])
    assert names == {"run-1-a.pcap": "a", "run-1-b.pcap": "b", "run-1-cc.pcap": "cc"}
    assert (prefix, suffix) == ("run-1-", ".pcap")
    # cut at a separator only: "alpha"/"alps" share "alp", not a word boundary
    names, prefix, suffix = short_names(["alpha.pcap", "alps.pcap"])
    assert names == {"alpha.pcap": "alpha", "alps.pcap": "alps"} and prefix == ""
    assert short_names(["one.pcap"])[0] == {"one.pcap": "one.pcap"}
    # a name that would become empty: unchanged
    assert short_names(["x.pcap", "x.pcap.pcap"])[1:] == ("", "")


# ------------------------------------------------------------------ --by kind,mode


def _both_modes() -> pd.DataFrame:
    nan = math.nan
    return pd.DataFrame(
        [
            _ep("a.pcap", "early", "conservative", 40.0, 30.0),
            _ep("a.pcap", "early", "optimistic", 0.0, 30.0),
            _ep("a.pcap", "early", "optimistic", 2.0, nan),
            _ep("a.pcap", "standard", "conservative", 150.0, 140.0),
        ]
    )


def test_figure_groups_never_pool_modes():
    df = _both_modes()
    assert figure_columns("kind") == ["kind", "mode"]
    assert figure_columns("kind,mode") == ["kind", "mode"]
    assert figure_columns("mode,kind") == ["mode", "kind"]
    assert figure_columns("file") == ["file", "mode"]
    for by in ("kind", "kind,mode"):
        s = latency_samples(df, by)["send"]
        assert set(s) == {"early, conservative", "early, optimistic", "standard, conservative"}
        assert s["early, optimistic"]["observed"] == [0.0, 2.0]
        assert s["early, conservative"]["observed"] == [40.0]
    # one file: its name is kept whole, and the mode still splits it
    s = latency_samples(df, "file")["receive"]
    assert s["a.pcap, optimistic"]["observed"] == [30.0]
    assert s["a.pcap, conservative"]["observed"] == [30.0, 140.0]


def test_compare_table_by_several_columns():
    df = pd.concat([_both_modes(), _both_modes().assign(file="b.pcap")], ignore_index=True)
    t = compare_table(df, "kind,mode")
    assert list(t.columns[:2]) == ["kind", "mode"]
    t = compare_table(df, "file,mode")
    assert list(t.columns[:2]) == ["file", "mode"]
    assert list(dict.fromkeys(t["file"])) == ["a.pcap", "b.pcap", "(all)"]
    a = t[t["file"] == "a.pcap"]
    # mode-major inside each file: all conservative rows before the optimistic ones
    modes = list(dict.fromkeys(a["mode"]))
    assert modes.index("conservative") < modes.index("optimistic")
    n = a[(a["kind"] == "early") & (a["mode"] == "optimistic") & (a["quantity"] == "send_latency")]
    assert int(n["n"].iloc[0]) == 2


@pytest.mark.parametrize("bad", ["colour", "kind,kind", "kind,", ""])
def test_bad_by_lists(bad):
    with pytest.raises(UsageError, match="--by"):
        parse_by(bad)


def test_cli_compare_by_kind_mode(tmp_path):
    sample = str(ROOT / "samples" / "mixed.pcap")
    res = run_cli("compare", sample, "--by", "kind,mode", "-f", "csv", "--plot", tmp_path / "f.svg")
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[0].startswith("kind,mode,")
    root = ET.parse(tmp_path / "f.svg").getroot()
    texts = "\n".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    assert "early, optimistic, observed" in texts and "early, conservative, observed" in texts
    res = run_cli("compare", sample, "--by", "kind,colour")
    assert res.exit_code == 2 and "--by" in res.stderr
