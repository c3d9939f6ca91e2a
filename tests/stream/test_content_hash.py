"""ebutool.stream.content_hash: the SHA-256 taken while the reader reads an input is the
whole file's (hashlib over the file's octets, read apart), whatever the reader does:
reads it all, stops at a cut record, stops at a damaged compressed stream, refuses it."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import os

import pytest

from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import InputError
from ebutool.store import extract
from ebutool.store.layout import part_files
from ebutool.store.writer import part_meta
from ebutool.stream.content_hash import ContentHash
from ebutool.stream.reader import read_records
from tests.support.cli import SAMPLES


def _truth(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_and_hash(path) -> tuple[int, str]:
    with ContentHash() as content:
        n = sum(1 for _ in read_records(path, Diagnostics(), content=content))
        return n, content.hexdigest()


@pytest.mark.parametrize("name", ["mixed.pcap", "standard.pcap", "mixed.jsonl"])
def test_a_file_read_whole(name):
    n, digest = _read_and_hash(SAMPLES / name)
    assert n > 0 and digest == _truth(SAMPLES / name)


def test_a_capture_cut_mid_record_the_rest_hashed_too(tmp_path):
    data = (SAMPLES / "mixed.pcap").read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[: len(data) // 2 + 7])
    n, digest = _read_and_hash(cut)
    assert n > 0 and digest == _truth(cut)


@pytest.mark.parametrize("pack", [gzip.compress, bz2.compress])
def test_a_compressed_input_is_hashed_as_it_is_on_disk(tmp_path, pack):
    packed = tmp_path / "mixed.pcap.z"
    packed.write_bytes(pack((SAMPLES / "mixed.pcap").read_bytes()))
    n, digest = _read_and_hash(packed)
    assert n > 0 and digest == _truth(packed)
    damaged = tmp_path / "damaged.pcap.z"  # the reader stops where the stream breaks
    whole = packed.read_bytes()
    damaged.write_bytes(whole[: len(whole) * 2 // 3] + b"\0" * 1000)
    with ContentHash() as content:
        try:  # (gzip gives what precedes the damage; bzip2's one block gives nothing)
            list(read_records(damaged, Diagnostics(), content=content))
        except InputError:
            pass
        assert content.hexdigest() == _truth(damaged)


def test_an_input_refused_before_any_record(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_bytes(b"not a capture at all\n" * 300_000)  # (more than the reader peeks)
    with ContentHash() as content:
        with pytest.raises(InputError):
            list(read_records(bad, Diagnostics(), content=content))
        assert content.hexdigest() == _truth(bad)


def test_one_file_per_hash_and_none_before_a_file(tmp_path):
    content = ContentHash()
    with pytest.raises(ValueError, match="no file"):
        content.hexdigest()
    content.open(SAMPLES / "mixed.pcap")
    with pytest.raises(ValueError, match="one file"):
        content.open(SAMPLES / "mixed.pcap")
    content.close()


def test_extract_records_each_inputs_sha256(tmp_path):
    inputs = [SAMPLES / "mixed.pcap", SAMPLES / "standard.jsonl"]
    extract(inputs, tmp_path / "s")
    metas = [part_meta(p) for p in part_files(str(tmp_path / "s"))]
    assert sorted(m["sha256"] for m in metas) == sorted(_truth(p) for p in inputs)


def _octets_read() -> int:
    with open("/proc/self/io") as fh:
        return int(dict(line.split(": ") for line in fh.read().splitlines())["rchar"])


@pytest.mark.skipif(not os.path.exists("/proc/self/io"), reason="Linux's per-process I/O counts")
def test_extract_reads_each_input_once(tmp_path):
    """The part's hash comes from the pass that parses the file: the input's octets are
    read once (a second pass for the hash read them twice: 2.0x the file's size)."""
    big = tmp_path / "big.pcap"
    data = (SAMPLES / "mixed.pcap").read_bytes()
    big.write_bytes(data + data[24:] * 300)  # (the same packets again: one pcap header)
    extract([SAMPLES / "standard.pcap"], tmp_path / "warm")  # (its imports: read once)
    before = _octets_read()
    extract([big], tmp_path / "s")
    read = _octets_read() - before
    assert big.stat().st_size <= read < 1.1 * big.stat().st_size
