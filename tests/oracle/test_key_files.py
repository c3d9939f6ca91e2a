"""Keys inputs: size and depth limits, duplicates, nothing echoed, permissions
(issue 12 items 6 and 7, "Keys")."""

from __future__ import annotations

import json
import os

import pytest

from ebutool.core.errors import UsageError
from ebutool.core.keyfile import MAX_KEY_JSON_DEPTH, load_key_json
from ebutool.oracle.keys import load_key_table, load_keys_file, load_nonce_file
from tests.support.cli import SAMPLES
from tests.support.proc import run

KCN = "b22c25b9f1cee43dc71471708e23504566eda0b1"
PCAP = SAMPLES / "mixed.pcap"


def _private(path, text: str):
    path.write_text(text)
    os.chmod(path, 0o600)
    return path


@pytest.mark.parametrize("option", ["--keys", "--nonces", "--kcn-file"])
def test_dev_zero_is_refused_naming_the_limit(option):
    p = run("verify", PCAP, option, "/dev/zero", "-q", timeout=60)
    assert p.returncode == 2, p.stderr
    assert b"larger than" in p.stderr and b"limit" in p.stderr
    assert len(p.stderr.splitlines()) == 1


@pytest.mark.parametrize("text", ["[" * 100_000, '{"*":' * 500 + "1" + "}" * 500])
def test_deep_json_is_refused_naming_the_limit(tmp_path, text):
    f = _private(tmp_path / "k.json", text)
    with pytest.raises(UsageError, match=f"deeper than {MAX_KEY_JSON_DEPTH} levels"):
        load_keys_file(str(f))


def test_duplicate_key_names_the_path_not_the_value(tmp_path):
    f = _private(tmp_path / "k.json", f'{{"*": {{"kcn": "{KCN}", "kcn": "{KCN[::-1]}"}}}}')
    with pytest.raises(UsageError) as exc:
        load_keys_file(str(f))
    assert '"*"' in str(exc.value) and '"kcn" is given twice' in str(exc.value)
    assert KCN not in str(exc.value) and KCN[::-1] not in str(exc.value)


def test_equal_nonce_indices_are_an_error(tmp_path):
    f = _private(tmp_path / "n.json", '{"1": "66fd87c314105a92", "01": "4545c44de7921d5d"}')
    with pytest.raises(UsageError, match="nonce index 1 is given twice") as exc:
        load_nonce_file(str(f))
    assert "66fd87c314105a92" not in str(exc.value) and "4545c44de7921d5d" not in str(exc.value)


def test_unknown_field_names_and_bad_indices_are_not_echoed(tmp_path):
    for body in (
        {"*": {KCN: 1}},
        {"*": {"nonces": {KCN: "66fd87c314105a92"}}},
        {"*": {"nonces": {"1": {"nonce": "66fd87c314105a92", KCN: 2}}}},
    ):
        f = _private(tmp_path / "k.json", json.dumps(body))
        with pytest.raises(UsageError) as exc:
            load_keys_file(str(f))
        assert KCN not in str(exc.value)


def test_duplicate_hidden_name_is_not_echoed(tmp_path):
    f = _private(tmp_path / "k.json", f'{{"*": {{"{KCN}": 1, "{KCN}": 2}}}}')
    with pytest.raises(UsageError, match="given twice") as exc:
        load_key_json(str(f), "--keys")
    assert KCN not in str(exc.value)


def test_kcn_with_a_space_is_not_echoed():
    for args in (
        ["verify", PCAP, "--kcn", "2001:db8:c1::1", KCN],
        ["decode", PCAP, "--kcn", KCN],
        ["decode", PCAP, KCN, PCAP],
    ):
        p = run(*args, "-q")
        assert p.returncode != 0 and p.returncode != 4
        assert KCN.encode() not in p.stderr + p.stdout, p.stderr


def test_keys_file_readable_by_others_warns(tmp_path):
    f = tmp_path / "n.json"
    f.write_text('{"1": "66fd87c314105a92"}')
    os.chmod(f, 0o644)
    table = load_key_table(nonces=[str(f)])
    assert any("group or others" in w and "0644" in w for w in table.warnings)
    os.chmod(f, 0o600)
    assert load_key_table(nonces=[str(f)]).warnings == []
    p = run("verify", PCAP, "--kcn", KCN, "--nonces", f, "-q")
    assert b"warning" not in p.stderr
    os.chmod(f, 0o660)
    p = run("verify", PCAP, "--kcn", KCN, "--nonces", f, "-q")
    assert b"warning: --nonces" in p.stderr and b"0660" in p.stderr
