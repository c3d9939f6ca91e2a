"""The report of one capture never holds every episode whole (issue 12): it reads
analyze's table in pieces, keeps every row's statistics columns and the whole rows of
the first max_rows, works out what is of every episode, lets those columns go, and only
then reads the episodes again for the ladders, without listing them all; its figures
read columns, never a dict per row.  The tables it keeps are checked against analyze's
whole table, the figures' samples against a row-by-row reference; what the report's
data keeps per episode (nothing) is measured with tracemalloc (one BU per home address,
benchmarks/gen_hostile.py)."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pandas as pd

from ebutool.analysis import analyze, summarize
from ebutool.analysis.claim import CLAIM_MODES, OBSERVED
from ebutool.analysis.formulas import FORMULAS, predicting_formula
from ebutool.analysis.summary import counted_mask
from ebutool.report.compare import predicted_recv_ms, predicted_send_ms
from ebutool.report.html import ReportOptions, collect
from ebutool.report.html.figures import kind_mode_samples, saving_points
from ebutool.report.html.gather import report_columns
from tests.support.cli import SAMPLES

GEN = Path(__file__).resolve().parents[3] / "benchmarks" / "gen_hostile.py"
MAX_ROWS = 5
# Octets the report's data keeps per episode: none (its statistics' columns, ~390 an
# episode, are let go once the numbers of every episode are worked out)
PER_EPISODE = 40


def _refuse(*_a, **_k):
    raise AssertionError("the report of one capture built analyze's whole table or episode list")


def _values(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its categorical and object columns (the kept table's text is
    categorical, runner.lean) as plain objects, missing as None: the values compared,
    not how they are stored."""

    def plain(s: pd.Series) -> pd.Series:
        if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object:
            return s.astype(object).where(s.notna(), None)
        return s

    return df.apply(plain)


def test_one_capture_is_read_in_pieces(monkeypatch, sixty_episodes):
    from ebutool.report.html import data as report_data
    from ebutool.report.html import ladders

    monkeypatch.setattr("ebutool.runner.analyze_inputs.analyze_files", _refuse)
    monkeypatch.setattr("ebutool.analysis.analyze", _refuse)
    monkeypatch.setattr("ebutool.analysis.build_episodes", _refuse)
    monkeypatch.setattr("ebutool.report.html.gather.PIECE_ROWS", 7)  # several pieces
    kept: list[dict] = []  # the statistics' columns as the report kept them (as lists)
    every = report_data.of_every_episode

    def spy(df, *a):
        kept.append(_values(df).to_dict("list"))
        return every(df, *a)

    monkeypatch.setattr(report_data, "of_every_episode", spy)
    monkeypatch.setattr(ladders, "episode_ladders", _ladders_alone(ladders.episode_ladders))
    data = collect([str(sixty_episodes)], ReportOptions(max_rows=MAX_ROWS))
    monkeypatch.undo()
    full = analyze(str(sixty_episodes))  # the reference, made after (see _ladders_alone)
    assert len(full) == 60 and data.n_episodes == 60 and data.not_embedded == 60 - MAX_ROWS
    pd.testing.assert_frame_equal(data.embedded, full.head(MAX_ROWS))
    lean = full[[c for c in full.columns if c in report_columns("file")]]
    got = pd.DataFrame(kept[0])
    pd.testing.assert_frame_equal(_values(got), _values(lean), check_dtype=False)
    assert len(got.columns) < len(full.columns) / 2
    pd.testing.assert_frame_equal(data.summary, summarize(full))
    assert sorted(data.ladders) == list(full["episode"].head(MAX_ROWS))


def _ladders_alone(episode_ladders):
    """episode_ladders, checking first that no table of every episode (60 rows, nor its
    columns being gathered) is alive: the inputs' second reading is not on top of them."""

    def checked(names, embedded, options):
        from ebutool.runner.lean import LeanColumns

        gc.collect()
        alive = gc.get_objects()
        assert not [o for o in alive if isinstance(o, LeanColumns)]
        assert not [o for o in alive if isinstance(o, pd.DataFrame) and len(o) == 60]
        return episode_ladders(names, embedded, options)

    return checked


