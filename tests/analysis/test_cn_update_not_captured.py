"""A CN's BA to an update the capture lost (stop 33): the MN view of two handovers, B
then A, the second's first update to the CN missing from the file (the CN's BA or EBA
to it, and the route-optimised data both ways, are there).

- Second handover standard, its BU lost: before, the CN's route-optimised data made the
  episode a `binding_refresh` (quality `refresh`, latencies empty).
- Second handover early, its EBU lost (the EBA, the final BU and its BA captured):
  before, the episode was `standard`, quality ok: an early handover in the standard
  sample of a cited table.

Now the row says the update was not captured (`cn_update_not_captured`), its mode cannot
be told (a BA and an EBA look alike) and it stays out of statistics (quality
`update_not_captured`); what was observed keeps its true value.

Ground truth: tests/support/views_builder (none of ebutool's code) and its link delays."""

from __future__ import annotations

import pytest

import ebutool
from tests.support.views_builder import COAS, Run

T0S = (1000.0, 3000.0)


def _capture(directory, second: str, lose: bool):
    run = Run()
    truth = []
    for k, (t0, coa) in enumerate(zip(T0S, (COAS[1], COAS[0]), strict=True)):
        early = second == "early" and k == 1
        if early:  # the home test runs from the previous address before the move
            run.hoti_hot(t0 - 500.0, b"pre-home", COAS[1], 1)
        run.bu_ha(t0, 10 + k, coa)
        if not early:
            b = run.hoti_hot(t0, f"h{k}cookie".encode()[:8], coa, 1)
        at = len(run.views["mn"])
        if early:
            eba = run.bu_cn(t0, 20 + k, coa, 1, 2, early=True)  # (MN-view EBU at ``at``)
        c = run.coti_cot(t0, f"c{k}cookie".encode()[:8], coa, 2)
        if not early:
            at = len(run.views["mn"])
        d = run.bu_cn(c if early else max(b, c), 30 + k, coa, 1, 2)
        if lose and k == 1:
            del run.views["mn"][at]
        sent = (max(eba, run.d_mh_up + run.proc_ha + run.d_mh_down + t0) if early else d) + 3.0
        run.data_up(sent, coa)
        run.data_down(sent + 20.0, coa)
        truth.append({"send": sent - t0, "recv": sent + 20.0 + run.d_mc - t0})
    return run.write(directory, only=["mn"])["mn"], truth


@pytest.mark.parametrize("second", ["standard", "early"])
@pytest.mark.parametrize("lose", [False, True], ids=["captured", "lost"])
def test_a_ba_to_an_update_the_capture_lost(tmp_path, second, lose):
    path, truth = _capture(tmp_path, second, lose)
    df = ebutool.analyze(str(path))
    assert len(df) == 2
    first, row = df.iloc[0], df.iloc[1]
    assert (first["kind"], first["mode"], first["quality"]) == ("standard", "conservative", "ok")
    assert first["send_latency_ms"] == pytest.approx(truth[0]["send"])
    if not lose:  # (the guard: the same run with the update captured is a clean handover)
        assert (row["kind"], row["mode"], row["quality"]) == (second, "conservative", "ok")
        return
    notes = row["diagnosis"].split(";")
    assert "cn_update_not_captured" in notes
    assert "binding_refresh" not in notes
    assert (row["mode"], row["quality"]) == ("unknown", "update_not_captured")
    assert row["send_latency_ms"] == pytest.approx(truth[1]["send"])
    assert row["recv_latency_ms"] == pytest.approx(truth[1]["recv"])
