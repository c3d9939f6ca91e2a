"""analyze on directories and with --jobs: same rows as naming the captures one by one."""

from __future__ import annotations

import io
import shutil

import pandas as pd

from tests.support.cli import SAMPLES, run_cli


def _csv(*args) -> pd.DataFrame:
    result = run_cli("analyze", "-f", "csv", "-q", *map(str, args))
    assert result.exit_code == 0, result.output
    return pd.read_csv(io.StringIO(result.stdout))


def test_directory_means_its_captures_in_name_order(tmp_path):
    for name in ("standard", "early-conservative"):
        for ext in (".pcap", ".jsonl", ".keys.json", ".toml"):  # only the pcaps count
            shutil.copy(SAMPLES / f"{name}{ext}", tmp_path / f"{name}{ext}")
    by_dir = _csv(tmp_path)
    by_name = _csv(tmp_path / "early-conservative.pcap", tmp_path / "standard.pcap")
    assert len(by_dir) == len(by_name) > 0
    pd.testing.assert_frame_equal(by_dir, by_name)
    assert list(dict.fromkeys(by_dir["source"])) == ["early-conservative.pcap", "standard.pcap"]


def test_jobs_give_identical_rows():
    files = [SAMPLES / "standard.pcap", SAMPLES / "mixed.pcap", SAMPLES / "early-optimistic.pcap"]
    one, two = _csv(*files), _csv("-j", "2", *files)
    pd.testing.assert_frame_equal(one, two)
    assert one["episode"].tolist() == list(range(1, len(one) + 1))


def test_directory_without_captures_is_unreadable_input(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    result = run_cli("analyze", str(tmp_path))
    assert result.exit_code == 3
    assert "no pcap or pcapng capture" in result.output


def test_stdin_twice_is_a_usage_error():
    result = run_cli("analyze", "-", "-", input=b"")
    assert result.exit_code == 2
    assert "only once" in result.output
