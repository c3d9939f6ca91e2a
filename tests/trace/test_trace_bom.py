"""A JSON Lines trace that begins with a UTF-8 byte order mark (as some editors and
Windows tools write it) is read as the same trace without it (RFC 8259 8.1: a parser
may ignore it), plain and compressed, named or in a directory; a mark anywhere else is
a counted bad line that names it.  Inputs made here with gzip/lzma from the samples."""

from __future__ import annotations

import gzip
import lzma

import pytest

from ebutool.runner.inputs import expand_inputs
from tests.support.cli import SAMPLES

BOM = b"\xef\xbb\xbf"
TRACE = (SAMPLES / "standard.jsonl").read_bytes()
PACK = {"plain": lambda b: b, "gzip": gzip.compress, "xz": lzma.compress}


@pytest.mark.parametrize("packing", sorted(PACK))
@pytest.mark.parametrize("before", [b"", b"\n\n"])
def test_a_byte_order_mark_first_is_ignored(cli, tmp_path, packing, before):
    path = tmp_path / "marked.jsonl"
    path.write_bytes(PACK[packing](BOM + before + TRACE))
    want = cli("decode", SAMPLES / "standard.jsonl", "-f", "csv", "-q")
    got = cli("decode", path, "-f", "csv", "-q")
    assert got.exit_code == want.exit_code == 0, got.output
    assert got.stdout == want.stdout and want.stdout.count("\n") == 25
    assert expand_inputs([tmp_path]) == [str(path)]  # a directory takes it too


def test_a_byte_order_mark_inside_is_a_bad_line_that_names_it(cli, tmp_path):
    lines = TRACE.split(b"\n")
    path = tmp_path / "inside.jsonl"
    path.write_bytes(b"\n".join([*lines[:3], BOM + lines[3], *lines[4:]]))
    res = cli("decode", path, "-f", "csv")
    assert res.exit_code == 0
    assert "bad_trace_json: line 4: invalid JSON: Unexpected UTF-8 BOM" in res.stderr
    assert "warnings: bad_trace_json 1" in res.stderr  # that line only, skipped


def test_a_byte_order_mark_and_nothing_else_is_no_trace(cli, tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(BOM + b"\n")
    res = cli("decode", path)
    assert res.exit_code == 3
    assert "only blank lines, not a trace" in res.stderr
