"""A store of several vantage points (ebutool.store.vantages): ``analyze STORE`` gives the
table of ``analyze CAPTURES --merge`` (views of one run), not the time-merged one."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import ebutool
from ebutool.analysis import analyze_records
from ebutool.core.diagnostics import Diagnostics
from ebutool.store import analyze_store, extract, store_parts, store_records
from ebutool.store.schema import META_KEY
from tests.support.cli import SAMPLES, run_cli
from tests.support.splitcap import split_pcap

CLOCKS = {"ha": -300.0, "cn": 700.0, "ar": 120.0}  # ms: each view's clock minus the MN's


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict:
    """A synth run of the mixed scenario seen at the MN (rotated over 3 files), an access
    router, the HA and the CN (rotated over 2 files), each with its own clock; the
    captures in the order analyze --merge is given them, and a store of them."""
    folder = tmp_path_factory.mktemp("run")
    whole = {v: folder / f"{v}.pcap" for v in ("mn", "ha", "cn", "ar")}
    made = run_cli(
        "synth", SAMPLES / "mixed.toml", "-o", whole["mn"],
        *(a for v in ("ha", "cn", "ar") for a in ("--view", f"{v}={whole[v]}")),
        *(a for v, ms in CLOCKS.items() for a in ("--clock", f"{v}={ms}")),
        "--seed", "7", "-q",
    )  # fmt: skip
    assert made.exit_code == 0, made.stderr
    caps = folder / "caps"
    mn = split_pcap(whole["mn"], caps, 3, "mn")
    cn = split_pcap(whole["cn"], caps, 2, "cn")
    for v in ("ha", "ar"):
        (caps / f"{v}.pcap").write_bytes(whole[v].read_bytes())
    files = [*mn, caps / "ar.pcap", caps / "ha.pcap", *cn]  # (mn, path, ha, cn)
    store = folder / "store"
    res = run_cli("extract", caps, "-o", store, "--vantage", "ar.pcap=path", "-q")
    assert res.exit_code == 0, res.stderr
    return {"files": files, "store": store, "caps": caps}


def _cli_csv(*args) -> tuple[str, str]:
    res = run_cli("analyze", *args, "-f", "csv")
    assert res.exit_code == 0, res.stderr
    return res.stdout, res.stderr


def _merged(run, *more) -> tuple[str, str]:
    return _cli_csv(*run["files"], "--merge", "--vantage", "ar.pcap=path", *more)


def test_parts_keep_their_vantage_footprint_and_link_type(run):
    views = {p.label: p.meta["view"] for p in store_parts(str(run["store"]))}
    roles = {label: v["role"] for label, v in views.items()}
    assert roles == {
        "mn-00.pcap": "mn", "mn-01.pcap": "mn", "mn-02.pcap": "mn", "ar.pcap": "path",
        "ha.pcap": "ha", "cn-00.pcap": "cn", "cn-01.pcap": "cn",
    }  # fmt: skip
    assert views["ar.pcap"]["given"] and not views["ha.pcap"]["given"]
    assert all(v["linktype"] == views["ha.pcap"]["linktype"] is not None for v in views.values())
    keys = {label: set(v["footprint"]["keys"]) for label, v in views.items()}
    assert keys["ha.pcap"] & keys["cn-00.pcap"] and not keys["mn-00.pcap"] & keys["mn-01.pcap"]


def test_store_gives_the_merged_views_table(run):
    """Every column, the stderr notes (vantage, clocks) and --summary's clock rows."""
    got, got_err = _cli_csv(run["store"])
    want, want_err = _merged(run)
    assert got == want and got_err == want_err
    df = pd.read_csv(io.StringIO(got))
    assert len(df) > 0 and (df["vantage"] == "multi").all()
    got_sum, _ = _cli_csv(run["store"], "--summary")
    want_sum, _ = _merged(run, "--summary")
    assert got_sum == want_sum
    clocks = pd.read_csv(io.StringIO(got_sum)).query("kind == 'clock'")
    assert len(clocks) == 3
    for source, offset, unc in zip(
        clocks["clock_source"],
        clocks["clock_offset_ms"],
        clocks["clock_uncertainty_ms"],
        strict=True,
    ):
        truth = CLOCKS["ar" if source == "ar.pcap" else source[:2]]
        assert abs(offset - truth) <= unc + 1.0  # the synth's clocks: ground truth


