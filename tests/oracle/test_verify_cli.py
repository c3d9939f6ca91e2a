"""``ebutool verify``: options, outputs, exit statuses, and never a secret in any output."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from tests.support import rr
from tests.support.cli import run_cli
from tests.support.rr import CN, CN2, COA1, COA2, EVIL, KCN, MS, NONCES, RR, T0, S

KCN2 = bytes.fromhex("c3" * 20)


@pytest.fixture()
def files(tmp_path):
    """A genuine capture, one with forgeries, key and nonce files."""
    m = RR()
    genuine = rr.standard(m, COA1, seq=10) + rr.early(m, COA1, COA2, 20, t0_ns=T0 + 10 * S)
    forged = genuine + [
        m.bu(T0 + 20 * S, COA1, 10, 1, 2, send_from=EVIL),  # replayed elsewhere
        m.ebu(T0 + 21 * S, EVIL, 40, 1, kbm=bytes(20)),  # guessed key
        m.hot(T0 + 22 * S, COA2, 3, token=b"\x99" * 8),  # spoofed HoT, index 3
        m.bu(T0 + 23 * S, COA2, 41, 9, 2, kbm=bytes(20)),  # index the table lacks
    ]
    p = {
        "genuine": tmp_path / "genuine.pcap",
        "forged": tmp_path / "forged.pcap",
        "kcn": tmp_path / "kcn.hex",
        "nonces": tmp_path / "nonces.json",
    }
    p["genuine"].write_bytes(rr.pcap(genuine))
    p["forged"].write_bytes(rr.pcap(forged))
    p["kcn"].write_text(KCN.hex() + "\n")
    p["nonces"].write_text(json.dumps({str(i): n.hex() for i, n in NONCES.items()}))
    for key in ("kcn", "nonces"):
        p[key].chmod(0o600)  # keys readable by others draw a warning
    return {k: str(v) for k, v in p.items()}


def invoke(args, env=None):
    return run_cli("verify", *args, env={"EBUTOOL_KCN": "", **(env or {})})


def rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_genuine_capture_with_keys_exits_0(files):
    res = invoke(
        [files["genuine"], "--kcn-file", files["kcn"], "--nonces", files["nonces"], "-f", "csv"]
    )
    assert res.exit_code == 0, res.output
    table = rows(res.stdout)
    assert [r["msg"] for r in table] == [
        "CoT",
        "HoT",
        "BU",
        "BA",
        "HoT",
        "EBU",
        "EBA",
        "CoT",
        "BU",
        "BA",
    ]
    assert {r["verdict"] for r in table} == {"valid"}
    assert list(table[0])[:9] == [
        "frame",
        "time",
        "msg",
        "mn",
        "cn",
        "coa",
        "seq",
        "verdict",
        "reason",
    ]
    assert "valid 10, invalid 0, unverifiable 0" in res.stderr
    assert res.stderr.count("\n") == 1


def test_forgeries_exit_1_with_reasons(files):
    res = invoke(
        [files["forged"], "--kcn-file", files["kcn"], "--nonces", files["nonces"], "-f", "csv"]
    )
    assert res.exit_code == 1, res.output
    table = rows(res.stdout)
    bad = [(r["msg"], r["coa"], r["reason"]) for r in table if r["verdict"] == "invalid"]
    assert bad == [
        ("BU", EVIL, "authenticator mismatch"),
        ("EBU", EVIL, "authenticator mismatch"),
        ("HoT", COA2, "home keygen token does not match Kcn for nonce index 3"),
        ("BU", COA2, "unknown nonce index 9"),
    ]
    assert sum(r["verdict"] == "valid" for r in table) == 10
    assert "valid 10, invalid 4, unverifiable 0" in res.stderr


def test_keyless_mode(files):
    res = invoke([files["genuine"], "-f", "json"])
    assert res.exit_code == 0, res.output
    table = json.loads(res.stdout)
    assert {
        (r["msg"], r["verdict"], r["basis"]) for r in table if r["msg"] not in ("HoT", "CoT")
    } == {(m, "valid", "capture") for m in ("BU", "BA", "EBU", "EBA")}
    assert "keyless" in res.stderr


def test_keyless_token_lifetime_option(tmp_path):
    m = RR()
    path = tmp_path / "old.pcap"
    path.write_bytes(
        rr.pcap(
            [
                m.hot(T0, COA1, 1),
                m.cot(T0 + 220 * S, COA2, 2),
                m.bu(T0 + 220 * S + MS, COA2, 10, 1, 2),
            ]
        )
    )
    # the home token is 220 s old (> MAX_TOKEN_LIFETIME, an MN-side rule) but its nonce
    # (first used 220 s before) is within MAX_NONCE_LIFETIME: stale, not invalid
    res = invoke([str(path), "-f", "csv"])
    assert res.exit_code == 0, res.output
    last = rows(res.stdout)[-1]
    assert (last["verdict"], last["reason"]) == (
        "stale_token",
        "token older than MAX_TOKEN_LIFETIME",
    )
    assert "stale_token 1" in res.stderr
    res = invoke([str(path), "-f", "csv", "--max-token-lifetime", "300"])
    assert res.exit_code == 0 and rows(res.stdout)[-1]["verdict"] == "valid"
    res = invoke([str(path), "--max-token-lifetime", "0"])
    assert res.exit_code == 2 and "MAX_TOKEN_LIFETIME" in res.stderr


def test_nonce_lifetime_option(files, tmp_path):
    m = RR()
    path = tmp_path / "aged.pcap"
    path.write_bytes(
        rr.pcap(
            [
                m.hot(T0, COA1, 1),  # nonce 1 first used here
                m.cot(T0 + 100 * S, COA2, 2),
                m.bu(T0 + 100 * S + MS, COA2, 10, 1, 2),
            ]
        )
    )
    args = [str(path), "--kcn-file", files["kcn"], "--nonces", files["nonces"], "-f", "csv"]
    res = invoke(args)
    assert res.exit_code == 0, res.output
    assert float(rows(res.stdout)[-1]["nonce_age_ms"]) == 100_001.0
    res = invoke(args + ["--max-nonce-lifetime", "90"])
    assert res.exit_code == 1
    assert rows(res.stdout)[-1]["reason"] == "nonce older than MAX_NONCE_LIFETIME"


def test_per_cn_keys_env_and_keys_file(tmp_path, files):
    a, b = RR(), RR(kcn=KCN2, cn=CN2)
    path = tmp_path / "two.pcap"
    path.write_bytes(
        rr.pcap(rr.standard(a, COA1, 10) + rr.standard(b, COA1, 50, t0_ns=T0 + S, ha_seq=51))
    )
    both = [
        "--nonces",
        f"{CN}={files['nonces']}",
        "--nonces",
        f"{CN2}={files['nonces']}",
        "-f",
        "csv",
    ]
    res = invoke([str(path), "--kcn", f"{CN}={KCN.hex()}", "--kcn", f"{CN2}={KCN2.hex()}", *both])
    assert res.exit_code == 0, res.output
    assert {(r["cn"], r["basis"], r["verdict"]) for r in rows(res.stdout)} == {
        (CN, "kcn", "valid"),
        (CN2, "kcn", "valid"),
    }
    # the environment variable, same syntax
    res = invoke([str(path), *both], env={"EBUTOOL_KCN": f"{CN}={KCN.hex()},{CN2}={KCN2.hex()}"})
    assert res.exit_code == 0 and {r["basis"] for r in rows(res.stdout)} == {"kcn"}
    # a wrong key for one CN: only that CN's messages are invalid
    res = invoke([str(path), *both], env={"EBUTOOL_KCN": f"{CN}={KCN.hex()},{CN2}={KCN.hex()}"})
    assert res.exit_code == 1
    assert {r["cn"] for r in rows(res.stdout) if r["verdict"] == "invalid"} == {CN2}
    # one JSON file
    keys = tmp_path / "keys.json"
    keys.write_text(
        json.dumps(
            {
                CN: {"kcn_file": files["kcn"], "nonces": files["nonces"]},
                CN2: {"kcn": KCN2.hex(), "nonces": files["nonces"]},
            }
        )
    )
    res = invoke([str(path), "--keys", str(keys), "-f", "csv"])
    assert res.exit_code == 0 and {r["basis"] for r in rows(res.stdout)} == {"kcn"}


def test_output_file_and_formats(files, tmp_path):
    out = tmp_path / "v.md"
    res = invoke(
        [
            files["genuine"],
            "--kcn-file",
            files["kcn"],
            "--nonces",
            files["nonces"],
            "-f",
            "markdown",
            "-o",
            str(out),
        ]
    )
    assert res.exit_code == 0 and res.stdout == ""
    assert out.read_text().startswith("|") and "authenticator matches" in out.read_text()
    res = invoke([files["genuine"], "-f", "latex", "-q"])
    assert res.exit_code == 0 and "\\toprule" in res.stdout and res.stderr == ""


@pytest.mark.parametrize(
    "args, code, text",
    [
        (["--kcn", "00112233zz"], 2, "--kcn: not a hexadecimal string"),
        (["--kcn", "2001:db8::zz=0011"], 2, "is not an IPv6 address"),
        (["--nonces", "/nonexistent/n.json"], 2, "no such file"),
        (["--kcn-file", "/nonexistent/k.hex"], 2, "no such file"),
    ],
)
def test_bad_options_one_line(files, args, code, text):
    res = invoke([files["genuine"], *args])
    assert res.exit_code == code
    assert text in res.stderr and res.stderr.count("\n") == 1
    assert "00112233" not in res.stderr and "Traceback" not in res.output


def test_unreadable_input_exit_3(tmp_path):
    path = tmp_path / "empty.pcap"
    path.write_bytes(b"")
    res = invoke([str(path)])
    assert res.exit_code == 3 and "Traceback" not in res.output
    assert res.stderr.startswith("ebutool: error:") and res.stderr.count("\n") == 1


def _derived_secrets(m: RR) -> list[bytes]:
    """Kcn, the nonces and what derives from them that the capture does not carry."""
    out = [m.kcn, *m.nonces.values()]
    for i in m.nonces:
        h = m.h(i)
        out += [h, rr.kbm_home_only(h), rr.kbm_rfc4866(h)]
        for coa in (COA1, COA2, EVIL):
            out += [m.c(coa, i), rr.kbm_standard(h, m.c(coa, i))]
    return out


def test_no_key_material_in_any_output(tmp_path):
    m = RR()
    pkts = [
        m.hot(T0, COA1, 3, token=b"\x99" * 8),  # spoofed: the real token is not carried
        m.cot(T0, COA1, 7, token=b"\x98" * 8),
        m.bu(T0 + MS, COA1, 10, 3, 7, kbm=bytes(20)),
        m.ebu(T0 + 2 * MS, COA2, 11, 3, kbm=bytes(20)),
        m.dereg_home(T0 + 3 * MS, 12, 1),
    ]
    cap = rr.pcap(pkts)
    secrets = [s for s in _derived_secrets(m) if s.hex() not in cap.hex()]
    assert len(secrets) > 20 and KCN in secrets and m.h(3) in secrets
    path = tmp_path / "c.pcap"
    path.write_bytes(cap)
    kcn_file = tmp_path / "kcn.hex"
    kcn_file.write_text(KCN.hex())
    nonces = tmp_path / "n.json"
    nonces.write_text(json.dumps({"3": NONCES[3].hex(), "7": NONCES[7].hex()}))
    base = [str(path), "--nonces", str(nonces)]
    texts = []
    for fmt in ("table", "csv", "json", "markdown", "latex"):
        for keyargs, env in (
            (["--kcn-file", str(kcn_file)], {}),
            (["--kcn", KCN.hex()], {}),
            ([], {"EBUTOOL_KCN": KCN.hex()}),
            ([], {}),
        ):
            res = invoke([*base, *keyargs, "-f", fmt], env=env)
            assert res.exit_code == 1, res.output  # the forged messages are invalid
            texts += [res.stdout, res.stderr]
    out = tmp_path / "out.parquet"
    res = invoke([*base, "--kcn-file", str(kcn_file), "-f", "parquet", "-o", str(out)])
    assert res.exit_code == 1
    blobs = [out.read_bytes()]
    # error paths: a malformed key next to a real one, a malformed nonce file
    res = invoke([*base, "--kcn", KCN.hex() + "zz"])
    texts += [res.stdout, res.stderr]
    bad_nonces = tmp_path / "bad.json"
    bad_nonces.write_text(json.dumps({"3": NONCES[3].hex() + "q"}))
    res = invoke([str(path), "--kcn-file", str(kcn_file), "--nonces", str(bad_nonces)])
    assert res.exit_code == 2
    texts += [res.stdout, res.stderr]
    # a real process too (what a terminal or a log would get)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ebutool",
            "verify",
            *base,
            "--kcn-file",
            str(kcn_file),
            "-f",
            "csv",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    texts += [proc.stdout, proc.stderr]
    everything = "\n".join(texts)
    assert "authenticator mismatch" in everything  # the outputs are real
    for s in secrets:
        for form in (s.hex(), s.hex().upper()):
            assert form not in everything
        assert all(s not in b for b in blobs)
