"""``ebutool synth`` on the command line: outputs, formats, options, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ebutool.capture import open_frames
from ebutool.core.diagnostics import Diagnostics
from tests.support.cli import run_cli

SAMPLE = str(Path(__file__).resolve().parents[2] / "samples" / "early-conservative.toml")


def synth(*args):
    return run_cli("synth", *map(str, args))


def frames(path):
    with open(path, "rb") as fh:
        return [(f.ts_ns, bytes(f.data), f.linktype) for f in open_frames(fh, Diagnostics())]


def test_writes_capture_trace_and_keys(tmp_path):
    out, trace, keys = tmp_path / "o.pcap", tmp_path / "o.jsonl", tmp_path / "k.json"
    res = synth(SAMPLE, "-o", out, "--json", trace, "--keys", keys)
    assert res.exit_code == 0, res.output
    assert "3 handovers" in res.stderr and str(out) in res.stderr
    assert out.read_bytes()[:4] == b"\xd4\xc3\xb2\xa1"  # pcap, microseconds
    lines = [json.loads(x) for x in trace.read_text().splitlines()]
    assert lines[0]["type"] == "header"
    assert sum(x["type"] == "handover" for x in lines) == 3
    table = json.loads(keys.read_text())
    assert list(table) == ["2001:db8:c1::1"] and len(table["2001:db8:c1::1"]["kcn"]) == 40


def test_pcapng_by_extension_or_flag_holds_the_same_packets(tmp_path):
    a, b, c = tmp_path / "a.pcap", tmp_path / "b.pcapng", tmp_path / "c.cap"
    assert synth(SAMPLE, "-o", a, "-q").exit_code == 0
    assert synth(SAMPLE, "-o", b, "-q").exit_code == 0
    assert synth(SAMPLE, "-o", c, "--pcapng", "-q").exit_code == 0
    assert b.read_bytes()[:4] == c.read_bytes()[:4] == b"\x0a\x0d\x0d\x0a"
    assert frames(a) == frames(b) == frames(c)
    assert len(frames(a)) > 100
    d = tmp_path / "d.pcapng"
    assert synth(SAMPLE, "-o", d, "-q").exit_code == 0
    assert d.read_bytes() == b.read_bytes()  # deterministic pcapng too


def test_seed_option_changes_cookies_not_times(tmp_path):
    a, b = tmp_path / "a.pcap", tmp_path / "b.pcap"
    synth(SAMPLE, "-o", a, "-q")
    synth(SAMPLE, "-o", b, "-q", "--seed", 12345)
    fa, fb = frames(a), frames(b)
    assert [t for t, _, _ in fa] == [t for t, _, _ in fb] and fa != fb


def test_protocol_option_reaches_the_simulation(tmp_path):
    # tokens 500 ms old at each handover: with MAX_TOKEN_LIFETIME 0.2 s no EBU is sent
    import ebutool

    out = tmp_path / "o.pcap"
    assert synth(SAMPLE, "-o", out, "-q", "--max-token-lifetime", 0.2).exit_code == 0
    labels = {r.msg for r in ebutool.read_records(out)}
    assert "EBU" not in labels and "BU" in labels


def test_stdout_capture(tmp_path):
    res = synth(SAMPLE, "-o", "-", "-q")
    assert res.exit_code == 0 and res.stdout_bytes[:4] == b"\xd4\xc3\xb2\xa1"


@pytest.mark.parametrize(
    "args, code, words",
    [
        (["missing.toml", "-o", "{tmp}/o.pcap"], 3, "missing.toml: no such file"),
        ([SAMPLE, "-o", "{tmp}/no/such/dir/o.pcap"], 2, "cannot write"),
        ([SAMPLE, "-o", "-", "--json", "-"], 2, "only one of"),
        ([SAMPLE, "-o", "{tmp}/o.pcap", "--max-update-rate", "0"], 2, "--max-update-rate"),
        ([SAMPLE], 2, "--output"),
    ],
)
def test_errors_are_one_line_with_the_right_status(tmp_path, args, code, words):
    res = synth(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert res.exit_code == code, res.output
    assert words in res.stderr and "Traceback" not in res.output
