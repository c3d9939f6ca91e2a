"""`ebutool model`: formula values hand-computed from DESIGN.md section 2, sweeps, errors."""

from __future__ import annotations

import csv
import io
import json
import math

import pytest

from ebutool.analysis.formula_table import (
    COLUMNS,
    Sweep,
    model_row,
    model_table,
    parse_sweep,
    sweep_table,
)
from ebutool.core.errors import UsageError
from tests.support.cli import run_cli

# (RTT_HA, RTT_BT, RTT_RO) -> the six formulas, worked out by hand:
#   std_send_conserv = std_recv = max(HA, BT, RO) + RO; std_send_optimst = max(HA, BT, RO)
#   early_send_conserv = max(HA, RO); early_send_optimst = 0; early_recv = RO
CASES = [
    # RTT_BT largest: max = 120
    (
        (40, 120, 30),
        dict(
            std_send_conserv_ms=150,
            std_send_optimst_ms=120,
            std_recv_ms=150,
            early_send_conserv_ms=40,
            early_send_optimst_ms=0,
            early_recv_ms=30,
        ),
    ),
    # RTT_RO largest: max = 90, so std = 90 + 90
    (
        (20, 50, 90),
        dict(
            std_send_conserv_ms=180,
            std_send_optimst_ms=90,
            std_recv_ms=180,
            early_send_conserv_ms=90,
            early_send_optimst_ms=0,
            early_recv_ms=90,
        ),
    ),
    # RTT_HA largest: max = 200
    (
        (200, 80, 10),
        dict(
            std_send_conserv_ms=210,
            std_send_optimst_ms=200,
            std_recv_ms=210,
            early_send_conserv_ms=200,
            early_send_optimst_ms=0,
            early_recv_ms=10,
        ),
    ),
    # RTT_BT = 0 (home keygen token reused, section 5.1): max(HA, RO) = 25
    (
        (25, 0, 15),
        dict(
            std_send_conserv_ms=40,
            std_send_optimst_ms=25,
            std_recv_ms=40,
            early_send_conserv_ms=25,
            early_send_optimst_ms=0,
            early_recv_ms=15,
        ),
    ),
    # all equal: max = 50
    (
        (50, 50, 50),
        dict(
            std_send_conserv_ms=100,
            std_send_optimst_ms=50,
            std_recv_ms=100,
            early_send_conserv_ms=50,
            early_send_optimst_ms=0,
            early_recv_ms=50,
        ),
    ),
    # fractional ms
    (
        (0.5, 1.25, 0.75),
        dict(
            std_send_conserv_ms=2.0,
            std_send_optimst_ms=1.25,
            std_recv_ms=2.0,
            early_send_conserv_ms=0.75,
            early_send_optimst_ms=0,
            early_recv_ms=0.75,
        ),
    ),
]


@pytest.mark.parametrize("rtts,expected", CASES)
def test_model_values_match_hand_computed_formulas(rtts, expected):
    row = model_row(*rtts)
    for col, value in expected.items():
        assert row[col] == pytest.approx(value), col
    assert (row["rtt_ha_ms"], row["rtt_bt_ms"], row["rtt_ro_ms"]) == tuple(map(float, rtts))


def test_savings_and_ratios_hand_computed():
    # 40/120/30: std 150/120/150, early 40/0/30
    row = model_row(40, 120, 30)
    assert row["saving_send_conserv_ms"] == pytest.approx(110)
    assert row["saving_send_optimst_ms"] == pytest.approx(120)
    assert row["saving_recv_ms"] == pytest.approx(120)
    assert row["ratio_send_conserv"] == pytest.approx(40 / 150)
    assert row["ratio_send_optimst"] == 0.0
    assert row["ratio_recv"] == pytest.approx(30 / 150)


def test_all_zero_rtts_give_zero_latency_and_undefined_ratio():
    row = model_row(0, 0, 0)
    assert all(row[c] == 0 for c in COLUMNS if c.endswith("_ms"))
    assert all(math.isnan(row[f"ratio_{p}"]) for p in ("send_conserv", "send_optimst", "recv"))


def test_model_table_has_contract_columns_in_order():
    df = model_table(40, 120, 30)
    assert list(df.columns)[:9] == [
        "rtt_ha_ms",
        "rtt_bt_ms",
        "rtt_ro_ms",
        "std_send_conserv_ms",
        "std_send_optimst_ms",
        "std_recv_ms",
        "early_send_conserv_ms",
        "early_send_optimst_ms",
        "early_recv_ms",
    ]
    assert len(df) == 1


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "x"])
def test_bad_rtt_is_usage_error(bad):
    with pytest.raises(UsageError):
        model_row(10, bad, 10)


# ---------------------------------------------------------------- sweeps


def test_parse_sweep_inclusive_values():
    sw = parse_sweep("rtt_bt=10:400:10")
    assert sw.variable == "rtt_bt"
    vals = sw.values
    assert len(vals) == 40 and vals[0] == 10 and vals[-1] == 400


def test_parse_sweep_fractional_step_keeps_stop_and_clean_values():
    sw = parse_sweep("RTT-RO=0:1:0.1")
    assert sw.variable == "rtt_ro"
    assert sw.values == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]


def test_parse_sweep_stop_not_on_grid_and_single_value():
    assert parse_sweep("rtt_ha=10:25:10").values == [10, 20]
    assert parse_sweep("rtt_ha=5:5:1").values == [5]


