"""A JSON Lines trace line has a length limit: a longer line is a counted warning,
skipped in bounded memory (issue 12 item 9)."""

from __future__ import annotations

import io
import tracemalloc

from ebutool.trace.lines import MAX_TRACE_LINE_BYTES, bounded_lines
from tests.support.cli import SAMPLES, run_cli


def test_long_line_skipped_in_bounded_memory():
    long = b"{" + b"a" * (8 * MAX_TRACE_LINE_BYTES) + b"}\n"
    stream = io.BufferedReader(io.BytesIO(b"first\n" + long + b"last\n"))
    tracemalloc.start()
    try:
        got = list(bounded_lines(stream, 1000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got == [b"first\n", None, b"last\n"]
    assert peak < 200_000  # the line is 8 MiB


def test_exact_limit_is_kept():
    lines = list(bounded_lines(io.BytesIO(b"abcd\nabcde\nabc"), 4))
    assert lines == [b"abcd\n", None, b"abc"]


def test_cli_counts_and_goes_on(tmp_path):
    trace = (SAMPLES / "mixed.jsonl").read_bytes().splitlines(keepends=True)
    long = b'{"type": "packet", "x": "' + b"a" * 3000 + b'"}\n'
    (tmp_path / "t.jsonl").write_bytes(b"".join(trace[:5] + [long] + trace[5:]))
    res = run_cli("decode", tmp_path / "t.jsonl", "-f", "csv", "--max-trace-line-bytes", "2000")
    ref = run_cli("decode", SAMPLES / "mixed.jsonl", "-f", "csv")
    assert res.exit_code == 0, res.stderr
    assert "trace_line_too_long 1" in res.stderr and "line 6" in res.stderr
    assert res.stdout.count("\n") == ref.stdout.count("\n")
