"""Several inputs say which file a warning is about, and a directory's left-out files
are reported (issue 6: several files; nothing is dropped silently)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ebutool.core.diagnostics import Diagnosis, Diagnostics
from ebutool.runner.analyze_inputs import analyze_files
from ebutool.runner.decode_inputs import decode_files
from ebutool.runner.inputs import expand_inputs
from tests.support.cli import SAMPLES, run_cli


@pytest.fixture
def folder(tmp_path):
    """Two captures, the second cut short (one truncated_record warning), and two
    files that are not captures."""
    d = tmp_path / "run"
    d.mkdir()
    (d / "a.pcap").write_bytes((SAMPLES / "standard.pcap").read_bytes())
    whole = (SAMPLES / "early-conservative.pcap").read_bytes()
    (d / "b.pcap").write_bytes(whole[:-30])
    (d / "b.keys.json").write_text("{}\n")
    (d / "notes.txt").write_text("x\n")
    return d


def test_labelled_stamps_kept_and_future_diagnoses():
    d = Diagnostics()
    d.warn("x", "frame 1: first", 1)
    d.labelled("f.pcap")
    d.warn("x", "frame 2: second", 2)
    assert [k.source for k in d.kept] == ["f.pcap", "f.pcap"]
    assert Diagnosis(1, "x", "m").source == ""  # single-file runs: no label


def test_expand_inputs_lists_what_it_leaves_out(folder):
    left: list[str] = []
    paths = expand_inputs([folder], left)
    assert [Path(p).name for p in paths] == ["a.pcap", "b.pcap"]
    assert sorted(Path(p).name for p in left) == ["b.keys.json", "notes.txt"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_analyze_files_warnings_name_their_file(folder, jobs):
    diag = Diagnostics()
    paths = expand_inputs([folder])
    analyze_files(paths, jobs, diag=diag)
    assert diag.counts["truncated_record"] == 1
    cut = [k for k in diag.kept if k.code == "truncated_record"]
    assert [k.source for k in cut] == ["b.pcap"]


def test_decode_files_warnings_name_their_file(folder):
    diag = Diagnostics()
    decode_files(expand_inputs([folder]), 1, diag=diag)
    assert [k.source for k in diag.kept if k.code == "truncated_record"] == ["b.pcap"]


def test_single_file_warnings_unlabelled(folder):
    diag = Diagnostics()
    analyze_files([str(folder / "b.pcap")], 1, diag=diag)
    assert [k.source for k in diag.kept if k.code == "truncated_record"] == [""]


def test_cli_reports_left_out_files_and_labels_warnings(folder):
    res = run_cli("analyze", str(folder), "-f", "csv")
    assert res.exit_code == 0, res.output
    err = res.stderr
    assert (
        "2 files in the directory "
        "not read (no capture or trace, or a trace beside its capture): "
        "b.keys.json, notes.txt" in err
    )
    assert "truncated_record: b.pcap: frame " in err
    quiet = run_cli("analyze", str(folder), "-f", "csv", "-q")
    assert "not read" not in quiet.stderr


def test_parquet_refused_on_a_terminal_allowed_to_a_pipe(monkeypatch, tmp_path):
    pytest.importorskip("pyarrow")
    import io
    import sys

    from ebutool.cli.options import check_output
    from ebutool.core.errors import UsageError
    from ebutool.report import OutputFormat

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdout", Tty())
    with pytest.raises(UsageError, match="binary"):
        check_output(OutputFormat.parquet, "-")
    check_output(OutputFormat.parquet, str(tmp_path / "x.parquet"))  # a file: fine
    check_output(OutputFormat.csv, "-")  # text: fine
    res = run_cli("analyze", str(SAMPLES / "standard.pcap"), "-f", "parquet")
    assert res.exit_code == 0 and res.stdout_bytes[:4] == b"PAR1"  # a pipe: fine


def test_compare_takes_directories_and_labels_warnings(folder):
    res = run_cli("compare", str(folder), "-f", "csv")
    assert res.exit_code == 0, res.output
    assert "a.pcap" in res.stdout and "b.pcap" in res.stdout  # one group per file
    assert (
        "not read (no capture or trace, or a trace beside its capture): "
        "b.keys.json, notes.txt" in res.stderr
    )
    assert "truncated_record: b.pcap: frame " in res.stderr


def test_for_source_view_shares_counts():
    d = Diagnostics(keep=2)
    a, b = d.for_source("a.pcap"), d.for_source("b.pcap")
    a.warn("x", "frame 1: one", 1)
    b.warn("x", "frame 1: two", 1)
    b.warn("x", "frame 2: three", 2)  # over keep: counted, not kept
    assert d.counts["x"] == 3 and d.total == 3
    assert [(k.source, k.message) for k in d.kept] == [
        ("a.pcap", "frame 1: one"),
        ("b.pcap", "frame 1: two"),
    ]


@pytest.mark.parametrize("merge", [False, True])
def test_library_analyze_labels_warnings_per_file(folder, merge):
    import ebutool

    diag = Diagnostics()
    ebutool.analyze(str(folder / "a.pcap"), str(folder / "b.pcap"), diag=diag, merge=merge)
    assert [k.source for k in diag.kept if k.code == "truncated_record"] == ["b.pcap"]
