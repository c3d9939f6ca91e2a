"""The record store: extract + analyze STORE gives the rows of the whole capture."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

import ebutool
from ebutool.core.diagnostics import Diagnostics
from ebutool.records.from_packet import StreamStats
from ebutool.store import analyze_store, binding_facts, extract, store_parts, store_records
from ebutool.stream.reader import read_records
from tests.support.cli import SAMPLES
from tests.support.splitcap import pcap_records, split_pcap

CAPTURES = sorted(SAMPLES.glob("*.pcap"))
TRACES = sorted(SAMPLES.glob("*.jsonl"))


def _fields(items):
    return [
        (type(r).__name__, {k: getattr(r, k) for k in r.__slots__ if k != "source"}) for r in items
    ]


@pytest.mark.parametrize("path", CAPTURES + TRACES, ids=lambda p: p.name)
def test_records_round_trip(tmp_path, path):
    """Every record (and handover event) of the store is the reader's, field by field,
    the decoded message included; the stored counts are the reader's."""
    diag, stats = Diagnostics(), StreamStats()
    direct = list(read_records(path, diag, stats))
    report = extract([path], tmp_path / "s")
    assert [r.status for r in report.results] == ["extracted"]
    diag2, stats2 = Diagnostics(), StreamStats()
    stored = list(store_records(str(tmp_path / "s"), diag2, stats2))
    assert len(stored) == len(direct) > 0
    assert _fields(stored) == _fields(direct)
    assert stats2 == stats
    assert diag2.counts == diag.counts


def _whole_and_pieces(tmp_path, whole: Path, pieces: int = 8):
    folder = split_pcap(whole, tmp_path / "rotated", pieces)[0].parent
    return folder


def _compare_without_source(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.drop(columns="source"), b.drop(columns="source"))


@pytest.fixture(scope="module")
def synth_capture(tmp_path_factory) -> Path:
    """A synth run of the mixed scenario with another seed (three MNs, two CNs)."""
    from tests.support.cli import run_cli

    out = tmp_path_factory.mktemp("synth") / "run.pcap"
    res = run_cli("synth", SAMPLES / "mixed.toml", "-o", out, "--seed", "11", "-q")
    assert res.exit_code == 0, res.stderr
    return out


@pytest.mark.parametrize("name", ["mixed.pcap", "early-optimistic.pcap", "synth"])
def test_store_of_eight_pieces_gives_the_whole_capture_rows(tmp_path, name, synth_capture):
    whole = synth_capture if name == "synth" else SAMPLES / name
    folder = _whole_and_pieces(tmp_path, whole)
    assert len(pcap_records(whole.read_bytes())[1]) == sum(
        len(pcap_records(p.read_bytes())[1]) for p in folder.iterdir()
    )
    ref = ebutool.analyze(whole)
    report = extract([folder], tmp_path / "store")
    assert report.count("extracted") == 8 and not report.failed
    got = analyze_store(tmp_path / "store")
    _compare_without_source(got, ref)
    # and exactly analyze --merge of the pieces, source column included
    pd.testing.assert_frame_equal(got, ebutool.analyze(folder, merge=True))
    # through the command line's input handling too (a store is one input)
    pd.testing.assert_frame_equal(ebutool.analyze(tmp_path / "store"), got)


def test_per_file_analysis_differs_guard(tmp_path):
    """The guard: analysing each piece on its own splits episodes, so the test above can
    fail (rows or their values differ from the whole capture's)."""
    whole = SAMPLES / "mixed.pcap"
    folder = _whole_and_pieces(tmp_path, whole)
    ref = ebutool.analyze(whole)
    per_file = ebutool.analyze(folder, no_merge=True)  # (without it: stitched, issue 13)
    differs = len(per_file) != len(ref)
    if not differs:
        cols = [c for c in ref.columns if c not in ("source", "episode")]
        differs = not per_file[cols].equals(ref[cols])
    assert differs