def test_library_store_equals_library_merge(run):
    one = analyze_store(run["store"])
    files = [os.fspath(f) for f in run["files"]]
    merged = ebutool.analyze(*files, merge=True, vantage={"ar.pcap": "path"})
    pd.testing.assert_frame_equal(one, merged)
    assert one.attrs["clocks"] == merged.attrs["clocks"]
    assert one.attrs["vantage"] == merged.attrs["vantage"]


def test_time_merged_store_differs(run):
    """The guard: the parts merged by time (the store's reading before views) give
    another table, so the equality above can fail."""
    views = analyze_store(run["store"])
    records = store_records(os.fspath(run["store"]), Diagnostics())
    by_time = analyze_records(records, check=False)
    cols = [c for c in views.columns if c not in ("source", "episode")]
    assert len(by_time) != len(views) or not by_time[cols].equals(views[cols])


def test_clock_offset_and_vantage_given_to_analyze_store(run):
    """--clock-offset (by label) and --vantage (overriding extract's) reach the views."""
    more = ("--clock-offset", "ha.pcap=-0.3", "--vantage", "ar.pcap=mn")
    got, _ = _cli_csv(run["store"], *more, "--summary")
    want, _ = _cli_csv(*run["files"], "--merge", *more, "--summary")
    assert got == want
    rows = pd.read_csv(io.StringIO(got)).query("kind == 'clock'")
    assert rows.set_index("clock_source").loc["ha.pcap", "clock_offset_ms"] == -300.0


@pytest.mark.parametrize("split", [("-j", "2"), ("--cluster", "local:2")])
def test_split_path_merges_views_in_one_process(run, split):
    """-j/--cluster on a store of views: the same table, a note, no cluster started."""
    want, _ = _merged(run)
    res = run_cli("analyze", run["store"], *split, "-f", "csv")
    assert res.exit_code == 0, res.stderr
    assert res.stdout == want
    assert "holds views of one run" in res.stderr and "in one process" in res.stderr
    assert "cluster:" not in res.stderr


def test_parts_written_before_the_view_facts(run, tmp_path):
    """A part without ``view`` facts (written before them) has them worked out from its
    records: the same table (the role given at extraction is lost, so given again)."""
    old = tmp_path / "old"
    os.makedirs(old)
    for name in os.listdir(run["store"]):
        src, dst = Path(run["store"]) / name, old / name
        if src.is_dir():
            dst.mkdir()
            for f in src.iterdir():
                (dst / f.name).write_bytes(f.read_bytes())
        else:
            dst.write_bytes(src.read_bytes())
    for f in (old / "parts").iterdir():
        table = pq.read_table(f)
        meta = json.loads(pq.read_metadata(f).metadata[META_KEY])
        del meta["view"]
        pq.write_table(table.replace_schema_metadata({META_KEY: json.dumps(meta).encode()}), f)
    assert all("view" not in p.meta for p in store_parts(str(old)))
    got, _ = _cli_csv(old, "--vantage", "ar.pcap=path")
    want, _ = _merged(run)
    assert got == want


def test_one_vantage_store_keeps_the_time_merge(run, tmp_path):
    """The MN's rotated pieces alone: not views, the time-merged table as before."""
    mn = [f for f in run["files"] if f.name.startswith("mn-")]
    extract(mn, tmp_path / "s")
    diag = Diagnostics()
    by_time = analyze_records(store_records(str(tmp_path / "s"), diag), check=False)
    pd.testing.assert_frame_equal(analyze_store(tmp_path / "s"), by_time)


def test_report_of_the_store_has_the_merged_views_table(run):
    """ebutool report STORE: the episodes and clocks of the report of the captures
    given with --merge (its ladders aside: a store keeps no message sequences)."""
    from ebutool.report.html.data import collect
    from ebutool.report.html.settings import ReportOptions

    given = {"ar.pcap": "path"}
    store = collect([os.fspath(run["store"])], ReportOptions())
    files = collect([os.fspath(f) for f in run["files"]], ReportOptions(merge=True, vantage=given))
    assert store.n_episodes == files.n_episodes == len(store.embedded)  # (all embedded)
    pd.testing.assert_frame_equal(store.embedded, files.embedded)
    pd.testing.assert_frame_equal(store.summary, files.summary)
    assert store.embedded.attrs["clocks"] == files.embedded.attrs["clocks"]
    assert store.record["clock_offsets"] == files.record["clock_offsets"]
    assert (store.embedded["vantage"] == "multi").all()


