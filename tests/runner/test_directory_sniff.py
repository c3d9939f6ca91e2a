"""A directory's files are told apart (ebutool.runner.inputs.sniff) by the rule every
command opens an input by (ebutool.stream.sniff.open_input), plain and compressed alike,
only narrowed to leave keys and scenario files out: never from the first 4 KiB alone.

Inputs are made here with gzip and json from the samples; the ground truth is that the
same file named on its own is read (or refused) by the command."""

from __future__ import annotations

import gzip
import json

import pytest

from ebutool.core.diagnostics import Diagnostics
from ebutool.runner.inputs import expand_inputs, sniff
from ebutool.stream.sniff import open_input
from tests.support.cli import SAMPLES

TRACE = (SAMPLES / "standard.jsonl").read_bytes()
PCAP = (SAMPLES / "standard.pcap").read_bytes()


def _long_first_line() -> bytes:
    """The trace with a header line of 6 KiB whose "type" comes last (a simulator's
    notes in an ``x_`` key first): the reader takes it."""
    first, rest = TRACE.split(b"\n", 1)
    header = json.loads(first)
    kind = header.pop("type")
    header["x_notes"] = "n" * 6000
    header["type"] = kind
    return json.dumps(header).encode() + b"\n" + rest


READ = {  # name -> (content, kind): files the commands read when named on their own
    "blank.jsonl": (b"\n" * 5000 + TRACE, "jsonl"),
    "blank.jsonl.gz": (gzip.compress(b"\r\n" * 3000 + TRACE), "jsonl"),
    "long.jsonl": (_long_first_line(), "jsonl"),
    "long.jsonl.gz": (gzip.compress(_long_first_line()), "jsonl"),
    # two gzip members, the first holding 2 octets of the pcap magic number
    "split.pcap.gz": (gzip.compress(PCAP[:2]) + gzip.compress(PCAP[2:]), "capture"),
}
LEFT_OUT = {  # files no command reads as a capture or trace
    "keys.json.gz": gzip.compress((SAMPLES / "mixed.keys.json").read_bytes()),
    "blank.txt": b"\n" * 5000,
    "notes.txt": b"    indented notes\n",
}


@pytest.mark.parametrize("name", sorted(READ))
def test_a_file_read_on_its_own_is_taken_from_a_directory(cli, tmp_path, name):
    content, kind = READ[name]
    path = tmp_path / name
    path.write_bytes(content)
    opened, stream, _ = open_input(path, Diagnostics())
    stream.close()
    assert opened == kind  # the rule every command opens it by
    assert sniff(path) == kind
    assert expand_inputs([tmp_path]) == [str(path)]
    alone = cli("decode", path, "-f", "csv", "-q")
    by_dir = cli("decode", tmp_path, "-f", "csv", "-q")
    assert alone.exit_code == by_dir.exit_code == 0, alone.output + by_dir.output
    assert by_dir.stdout == alone.stdout and alone.stdout.count("\n") == 25


@pytest.mark.parametrize("name", sorted(LEFT_OUT))
def test_other_files_are_left_out_and_named(tmp_path, name):
    (tmp_path / name).write_bytes(LEFT_OUT[name])
    (tmp_path / "run.pcap").write_bytes(PCAP)
    assert sniff(tmp_path / name) is None
    left_out: list[str] = []
    assert expand_inputs([tmp_path], left_out) == [str(tmp_path / "run.pcap")]
    assert left_out == [str(tmp_path / name)]


# First lines the trace reader refuses ("not a JSON Lines trace": it parses with names
# unique, no NaN, bounded nesting) though json.loads takes them: the directory's sniff
# took the file for a trace, which was then refused (exit 3; nesting: exit 4, a
# RecursionError).  Hand-written, each with a trace type that last-wins json would see.
REFUSED_FIRST_LINES = {
    "duplicate.jsonl": b'{"type": "packet", "type": "header"}\n',
    "nested_duplicate.jsonl": b'{"type": "header", "x_meta": {"a": 1, "a": 2}}\n',
    "nan.jsonl": b'{"type": "packet", "time_ns": NaN}\n',
    "deep.jsonl": b'{"type": "packet", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n",
}


@pytest.mark.parametrize("name", sorted(REFUSED_FIRST_LINES))
def test_a_first_line_the_reader_refuses_is_no_trace_in_a_directory(cli, tmp_path, name):
    path = tmp_path / name
    path.write_bytes(REFUSED_FIRST_LINES[name])
    (tmp_path / "run.pcap").write_bytes(PCAP)
    alone = cli("decode", path, "-f", "csv", "-q")
    assert alone.exit_code == 3 and "not a JSON Lines trace" in alone.stderr, alone.stderr
    assert sniff(path) is None
    by_dir = cli("decode", tmp_path, "-f", "csv")
    assert by_dir.exit_code == 0, by_dir.stderr
    assert by_dir.stdout == cli("decode", tmp_path / "run.pcap", "-f", "csv").stdout
    assert f"not read (no capture or trace, or a trace beside its capture): {name}" in (
        by_dir.stderr
    )
