"""A signal while several inputs' pieces are written (review of the streamed path): the
command ends by os._exit (ebutool.cli.ending.stop), which runs no finalizer, so the
pieces' folder in $TMPDIR must already be gone when ``stop`` is reached, not left holding
every piece not yet written."""

from __future__ import annotations

import tempfile

import pytest

from ebutool.cli import options
from ebutool.cli.commands import analyze, replay
from tests.support.cli import SAMPLES, run_cli

INPUTS = [SAMPLES / "mixed.pcap", SAMPLES / "standard.pcap", SAMPLES / "early-optimistic.pcap"]


class _Interrupting:
    """A PieceWriter that takes one piece, then Ctrl-C arrives."""

    def __init__(self, *args, **kwargs):
        pass

    def add(self, df):
        raise KeyboardInterrupt


@pytest.fixture
def left_at_stop(tmp_path, monkeypatch):
    """The ebutool-inputs-* folders in $TMPDIR at the moment the command ends."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    seen: list[list[str]] = []

    def fake_stop(line: str, status: int) -> None:
        seen.append(sorted(p.name for p in tmp_path.glob("ebutool-inputs-*")))
        raise SystemExit(status)

    monkeypatch.setattr(options, "stop", fake_stop)
    return seen


@pytest.mark.parametrize("command", ["analyze", "decode", "verify", "replay"])
def test_interrupted_writing_of_several_inputs_leaves_no_pieces(
    command, monkeypatch, left_at_stop, tmp_path
):
    if command in ("analyze", "replay"):
        monkeypatch.setattr(
            analyze if command == "analyze" else replay, "PieceWriter", _Interrupting
        )
    else:  # (their write_pieces, ebutool.cli.options', closes what it was given)
        monkeypatch.setattr(options, "PieceWriter", _Interrupting)
    more = ["--divergences", tmp_path / "d.csv"] if command == "replay" else []  # 2 tables
    res = run_cli(command, *INPUTS, "-f", "csv", "-o", tmp_path / "out.csv", *more, "-q")
    assert res.exit_code == 130, res.output
    assert left_at_stop == [[]]


def _interrupting_reading(*args, **kwargs):
    raise KeyboardInterrupt  # Ctrl-C while the inputs are read (their folder exists)


@pytest.mark.parametrize("command", ["analyze", "decode", "verify", "replay"])
def test_interrupted_reading_of_several_inputs_leaves_no_pieces(
    command, monkeypatch, left_at_stop, tmp_path
):
    from ebutool.runner import files_streamed, replay_spilled

    monkeypatch.setattr(files_streamed, "per_file", _interrupting_reading)
    monkeypatch.setattr(replay_spilled, "per_file", _interrupting_reading)
    res = run_cli(command, *INPUTS, "-f", "csv", "-o", tmp_path / "out.csv", "-q")
    assert res.exit_code == 130, res.output
    assert left_at_stop == [[]]