@pytest.mark.skipif(shutil.which("editcap") is None, reason="editcap (tshark) not installed")
def test_editcap_pieces(tmp_path):
    whole = SAMPLES / "mixed.pcap"
    n = len(pcap_records(whole.read_bytes())[1])
    folder = tmp_path / "ec"
    folder.mkdir()
    subprocess.run(
        ["editcap", "-F", "pcap", "-c", str(-(-n // 8)), str(whole), str(folder / "p.pcap")],
        check=True,
    )
    assert len(list(folder.iterdir())) == 8
    extract([folder], tmp_path / "store")
    _compare_without_source(analyze_store(tmp_path / "store"), ebutool.analyze(whole))


def test_incremental_extract(tmp_path):
    folder = _whole_and_pieces(tmp_path, SAMPLES / "mixed.pcap")
    files = sorted(folder.iterdir())
    store = tmp_path / "store"
    first = extract(files[:5], store)
    assert first.count("extracted") == 5
    # a grown directory: only the new files are read
    second = extract([folder], store)
    assert [r.status for r in second.results] == ["unchanged"] * 5 + ["extracted"] * 3
    # a changed file (same name, other content) is extracted again; a touched one is not
    files[0].write_bytes(files[0].read_bytes()[:-40])
    files[1].touch()
    third = extract([folder], store)
    assert [r.status for r in third.results] == ["extracted"] + ["unchanged"] * 7
    assert len(store_parts(str(store))) == 8


def test_binding_facts(tmp_path):
    """Care-of -> home address facts, against the scenario file's addresses."""
    extract([SAMPLES / "standard.pcap"], tmp_path / "s")
    facts = binding_facts(str(tmp_path / "s"))
    assert list(facts.columns) == ["coa", "hoa", "first_ts_ns", "last_ts_ns", "n_updates"]
    assert len(facts) > 0
    assert (facts["coa"] != facts["hoa"]).all()
    assert (facts["first_ts_ns"] <= facts["last_ts_ns"]).all()
    toml = (SAMPLES / "standard.toml").read_text()
    for hoa in facts["hoa"].unique():
        assert hoa in toml


def test_decode_and_verify_read_a_store_like_its_capture(tmp_path):
    """A store of one capture: decode and verify give that capture's tables."""
    path = SAMPLES / "early-conservative.pcap"
    keys = SAMPLES / "early-conservative.keys.json"
    from ebutool.oracle.keys import load_keys_file

    table = load_keys_file(str(keys))
    ebutool.extract(path, store=tmp_path / "s")
    pd.testing.assert_frame_equal(ebutool.decode(tmp_path / "s"), ebutool.decode(path))
    got = ebutool.verify(tmp_path / "s", keys=table)
    pd.testing.assert_frame_equal(got, ebutool.verify(path, keys=table))
    assert (got["verdict"] == "valid").sum() > 0


@pytest.mark.parametrize("keys", [None, "mixed.keys.json"])
def test_replay_of_a_store_is_the_replay_of_the_whole_capture(tmp_path, keys, cli):
    """replay STORE of 8 rotated pieces: the tables and summary of replaying the capture
    they were cut from; replaying the pieces one by one differs (the guard)."""
    from ebutool.oracle.keys import load_keys_file

    whole = SAMPLES / "mixed.pcap"
    folder = _whole_and_pieces(tmp_path, whole)
    extract([folder], tmp_path / "s")
    table = load_keys_file(str(SAMPLES / keys)) if keys else None
    got, ref = ebutool.replay(tmp_path / "s", keys=table), ebutool.replay(whole, keys=table)
    # frame numbers are those of the piece a packet is in (as decode and verify of a store)
    size = -(-len(pcap_records(whole.read_bytes())[1]) // 8)
    for name in ("exposure", "divergences", "decisions"):
        mine, theirs = getattr(got, name), getattr(ref, name).copy()
        theirs["frame"] = (theirs["frame"] - 1) % size + 1
        for col in [c for c in theirs.columns if theirs[c].dtype.kind == "O"]:  # "(frame N"
            theirs[col] = theirs[col].map(
                lambda v: (
                    re.sub(r"frame (\d+)", lambda m: f"frame {(int(m[1]) - 1) % size + 1}", v)
                    if isinstance(v, str)
                    else v
                )
            )
        pd.testing.assert_frame_equal(mine, theirs)
    assert got.summary_line() == ref.summary_line() and len(ref.decisions) > 0
    pieces = ebutool.replay(folder, keys=table)
    cols = [c for c in ref.decisions.columns if c != "frame"]
    per_piece = pieces.decisions[cols].reset_index(drop=True)
    assert len(per_piece) != len(ref.decisions) or not per_piece.equals(ref.decisions[cols])
    a, b = cli("replay", tmp_path / "s", "-f", "csv"), cli("replay", whole, "-f", "csv")
    assert a.exit_code == b.exit_code and a.stdout.count("\n") == b.stdout.count("\n") > 1


def test_store_refuses_a_foreign_directory(tmp_path, cli):
    (tmp_path / "notes.txt").write_text("mine")
    res = cli("extract", SAMPLES / "standard.pcap", "-o", tmp_path)
    assert res.exit_code == 2 and "not an ebutool store" in res.stderr
