"""analyze STORE split by mobile node (ebutool.store.grouped): the single run's table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import ebutool
from ebutool.core.diagnostics import Diagnostics
from ebutool.oracle.keys import load_keys_file
from ebutool.oracle.scheduled import ScheduledOracle, run_schedule
from ebutool.oracle.verify import Oracle
from ebutool.records.from_packet import StreamStats
from ebutool.store import analyze_store, extract
from ebutool.store import grouped as grouped_mod
from ebutool.store import groups as groups_mod
from ebutool.store.grouped import analyze_store_grouped, map_in_order
from ebutool.store.order import ordered_table
from ebutool.store.schema import from_table
from tests.support.cli import SAMPLES, run_cli
from tests.support.splitcap import split_pcap

INPUTS = sorted(SAMPLES.glob("*.pcap")) + sorted(SAMPLES.glob("*.jsonl"))


def _same(store, groups=3, keys=None, mapper=map_in_order):
    """The grouped and the single-process table, diagnostics counts and stats agree;
    the log lines of the grouped run (a fallback would be one)."""
    d1, s1, d2, s2, log = Diagnostics(), StreamStats(), Diagnostics(), StreamStats(), []
    one = analyze_store(store, keys=keys, diag=d1, stats=s1)
    split = analyze_store_grouped(
        store, groups=groups, keys=keys, diag=d2, stats=s2, mapper=mapper, log=log.append
    )
    pd.testing.assert_frame_equal(split, one)
    assert split.attrs == one.attrs
    assert d2.counts == d1.counts and s2 == s1
    return one, log


@pytest.fixture(scope="module")
def synth_views(tmp_path_factory) -> list[Path]:
    """A multi-vantage synth run of the mixed scenario (three MNs, two CNs): mn, ha, cn."""
    folder = tmp_path_factory.mktemp("views")
    views = [folder / f"{v}.pcap" for v in ("mn", "ha", "cn")]
    res = run_cli(
        "synth", SAMPLES / "mixed.toml", "-o", views[0], "--view", f"ha={views[1]}",
        "--view", f"cn={views[2]}", "--seed", "7", "-q",
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    return views


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.name)
def test_each_sample_split_gives_the_single_run(tmp_path, path):
    extract([path], tmp_path / "s")
    df, log = _same(tmp_path / "s")
    assert len(df) > 0 and _no_fallback(log)


def test_eight_pieces_with_keys(tmp_path):
    """Eight rotated pieces, the CN keys given (the oracle verifies with Kcn and nonces)."""
    folder = split_pcap(SAMPLES / "mixed.pcap", tmp_path / "rot", 8)[0].parent
    extract([folder], tmp_path / "s")
    keys = load_keys_file(str(SAMPLES / "mixed.keys.json"))
    df, log = _same(tmp_path / "s", groups=4, keys=keys)
    assert _no_fallback(log) and (df["auth"] == "valid").sum() > 0
    assert df["mn"].nunique() == 3  # several mobile nodes: a real split


def test_multi_vantage_split(tmp_path, synth_views):
    """A store of views of one run is not split (its clocks span the run): merged in one
    process with a note, the table of analyze --merge of the captures."""
    extract(synth_views, tmp_path / "s")
    df, log = _same(tmp_path / "s", groups=5)
    assert not _no_fallback(log) and "holds views of one run" in log[0]
    merged = ebutool.analyze(*synth_views, merge=True)
    pd.testing.assert_frame_equal(df, merged)
    assert (df["vantage"] == "multi").all()


def test_the_split_is_by_mobile_node(tmp_path):
    """mixed.pcap's three MNs fall in three groups (the CNs and the HA tie none)."""
    extract([SAMPLES / "mixed.pcap"], tmp_path / "s")
    table, _ = ordered_table(str(tmp_path / "s"), Diagnostics())
    cols = ("msg", "src", "dst", "hoa", "rh2", "tunnel_src", "tunnel_dst")
    rows = list(zip(*(table.column(c).to_pylist() for c in cols), strict=True))
    facts = groups_mod.split_table(table, [])
    assert facts.n_groups == 3
    mns_of_group: dict[int, set] = {}
    for (_, _, _, hoa, rh2, _, _), g in zip(rows, facts.group, strict=True):
        if hoa or rh2:
            mns_of_group.setdefault(g, set()).add(hoa or rh2)
    assert sorted(len(v) for v in mns_of_group.values()) == [1, 1, 1]