@pytest.mark.parametrize(
    "spec,fragment",
    [
        ("rtt_bt", "VAR=START:STOP:STEP"),
        ("rtt_xx=1:2:1", "must be one of rtt_ha, rtt_bt, rtt_ro"),
        ("rtt_bt=1:2", "VAR=START:STOP:STEP"),
        ("rtt_bt=a:2:1", "START 'a' is not a number"),
        ("rtt_bt=1:2:0", "STEP must be > 0"),
        ("rtt_bt=1:2:-1", "STEP must be > 0"),
        ("rtt_bt=20:10:1", "STOP (10) is below START (20)"),
        ("rtt_bt=-5:10:1", "START cannot be negative"),
        ("rtt_bt=0:1e9:1", "too many"),
        ("rtt_bt=0:inf:1", "finite"),
    ],
)
def test_parse_sweep_errors(spec, fragment):
    with pytest.raises(UsageError) as exc:
        parse_sweep(spec)
    assert fragment in str(exc.value)


def test_sweep_table_one_row_per_value_with_hand_computed_values():
    df = sweep_table(Sweep("rtt_ro", 10, 50, 20), rtt_ha=40, rtt_bt=20)
    assert list(df["rtt_ro_ms"]) == [10, 30, 50]
    # max(40, 20, RO) + RO: 50, 70, 100; early conservative max(40, RO): 40, 40, 50
    assert list(df["std_send_conserv_ms"]) == [50, 70, 100]
    assert list(df["early_send_conserv_ms"]) == [40, 40, 50]
    assert list(df["saving_send_conserv_ms"]) == [10, 30, 50]
    assert set(df["rtt_ha_ms"]) == {40} and set(df["rtt_bt_ms"]) == {20}


def test_sweep_table_needs_the_other_two():
    with pytest.raises(UsageError, match="--rtt-ha"):
        sweep_table(Sweep("rtt_ro", 10, 50, 20), rtt_bt=20)


# ---------------------------------------------------------------- CLI


def test_cli_model_csv_values():
    result = run_cli(
        "model",
        "--rtt-ha",
        "20",
        "--rtt-bt",
        "50",
        "--rtt-ro",
        "90",
        "--format",
        "csv",
        "-q",
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 1
    assert float(rows[0]["std_send_conserv_ms"]) == 180
    assert float(rows[0]["early_send_conserv_ms"]) == 90
    assert float(rows[0]["saving_recv_ms"]) == 90  # 180 - 90


def test_cli_model_json_zero_ratio_is_null():
    result = run_cli("model", "--rtt-ha", "0", "--rtt-bt", "0", "--rtt-ro", "0", "-f", "json", "-q")
    assert result.exit_code == 0, result.output
    (obj,) = json.loads(result.stdout)
    assert obj["ratio_recv"] is None and obj["std_recv_ms"] == 0


def test_cli_model_summary_goes_to_stderr():
    result = run_cli("model", "--rtt-ha", "40", "--rtt-bt", "120", "--rtt-ro", "30", "-f", "csv")
    assert result.exit_code == 0
    assert "early saves 110 ms sending (conservative)" in result.stderr
    assert "early saves" not in result.stdout


def test_cli_sweep_rows(tmp_path):
    out = tmp_path / "sweep.csv"
    result = run_cli(
        "model",
        "--rtt-ha",
        "40",
        "--rtt-ro",
        "30",
        "--sweep",
        "rtt_bt=10:400:10",
        "-f",
        "csv",
        "-o",
        str(out),
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 40
    assert float(rows[-1]["rtt_bt_ms"]) == 400
    assert float(rows[-1]["std_send_optimst_ms"]) == 400  # max(40, 400, 30)


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["--rtt-ha", "40"], "give --rtt-bt, --rtt-ro"),
        (["--rtt-ha", "40", "--rtt-bt", "1", "--rtt-ro", "-3"], "cannot be negative"),
        (
            ["--rtt-ha", "40", "--rtt-bt", "1", "--rtt-ro", "3", "--plot", "x.png"],
            "--plot needs --sweep",
        ),
        (
            ["--rtt-ha", "40", "--rtt-bt", "1", "--rtt-ro", "3", "--sweep", "rtt_bt=1:3:1"],
            "--rtt-bt is swept",
        ),
        (
            ["--rtt-ha", "40", "--rtt-bt", "1", "--sweep", "rtt_ro=3:1:1"],
            "STOP (1) is below START (3)",
        ),
        (
            ["--rtt-ha", "40", "--rtt-bt", "1", "--sweep", "rtt_ro=1:3:1", "--plot", "fig.jpg"],
            ".png, .svg or .pdf",
        ),
    ],
)
def test_cli_usage_errors_exit_2_with_one_line(args, fragment):
    result = run_cli("model", *args)
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_predictions_are_to_the_nanosecond_not_binary_float_sums():
    # RTTs of nanosecond captures have up to six decimals in ms; a sum in binary
    # floating point may carry a tail (110 + 19.999015 is 129.99901499999999), which a
    # CSV prints as it is
    from ebutool.analysis.formulas import predict

    rtt_ro = 19_999_015 / 1e6  # (an RTT of 19,999,015 ns)
    assert repr(110.0 + rtt_ro) == "129.99901499999999"  # (the artefact guarded against)
    got = predict(40.0, 110.0, rtt_ro)
    assert repr(got["std_send_conserv"]) == "129.999015"
    assert repr(got["std_recv"]) == "129.999015"
    assert got["early_recv"] == rtt_ro and got["early_send_optimst"] == 0
    assert predict(None, None, None)["std_send_conserv"] is None
