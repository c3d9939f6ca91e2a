"""``replay`` of several inputs written in pieces (issue 12; ebutool.runner.replay_spilled):
the three tables' octets equal those of the whole tables (ebutool.runner.replay_inputs.replay_files,
rendered by the same formatter) for every format, with a microsecond and a nanosecond
capture, an unreadable input among good ones, ``-j 2``; and no table is ever handed to
the writer whole."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from ebutool.core.constants import ProtocolConfig
from ebutool.oracle.keys import load_keys_file
from ebutool.report import OutputFormat, render_bytes
from ebutool.runner.replay_inputs import replay_files
from tests.runner.test_several_streamed import TEXT, nanosecond_copy
from tests.support.cli import SAMPLES, run_cli

TABLES = ("exposure", "divergences", "decisions")
OPTION = {"divergences": "--divergences", "decisions": "--decisions"}


def _replayed(tmp_path: Path, fmt: OutputFormat, paths, *extra) -> tuple[dict[str, Path], object]:
    """The three tables of ``replay paths`` written to files; and the CLI's result."""
    outs = {what: tmp_path / f"{what}.{fmt.value}" for what in TABLES}
    args = ["-o", outs["exposure"]]
    for what, option in OPTION.items():
        args += [option, outs[what]]
    res = run_cli("replay", *paths, "-f", fmt.value, *args, *extra)
    return outs, res


def _same(got: Path, want: pd.DataFrame, fmt: OutputFormat, what: str) -> None:
    if fmt is OutputFormat.parquet:
        back = pq.read_table(io.BytesIO(got.read_bytes()))
        assert back.equals(pq.read_table(io.BytesIO(render_bytes(want, fmt))))
    else:
        assert got.read_bytes() == render_bytes(want, fmt, name=f"ebutool_{what}")


@pytest.mark.parametrize("fmt", [*TEXT, OutputFormat.parquet])
def test_micro_and_nano_inputs_every_format(tmp_path, spilled, fmt):
    nano = nanosecond_copy(SAMPLES / "standard.pcap", tmp_path / "nano.pcap", 123)
    keys = SAMPLES / "mixed.keys.json"
    for paths in ([nano, SAMPLES / "mixed.pcap"], [SAMPLES / "early-conservative.pcap", nano]):
        spilled.clear()
        outs, res = _replayed(tmp_path, fmt, paths, "--keys", keys)
        whole = replay_files([str(p) for p in paths], keys=load_keys_file(str(keys)))
        assert res.exit_code == whole.exit_status(), res.stderr
        assert len(spilled) == 3 * len(paths)  # each table of each file spilled
        for what in TABLES:
            _same(outs[what], getattr(whole, what), fmt, what)
        lines = [line for line in res.stderr.splitlines() if line.startswith("ebutool: replay: ")]
        assert lines == ["ebutool: replay: " + line for line in whole.summary_lines()]


def test_a_divergence_exits_one(tmp_path):
    paths = [SAMPLES / "standard.pcap", SAMPLES / "early-optimistic.pcap"]
    outs, res = _replayed(tmp_path, OutputFormat.csv, paths, "--cn-policy", "standard")
    whole = replay_files([str(p) for p in paths], cn_policy="standard")
    assert whole.exit_status() == 1 and res.exit_code == 1, res.stderr
    assert len(whole.divergences) > 0
    _same(outs["divergences"], whole.divergences, OutputFormat.csv, "divergences")


@pytest.mark.parametrize("fmt", [OutputFormat.csv, OutputFormat.table, OutputFormat.parquet])
def test_an_unreadable_input_among_good_ones(tmp_path, fmt):
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"junk, not a capture")
    good = [SAMPLES / "mixed.pcap", SAMPLES / "early-optimistic.pcap"]
    outs, res = _replayed(tmp_path, fmt, [good[0], bad, good[1]])
    assert res.exit_code == 3 and "unreadable_input: bad.pcap" in res.stderr
    whole = replay_files([str(good[0]), str(bad), str(good[1])])
    assert whole.labels == ["mixed.pcap", "early-optimistic.pcap"]
    for what in TABLES:
        _same(outs[what], getattr(whole, what), fmt, what)  # the others' rows


@pytest.mark.parametrize("fmt", [OutputFormat.csv, OutputFormat.json])
def test_jobs_two_equals_jobs_one(tmp_path, fmt):
    nano = nanosecond_copy(SAMPLES / "standard.pcap", tmp_path / "nano.pcap")
    paths = [SAMPLES / "mixed.pcap", nano, SAMPLES / "early-conservative.pcap"]
    written = []
    for jobs in ("1", "2"):
        (tmp_path / jobs).mkdir()
        outs, res = _replayed(tmp_path / jobs, fmt, paths, "-j", jobs)
        assert res.exit_code == 0, res.stderr
        written.append(([outs[w].read_bytes() for w in TABLES], res.stderr))
    assert written[0] == written[1]
    assert written[0][0][0].count(b"mixed.pcap") > 1


def test_no_table_is_written_whole(tmp_path, monkeypatch):
    """Replayed one MN at a time (--max-state-entries 1), every piece handed to a writer
    is one batch's: the whole-table path (write_table of ReplayRuns' tables) fails."""
    from ebutool.cli import options

    sizes: dict[str, list[int]] = {}  # table name -> the rows of each piece written
    real_add, real_table = options.PieceWriter.add, options.write_table

    def add(self, df):
        sizes.setdefault(self.renderer.name, []).append(len(df))
        return real_add(self, df)

    def whole(df, *args, name, **kwargs):
        sizes.setdefault(name, []).append(len(df))
        return real_table(df, *args, name=name, **kwargs)

    monkeypatch.setattr(options.PieceWriter, "add", add)
    monkeypatch.setattr("ebutool.cli.commands.replay.write_table", whole)
    paths = [SAMPLES / "mixed.pcap", SAMPLES / "early-conservative.pcap"]
    outs, res = _replayed(tmp_path, OutputFormat.csv, paths, "--max-state-entries", "1")
    config = ProtocolConfig(max_state_entries=1)
    want = replay_files([str(p) for p in paths], config=config)
    assert res.exit_code == want.exit_status(), res.stderr
    _same(outs["exposure"], want.exposure, OutputFormat.csv, "exposure")
    for what in TABLES:
        assert sum(sizes[f"ebutool_{what}"]) == len(getattr(want, what)) > 3
    for what in ("exposure", "decisions"):  # (no piece is a whole table)
        assert max(sizes[f"ebutool_{what}"]) < len(getattr(want, what))
    # (the divergences: early-conservative.pcap has none, and an empty table whose dtypes
    # differ from the others' is put together whole: ebutool.runner.files_streamed)
