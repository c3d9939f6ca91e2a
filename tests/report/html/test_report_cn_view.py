"""The report of a capture taken at a CN (or the HA) alone: its rows' t_handover is
emptied at that vantage and the time moved to t_first_seen (DESIGN.md "Vantage
point"), and the ladders are still found, each row its own episode's (stop 33: every
ladder was missing, "not found when the inputs were read again").

Ground truth: tests/support/views_builder (none of ebutool's code) writes three
handovers B, A, B of one MN; the CN's capture holds, per handover, the CoTI first
(MN-CN 12 ms against 60 ms for the HoTI through the HA), so each row's ladder starts at
the frame of that handover's CoTI in the CN's file."""

from __future__ import annotations

import pytest

from ebutool.report.html import build_report
from tests.report.html.reading import ladder_steps, page_data, rows
from tests.support.views_builder import COAS, Run

T0S = (1000.0, 3000.0, 5000.0)  # true ms of the three handovers


@pytest.fixture(scope="module")
def captures(tmp_path_factory):
    run = Run()
    for k, (t0, coa) in enumerate(zip(T0S, (COAS[1], COAS[0], COAS[1]), strict=True)):
        run.standard_handover(t0, coa, 10 + k, 20 + k, 1, 2, "abc"[k])
    # the CN's frames in time order, each with its true time (the writer sorts them so)
    cn_times = sorted(t for t, _ in run.views["cn"])
    return run.write(tmp_path_factory.mktemp("cnview")), cn_times


@pytest.mark.parametrize("view", ["cn", "ha"])
def test_every_row_of_a_cn_or_ha_capture_has_its_ladder(captures, view):
    paths, cn_times = captures
    page = build_report([str(paths[view])])
    data = page_data(page)
    table = rows(data)
    assert len(table) == len(T0S)
    assert all(r["t_handover"] is None for r in table)  # (emptied at this vantage)
    assert "not found when the inputs were read again" not in page
    ladders = {int(k): v for k, v in data["ladders"].items()}
    assert sorted(ladders) == sorted(r["episode"] for r in table)
    if view == "cn":
        # each row its own handover's ladder: it starts at that handover's CoTI
        firsts = sorted(ladder_steps(ladders[r["episode"]])[0][1] for r in table)
        expected = [1 + next(i for i, t in enumerate(cn_times) if t >= t0) for t0 in T0S]
        assert firsts == expected
