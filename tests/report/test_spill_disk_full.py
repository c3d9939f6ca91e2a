"""$TMPDIR full while pieces wait there (several inputs: ebutool.runner.files_streamed;
one input's padded formats and parquet: ebutool.report.piece_spill): one line and exit 5,
an output error as the README's table says, not an internal error (exit 4)."""

from __future__ import annotations

import errno
import pickle

import pytest

from tests.support.cli import SAMPLES, run_cli


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize(
    "args",
    [
        # several inputs: each file's pieces spilled while the inputs are read
        ["analyze", SAMPLES / "mixed.pcap", SAMPLES / "standard.pcap", "-f", "csv"],
        ["decode", SAMPLES / "mixed.pcap", SAMPLES / "standard.pcap", "-f", "csv"],
        # one input, a padded format and parquet: the pieces wait while widths/schema are learnt
        ["analyze", SAMPLES / "mixed.pcap", "-f", "table"],
        ["analyze", SAMPLES / "mixed.pcap", "-f", "parquet"],
    ],
)
def test_full_tmpdir_is_exit_5_in_one_line(args, tmp_path, monkeypatch):
    monkeypatch.setattr(pickle, "dump", _enospc)
    out = tmp_path / "out"
    res = run_cli(*args, "-o", out, "-q")
    assert res.exit_code == 5, res.output
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "No space left on device" in lines[0], res.output
    assert "internal error" not in res.output
    assert not out.exists()
