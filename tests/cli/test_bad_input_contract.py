"""The bad-input contract (README "Exit status" and "Diagnostics"), for every command.

Bad input that stops a run gives ONE line on stderr starting with ``ebutool: error:`` and
the documented exit status (2 usage, 3 unreadable input), never a traceback, nothing on
stdout; a problem with one packet gives exit status 0 (1 for verify/replay findings), a
counted warning naming its frame (or trace line), and a stdout that still parses.

Two layers: real processes (``python -m ebutool``, the way users meet the contract) for a
systematic diagonal of command x kind of bad input, and typer's CliRunner (in-process,
fast) for the full cross product of input-reading commands x bad inputs.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.capbuild import pcapng_bytes
from tests.support.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
SHARED = ROOT.parent / "shared" / "captures"
PCAP = SAMPLES / "early-conservative.pcap"
JSONL = SAMPLES / "early-conservative.jsonl"
TOML = SAMPLES / "early-conservative.toml"
KEYS = SAMPLES / "early-conservative.keys.json"
CN = "2001:db8:c1::1"
MISSING_DIR_OUT = "/nonexistent-ebutool-dir/sub/x.csv"

# Commands that read a capture or trace (FILE argument).
INPUT_COMMANDS = ["decode", "convert", "analyze", "verify", "replay", "compare", "timeline"]
TABLE_COMMANDS = ["decode", "analyze", "verify", "replay", "compare", "timeline"]


# --- bad inputs, built once per module -----------------------------------------------------------
def _pcap_records(data: bytes) -> list[int]:
    """Offsets of the record headers of a little-endian pcap."""
    offs, pos = [], 24
    while pos + 16 <= len(data):
        offs.append(pos)
        pos += 16 + struct.unpack_from("<I", data, pos + 8)[0]
    return offs


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("bad")
    pcap = PCAP.read_bytes()
    recs = _pcap_records(pcap)
    mid = recs[len(recs) // 2]
    files: dict[str, bytes] = {
        "trunc_header.pcap": pcap[:10],  # inside the global header
        "trunc_midrecord.pcap": pcap[: mid + 16 + 20],  # inside a record's data
        "trunc_rechdr.pcap": pcap[: mid + 5],  # inside a record header
        "trunc_early.pcap": pcap[: recs[3] + 5],  # before the first handover
        "empty.pcap": b"",
        "garbage.bin": bytes(range(256)) * 4,
        "garbage.jsonl": b"{this is not json\n{{{{\nhello\n",
        "blank.jsonl": b"\n  \n\n",
    }
    lt = bytearray(pcap)
    struct.pack_into("<I", lt, 20, 147)  # LINKTYPE_USER0
    files["linktype147.pcap"] = bytes(lt)
    corrupt = bytearray(pcap)
    struct.pack_into("<I", corrupt, recs[5] + 8, 0x7FFFFFFF)  # impossible captured length
    files["corrupt_len.pcap"] = bytes(corrupt)
    frames = [
        (
            struct.unpack_from("<I", pcap, o)[0] * 10**9
            + struct.unpack_from("<I", pcap, o + 4)[0] * 1000,
            pcap[o + 16 : o + 16 + struct.unpack_from("<I", pcap, o + 8)[0]],
        )
        for o in recs
    ]
    linktype = struct.unpack_from("<I", pcap, 20)[0]
    # Every tenth packet on an interface of an unknown link type (147): skipped and counted.
    ng = pcapng_bytes(
        [(linktype, None), (147, None)],
        [(1 if i % 10 == 0 else 0, ts, data) for i, (ts, data) in enumerate(frames)],
    )
    files["iface147.pcapng"] = ng
    files["trunc_header.pcapng"] = ng[:20]
    lines = JSONL.read_bytes().splitlines()
    half = len(lines) // 2
    files["brokenline.jsonl"] = (
        b"\n".join(lines[:half] + [b'{"type": "packet", broken'] + lines[half:]) + b"\n"
    )
    # absurd times: a 1E999999999 ns time (int() of it never ends) and 1e300 s (overflows floats)
    huge = [
        lines[half].replace(b'"time_ns":', b'"time_ns":1E999999999,"x_was":'),
        re.sub(rb'"time_ns":\d+', b'"time":1e300', lines[half + 1]),
    ]
    assert huge[0] != lines[half] and huge[1] != lines[half + 1]
    files["hugetime.jsonl"] = b"\n".join(lines[:half] + huge + lines[half + 2 :]) + b"\n"
    files["cut.jsonl"] = JSONL.read_bytes()[
        : len(JSONL.read_bytes()) // 2
    ]  # last line cut mid-object
    keys = json.loads(KEYS.read_text())
    entry = keys[CN]
    files["badhex.keys.json"] = json.dumps({CN: {**entry, "kcn": "zz" * 20}}).encode()
    files["shortkcn.keys.json"] = json.dumps({CN: {**entry, "kcn": "ab" * 5}}).encode()
    files["notjson.nonces"] = b"this is not JSON"
    # a nonce "generated" 1e300 s after the epoch: no int64 nanosecond time holds it
    far = {
        k: {**v, "generated": 1e300} if isinstance(v, dict) else v
        for k, v in entry["nonces"].items()
    }
    files["fartime.keys.json"] = json.dumps({CN: {**entry, "nonces": far}}).encode()
    files["kcn.hex"] = entry["kcn"].encode() + b"\n"
    toml = TOML.read_text()
    files["syntax.toml"] = (toml + "\n[[[broken\n").encode()
    files["unknown_node.toml"] = toml.replace(
        'network = "wlan-b"', 'network = "wlan-zz"', 1
    ).encode()
    files["negative_delay.toml"] = toml.replace("ha_delay_ms = 20", "ha_delay_ms = -20", 1).encode()
    assert (
        files["unknown_node.toml"] != toml.encode()
        and files["negative_delay.toml"] != toml.encode()
    )
    out = {}
    for name, data in files.items():
        (d / name).write_bytes(data)
        out[name] = str(d / name)
    (d / "adir").mkdir()
    (d / "adir.png").mkdir()
    out["adir"], out["adir.png"] = str(d / "adir"), str(d / "adir.png")
    out["missing.pcap"] = str(d / "missing.pcap")
    out["tmp"] = str(d)
    return out


# --- running and checking -------------------------------------------------------------------------
ENV = {k: v for k, v in os.environ.items() if k != "EBUTOOL_DEBUG"}


def run(*args, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ebutool", *map(str, args)],
        cwd=ROOT,
        env=ENV,
        input=stdin if stdin is not None else b"",
        capture_output=True,
        timeout=120,
    )


def _text(p) -> tuple[int, str, str]:
    if isinstance(p, subprocess.CompletedProcess):
        return (
            p.returncode,
            p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"),
        )
    return p.exit_code, p.stdout, p.stderr


def _inproc(*args, stdin: bytes | None = None):
    res = run_cli(*args, input=stdin)
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    return res


@pytest.fixture
def call(monkeypatch):
    """call(via, *args): via "proc" runs python -m ebutool, "cli" typer's CliRunner."""
    monkeypatch.delenv("EBUTOOL_DEBUG", raising=False)

    def go(via: str, *args, stdin: bytes | None = None):
        return run(*args, stdin=stdin) if via == "proc" else _inproc(*args, stdin=stdin)

    return go


