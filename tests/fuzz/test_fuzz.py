"""The fuzz harness in CI: a bounded campaign (EBUTOOL_FUZZ_SECONDS, default 60 s), the
field finder on known captures, and every regression input found so far."""

from __future__ import annotations

import json
import os
import random
import struct
import subprocess
import sys

import pytest

from tests.fuzz.fields import capture_fields
from tests.fuzz.harness import REGRESSIONS, ROOT, SAMPLES, Seed, run_case
from tests.fuzz.mutate import mutate

FUZZ_SECONDS = float(os.environ.get("EBUTOOL_FUZZ_SECONDS", "60"))


def test_fields_found_in_a_sample():
    data = (SAMPLES / "standard.pcap").read_bytes()[:2000]
    fields = capture_fields(data)
    kinds = {f.kind for f in fields}
    assert {"len", "type", "ts"} <= kinds
    # the first record's incl_len field (pcap record header, offset 24 + 8)
    assert any(f.offset == 32 and f.size == 4 and f.kind == "len" for f in fields)
    # the samples are raw IPv6 (link type 229): the first packet's IPv6 header at 40
    assert struct.unpack_from("<I", data, 20)[0] == 229
    at = {(f.offset, f.kind) for f in fields}
    assert {(44, "len"), (46, "type")} <= at  # payload length, next header
    assert (80, "type") in at and (81, "len") in at  # the extension header after it
    assert len(fields) > 20


def test_pcapng_fields():
    shb = struct.pack("<IIIHHq", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1) + struct.pack("<I", 28)
    idb_opts = struct.pack("<HHB3x", 9, 1, 6) + struct.pack("<HHq", 14, 8, 0) + b"\0" * 4
    idb_len = 20 + len(idb_opts)
    idb = struct.pack("<IIHHI", 1, idb_len, 1, 0, 65535) + idb_opts + struct.pack("<I", idb_len)
    fields = capture_fields(shb + idb)
    ts = [f for f in fields if f.kind == "ts"]
    assert [(f.offset - 28, f.size) for f in ts] == [(20, 1), (28, 8)]  # tsresol, tsoffset


def test_mutations_change_and_are_reproducible():
    data = (SAMPLES / "mixed.pcap").read_bytes()[:3000]
    a = [mutate(data, random.Random(i)) for i in range(50)]
    b = [mutate(data, random.Random(i)) for i in range(50)]
    assert a == b
    assert sum(m != data for m, _ in a) >= 45
    assert any(name.startswith("field:") for _, names in a for name in names)


@pytest.mark.skipif(FUZZ_SECONDS <= 0, reason="EBUTOOL_FUZZ_SECONDS=0")
def test_bounded_campaign(tmp_path):
    # in a process of its own: a child's peak resident set includes what it inherits,
    # and the test process holds far more than ebutool does
    seed = int.from_bytes(os.urandom(2))
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.fuzz.run",
            "--runs",
            "100000",
            "--seed",
            str(seed),
            "--seconds",
            str(FUZZ_SECONDS),
            "--workdir",
            str(tmp_path),
        ],
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=FUZZ_SECONDS + 600,
    )
    result = json.loads(p.stdout)
    assert result["runs"] >= 5, p.stderr
    assert p.returncode == 0 and result["failures"] == 0, (seed, result["failed_runs"])


REGRESSION_INPUTS = (
    sorted(p for p in REGRESSIONS.glob("crash-*") if p.suffix in (".pcap", ".jsonl"))
    if REGRESSIONS.is_dir()
    else []
)


@pytest.mark.parametrize("path", REGRESSION_INPUTS, ids=lambda p: p.name)
def test_regression(path, tmp_path):
    meta = json.loads(path.with_suffix(".json").read_text())
    keys = tmp_path / "keys.json"
    keys.write_bytes((SAMPLES / "mixed.keys.json").read_bytes())
    keys.chmod(0o600)
    out = run_case(
        tmp_path / "case", path.read_bytes(), Seed(path.name, b"", keys), meta["command"]
    )
    # the peak resident set is checked by the campaign (a lean parent), not here
    assert [x for x in out.problems if not x.endswith(" MB")] == [], (meta, out)
