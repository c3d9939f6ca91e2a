"""``ebutool analyze - --follow``: rows come out of a pipe while the input is still open.

A writer feeds a capture into a real ``python -m ebutool`` process through a pipe, in
two parts with a pause between them; the test reads a row during the pause (the
reader waits neither for a read-ahead batch nor for a full buffer).  The capture is
cut into packets here with struct (the pcap record header, not ebutool's reader), and
the rows are parsed back with pandas (NDJSON) and an independent Zeek reader."""

from __future__ import annotations

import json
import select
import struct
import subprocess
import sys
import time
import zlib

import pandas as pd
import pytest

from tests.report.zeek_reader import read_zeek
from tests.support.cli import SAMPLES
from tests.support.proc import env as proc_env

CAPTURE = SAMPLES / "mixed.pcap"
# a followed row differs from the batch row in its numbering (closing order) and, read
# from standard input, in its source ("-")
SKIP = {"episode", "source"}
KEY = ["mn", "cn", "coa", "t_handover"]


def env() -> dict[str, str]:
    """The child's environment, with Python's own buffering (the flush is ours to do)."""
    return {k: v for k, v in proc_env().items() if k != "PYTHONUNBUFFERED"}


def _packets(data: bytes) -> tuple[bytes, list[bytes]]:
    """(global header, records) of a classic pcap, little-endian (pcap-savefile(5))."""
    assert data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1")
    head, pos, out = data[:24], 24, []
    while pos < len(data):
        incl = struct.unpack_from("<I", data, pos + 8)[0]
        out.append(data[pos : pos + 16 + incl])
        pos += 16 + incl
    return head, out


def _frame(text: str) -> pd.DataFrame:
    # the JSON values as they are (read_json's convert_dates is deprecated in pandas 3.1)
    df = pd.DataFrame([json.loads(line) for line in text.splitlines() if line])
    df = df[[c for c in df.columns if c not in SKIP]]
    return df.sort_values(KEY, kind="stable").reset_index(drop=True)


def _line_within(proc: subprocess.Popen, seconds: float) -> bytes | None:
    ready, _, _ = select.select([proc.stdout], [], [], seconds)
    return proc.stdout.readline() if ready else None  # type: ignore[union-attr]


@pytest.mark.parametrize("packing", ["plain", "gzip"])
def test_rows_arrive_while_the_writer_is_paused(cli, packing):
    head, packets = _packets(CAPTURE.read_bytes())
    # a quarter: two rows close in it, fewer octets than a pipe's stdout buffer holds
    cut = len(packets) // 4
    parts = [head + b"".join(packets[:cut]), b"".join(packets[cut:])]
    if packing == "gzip":  # a sync flush makes the first part decodable on its own
        z = zlib.compressobj(wbits=31)
        parts = [
            z.compress(parts[0]) + z.flush(zlib.Z_SYNC_FLUSH),
            z.compress(parts[1]) + z.flush(),
        ]
    cmd = [sys.executable, "-m", "ebutool", "analyze", "-", "--follow", "-f", "ndjson", "-q"]
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env()
    )
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(parts[0])
        proc.stdin.flush()
        first = _line_within(proc, 60)  # the writer holds back the second half meanwhile
        assert first is not None, "no row while the input was still open"
        assert proc.poll() is None  # still reading: the row did not wait for the end
        assert first.startswith(b"{") and b'"mn"' in first
        proc.stdin.write(parts[1])
        proc.stdin.close()
        rest, errors = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
        assert proc.wait(60) == 0, errors
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    batch = cli("analyze", CAPTURE, "-f", "ndjson")
    assert batch.exit_code == 0
    followed = _frame((first + rest).decode())
    expected = _frame(batch.stdout)
    assert len(followed) == len(expected) == 11
    pd.testing.assert_frame_equal(followed, expected)


def test_csv_and_zeek_follow_are_the_batch_tables(cli):
    for fmt in ("csv", "zeek"):
        batch = cli("analyze", CAPTURE, "-f", fmt)
        followed = cli("analyze", CAPTURE, "-f", fmt, "--follow")
        assert batch.exit_code == followed.exit_code == 0
        if fmt == "zeek":
            b_head, b_rows = read_zeek(batch.stdout)
            f_head, f_rows = read_zeek(followed.stdout)
            assert f_head == b_head  # one header, the same fields and types
            key = lambda r: (r["mn"], r["cn"] or "", r["coa"], r["ts"])  # noqa: E731
            strip = [{k: v for k, v in r.items() if k not in SKIP} for r in b_rows]
            got = [{k: v for k, v in r.items() if k not in SKIP} for r in f_rows]
            assert sorted(got, key=key) == sorted(strip, key=key) and len(got) == 11
        else:
            b_lines, f_lines = batch.stdout.splitlines(), followed.stdout.splitlines()
            assert f_lines[0] == b_lines[0]  # one header row
            assert len(f_lines) == len(b_lines) == 12


def test_columns_and_an_empty_input_keep_the_header(cli, tmp_path):
    head, _ = _packets(CAPTURE.read_bytes())
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(head)
    res = cli("analyze", empty, "--follow", "-f", "csv", "--columns", "mn,kind")
    assert res.exit_code == 0 and res.stdout == "mn,kind\n"


@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "latex", "parquet"])
def test_formats_that_cannot_stream_are_a_usage_error(cli, fmt):
    res = cli("analyze", CAPTURE, "--follow", "-f", fmt)
    assert res.exit_code == 2
    assert f"--format {fmt} cannot grow row by row" in res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize(
    "extra, says",
    [
        (["--summary"], "--summary"),
        (["--merge"], "--merge"),
        (["-j", "2"], "-j"),
        ([str(SAMPLES / "standard.pcap")], "one input"),
    ],
)
def test_what_does_not_go_with_follow(cli, extra, says):
    res = cli("analyze", CAPTURE, "--follow", "-f", "csv", *extra)
    assert res.exit_code == 2 and says in res.stderr


def test_a_record_store_is_not_followed(cli, tmp_path):
    """A store is complete: --follow of it is a usage error that says so (it was "is a
    directory, not a capture or trace", exit 3, as if the store could not be read)."""
    assert cli("extract", CAPTURE, "-o", tmp_path / "s", "-q").exit_code == 0
    res = cli("analyze", tmp_path / "s", "--follow", "-f", "csv")
    assert res.exit_code == 2 and "is a record store" in res.stderr


def test_output_file_is_written_as_rows_come(tmp_path):
    out = tmp_path / "rows.ndjson"
    head, packets = _packets(CAPTURE.read_bytes())
    cmd = [sys.executable, "-m", "ebutool", "analyze", "-", "--follow", "-f", "ndjson", "-o"]
    proc = subprocess.Popen(
        [*cmd, str(out), "-q"], stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=env()
    )
    assert proc.stdin is not None
    try:
        proc.stdin.write(head + b"".join(packets[: len(packets) // 2]))
        proc.stdin.flush()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (out.exists() and out.read_bytes()):
            time.sleep(0.2)
        assert out.read_bytes().startswith(b"{")  # in place, before the input ends
        assert proc.poll() is None
        proc.stdin.write(b"".join(packets[len(packets) // 2 :]))
        proc.stdin.close()
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert len(out.read_text().splitlines()) == 11
