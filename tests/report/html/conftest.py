"""Captures for the HTML report's tests, built packet by packet (tests.support.scenarios):
the expected rows and ladders follow from the delays chosen here, never from ebutool."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.scenarios import CN, MN, Capture, Delays, Plan, handover

HOA_STD, HA_STD = "2001:db8:100::1", "2001:db8:100::ff"
HOA_EARLY, HA_EARLY = "2001:db8:100::2", "2001:db8:100::fe"
CN1 = "2001:db8:200::1"
NEAR = Delays(d_ha=10, d_hc=30, d_ro=15)
OLD = Delays(d_ha=8, d_hc=30, d_ro=12)
T0 = 1000.0
STEP_MS = 2000.0  # between two handovers of one MN


def many_handovers(n_each: int) -> Capture:
    """``n_each`` handovers of a standard conservative MN and as many of an early
    optimistic one (1 s apart), between two care-of prefixes: 2 x n_each episodes."""
    cap = Capture()
    std, early = MN(HOA_STD, HA_STD), MN(HOA_EARLY, HA_EARLY)
    for k in range(n_each):
        for mn, plan, t0, last in (
            (std, Plan("standard", "conservative", period=20.0), T0 + k * STEP_MS, "1"),
            (
                early,
                Plan("early", "optimistic", period=20.0, old=OLD),
                T0 + 1000 + k * STEP_MS,
                "2",
            ),
        ):
            new, old = f"2001:db8:a{k % 2}::{last}", f"2001:db8:a{(k + 1) % 2}::{last}"
            handover(cap, mn, [CN(CN1, NEAR)], t0, new, old, plan, NEAR.d_ha)
    return cap


@pytest.fixture(scope="session")
def two_episodes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One standard conservative and one early optimistic episode."""
    path = tmp_path_factory.mktemp("report") / "two.pcap"
    many_handovers(1).write(path)
    return path


@pytest.fixture(scope="session")
def sixty_episodes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 episodes: 30 standard, 30 early (more than a page of the table)."""
    path = tmp_path_factory.mktemp("report") / "sixty.pcap"
    many_handovers(30).write(path)
    return path


def scaled(data, n: int):
    """``data`` (ebutool.report.html.data.ReportData) grown to ``n`` episodes: its rows
    repeated with new episode numbers, handover times and care-of addresses (so that
    nothing repeats that would not repeat in a real run), each with its row's ladder;
    the figures and the counts of the page drawn again from them (the summary and the
    claim are left as they were: their bootstrap on 10,000 rows would take ~40 s)."""
    from dataclasses import replace

    import pandas as pd

    from ebutool.report.html.figures import figure_svgs
    from ebutool.report.html.how_made import how_made

    base = data.embedded  # (whole rows; the page embeds at most max_rows of them)
    reps = -(-n // len(base))
    df = pd.concat([base] * reps, ignore_index=True).iloc[:n].copy()
    k = pd.Series(range(n), index=df.index)
    df["episode"] = (k + 1).astype(df["episode"].dtype)
    df["t_handover"] = df["t_handover"] + k * 0.5
    df["coa"] = [f"2001:db8:{i // 65536:x}:{i % 65536:x}::1" for i in range(n)]
    df["send_latency_ms"] = df["send_latency_ms"] + (k % 97) * 0.013
    df.attrs = dict(base.attrs)
    ladders = list(data.ladders.values())
    return replace(
        data,
        embedded=df.head(data.options.max_rows),
        ladders={i + 1: ladders[i % len(ladders)] for i in range(n)},
        n_episodes=n,
        figures=figure_svgs(df, data.options.by if data.compare is not None else None),
        record=how_made(data.paths, data.options, df, compared=data.compare is not None),
    )
