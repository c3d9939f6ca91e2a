"""Regenerate the example figures of README and docs/reports.md from samples/.

    python docs/figures/make_figures.py            # from the repository root

Each figure is also one ebutool command (shown beside it); this script calls the
library so it needs no installed ``ebutool`` entry point.  Needs ebutool[plot].
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ebutool.analysis import formula_table as model  # noqa: E402
from ebutool.report import compare, plots, timeline  # noqa: E402
from ebutool.runner.compare_inputs import episodes_by_file  # noqa: E402

OUT = Path(__file__).resolve().parent
SAMPLES = ROOT / "samples"


def main() -> None:
    # ebutool model --rtt-ha 40 --rtt-ro 30 --sweep rtt_bt=0:400:10 \
    #     --plot docs/figures/model-sweep-rtt-bt.png
    sweep = model.parse_sweep("rtt_bt=0:400:10")
    fixed = {"rtt_ha": 40.0, "rtt_ro": 30.0}
    plots.save_figure(
        plots.sweep_figure(model.sweep_table(sweep, **fixed), sweep.variable, fixed),
        OUT / "model-sweep-rtt-bt.png",
    )

    # ebutool compare samples/standard.pcap samples/early-conservative.pcap \
    #     --plot docs/figures/compare-cdf.png
    eps = episodes_by_file(
        [str(SAMPLES / "standard.pcap"), str(SAMPLES / "early-conservative.pcap")]
    )
    plots.save_figure(
        plots.distribution_figure(
            compare.latency_samples(eps, "file"),
            "cdf",
            title=compare.plot_title("file", "cdf", eps),
        ),
        OUT / "compare-cdf.png",
    )

    # ebutool compare samples/mixed.pcap --by kind,mode --plot-kind box \
    #     --plot docs/figures/compare-box.png
    eps = episodes_by_file([str(SAMPLES / "mixed.pcap")])
    plots.save_figure(
        plots.distribution_figure(
            compare.latency_samples(eps, "kind,mode"),
            "box",
            title=compare.plot_title("kind,mode", "box", eps),
        ),
        OUT / "compare-box.png",
    )

    # (Figure 1) ebutool timeline samples/standard.pcap --episode 1 \
    #     -o docs/figures/timeline-standard.png
    # (Figure 2) ebutool timeline samples/early-conservative.pcap --episode 1 \
    #     -o docs/figures/timeline-early.png
    for name, sample in (("standard", "standard.pcap"), ("early", "early-conservative.pcap")):
        ep = timeline.find_episode(timeline.load_episodes(str(SAMPLES / sample)), 1)
        plots.save_figure(
            plots.ladder_figure(timeline.ladder_from_episode(ep)), OUT / f"timeline-{name}.png"
        )
    # ebutool report samples -o report.html, in headless Chromium (README "Figures")
    import report_screenshot

    why = report_screenshot.available()
    if why:
        print(f"report screenshots not made: {why}", file=sys.stderr)
    else:
        report_screenshot.main()
    for p in sorted(OUT.glob("*.png")):
        print(p.relative_to(ROOT))


if __name__ == "__main__":
    main()
