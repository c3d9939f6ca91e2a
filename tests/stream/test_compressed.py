"""Compressed inputs (issue 15): gzip, bzip2, xz and zstd, told by content, streamed.

Ground truth: the same sample read plain.  The compressed forms are made here with the
standard library's gzip/bz2/lzma and the zstandard module, never with ebutool."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import shutil

import pandas as pd
import pytest
import zstandard

from tests.support.cli import SAMPLES, run_cli

COMPRESSORS = {
    "gzip": gzip.compress,
    "bzip2": bz2.compress,
    "xz": lzma.compress,
    "zstd": lambda data: zstandard.ZstdCompressor().compress(data),
}
SAMPLE_FILES = sorted(SAMPLES.glob("**/*.pcap")) + sorted(SAMPLES.glob("**/*.jsonl"))


def _analyze(*args, input=None):
    return run_cli("analyze", "-f", "csv", *map(str, args), input=input)


@pytest.mark.parametrize("packing", sorted(COMPRESSORS))
@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.name)
def test_every_sample_compressed_gives_the_plain_rows(tmp_path, sample, packing):
    # Same file name (the source column), compressed content: decided by content alone.
    packed = tmp_path / sample.name
    packed.write_bytes(COMPRESSORS[packing](sample.read_bytes()))
    plain, comp = _analyze(sample), _analyze(packed)
    assert plain.exit_code == 0, plain.output
    assert comp.exit_code == 0, comp.output
    assert comp.stdout == plain.stdout
    assert plain.stdout.count("\n") > 1  # a header and rows
    assert "truncated_compressed_stream" not in comp.stderr


@pytest.mark.parametrize("packing", ["gzip", "zstd"])
def test_standard_input(packing):
    data = (SAMPLES / "mixed.pcap").read_bytes()
    plain = _analyze("-", input=data)
    comp = _analyze("-", input=COMPRESSORS[packing](data))
    assert comp.exit_code == plain.exit_code == 0, comp.output
    assert comp.stdout == plain.stdout and plain.stdout.count("\n") > 1


def test_decode_reads_compressed_too(tmp_path):
    packed = tmp_path / "mixed.pcap"
    packed.write_bytes(lzma.compress((SAMPLES / "mixed.pcap").read_bytes()))
    plain = run_cli("decode", "-f", "csv", SAMPLES / "mixed.pcap")
    comp = run_cli("decode", "-f", "csv", packed)
    assert comp.exit_code == plain.exit_code == 0, comp.output
    assert comp.stdout == plain.stdout and plain.stdout.count("\n") > 10


@pytest.mark.parametrize("packing", sorted(COMPRESSORS))
def test_concatenated_members_are_one_input(tmp_path, packing):
    """``cat a.gz b.gz`` (and bzip2 streams, xz streams, zstd frames) read as one."""
    pack = COMPRESSORS[packing]
    lines = (SAMPLES / "standard.jsonl").read_bytes().splitlines(keepends=True)
    half = len(lines) // 2
    packed = tmp_path / "standard.jsonl"
    packed.write_bytes(pack(b"".join(lines[:half])) + pack(b"".join(lines[half:])))
    plain, comp = _analyze(SAMPLES / "standard.jsonl"), _analyze(packed)
    assert comp.exit_code == 0, comp.output
    assert comp.stdout == plain.stdout


def _frame(result) -> pd.DataFrame:
    assert result.exit_code == 0, result.output
    return pd.read_csv(io.StringIO(result.stdout))


def test_directory_of_compressed_captures(tmp_path):
    names = ["early-conservative", "early-optimistic", "mixed", "standard"]
    packings = ["bz2", "gz", "xz", "zst"]
    for name, ext, packing in zip(names, packings, ["bzip2", "gzip", "xz", "zstd"], strict=True):
        data = (SAMPLES / f"{name}.pcap").read_bytes()
        (tmp_path / f"{name}.pcap.{ext}").write_bytes(COMPRESSORS[packing](data))
        shutil.copy(SAMPLES / f"{name}.keys.json", tmp_path)  # left out, as ever
    by_dir = _frame(_analyze(tmp_path))
    by_name = _frame(_analyze(*(SAMPLES / f"{n}.pcap" for n in names)))
    assert len(by_dir) == len(by_name) > 0
    want = [f"{n}.pcap.{e}" for n, e in zip(names, packings, strict=True)]
    assert list(dict.fromkeys(by_dir["source"])) == want
    pd.testing.assert_frame_equal(by_dir.drop(columns="source"), by_name.drop(columns="source"))


def test_directory_of_traces_and_mixed_directory(tmp_path):
    traces = tmp_path / "traces"
    traces.mkdir()
    for name in ("mixed", "standard"):
        shutil.copy(SAMPLES / f"{name}.jsonl", traces)
    by_dir = _frame(_analyze(traces))
    by_name = _frame(_analyze(SAMPLES / "mixed.jsonl", SAMPLES / "standard.jsonl"))
    assert len(by_dir) > 0
    pd.testing.assert_frame_equal(by_dir, by_name)

    mixed = tmp_path / "mixed-dir"
    mixed.mkdir()
    shutil.copy(SAMPLES / "early-optimistic.pcap", mixed)
    shutil.copy(SAMPLES / "early-optimistic.jsonl", mixed)  # its capture's trace: left out
    gz = gzip.compress((SAMPLES / "standard.jsonl").read_bytes())
    (mixed / "standard.jsonl.gz").write_bytes(gz)
    result = _analyze(mixed)
    got = _frame(result)
    want = _frame(_analyze(SAMPLES / "early-optimistic.pcap", SAMPLES / "standard.jsonl"))
    assert list(dict.fromkeys(got["source"])) == ["early-optimistic.pcap", "standard.jsonl.gz"]
    pd.testing.assert_frame_equal(got.drop(columns="source"), want.drop(columns="source"))
    assert "not read" in result.stderr and "early-optimistic.jsonl" in result.stderr


def _zstd_blocks(data: bytes, every: int = 16 << 10) -> bytes:
    """zstd as a streaming writer makes it (``tcpdump -w - | zstd``): a block per flush.
    (One-shot compression of a sample makes one 128 KiB block, nothing before its end.)"""
    comp = zstandard.ZstdCompressor().compressobj()
    parts = []
    for at in range(0, len(data), every):
        parts += [
            comp.compress(data[at : at + every]),
            comp.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK),
        ]
    return b"".join([*parts, comp.flush()])


@pytest.mark.parametrize("packing", ["gzip", "xz", "zstd"])
def test_truncated_stream_keeps_what_came_before(tmp_path, packing):
    data = (SAMPLES / "mixed.pcap").read_bytes()
    packed = _zstd_blocks(data) if packing == "zstd" else COMPRESSORS[packing](data)
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(packed[: len(packed) * 2 // 3])
    whole = _frame(_analyze(SAMPLES / "mixed.pcap"))
    result = _analyze(cut)
    part = _frame(result)
    assert 0 < len(part) < len(whole)
    first = ["mn", "cn", "t_handover"]  # the first episodes are complete before the cut
    pd.testing.assert_frame_equal(part[first].head(2), whole[first].head(2))
    assert "truncated_compressed_stream 1" in result.stderr
    assert "Traceback" not in result.output


def test_corrupt_gzip_keeps_what_came_before(tmp_path):
    data = (SAMPLES / "mixed.pcap").read_bytes()
    packed = bytearray(gzip.compress(data))
    mid = len(packed) * 3 // 4
    packed[mid : mid + 64] = bytes(64)
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(bytes(packed))
    result = _analyze(bad)
    assert result.exit_code == 0, result.output
    assert "truncated_compressed_stream 1" in result.stderr
    assert len(_frame(result)) > 0


def test_nothing_readable_is_exit_3(tmp_path):
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(gzip.compress((SAMPLES / "mixed.pcap").read_bytes())[:12])
    result = _analyze(cut)
    assert result.exit_code == 3
    assert result.output.count("\n") == 1 and "gzip-compressed" in result.output
    assert "nothing could be read" in result.output


@pytest.mark.parametrize("packing", sorted(COMPRESSORS))
def test_compressed_text_is_not_a_capture(tmp_path, packing):
    text = tmp_path / "notes.txt.x"
    text.write_bytes(COMPRESSORS[packing](b"just some notes\n" * 50))
    result = _analyze(text)
    assert result.exit_code == 3
    assert result.output.count("\n") == 1, result.output
    assert f"{packing}-compressed, but not a capture or trace" in result.output


def test_compressed_empty_is_exit_3(tmp_path):
    empty = tmp_path / "empty.gz"
    empty.write_bytes(gzip.compress(b""))
    result = _analyze(empty)
    assert result.exit_code == 3 and "gzip-compressed, but empty inside" in result.output


@pytest.mark.parametrize("packing", sorted(COMPRESSORS))
def test_compressed_trace_may_begin_with_blank_lines(tmp_path, packing):
    """A trace whose first lines are blank (or white space) is a trace, plain or
    compressed alike; compressed, it was 'not a capture or trace' (exit 3)."""
    text = b"\n\n  \n\t\n" + (SAMPLES / "standard.jsonl").read_bytes()
    plain, packed = tmp_path / "plain.jsonl", tmp_path / "packed.jsonl"
    plain.write_bytes(text)
    packed.write_bytes(COMPRESSORS[packing](text))
    want, got = _frame(_analyze(plain)), _frame(_analyze(packed))
    assert len(want) == 3
    pd.testing.assert_frame_equal(got.drop(columns="source"), want.drop(columns="source"))


def test_compressed_blank_lines_only_is_the_plain_diagnosis(tmp_path):
    packed = tmp_path / "blank.jsonl.gz"
    packed.write_bytes(gzip.compress(b"\n \n\n\n\n"))
    result = _analyze(packed)
    assert result.exit_code == 3 and "only blank lines, not a trace" in result.output