def test_scheduled_oracle_gives_the_whole_runs_verdicts(tmp_path):
    """Each group's ScheduledOracle gives the verdicts (nonce ages included) of one oracle
    over the whole run; a plain Oracle per group does not (the guard)."""
    folder = split_pcap(SAMPLES / "mixed.pcap", tmp_path / "rot", 4)[0].parent
    extract([folder], tmp_path / "s")
    table, labels = ordered_table(str(tmp_path / "s"), Diagnostics())
    items = list(from_table(table, labels))
    facts = groups_mod.split_table(table, [])
    whole = Oracle()
    expected = {pos: _key(whole.check(it)) for pos, it in enumerate(items)}
    msgs = [(p, g, items[p].ts_ns, cn, i) for p, g, cn, i in facts.oracle_messages]
    schedule = run_schedule(msgs)
    got, plain, lazy = {}, {}, {}
    for g in range(facts.n_groups):
        sched, alone = ScheduledOracle(schedule=schedule, group=g), Oracle()
        late = ScheduledOracle(schedule=schedule, group=g)  # told only before a message
        for pos, it in enumerate(items):
            if facts.group[pos] == g:
                sched.advance(pos)
                got[pos] = _key(sched.check(it))
                plain[pos] = _key(alone.check(it))
                if getattr(it, "mh", None) is not None:  # as run_group does
                    late.advance(pos)
                lazy[pos] = _key(late.check(it))
    assert got == expected
    assert lazy == expected
    assert plain != expected  # nonce first uses cross mobile nodes


def _key(v):
    return None if v is None else (v.verdict, v.reason, v.nonce_age_ms)


def test_a_wrong_split_falls_back_to_one_process(tmp_path, monkeypatch):
    """Never a wrong table: a split that puts one MN in two groups is caught, and the
    store analysed in one process (said on the log)."""
    extract([SAMPLES / "mixed.pcap"], tmp_path / "s")
    real = groups_mod.split_table

    def by_parity(table, facts):
        out = real(table, facts)
        out.group = [pos % 2 for pos in range(len(table))]
        out.n_groups = 2
        return out

    monkeypatch.setattr(grouped_mod, "split_table", by_parity)
    _, log = _same(tmp_path / "s", groups=2)
    (line,) = [x for x in log if "in one process" in x]
    assert "in two groups" in line


def test_home_agents_learnt_elsewhere_are_rerun(tmp_path, monkeypatch):
    """Without the pre-pass's home agents, the groups learn them at other places than
    the run: the bins concerned are run again with what they learnt, and agree."""
    extract([SAMPLES / "mixed.pcap"], tmp_path / "s")
    monkeypatch.setattr(groups_mod, "_ha_seeds", lambda rows, mns: [])
    calls = []

    def counting(func, tasks):
        calls.append(len(tasks))
        return map_in_order(func, tasks)

    _, log = _same(tmp_path / "s", groups=3, mapper=counting)
    assert _no_fallback(log) and len(calls) == 2  # the first round, then the bins again


def test_bins_balance_the_largest_groups_first():
    # groups of 50, 40, 30, 20, 10 records (group g: its rows' labels)
    group = [g for g, n in enumerate((50, 40, 30, 20, 10)) for _ in range(n)]
    assert grouped_mod._bins(group, 5, 2) == [0, 1, 1, 0, 0]  # 80 / 70
    assert grouped_mod._bins(group, 5, 3) == [0, 1, 2, 2, 1]  # 50 / 50 / 50
    assert grouped_mod._bins(group, 5, 9) == [0, 1, 2, 3, 4]  # never an empty bin
    assert grouped_mod._bins(group, 5, 1) == [0] * 5


@pytest.mark.parametrize("groups", [1, 2, 5, 64])
def test_the_table_does_not_depend_on_the_bins(tmp_path, groups):
    """However many bins the groups are cut into (analyze STORE -j N makes several per
    process, ebutool.runner.cluster.GROUPS_PER_PROCESS): the same table."""
    folder = split_pcap(SAMPLES / "mixed.pcap", tmp_path / "rot", 4)[0].parent
    extract([folder], tmp_path / "s")
    sizes = []

    def mapper(func, tasks):
        sizes.append([t.table.num_rows for t in tasks])
        return [func(t) for t in tasks]

    d1, d2 = Diagnostics(), Diagnostics()
    one = analyze_store(tmp_path / "s", diag=d1)
    split = analyze_store_grouped(tmp_path / "s", groups=groups, diag=d2, mapper=mapper)
    pd.testing.assert_frame_equal(split, one)
    assert split.attrs == one.attrs and d2.counts == d1.counts
    records = ordered_table(str(tmp_path / "s"), Diagnostics(), StreamStats())[0].num_rows
    assert all(sizes[0]) and sum(sizes[0]) == records  # each record in one bin, none empty
    assert len(sizes[0]) <= groups and (len(sizes[0]) > 1) == (groups > 1)


def test_analyze_store_j2_through_the_library(tmp_path):
    folder = split_pcap(SAMPLES / "mixed.pcap", tmp_path / "rot", 8)[0].parent
    extract([folder], tmp_path / "s")
    pd.testing.assert_frame_equal(
        ebutool.analyze(tmp_path / "s", jobs=2), ebutool.analyze(folder, merge=True)
    )