def assert_error(p, status: int, *needles: str, after_warnings: bool = False) -> str:
    """Exit ``status``, no traceback, nothing on stdout, and the diagnosis one line starting
    with "ebutool: error:" (alone on stderr unless per-packet warnings came first)."""
    code, out, err = _text(p)
    assert "Traceback" not in err, err
    assert code == status, (code, err)
    assert out == "", out[:300]
    lines = err.splitlines()
    assert lines and all(line.startswith("ebutool:") for line in lines), err
    errors = [line for line in lines if line.startswith("ebutool: error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], err
    if not after_warnings:
        assert len(lines) == 1, err
    assert "internal error" not in err, err
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])
    return errors[0]


def assert_warned(p, code_name: str, status: int | tuple = 0, where: str = "frame") -> str:
    """Exit ``status`` (or one of them); ``code_name`` counted on the warnings line and at
    least one kept diagnosis naming its frame (or, for a JSON Lines trace, its line)."""
    code, out, err = _text(p)
    assert "Traceback" not in err, err
    assert code in (status if isinstance(status, tuple) else (status,)), (code, err)
    lines = err.splitlines()
    assert all(line.startswith("ebutool:") for line in lines), err
    assert not any(line.startswith("ebutool: error:") for line in lines), err
    counts = [line for line in lines if line.startswith("ebutool: warnings:")]
    assert len(counts) == 1 and re.search(rf"\b{code_name} \d+", counts[0]), err
    assert re.search(rf"^ebutool:   {code_name}: {where} \d+", err, re.M), err
    return out


