"""Input files whose names are not UTF-8 (octets on Linux: ``b"cap\\xff.pcap"``): every
command reads them and names them readably, ``cap\\xff.pcap`` (the octet as a backslash
escape), on stderr and in CSV, JSON, Parquet, trace and HTML outputs.  They used to end
in 'internal error: UnicodeEncodeError' (exit 4) wherever the name was written.

The commands run as a real process, given the name as octets, as a shell gives it."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from ebutool.core.names import readable_name
from ebutool.report.provenance import read_parquet_provenance
from tests.support.cli import ROOT, SAMPLES

BAD = b"cap\xff.pcap"
SHOWN = "cap\\xff.pcap"

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="octet file names: Linux")


def _run(tmp_path, *args: str | bytes) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "ebutool", *args], capture_output=True, cwd=tmp_path, env=env
    )
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    assert b"internal error" not in done.stderr
    return done


@pytest.fixture
def bad(tmp_path):
    shutil.copy(SAMPLES / "standard.pcap", os.path.join(os.fsencode(tmp_path), BAD))
    shutil.copy(SAMPLES / "mixed.pcap", tmp_path / "mixed.pcap")
    return tmp_path


def test_readable_name():
    assert readable_name(os.fsdecode(BAD)) == SHOWN == readable_name(BAD)
    assert readable_name("caf\u00e9.pcap") == "caf\u00e9.pcap"  # valid UTF-8: unchanged


@pytest.mark.parametrize("command", ["decode", "analyze"])
@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_tables_name_the_file_readably(bad, command, fmt):
    done = _run(bad, command, "-f", fmt, BAD, "mixed.pcap")
    out = done.stdout.decode("utf-8")  # strict: valid UTF-8
    if fmt == "json":
        sources = {row["source"] for row in json.loads(out)}
        assert sources == {SHOWN, "mixed.pcap"}
    else:
        assert SHOWN in out and "mixed.pcap" in out
    if command == "analyze":
        assert f"vantage of {SHOWN}:".encode() in done.stderr


def test_parquet_and_its_provenance(bad):
    _run(bad, "decode", "-f", "parquet", "-o", "o.parquet", BAD, "mixed.pcap")
    assert set(pd.read_parquet(bad / "o.parquet")["source"]) == {SHOWN, "mixed.pcap"}
    prov = read_parquet_provenance(str(bad / "o.parquet"))
    assert prov is not None and prov["inputs"][0]["name"] == SHOWN
    assert SHOWN in prov["command_line"]


def test_extract_then_analyze_the_store(bad):
    _run(bad, "extract", BAD, "mixed.pcap", "-o", "store")
    again = _run(bad, "extract", BAD, "mixed.pcap", "-o", "store")
    assert b"0 extracted, 2 unchanged" in again.stderr  # the part is found again
    parts = sorted(os.listdir(bad / "store" / "parts"))
    assert parts[0].startswith(SHOWN + "-")
    got = pd.read_csv(io.StringIO(_run(bad, "analyze", "-f", "csv", "store").stdout.decode()))
    direct = _run(bad, "analyze", "-f", "csv", BAD, "mixed.pcap").stdout.decode()
    assert set(got["source"]) == {SHOWN, "mixed.pcap"}
    assert len(got) == direct.count("\n") - 1


def test_convert_and_report(bad):
    _run(bad, "convert", BAD, "-o", "t.jsonl")
    header = json.loads((bad / "t.jsonl").read_text("utf-8").splitlines()[0])
    assert header["source"] == SHOWN
    _run(bad, "report", BAD, "-o", "r.html")
    assert SHOWN in (bad / "r.html").read_text("utf-8")


def test_a_missing_file_is_named_readably(bad):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "ebutool", "decode", b"gone\xfe.pcap"],
        capture_output=True,
        cwd=bad,
        env=env,
    )
    assert done.returncode == 3
    assert done.stderr.decode("utf-8") == "ebutool: error: gone\\xfe.pcap: no such file\n"


LITERAL = b"\\xff.pcap"  # a valid UTF-8 name: backslash, x, f, f (not the octet 0xff)


@pytest.mark.parametrize("store", [False, True])
def test_an_octet_and_its_escape_spelled_out_get_two_labels(tmp_path, store):
    """b"\\xff.pcap" and a file literally named "\\xff.pcap" were both labelled
    ``\\xff.pcap``: two inputs, one name in the source column (and each other's base name,
    so not even the paths told them apart).  The backslash is now doubled: the labels
    differ, and each gives its file's name back (ebutool.core.names.name_octets), also
    from a store of the two."""
    from ebutool.core.names import name_octets

    folder = os.fsencode(tmp_path)
    shutil.copy(SAMPLES / "standard.pcap", os.path.join(folder, b"\xff.pcap"))  # 3 standard
    shutil.copy(SAMPLES / "mixed.pcap", os.path.join(folder, LITERAL))  # 11 episodes
    if store:
        _run(tmp_path, "extract", b"\xff.pcap", LITERAL, "-o", "store")
    args = ["store"] if store else [b"\xff.pcap", LITERAL]
    out = _run(tmp_path, "analyze", "-f", "csv", "-q", "-c", "source,kind", *args).stdout
    table = pd.read_csv(io.StringIO(out.decode("utf-8")), keep_default_na=False)
    assert table.groupby("source").size().to_dict() == {"\\xff.pcap": 3, "\\\\xff.pcap": 11}
    assert set(table[table["source"] == "\\xff.pcap"]["kind"]) == {"standard"}
    assert {name_octets(s) for s in table["source"]} == {b"\xff.pcap", LITERAL}


def test_readable_name_is_reversible():
    from ebutool.core.names import name_octets

    for octets in (BAD, LITERAL, b"a\\\\b", b"x\\", "caf\u00e9.pcap".encode(), b"\\\xfe"):
        shown = readable_name(octets)
        assert shown.encode("utf-8") and name_octets(shown) == octets, (octets, shown)
    assert readable_name(b"a\\b.pcap") == "a\\\\b.pcap"
    assert readable_name("plain.pcap") == "plain.pcap"  # nearly every name: unchanged