def test_cluster_needs_a_store(cli):
    res = cli("analyze", SAMPLES / "standard.pcap", "--cluster", "local:2")
    assert res.exit_code == 2 and "record store" in res.stderr


def _result(**kw):
    from ebutool.analysis.by_group import BOUNDS, GroupResult
    from ebutool.analysis.rows import EpisodeRows
    from ebutool.analysis.vantage import Evidence

    r = GroupResult(EpisodeRows(), Evidence(), Diagnostics(), {}, dict.fromkeys(BOUNDS, 0))
    for k, v in kw.items():
        setattr(r, k, v)
    return r


@pytest.mark.parametrize("limit", [3, 5, 12])
def test_max_state_entries_bounds_the_whole_run_not_each_group(tmp_path, limit):
    """--max-state-entries bounds the single run's tables of every MN (mobile nodes,
    care-of addresses) and the oracle's: mixed.pcap's three MNs split in three groups
    fill none of them, where the whole run evicts entries (other rows).  The split
    took only the fixed bounds into account (and the oracle's at 65,536, not at
    --max-state-entries): a table of another content, without a word."""
    import dataclasses

    from ebutool.core.constants import DEFAULT_CONFIG

    extract([SAMPLES / "mixed.pcap"], tmp_path / "s")
    config = dataclasses.replace(DEFAULT_CONFIG, max_state_entries=limit)
    d1, d2, log = Diagnostics(), Diagnostics(), []
    one = analyze_store(tmp_path / "s", config=config, diag=d1)
    split = analyze_store_grouped(tmp_path / "s", groups=3, config=config, diag=d2, log=log.append)
    assert d1.counts["state_evicted"] > 0
    pd.testing.assert_frame_equal(split, one)
    assert d2.counts == d1.counts
    assert not _no_fallback(log)


def test_the_checks_of_a_split():
    """What makes the bins' results unfit to be put together (then: one process)."""
    from ebutool.analysis.by_group import BOUNDS
    from ebutool.store.grouped import ONCE_PER_RUN, _split_is_sound

    limit = 20_000
    assert _split_is_sound([_result(mns={"a"}), _result(mns={"b"})], limit) is None
    assert "in two groups" in _split_is_sound([_result(coas={"c"}), _result(coas={"c"})], limit)
    half = {name: bound // 2 + 1 for name, bound in BOUNDS.items()}
    assert "bound" in _split_is_sound([_result(peak=half), _result(peak=half)], limit)
    once = Diagnostics()
    once.warn(ONCE_PER_RUN, "MH type 11 to a CN")
    assert _split_is_sound([_result(diag=once), _result()], limit) is None
    assert ONCE_PER_RUN in _split_is_sound([_result(diag=once), _result(diag=once)], limit)
    # the tables --max-state-entries bounds: the groups' entries together, an eviction
    nodes = {"mobile node": limit // 2}
    assert "mobile node table" in _split_is_sound([_result(sizes=nodes)] * 2, limit)
    assert _split_is_sound([_result(sizes=nodes)] * 2, limit + 1) is None
    assert "oracle" in _split_is_sound([_result(oracle_peak=limit // 2)] * 2, limit)
    evicted = Diagnostics()
    evicted.warn("state_evicted", "care-of address table full")
    assert "--max-state-entries" in _split_is_sound([_result(diag=evicted), _result()], limit)


def _no_fallback(log: list[str]) -> bool:
    return not any("in one process" in line for line in log)


@pytest.mark.parametrize("shared", [False, True])
def test_tasks_carry_their_rows_or_take_them_where_they_run(tmp_path, shared):
    """shared (the fork mapper): each task refers to the run's table and takes its own
    rows; not shared (Dask: the task is sent): it carries its rows only.  Same table."""
    folder = split_pcap(SAMPLES / "mixed.pcap", tmp_path / "rot", 4)[0].parent
    extract([folder], tmp_path / "s")
    seen = []

    def mapper(func, tasks):
        seen.extend((t.table.num_rows, len(t.rows), t.whole) for t in tasks)
        return [func(t) for t in tasks]

    d1, d2 = Diagnostics(), Diagnostics()
    one = analyze_store(tmp_path / "s", diag=d1)
    split = analyze_store_grouped(tmp_path / "s", groups=2, diag=d2, mapper=mapper, shared=shared)
    pd.testing.assert_frame_equal(split, one)
    assert split.attrs == one.attrs and d2.counts == d1.counts
    total, _ = ordered_table(str(tmp_path / "s"), Diagnostics())
    assert len(seen) == 2
    if shared:
        assert all(n == total.num_rows and whole for n, _, whole in seen)
        assert sum(k for _, k, _ in seen) == total.num_rows
    else:
        assert all(n == k and not whole for n, k, whole in seen)
        assert sum(n for n, _, _ in seen) == total.num_rows