def parse(out: str, fmt: str):
    """stdout parses in its format: csv rows of one width, json a list, jsonl objects."""
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(out)))
        assert rows and all(len(r) == len(rows[0]) for r in rows), out[:300]
        return rows
    if fmt == "json":
        data = json.loads(out)
        assert isinstance(data, list)
        return data
    assert fmt == "jsonl"
    objs = [json.loads(line) for line in out.splitlines()]
    assert objs and objs[0]["type"] == "header"
    return objs


def _args(cmd: str, file: str, fmt: str | None = None) -> list[str]:
    args = [cmd, file]
    if fmt and cmd != "convert":
        args += ["-f", fmt]
    return args


# === 1. real processes ============================================================================
# Run-ending input problems, every input command, each kind of input at least twice.
FATAL_INPUT = [
    ("decode", "trunc_header.pcap", "cut short"),
    ("decode", "garbage.jsonl", "not a JSON Lines trace"),
    ("convert", "linktype147.pcap", "link type 147 (USER0) is not supported"),
    ("convert", "empty.pcap", "empty file"),
    ("analyze", "garbage.bin", "not a pcap or pcapng capture"),
    ("analyze", "trunc_header.pcapng", "cut short"),
    ("verify", "linktype147.pcap", "link type 147"),
    ("verify", "adir", "is a directory"),
    ("replay", "empty.pcap", "empty file"),
    ("replay", "garbage.jsonl", "not a JSON Lines trace"),
    ("compare", "trunc_header.pcap", "cut short"),
    ("compare", "missing.pcap", "no such file"),
    ("timeline", "garbage.bin", "not a pcap or pcapng capture"),
    ("timeline", "trunc_header.pcapng", "cut short"),
]


@pytest.mark.parametrize(
    "cmd,name,needle", FATAL_INPUT, ids=[f"{c}-{n}" for c, n, _ in FATAL_INPUT]
)
def test_unreadable_input_exits_3_with_one_line(bad, cmd, name, needle):
    assert_error(run(*_args(cmd, bad[name], "csv")), 3, needle)


# Per-packet problems: exit 0, counted warning with a frame, stdout still parses.
PER_PACKET = [
    ("decode", "trunc_midrecord.pcap", "truncated_record", "csv"),
    ("decode", "iface147.pcapng", "unsupported_linktype", "json"),
    ("convert", "trunc_rechdr.pcap", "truncated_record", "jsonl"),
    ("convert", "brokenline.jsonl", "bad_trace_json", "jsonl"),
    ("analyze", "trunc_midrecord.pcap", "truncated_record", "json"),
    ("analyze", "brokenline.jsonl", "bad_trace_json", "csv"),
    ("verify", "iface147.pcapng", "unsupported_linktype", "csv"),
    ("verify", "cut.jsonl", "bad_trace_json", "json"),
    ("replay", "trunc_midrecord.pcap", "truncated_record", "csv"),
    ("replay", "corrupt_len.pcap", "corrupt_record", "json"),
    ("compare", "iface147.pcapng", "unsupported_linktype", "csv"),
    ("compare", "brokenline.jsonl", "bad_trace_json", "json"),
    ("timeline", "trunc_midrecord.pcap", "truncated_record", "csv"),
    ("timeline", "brokenline.jsonl", "bad_trace_json", "json"),
]


