"""analyze's auth column follows the CN oracle's verdicts under the key options."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.support.cli import SAMPLES, run_cli

SAMPLE = SAMPLES / "early-conservative.pcap"
KEYS = SAMPLES / "early-conservative.keys.json"

pytestmark = pytest.mark.skipif(not SAMPLE.exists(), reason="sample not generated")


def _auth(args) -> list[str]:
    result = run_cli("analyze", str(SAMPLE), "-f", "json", "-q", *args)
    assert result.exit_code == 0, result.output
    return [row["auth"] for row in json.loads(result.stdout)]


def test_right_keys_give_valid():
    auth = _auth(["--keys", str(KEYS)])
    assert auth and set(auth) == {"valid"}


def test_wrong_kcn_gives_invalid_and_is_never_printed(tmp_path):
    keys = json.loads(KEYS.read_text())
    wrong = "00" * 20
    for entry in keys.values():
        entry["kcn"] = wrong
    path = tmp_path / "wrong.json"
    path.write_text(json.dumps(keys))
    result = run_cli("analyze", str(SAMPLE), "-f", "csv", "--keys", str(path))
    assert result.exit_code == 0
    assert wrong not in result.output
    from io import StringIO

    df = pd.read_csv(StringIO(result.stdout))
    assert set(df["auth"]) == {"invalid"}
