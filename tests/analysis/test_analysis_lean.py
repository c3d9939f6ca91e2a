"""The lean path of analyze (analysis/rows.py: compact rows, no Episodes kept) gives the
same table as the Episode path (build_episodes + episodes_frame): same columns, dtypes,
values, row order and ids, on every sample and on scenario captures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import ebutool
from ebutool.analysis import (
    analyze,
    analyze_records,
    build_episodes,
    episodes_frame,
    make_oracle,
    merged_records,
    source_labels,
)
from ebutool.analysis.observable import apply_vantage
from ebutool.core.diagnostics import Diagnostics
from tests.support.scenarios import CN, GAP, MN, Capture, Delays, Plan, handover, return_home

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
SAMPLE_FILES = sorted(SAMPLES.glob("*.pcap")) + sorted(SAMPLES.glob("*.jsonl"))

T0, PERIOD = 1000.0, 2.0
HOA, HA = "2001:db8:100::1", "2001:db8:100::ff"
HOA_B, HA_B = "2001:db8:100::2", "2001:db8:100::fe"
COA1, COA2, COA3 = "2001:db8:a1::1", "2001:db8:a2::1", "2001:db8:a3::1"
CN1, CN2 = "2001:db8:200::1", "2001:db8:300::1"
NEAR = Delays(d_ha=10, d_hc=30, d_ro=15)
OLD = Delays(d_ha=8, d_hc=30, d_ro=12)
FAR = Delays(d_ha=20, d_hc=25, d_ro=40)


def episode_path(*paths, merge=False, mn=None, cn=None, oracle=None) -> pd.DataFrame:
    """analyze() as it was before the lean path: every Episode kept, then one frame."""
    diag = Diagnostics()
    if merge or len(paths) == 1:
        eps = build_episodes(
            merged_records(paths, diag),
            diag=diag,
            oracle=make_oracle() if oracle is None else oracle or None,
            check=False,
        )
        labels = source_labels(paths)
        names = dict(zip(map(str, paths), labels, strict=False))
        for e in eps:
            e.source = names.get(e.source, labels[0] if len(paths) == 1 else e.source)
    else:
        eps = []
        for path, label in zip(paths, source_labels(paths), strict=False):
            part = build_episodes(
                merged_records([path], diag),
                diag=diag,
                oracle=make_oracle() if oracle is None else oracle or None,
                check=False,
            )
            for e in part:
                e.source = label
            eps.extend(part)
        for i, e in enumerate(eps, 1):
            e.id = i
    eps = [e for e in eps if (mn is None or e.mn == mn) and (cn is None or e.cn == cn)]
    return episodes_frame(eps)


def same(lean: pd.DataFrame, full: pd.DataFrame) -> None:
    # The vantage point is the finished table's (ebutool.analysis.observable): the
    # Episode path knows none, so it gets the lean one's (one per table here).
    roles = set(lean["vantage"])
    assert len(roles) <= 1, roles
    full = apply_vantage(full, roles.pop() if roles else "mn")
    pd.testing.assert_frame_equal(lean, full, check_exact=True, check_index_type=True)
    assert list(lean.dtypes) == list(full.dtypes)
    assert type(lean.index) is type(full.index)
    # None (not NaN) in object columns, exactly where the Episode path has it
    for col in lean.columns[lean.dtypes == object]:  # noqa: E721 - a pandas dtype, not a type
        assert [v is None for v in lean[col]] == [v is None for v in full[col]], col


# -- scenario captures -----------------------------------------------------------------
def _standard():
    cap, mn = Capture(), MN(HOA, HA)
    handover(
        cap,
        mn,
        [CN(CN1, NEAR)],
        T0,
        COA2,
        COA1,
        Plan("standard", "conservative", PERIOD),
        NEAR.d_ha,
    )
    return cap


def _early_and_loss():
    """An EBA at the first handover, none at the second: ebu_or_eba_lost."""
    cap, mn = Capture(), MN(HOA, HA)
    handover(
        cap,
        mn,
        [CN(CN1, NEAR)],
        T0,
        COA2,
        COA1,
        Plan("early", "optimistic", PERIOD, old=OLD),
        NEAR.d_ha,
    )
    handover(
        cap,
        mn,
        [CN(CN1, NEAR, supports_ebu=False)],
        T0 + 2000,
        COA3,
        COA2,
        Plan("early", "optimistic", PERIOD, old=OLD),
        NEAR.d_ha,
    )
    return cap


def _refused():
    from ebutool.wire.build import mh_packet
    from ebutool.wire.mh import messages as M

    cap, mn = Capture(), MN(HOA, HA)
    handover(
        cap,
        mn,
        [CN(CN1, NEAR, supports_ebu=False)],
        T0,
        COA2,
        COA1,
        Plan("early", "optimistic", PERIOD, old=OLD),
        NEAR.d_ha,
    )
    cap.add(
        T0 + GAP + NEAR.rtt_ro, mh_packet(M.BindingError(status=2, home_address=HOA), CN1, COA2)
    )
    return cap


def _fallback_unexplained():
    cap, mn = Capture(), MN(HOA, HA)
    handover(
        cap,
        mn,
        [CN(CN1, NEAR, supports_ebu=False)],
        T0,
        COA2,
        COA1,
        Plan("early", "conservative", PERIOD, old=OLD),
        NEAR.d_ha,
    )
    return cap


def _mixed():
    """Two MNs interleaved, two CNs, a return home, a lost CoT, retransmissions,
    an early update without ack request, a home-only handover: many rows whose
    order depends on time, MN, CN and care-of address."""
    cap = Capture()
    a, b = MN(HOA, HA), MN(HOA_B, HA_B)
    c1, c2 = CN(CN1, NEAR), CN(CN2, Delays(d_ha=NEAR.d_ha, d_hc=50, d_ro=25))
    handover(cap, a, [c1, c2], T0, COA2, COA1, Plan("standard", "optimistic", PERIOD), NEAR.d_ha)
    handover(
        cap,
        b,
        [CN(CN1, FAR)],
        T0,
        "2001:db8:b2::2",
        "2001:db8:b1::2",
        Plan("early", "optimistic", PERIOD, old=OLD),
        FAR.d_ha,
    )
    handover(
        cap,
        a,
        [c1],
        T0 + 1500,
        COA3,
        COA2,
        Plan("standard", "conservative", PERIOD, lose_cot=True),
        NEAR.d_ha,
    )
    handover(
        cap,
        b,
        [CN(CN2, FAR)],
        T0 + 1500,
        "2001:db8:b3::2",
        "2001:db8:b2::2",
        Plan("early", "optimistic", PERIOD, old=OLD, ebu_no_ack=True),
        FAR.d_ha,
    )
    handover(
        cap,
        a,
        [c1],
        T0 + 3000,
        COA1,
        COA3,
        Plan("standard", "optimistic", PERIOD, retransmit_ha_bu=True, new_seq=True),
        NEAR.d_ha,
    )
    handover(cap, b, [], T0 + 3000, "2001:db8:b4::2", "2001:db8:b3::2", Plan("home_only"), FAR.d_ha)
    return_home(cap, a, [c1], T0 + 4500, NEAR.d_ha, Plan())
    handover(
        cap,
        b,
        [CN(CN1, FAR, supports_ebu=False)],
        T0 + 4500,
        "2001:db8:b5::2",
        "2001:db8:b4::2",
        Plan("early", "optimistic", PERIOD, old=OLD),
        FAR.d_ha,
    )
    return cap


SCENARIOS = {
    "empty": Capture,
    "standard": _standard,
    "early_and_loss": _early_and_loss,
    "refused": _refused,
    "fallback_unexplained": _fallback_unexplained,
    "mixed": _mixed,
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_lean_rows_match_episodes_on_scenario_records(name):
    records = SCENARIOS[name]().records()
    lean = analyze_records(records, oracle=False)
    full = episodes_frame(build_episodes(records))
    same(lean, full)
    if name != "empty":
        assert len(lean)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_lean_analyze_matches_episodes_on_scenario_captures(name, tmp_path):
    path = SCENARIOS[name]().write(tmp_path / f"{name}.pcap")
    same(analyze(path), episode_path(path))


def test_the_scenarios_cover_the_fallback_causes():
    notes = ";".join(
        analyze_records(_early_and_loss().records(), oracle=False)["diagnosis"].dropna()
    )
    assert "ebu_or_eba_lost" in notes
    assert (
        "ebu_refused_binding_error"
        in analyze_records(_refused().records(), oracle=False)["diagnosis"][0]
    )


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_lean_analyze_matches_episodes_on_samples(path):
    same(analyze(path), episode_path(path))
    same(analyze(path, oracle=False), episode_path(path, oracle=False))


@pytest.mark.skipif(not SAMPLE_FILES, reason="samples not generated")
def test_lean_analyze_matches_episodes_over_several_files_and_filters(tmp_path):
    mixed = _mixed().write(tmp_path / "mixed.pcap")
    paths = [*SAMPLE_FILES[:2], mixed]
    same(ebutool.analyze(*paths), episode_path(*paths))
    same(ebutool.analyze(*paths, merge=True), episode_path(*paths, merge=True))
    same(analyze(mixed, mn=HOA_B), episode_path(mixed, mn=HOA_B))
    same(analyze(mixed, cn=CN1), episode_path(mixed, cn=CN1))
    same(analyze(mixed, mn=HOA, cn=CN2), episode_path(mixed, mn=HOA, cn=CN2))
    same(analyze(mixed, mn="2001:db8::dead"), episode_path(mixed, mn="2001:db8::dead"))