@pytest.mark.parametrize(
    "cmd,name,code,fmt", PER_PACKET, ids=[f"{c}-{n}-{f}" for c, n, _, f in PER_PACKET]
)
def test_per_packet_problem_is_a_counted_warning_and_stdout_parses(bad, cmd, name, code, fmt):
    where = "line" if name.endswith(".jsonl") else "frame"
    out = assert_warned(run(*_args(cmd, bad[name], fmt)), code, where=where)
    parse(out, fmt)


def test_third_party_fuzzed_capture_warns_per_packet():
    fuzzed = SHARED / "tcpdump" / "mobility_opt_asan_2.pcap"
    if not fuzzed.exists():
        pytest.skip("../shared/captures not present")
    parse(assert_warned(run("decode", fuzzed, "-f", "csv"), "malformed_mh"), "csv")


@pytest.mark.parametrize("cmd", INPUT_COMMANDS)
def test_stdin_dash_reads_a_truncated_capture(bad, cmd):
    fmt = "jsonl" if cmd == "convert" else "csv"
    p = run(*_args(cmd, "-", fmt), stdin=Path(bad["trunc_midrecord.pcap"]).read_bytes())
    parse(assert_warned(p, "truncated_record"), fmt)


@pytest.mark.parametrize(
    "cmd,stdin,needle",
    [
        ("decode", b"", "empty"),
        ("analyze", bytes(range(256)), "not a pcap or pcapng capture"),
        ("convert", b"{garbage\n", "not a JSON Lines trace"),
        ("timeline", b"", "empty"),
    ],
)
def test_stdin_empty_or_garbage_exits_3(cmd, stdin, needle):
    assert_error(run(cmd, "-", stdin=stdin), 3, needle)


# Key material (verify, analyze, replay): exit 2, one line, never the value.
def test_keys_bad_hex(bad):
    line = assert_error(
        run("verify", PCAP, "--keys", bad["badhex.keys.json"]), 2, "not a hexadecimal"
    )
    assert "zz" not in line


def test_keys_missing_file(bad):
    assert_error(run("analyze", PCAP, "--keys", bad["missing.pcap"]), 2, "no such file")


def test_keys_nonce_file_not_json(bad):
    assert_error(
        run("replay", PCAP, "--kcn-file", bad["kcn.hex"], "--nonces", bad["notjson.nonces"]),
        2,
        "not JSON",
    )


@pytest.mark.parametrize("via,cmd", [("proc", "verify"), ("cli", "replay"), ("cli", "analyze")])
def test_keys_nonce_time_out_of_range_exits_2(bad, call, via, cmd):
    # was: verify internal error (exit 4), replay/analyze an oracle_error on every message
    assert_error(call(via, cmd, PCAP, "--keys", bad["fartime.keys.json"]), 2, '"generated"')


def test_keys_directory(bad, invoke):
    assert_error(invoke("verify", PCAP, "--keys", bad["adir"]), 2, "is a directory")


def test_kcn_of_wrong_length_is_a_note_not_a_crash(bad):
    code, out, err = _text(run("verify", PCAP, "--keys", bad["shortkcn.keys.json"], "-f", "csv"))
    assert "Traceback" not in err and code == 1  # every MAC now fails: findings, not an error
    assert "ebutool: note: the Kcn for correspondent node 2001:db8:c1::1 is 5 octets" in err
    parse(out, "csv")