MEASURE = """
import gc, sys, tracemalloc
from ebutool.report.html import ReportOptions, collect
collect([sys.argv[2]], ReportOptions(max_rows=5))  # imports and caches out of the count
gc.collect()
tracemalloc.start()
data = collect([sys.argv[1]], ReportOptions(max_rows=5))
gc.collect()
print(tracemalloc.get_traced_memory()[0], data.n_episodes)
"""


def _kept(path: str) -> tuple[int, int]:
    """(octets the report's data of ``path`` keeps, episodes), in a fresh process."""
    mixed = str(SAMPLES / "mixed.pcap")
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, path, mixed], check=True, capture_output=True, text=True
    )
    held, n = out.stdout.split()
    return int(held), int(n)


def _capture(tmp_path: Path, bus: int) -> str:
    out = tmp_path / f"h{bus}.pcap"
    subprocess.run([sys.executable, str(GEN), "--bus", str(bus), "--out", str(out)], check=True)
    return str(out)


def test_the_report_data_keeps_nothing_per_episode(tmp_path):
    small, n_small = _kept(_capture(tmp_path, 500))
    large, n_large = _kept(_capture(tmp_path, 1000))
    assert (n_small, n_large) == (500, 1000)  # one episode per MN
    assert large - small < PER_EPISODE * (n_large - n_small), (small, large)


def _table() -> pd.DataFrame:
    """Kinds, modes (one missing), qualities and latencies (some missing) mixed."""
    kinds = ["standard", "early", "early_fallback", "early", "home_only", "early", "standard"]
    modes = ["conservative", "optimistic", None, "conservative", None, "optimistic", None]
    n = 28
    df = pd.DataFrame(
        {
            "kind": [kinds[i % 7] for i in range(n)],
            "mode": [modes[i % 7] if i % 5 else "conservative" for i in range(n)],
            "quality": ["ok" if i % 6 else "lost" for i in range(n)],
            "complete": [bool(i % 9) for i in range(n)],
            "rtt_ro_ms": [float("nan") if i % 8 == 3 else 10.0 + i for i in range(n)],
        }
    )
    for j, name in enumerate(["send_latency", "recv_latency", *FORMULAS]):
        df[f"{name}_ms"] = [float("nan") if (i + j) % 7 == 2 else i * 1.5 + j for i in range(n)]
    return df


def _reference(df: pd.DataFrame, sep: str) -> tuple[dict, dict]:
    """kind_mode_samples and saving_points row by row, as compare draws its figure."""
    counted = df[counted_mask(df)]
    samples: dict = {"send": {}, "receive": {}}
    known = counted["mode"].notna() & (counted["mode"] != "")
    labelled = counted.assign(mode=counted["mode"].where(known, "not_observable"))  # as the summary
    for (kind, mode), rows in labelled.groupby(["kind", "mode"], sort=True, dropna=False):
        if kind in ("standard", "early", "early_fallback"):
            recs = rows.to_dict("records")
            for panel, col, predict in (
                ("send", "send_latency_ms", predicted_send_ms),
                ("receive", "recv_latency_ms", predicted_recv_ms),
            ):
                obs = [r[col] for r in recs if r[col] == r[col]]
                pred = [v for v in map(predict, recs) if v is not None]
                samples[panel][f"{kind}{sep}{mode}"] = {"observed": obs, "predicted": pred}
    points: dict = {q: ([], []) for q in OBSERVED}
    for r in counted[counted["kind"] == "early"].to_dict("records"):
        if r["mode"] not in CLAIM_MODES or r["rtt_ro_ms"] != r["rtt_ro_ms"]:
            continue
        for q in OBSERVED:
            ref = r[f"{predicting_formula('standard', q, r['mode'])}_ms"]
            if ref == ref and r[f"{q}_ms"] == r[f"{q}_ms"]:
                points[q][0].append(r["rtt_ro_ms"])
                points[q][1].append(ref - r[f"{q}_ms"])
    return samples, points


def test_figures_read_columns_as_the_rows_say():
    df = _table()
    for sep in (", ", "\n"):
        samples, points = _reference(df, sep)
        assert kind_mode_samples(df, sep) == samples
        assert saving_points(df) == points
    assert any(v["predicted"] for v in samples["send"].values()) and points["send_latency"][0]
