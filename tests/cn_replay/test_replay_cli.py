"""ebutool replay, command line: formats, files, exit status, and no key material in any output."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys

import pytest

from ebutool.cn_replay import DECISION_COLUMNS, DIVERGENCE_COLUMNS, EXPOSURE_COLUMNS
from tests.cn_replay.test_replay_scenarios import (
    CN,
    CN2,
    KCN,
    MN,
    NONCES,
    Trace,
    careof_token,
    early_handover,
    home_token,
    signed_handover,
    two_cns,
)
from tests.support.cli import run_cli

DATA_MS = [40 + 250 * i for i in range(20)]


@pytest.fixture
def late_bu(tmp_path) -> str:
    """Tentative binding verified at 4230 ms: too late for 3 s, in time for 5 s."""
    tr = Trace()
    early_handover(tr, DATA_MS, bu_ms=4200)
    return tr.write(tmp_path / "late.pcap")


def invoke(*args, env=None):
    return run_cli("replay", *map(str, args), env=env)


def test_csv_exposure_on_stdout_summary_on_stderr(late_bu):
    res = invoke(late_bu, "-f", "csv")
    assert res.exit_code == 1, res.output  # divergences found
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert list(rows[0]) == EXPOSURE_COLUMNS
    assert len(rows) == 1 and rows[0]["verified"] == "False" and rows[0]["end_reason"] == "expired"
    overstay = [t for t in DATA_MS if 31 + 3000 < t < 4230]
    assert int(rows[0]["overstay_packets"]) == int(rows[0]["violations"]) == len(overstay)
    assert "replay:" in res.stderr and "data_after_tentative_lifetime" in res.stderr
    assert "replay:" not in res.stdout


def test_tentative_lifetime_option_changes_the_outcome_and_exit_status(late_bu):
    for opt in ("--tentative-lifetime", "--tentative-binding-lifetime"):
        res = invoke(late_bu, "-f", "json", opt, "5")
        assert res.exit_code == 0, res.output
        data = json.loads(res.stdout)
        assert data[0]["verified"] is True and data[0]["overstay_packets"] == 0
        assert "tentative lifetime 5 s" in res.stderr


def test_divergences_and_decisions_files(late_bu, tmp_path):
    div, dec = tmp_path / "div.csv", tmp_path / "dec.csv"
    res = invoke(late_bu, "-f", "csv", "--divergences", div, "--decisions", dec, "-q")
    assert res.exit_code == 1 and res.stderr == ""
    drows = list(csv.DictReader(div.open()))
    assert list(drows[0]) == DIVERGENCE_COLUMNS
    assert len(drows) == len([t for t in DATA_MS if 3031 < t < 4230])
    assert {r["kind"] for r in drows} == {"data_after_tentative_lifetime"}
    crow = list(csv.DictReader(dec.open()))
    assert list(crow[0]) == DECISION_COLUMNS and [r["action"] for r in crow] == [
        "tentative",
        "regular",
    ]


def test_divergences_to_stdout(late_bu, tmp_path):
    res = invoke(late_bu, "-f", "json", "--divergences", "-", "-o", tmp_path / "exp.json")
    data = json.loads(res.stdout)
    assert {d["kind"] for d in data} == {"data_after_tentative_lifetime"}
    assert json.loads((tmp_path / "exp.json").read_text())[0]["mn"] == MN


@pytest.mark.parametrize(
    "fmt,marker",
    [
        ("table", "tentative_start"),
        ("markdown", "-:|"),
        ("latex", r"\toprule"),
        ("csv", "mn,cn,coa"),
    ],
)
def test_text_formats(late_bu, fmt, marker):
    res = invoke(late_bu, "--format", fmt)
    assert res.exit_code == 1
    assert marker in res.stdout and CN in res.stdout


def test_standard_policy(late_bu, tmp_path):
    div = tmp_path / "d.json"
    res = invoke(late_bu, "--cn-policy", "standard", "-f", "json", "--divergences", div)
    assert res.exit_code == 1 and json.loads(res.stdout) == []
    kinds = [d["kind"] for d in json.loads(div.read_text())]
    assert kinds[0] == "eba_unexpected"
    assert kinds.count("data_to_unbound_coa") == len([t for t in DATA_MS if t < 4230])


def test_clean_trace_exit_0(tmp_path):
    tr = Trace()
    early_handover(tr, [50, 60, 200], bu_ms=100)
    res = invoke(tr.write(tmp_path / "ok.pcap"), "-f", "csv")
    assert res.exit_code == 0, res.output
    assert list(csv.DictReader(io.StringIO(res.stdout)))[0]["verified"] == "True"


@pytest.mark.parametrize(
    "args",
    [
        ["--cn-policy", "lenient"],
        ["--cn-policy", "2001:db8::zz=early"],
        ["--cn-policy", f"{CN}=lenient"],
        ["--cn-policy", "early", "--cn-policy", "standard"],  # two defaults
        ["--tentative-lifetime", "-1"],
        ["--tentative-lifetime", "soon"],
        ["--divergences", "-"],  # two tables on stdout
        ["--early-trusted", "not-an-address"],
        ["--kcn", "zz"],
    ],
)
def test_usage_errors_exit_2(late_bu, args):
    res = invoke(late_bu, *args)
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output


def test_unreadable_input_exit_3(tmp_path):
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"this is not a capture at all")
    for path in (junk, tmp_path / "missing.pcap"):
        res = invoke(path)
        assert res.exit_code == 3
        assert res.stderr.startswith("ebutool: error:") and res.stderr.count("\n") == 1


def test_subprocess_exit_status_and_streams(late_bu):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ebutool",
            "replay",
            late_bu,
            "-f",
            "csv",
            "--tentative-lifetime",
            "5",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0
    assert proc.stdout.splitlines()[0] == ",".join(EXPOSURE_COLUMNS)
    assert "Traceback" not in proc.stderr and "replay:" in proc.stderr


def _secrets() -> list[str]:
    h = home_token(MN, 1)
    c = careof_token("2001:db8:2::100", 2)
    values = [KCN, *NONCES.values(), h, c, hashlib.sha1(h).digest(), hashlib.sha1(h + c).digest()]
    return [v.hex() for v in values]


@pytest.mark.parametrize("fmt", ["table", "csv", "json", "markdown", "latex"])
def test_output_never_contains_key_material(tmp_path, fmt):
    pcap = signed_handover(bad_ebu_mac=True).write(tmp_path / "s.pcap")
    nonces = tmp_path / "nonces.json"
    nonces.write_text(json.dumps({str(i): v.hex() for i, v in NONCES.items()}))
    div, dec = tmp_path / "div.out", tmp_path / "dec.out"
    res = invoke(
        pcap,
        "--kcn",
        f"{CN}={KCN.hex()}",
        "--nonces",
        f"{CN}={nonces}",
        "-f",
        fmt,
        "--divergences",
        div,
        "--decisions",
        dec,
    )
    assert res.exit_code == 1, res.output  # the forged EBU was answered by the CN
    text = (res.stdout + res.stderr + div.read_text() + dec.read_text()).lower()
    assert "kcn" in text or "discarded" in text  # the run did use the keys
    for secret in _secrets():
        assert secret not in text
        assert ":".join(secret[i : i + 2] for i in range(0, len(secret), 2)) not in text


def test_keys_from_environment_and_file(tmp_path):
    pcap = signed_handover().write(tmp_path / "s.pcap")
    keys = tmp_path / "keys.json"
    keys.write_text(
        json.dumps({CN: {"kcn": KCN.hex(), "nonces": {str(i): v.hex() for i, v in NONCES.items()}}})
    )
    dec = tmp_path / "dec.json"
    res = invoke(pcap, "--keys", keys, "-f", "json", "--decisions", dec)
    assert res.exit_code == 0, res.output
    assert [d["basis"] for d in json.loads(dec.read_text())] == ["kcn", "kcn"]
    res = invoke(pcap, "-f", "json", "--decisions", dec, env={"EBUTOOL_KCN": KCN.hex()})
    assert res.exit_code == 0
    text = res.stdout + res.stderr + dec.read_text()
    assert KCN.hex() not in text.lower()


def test_per_cn_policy_option(tmp_path):
    """A capture with an early-capable CN and a legacy one: a global early policy finds
    the legacy CN's missing EBA (unobservable: exit 1 only with --strict); ADDR=standard for
    it, or 'observed', does not."""
    path = two_cns(sign=True).write(tmp_path / "two.pcap")
    keys = tmp_path / "keys.json"
    entry = {"kcn": KCN.hex(), "nonces": {str(i): v.hex() for i, v in NONCES.items()}}
    keys.write_text(json.dumps({CN: entry, CN2: entry}))
    for strict, code in (([], 0), (["--strict"], 1)):
        res = invoke(
            path,
            "--keys",
            keys,
            "--divergences",
            "-",
            "-o",
            tmp_path / "x.csv",
            "-f",
            "csv",
            *strict,
        )
        assert res.exit_code == code, res.output
        assert [(r["cn"], r["kind"]) for r in csv.DictReader(io.StringIO(res.stdout))] == [
            (CN2, "unobservable_eba_missing")
        ]
        assert (
            "divergences 0 (none); unobservable from the MN 1 (unobservable_eba_missing 1)"
            in res.stderr
        )
    for args in (
        ["--cn-policy", f"{CN2}=standard"],
        ["--cn-policy", "standard", "--cn-policy", f"{CN}=early"],
        ["--cn-policy", "observed"],
    ):
        res = invoke(path, "--keys", keys, *args, "-f", "csv")
        assert res.exit_code == 0, (args, res.output)
        assert [r["cn"] for r in csv.DictReader(io.StringIO(res.stdout))] == [
            CN
        ]  # one tentative binding
    assert f"{CN2} standard [observed: answered 0 of 1 EBUs]" in res.stderr