def test_analyze_shows_the_key_notes_too(bad, invoke):
    # analyze takes the same key options as verify: a Kcn of the wrong length must not
    # silently change its auth column without the note verify gives.
    res = invoke("analyze", PCAP, "--keys", bad["shortkcn.keys.json"], "-f", "csv")
    assert res.exit_code == 0 and "Traceback" not in res.stderr
    assert "ebutool: note: the Kcn for correspondent node 2001:db8:c1::1 is 5 octets" in res.stderr
    parse(res.stdout, "csv")


def _fill(args, bad):
    """Replace {name} (dots as underscores) by the path of a bad input."""
    names = {k.replace(".", "_"): v for k, v in bad.items()}
    return [a.format(**names) if isinstance(a, str) else a for a in args]


# synth: scenario problems exit 3, output/option problems exit 2.
@pytest.mark.parametrize(
    "via,name,needle",
    [
        ("proc", "syntax.toml", "not valid TOML"),
        ("proc", "unknown_node.toml", "'wlan-zz' is not a [[network]]"),
        ("proc", "negative_delay.toml", "must be >= 0"),
        ("cli", "missing.pcap", "no such file"),
        ("cli", "adir", "is a directory"),
        ("cli", "garbage.bin", "not a text"),
    ],
)
def test_synth_bad_scenario_exits_3(bad, call, via, name, needle):
    assert_error(call(via, "synth", bad[name], "-o", Path(bad["tmp"]) / "s.pcap"), 3, needle)


@pytest.mark.parametrize(
    "via,extra,needle",
    [
        ("proc", ["-o", MISSING_DIR_OUT], "cannot write"),
        ("cli", ["-o", "{tmp}/s.pcap", "--json", "{adir}"], "cannot write"),
        ("cli", ["-o", "-", "--keys", "-"], "only one of"),
        ("cli", ["-o", "{tmp}/s.pcap", "--max-update-rate", "inf"], "--max-update-rate"),
        ("cli", ["-o", "{tmp}/s.pcap", "--seed", "-1"], "--seed"),
        ("cli", [], "--output"),
    ],
)
def test_synth_bad_options_exit_2(bad, call, via, extra, needle):
    assert_error(call(via, "synth", TOML, *_fill(extra, bad)), 2, needle)


# model: every option value problem is one line, exit 2.
RTTS = ["--rtt-ha", "40", "--rtt-bt", "120"]


@pytest.mark.parametrize(
    "via,args,needle",
    [
        ("proc", ["--sweep", "rtt_ro"], "expected VAR=START:STOP:STEP"),
        ("cli", ["--sweep", "rtt_xx=1:2:1"], "must be one of"),
        ("cli", ["--sweep", "rtt_ro=1:10:0"], "STEP must be > 0"),
        ("proc", ["--sweep", "rtt_ro=a:b:c"], "not a number"),
        ("cli", ["--sweep", "rtt_ro=0:inf:1"], "must be finite"),
        ("proc", ["--rtt-ro", "soon"], "--rtt-ro"),
        ("cli", ["--rtt-ro", "-5"], "cannot be negative"),
        ("cli", ["--rtt-ro", "nan"], "finite"),
        ("cli", ["--sweep", "rtt_ro=0:10:1", "--plot", "{adir_png}"], "cannot write"),
        ("cli", ["--sweep", "rtt_ro=0:10:1", "--plot", "{tmp}/x.gif"], ".png, .svg or .pdf"),
    ],
)
def test_model_bad_values_exit_2(bad, call, via, args, needle):
    assert_error(call(via, "model", *RTTS, *_fill(args, bad)), 2, needle)


# Option problems caught by the command line parser itself: one line too (README "Every
# error is one line on stderr").
@pytest.mark.parametrize(
    "via,args,needle",
    [
        ("proc", ["decode", PCAP, "-f", "bogus"], "--format"),
        ("proc", ["analyze", PCAP, "--no-such-option"], "--no-such-option"),
        ("cli", ["verify"], "Missing argument"),
        ("cli", ["timeline", PCAP, "--episode", "0"], "--episode"),
        ("cli", ["compare", PCAP, "--by", "bogus"], "--by"),
        ("proc", ["analyze", PCAP, "--max-nonce-lifetime", "abc"], "--max-nonce-lifetime"),
    ],
)
def test_parser_usage_errors_are_one_line(call, via, args, needle):
    line = assert_error(call(via, *args), 2, needle)
    assert "-h" in line  # where to look next, on the same line