def test_another_vantage_at_extraction_extracts_the_part_again(run, tmp_path):
    caps = run["caps"]
    first = extract([caps / "ha.pcap"], tmp_path / "s")
    again = extract([caps / "ha.pcap"], tmp_path / "s")
    other = extract([caps / "ha.pcap"], tmp_path / "s", vantage={"ha.pcap": "path"})
    assert [r.status for r in (*first.results, *again.results, *other.results)] == [
        "extracted", "unchanged", "extracted",
    ]  # fmt: skip
    (part,) = store_parts(str(tmp_path / "s"))
    assert part.meta["view"]["role"] == "path" and part.meta["view"]["given"]


def test_bad_vantage_at_extraction_is_one_line(run, tmp_path):
    res = run_cli("extract", run["caps"] / "ha.pcap", "-o", tmp_path / "s", "--vantage", "x=hq")
    assert res.exit_code == 2 and "vantage 'hq' is not one of" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_one_vantage_given_at_extraction_is_used(run, tmp_path):
    """The CN's pieces extracted with --vantage ROLE=cn: analyze STORE (in one process and
    split) gives the rows of analyze --merge of the pieces with that --vantage; without
    the role (the guard) the detected one is used, and here it is another table."""
    cn = [f for f in run["files"] if f.name.startswith("cn-")]
    given = [a for f in cn for a in ("--vantage", f"{f.name}=ha")]  # a role it was not
    res = run_cli("extract", *cn, "-o", tmp_path / "s", *given, "-q")
    assert res.exit_code == 0, res.stderr
    want, _ = _cli_csv(*cn, "--merge", *given)
    assert _cli_csv(tmp_path / "s")[0] == want
    assert _cli_csv(tmp_path / "s", "-j", "2")[0] == want
    detected, _ = _cli_csv(*cn, "--merge")
    assert detected != want


def test_roles_given_to_two_vantage_points_make_views(run, tmp_path):
    """As --vantage naming two roles does for captures (without --merge): the parts are
    merged as views, here of two runs that share nothing (views_share_nothing)."""
    mn = next(f for f in run["files"] if f.name == "mn-00.pcap")
    other = SAMPLES / "standard.pcap"
    given = ("--vantage", "mn-00.pcap=mn", "--vantage", "standard.pcap=cn")
    assert run_cli("extract", mn, other, "-o", tmp_path / "s", *given, "-q").exit_code == 0
    res = run_cli("analyze", tmp_path / "s", "-f", "csv")
    want = run_cli("analyze", mn, other, *given, "-f", "csv")
    assert res.exit_code == want.exit_code and res.stdout == want.stdout
    assert "views_share_nothing" in res.stderr


def test_vantage_naming_the_store_gives_every_part_the_role(run, tmp_path):
    cn = [f for f in run["files"] if f.name.startswith("cn-")]
    extract(cn, tmp_path / "s")
    store = os.fspath(tmp_path / "s")
    named = [a for f in cn for a in ("--vantage", f"{f.name}=ha")]
    want, _ = _cli_csv(store, *named)
    for split in ((), ("-j", "2")):
        got, _ = _cli_csv(store, "--vantage", f"{store}=ha", *split)
        assert got == want
    assert _cli_csv(store)[0] != want  # (the guard: detected, cn)


def test_an_empty_store_has_no_vantage_given(tmp_path):
    """A store whose extraction read nothing: no part, no role given (it was said to be
    'multi (given: --vantage)')."""
    from ebutool.store.vantages import time_merged_role

    assert time_merged_role([], {}) is None
    store = tmp_path / "store"
    made = run_cli("extract", tmp_path / "missing.pcap", "-o", store, "-q")
    assert made.exit_code == 3
    res = run_cli("analyze", store, "-f", "csv")
    assert "multi" not in res.stderr and "given" not in res.stderr, res.stderr
