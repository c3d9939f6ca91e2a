"""Directory arguments and per-file work in several processes (ebutool.runner)."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from benchmarks import gen_capture  # noqa: E402
from ebutool.capture import open_frames
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import InputError
from ebutool.records.from_packet import StreamStats
from ebutool.report.message_table import decode_frame
from ebutool.runner.analyze_inputs import analyze_files
from ebutool.runner.decode_inputs import decode_files
from ebutool.runner.inputs import expand_inputs, sniff
from ebutool.runner.multi import map_files
from ebutool.stream.reader import read_records
from tests.support.capbuild import pcap_bytes


def _square_and_pid(x):
    return x * x, os.getpid()


def _fail_on_three(x):
    if x == 3:
        raise ValueError("three")
    return x


@pytest.fixture(scope="module")
def captures(tmp_path_factory):
    """Two generated captures (pcap and pcapng, different seeds) and one split in two."""
    d = tmp_path_factory.mktemp("multi")
    a = gen_capture.generate(12000, 21, d / "a", ("pcap",))["pcap"]
    b = gen_capture.generate(12000, 22, d / "b", ("pcapng",))["pcapng"]
    whole = gen_capture.generate(16000, 23, d / "w", ("pcap",))["pcap"]
    frames = list(open_frames(whole, Diagnostics()))
    half = len(frames) // 2
    parts = []
    for k, chunk in enumerate((frames[:half], frames[half:])):
        p = d / f"part{k}.pcap"
        p.write_bytes(pcap_bytes([(f.ts_ns, f.data) for f in chunk], 1))
        parts.append(p)
    return {"a": a, "b": b, "whole": whole, "parts": parts}


def test_expand_inputs_directories_by_content_sorted(tmp_path):
    d = tmp_path / "dir"
    (d / "sub").mkdir(parents=True)
    pcap = pcap_bytes([(0, b"\x60" + bytes(39))], 101)
    (d / "b.cap").write_bytes(pcap)  # any name: content decides
    (d / "a.pcapng").write_bytes(b"\x0a\x0d\x0d\x0a" + bytes(24))
    (d / "c.jsonl").write_text('  {"ts": 1}\n')  # JSON, but not a trace line
    (d / "t.log").write_text('{"type": "header", "format": "ebutool-trace"}\n')  # a trace
    (d / "k.keys.json").write_text('{"2001:db8::1": {}}\n')
    (d / "notes.txt").write_text("hello\n")
    (d / "empty.pcap").write_bytes(b"")
    (d / ".hidden.pcap").write_bytes(pcap)
    (d / "sub" / "x.pcap").write_bytes(pcap)  # not recursive
    other = tmp_path / "single.pcap"
    other.write_bytes(pcap)
    got = expand_inputs([str(other), d, "-", "missing.pcap"])
    want = [str(d / "a.pcapng"), str(d / "b.cap"), str(d / "t.log")]
    assert got == [str(other), *want, "-", "missing.pcap"]
    assert expand_inputs([d / "c.jsonl"]) == [str(d / "c.jsonl")]
    assert sniff(d / "notes.txt") is None and sniff(d / "c.jsonl") is None
    assert sniff(d / "t.log") == "jsonl"
    assert expand_inputs([tmp_path / "dir" / "sub"]) == [str(d / "sub" / "x.pcap")]


def test_map_files_keeps_argument_order_and_uses_processes():
    items = list(range(1, 9))
    results = map_files(_square_and_pid, items, 2)
    assert [r[0] for r in results] == [x * x for x in items]
    assert any(pid != os.getpid() for _, pid in results)
    assert [r[0] for r in map_files(_square_and_pid, items, 1)] == [x * x for x in items]
    assert all(pid == os.getpid() for _, pid in map_files(_square_and_pid, items, 1))
    with pytest.raises(ValueError, match="three"):
        map_files(_fail_on_three, [1, 2, 3, 4], 2)


def _serial(*paths, merge=False, **kw):
    diag, stats = Diagnostics(), StreamStats()
    df = analyze_files(paths, 1, diag=diag, stats=stats, merge=merge, **kw)
    return df, diag, stats


def _parallel(paths, merge=False, **kw):
    diag, stats = Diagnostics(), StreamStats()
    df = analyze_files(paths, 2, diag=diag, stats=stats, merge=merge, **kw)
    return df, diag, stats


@pytest.mark.parametrize("merge", [False, True])
def test_parallel_analyze_equals_serial(captures, merge):
    # the same capture twice too: per file it gives its episodes twice, merged it is mixed
    paths = [str(captures["a"]), str(captures["b"]), str(captures["a"])]
    ref_df, ref_diag, ref_stats = _serial(*paths, merge=merge)
    df, diag, stats = _parallel(paths, merge=merge)
    assert len(df) > 0
    pd.testing.assert_frame_equal(df, ref_df)
    assert diag.counts == ref_diag.counts
    if not merge:
        assert diag.kept == ref_diag.kept
    assert stats == ref_stats


def test_parallel_filters_like_analyze(captures):
    paths = [str(captures["a"]), str(captures["b"])]
    full, _, _ = _serial(*paths)
    mn = full["mn"].iloc[len(full) // 2]
    ref, _, _ = _serial(*paths, mn=mn)
    got, _, _ = _parallel(paths, mn=mn)
    assert 0 < len(got) < len(full)
    pd.testing.assert_frame_equal(got, ref)


def test_episodes_spanning_files_survive_parallel_reading(captures):
    parts = [str(p) for p in captures["parts"]]
    whole, _, _ = _serial(str(captures["whole"]))
    ref, _, _ = _serial(*parts, merge=True)
    par, _, _ = _parallel(parts, merge=True)
    pd.testing.assert_frame_equal(par, ref)
    # splitting the capture changes nothing the analysis sees
    assert len(par) == len(whole) >= 3 and list(par["kind"]) == list(whole["kind"])


def test_decode_files_concatenates_in_order(captures):
    paths = [str(captures["a"]), str(captures["b"])]
    got = decode_files(paths, jobs=2)
    parts = [decode_frame(read_records(p, Diagnostics())) for p in paths]
    for part, path in zip(parts, paths, strict=True):
        part.insert(0, "source", os.path.basename(path))
    ref = pd.concat(parts, ignore_index=True)
    assert len(parts[0]) and len(parts[1])
    pd.testing.assert_frame_equal(got, ref)
    pd.testing.assert_frame_equal(decode_files(paths, jobs=1), ref)
    # one file: its table as it always was, no source column
    alone = decode_files(paths[:1], jobs=2)
    pd.testing.assert_frame_equal(alone, decode_frame(read_records(paths[0], Diagnostics())))


def test_errors_of_one_file_reach_the_caller(captures, tmp_path):
    # issue 12 item 8: an unreadable input of several is counted and named, the others'
    # rows are kept; only when none can be read is it an error
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"not a capture at all")
    for jobs in (1, 2):
        diag = Diagnostics()
        df = analyze_files([str(captures["a"]), str(bad)], jobs=jobs, diag=diag)
        assert diag.counts["unreadable_input"] == 1
        assert [d.source for d in diag.kept if d.code == "unreadable_input"] == ["bad.pcap"]
        assert len(df) and set(df["source"]) == {os.path.basename(captures["a"])}
    diag = Diagnostics()
    with pytest.raises(InputError, match="bad.pcap"):
        analyze_files([str(bad), str(bad)], jobs=2, diag=diag)
    assert diag.counts["unreadable_input"] == 2  # (counted, though none could be read)