@pytest.mark.parametrize(
    "args,needle",
    [
        (["analyze", PCAP, "--mn", "not-an-address"], "not an IPv6 address"),
        (["compare", PCAP, "--cn", "not-an-address"], "not an IPv6 address"),
        (["timeline", PCAP, "--mn", "not-an-address"], "not an IPv6 address"),
        (["replay", PCAP, "--early-trusted", "not-an-address"], "not an IPv6 address"),
        (["timeline", PCAP, "--episode", "99"], "no episode 99"),
        (["compare", PCAP, "--plot-kind", "box"], "--plot-kind needs --plot"),
        (["replay", PCAP, "--cn-policy", "bogus"], "--cn-policy"),
    ],
)
def test_bad_addresses_and_choices_exit_2(invoke, args, needle):
    assert_error(invoke(*args), 2, needle)


# Protocol constants: a negative, NaN or infinite value is a usage error on every command.
@pytest.mark.parametrize(
    "via,cmd,opt,value",
    [
        ("proc", "analyze", "--initial-bindack-timeout", "nan"),
        ("cli", "analyze", "--tentative-binding-lifetime", "-1"),
        ("proc", "verify", "--max-token-lifetime", "inf"),
        ("cli", "replay", "--max-token-lifetime", "1e400"),
        ("cli", "compare", "--max-rr-binding-lifetime", "nan"),
        ("cli", "timeline", "--max-update-rate", "-1"),
    ],
)
def test_protocol_constant_out_of_range_exits_2(call, via, cmd, opt, value):
    assert_error(call(via, cmd, PCAP, opt, value), 2, opt)


# Outputs that cannot be written: exit 2, one line, nothing half-written on stdout.
OUTPUT_CASES = [
    ("proc", ["decode", PCAP, "-f", "csv"]),
    ("cli", ["convert", PCAP]),
    ("proc", ["analyze", PCAP, "-f", "json"]),
    ("cli", ["verify", PCAP, "-f", "csv"]),
    ("cli", ["replay", PCAP, "-f", "csv"]),
    ("cli", ["compare", PCAP, "-f", "csv"]),
    ("cli", ["timeline", PCAP, "-f", "csv"]),
    ("cli", ["timeline", PCAP, "-e", "1", "-o", "/nonexistent-ebutool-dir/x.txt"]),
    ("cli", ["model", *RTTS, "--rtt-ro", "30"]),
    ("proc", ["model", *RTTS, "--rtt-ro", "30", "-f", "parquet"]),
]


@pytest.mark.parametrize(
    "via,args", OUTPUT_CASES, ids=[f"{v}-{a[0]}-{a[-1]}" for v, a in OUTPUT_CASES]
)
def test_output_into_missing_directory_exits_2(call, via, args):
    if "-o" not in args:
        args = [*args, "-o", MISSING_DIR_OUT]
    assert_error(call(via, *args), 2, "/nonexistent-ebutool-dir/")


def test_output_onto_a_directory_exits_2(bad):
    assert_error(run("verify", PCAP, "-f", "csv", "-o", bad["adir"]), 2, bad["adir"])


def test_replay_second_table_unwritable_exits_2(bad, invoke):
    res = invoke(
        "replay",
        PCAP,
        "-f",
        "csv",
        "-o",
        Path(bad["tmp"]) / "exposure.csv",
        "--divergences",
        MISSING_DIR_OUT,
    )
    assert_error(res, 2, MISSING_DIR_OUT)


def test_timeline_keeps_the_warnings_that_explain_no_episode(bad):
    # The capture is cut before any episode: nothing to draw (exit 0, issue 15), and the
    # message must not hide why.
    p = run("timeline", bad["trunc_early.pcap"])
    assert_nothing_to_draw(p)
    assert "ebutool:   truncated_record: frame" in _text(p)[2]


