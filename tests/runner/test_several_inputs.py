"""decode, verify and replay on several files and directories (the one runner): a
``source`` column first only when there is more than one file, each file's rows exactly
its single-file rows, ``-j 2`` identical to ``-j 1``, warnings naming their file."""

from __future__ import annotations

import io
import shutil

import pandas as pd
import pytest

import ebutool
from ebutool.core.diagnostics import Diagnostics
from ebutool.runner.replay_inputs import ReplayRuns
from tests.support.cli import SAMPLES

A = SAMPLES / "early-conservative.pcap"
B = SAMPLES / "mixed.pcap"
C = SAMPLES / "standard.jsonl"


def _csv(result) -> pd.DataFrame:
    assert result.exit_code in (0, 1), result.output
    return pd.read_csv(io.StringIO(result.stdout), dtype=str, keep_default_na=False)


def _stack(parts: list[tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    tagged = [df.assign(source=name)[["source", *df.columns]] for name, df in parts]
    return pd.concat(tagged, ignore_index=True)


@pytest.mark.parametrize("command", ["decode", "verify", "replay"])
def test_several_files_one_table_with_source_first(cli, command):
    alone = [(p.name, _csv(cli(command, p, "-f", "csv", "-q"))) for p in (A, B, C)]
    assert sum(len(df) > 0 for _, df in alone) >= 2  # (standard.jsonl has no tentative binding)
    assert all("source" not in df.columns for _, df in alone)  # one file: as it always was
    together = _csv(cli(command, A, B, C, "-f", "csv", "-q"))
    assert list(together.columns)[0] == "source"
    pd.testing.assert_frame_equal(together, _stack(alone))


@pytest.mark.parametrize("command", ["decode", "verify", "replay"])
def test_jobs_give_the_same_bytes(cli, command):
    one = cli(command, A, B, C, "-f", "csv")
    two = cli(command, "-j", "2", A, B, C, "-f", "csv")
    assert one.exit_code == two.exit_code
    assert one.stdout == two.stdout and one.stderr == two.stderr
    assert one.stdout.count("\n") > 5


@pytest.mark.parametrize("command", ["decode", "verify", "replay"])
def test_a_directory_means_its_captures(cli, tmp_path, command):
    for p in (A, B, SAMPLES / "mixed.keys.json"):
        shutil.copy(p, tmp_path / p.name)
    by_dir = cli(command, tmp_path, "-f", "csv")
    by_name = cli(command, tmp_path / A.name, tmp_path / B.name, "-f", "csv")
    assert by_dir.stdout == by_name.stdout and by_dir.exit_code == by_name.exit_code
    assert (
        "1 file in the directory "
        "not read (no capture or trace, or a trace beside its capture): "
        "mixed.keys.json" in (by_dir.stderr)
    )
    assert set(_csv(by_dir)["source"]) == {A.name, B.name}


@pytest.fixture
def cut(tmp_path):
    """A copy of A and a copy of B cut short (one truncated_record warning)."""
    shutil.copy(A, tmp_path / "a.pcap")
    (tmp_path / "b.pcap").write_bytes(B.read_bytes()[:-30])
    return tmp_path


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("command", ["decode", "verify", "replay"])
def test_warnings_name_their_file(cli, cut, command, jobs):
    res = cli(command, cut / "a.pcap", cut / "b.pcap", "-f", "csv", "-j", jobs)
    assert res.exit_code in (0, 1), res.output
    assert "truncated_record: b.pcap: frame " in res.stderr
    alone = cli(command, cut / "b.pcap", "-f", "csv")
    assert "truncated_record: frame " in alone.stderr  # one file: no label


def test_replay_summary_per_file_and_exit_status_of_any(cli, tmp_path):
    res = cli("replay", A, B, "-f", "csv", "--cn-policy", "standard")
    lines = [x for x in res.stderr.splitlines() if x.startswith("ebutool: replay: ")]
    assert [x.split(": ")[2] for x in lines] == [A.name, B.name]
    alone = [cli("replay", p, "-f", "csv", "--cn-policy", "standard") for p in (A, B)]
    assert res.exit_code == max(r.exit_code for r in alone) == 1  # a standard CN: EBAs diverge
    for line, single in zip(lines, alone, strict=True):
        (own,) = [x for x in single.stderr.splitlines() if x.startswith("ebutool: replay: ")]
        assert line == own.replace("replay: ", f"replay: {line.split(': ')[2]}: ", 1)


def test_verify_summary_counts_every_file(cli):
    res = cli("verify", A, B, "-f", "csv")
    df = _csv(res)
    (line,) = [x for x in res.stderr.splitlines() if x.startswith("ebutool: verify: ")]
    assert line.startswith(f"ebutool: verify: {len(df)} messages checked: ")
    assert res.exit_code == (1 if (df["verdict"] == "invalid").any() else 0)


def test_library_functions_take_several_paths_too(tmp_path):
    decoded = ebutool.decode(A, B)
    assert list(decoded.columns)[0] == "source" and set(decoded["source"]) == {A.name, B.name}
    assert "source" not in ebutool.decode(A).columns
    verdicts = ebutool.verify(A, B, jobs=2)
    pd.testing.assert_frame_equal(verdicts, ebutool.verify(A, B))
    one = ebutool.replay(A)
    runs = ebutool.replay(A, B)
    assert isinstance(runs, ReplayRuns) and not isinstance(one, ReplayRuns)
    pd.testing.assert_frame_equal(
        runs.exposure[runs.exposure["source"] == A.name].drop(columns="source"),
        one.exposure,
    )
    assert runs.exit_status() == max(r.exit_status() for r in runs.results)
    shutil.copy(A, tmp_path / A.name)
    pd.testing.assert_frame_equal(ebutool.decode(tmp_path), ebutool.decode(A))


def test_library_warnings_name_their_file(cut):
    diag = Diagnostics()
    ebutool.verify(cut / "a.pcap", cut / "b.pcap", diag=diag)
    assert [k.source for k in diag.kept if k.code == "truncated_record"] == ["b.pcap"]


def test_clashing_names_are_told_apart_by_path(cli, tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    shutil.copy(A, tmp_path / "x" / "run.pcap")
    shutil.copy(B, tmp_path / "y" / "run.pcap")
    df = _csv(cli("decode", tmp_path / "x" / "run.pcap", tmp_path / "y" / "run.pcap", "-f", "csv"))
    assert list(dict.fromkeys(df["source"])) == [
        str(tmp_path / "x" / "run.pcap"),
        str(tmp_path / "y" / "run.pcap"),
    ]