def assert_nothing_to_draw(p) -> None:
    """Exit 0, nothing on stdout, the warnings first and "nothing to draw" last."""
    code, out, err = _text(p)
    assert "Traceback" not in err, err
    assert code == 0 and out == "", (code, err)
    lines = err.splitlines()
    assert "no binding-update episode" in lines[-1] and "nothing to draw" in lines[-1], err
    assert not any(line.startswith("ebutool: error:") for line in lines), err


def test_stdin_twice_is_a_usage_error():
    assert_error(run("compare", "-", "-", stdin=PCAP.read_bytes()), 2, "'-'")


# === 2. in process: the full cross product of input commands x bad inputs =========================
ALL_FATAL = {
    "trunc_header.pcap": "cut short",
    "trunc_header.pcapng": "cut short",
    "linktype147.pcap": "link type 147",
    "empty.pcap": "empty file",
    "garbage.bin": "not a pcap or pcapng capture",
    "garbage.jsonl": "not a JSON Lines trace",
    "blank.jsonl": "only blank lines",
    "adir": "is a directory",
    "missing.pcap": "no such file",
}
ALL_PER_PACKET = {
    "trunc_midrecord.pcap": "truncated_record",
    "trunc_rechdr.pcap": "truncated_record",
    "trunc_early.pcap": "truncated_record",
    "iface147.pcapng": "unsupported_linktype",
    "corrupt_len.pcap": "corrupt_record",
    "brokenline.jsonl": "bad_trace_json",
    "cut.jsonl": "bad_trace_json",
    "hugetime.jsonl": "bad_trace_record",
}


@pytest.fixture
def invoke(call):
    return lambda *args, stdin=None: call("cli", *args, stdin=stdin)


@pytest.mark.parametrize("name", sorted(ALL_FATAL))
@pytest.mark.parametrize("cmd", INPUT_COMMANDS)
def test_matrix_fatal(bad, invoke, cmd, name):
    assert_error(invoke(*_args(cmd, bad[name], "csv")), 3, ALL_FATAL[name])


@pytest.mark.parametrize("name", sorted(ALL_PER_PACKET))
@pytest.mark.parametrize("cmd", INPUT_COMMANDS)
def test_matrix_per_packet(bad, invoke, cmd, name):
    fmt = "jsonl" if cmd == "convert" else "csv"
    res = invoke(*_args(cmd, bad[name], fmt))
    if cmd == "timeline" and name in ("trunc_early.pcap", "corrupt_len.pcap"):
        # cut before the first episode: nothing to draw (exit 0), the warning still shown
        assert_nothing_to_draw(res)
        assert ALL_PER_PACKET[name] in res.stderr
        return
    where = "line" if name.endswith(".jsonl") else "frame"
    # a dropped line may leave verify/replay with findings (exit 1): still not an error
    status = (0, 1) if cmd in ("verify", "replay") else 0
    parse(assert_warned(res, ALL_PER_PACKET[name], status, where=where), fmt)


@pytest.mark.parametrize("cmd", TABLE_COMMANDS)
def test_matrix_json_stdout_parses_with_warnings(bad, invoke, cmd):
    parse(
        assert_warned(invoke(cmd, bad["iface147.pcapng"], "-f", "json"), "unsupported_linktype"),
        "json",
    )


@pytest.mark.parametrize("cmd", INPUT_COMMANDS)
def test_matrix_stdin_garbage(invoke, cmd):
    assert_error(invoke(cmd, "-", stdin=b"\x00\x01garbage"), 3, "not a pcap or pcapng capture")


@pytest.mark.parametrize("cmd", TABLE_COMMANDS)
def test_matrix_output_onto_directory(bad, invoke, cmd):
    assert_error(invoke(cmd, PCAP, "-f", "csv", "-o", bad["adir"]), 2, bad["adir"])
