"""Where one compressed member (gzip member, xz stream, zstd frame) ends and the next
begins: read boundaries, padding and skippable frames.

The compressed forms are made here with gzip/lzma/zstandard, never with ebutool; the
ground truth is the plain octets."""

from __future__ import annotations

import gzip
import io
import lzma
import struct

import pytest
import zstandard

from ebutool.core.diagnostics import Diagnostics
from ebutool.stream.compressed import CHUNK, decompressed
from tests.support.cli import SAMPLES, run_cli

TRACE = (SAMPLES / "standard.jsonl").read_bytes()
HALF = TRACE.index(b"\n", len(TRACE) // 2) + 1  # the two halves are whole lines


def _read(packed: bytes, kind: str) -> tuple[bytes, Diagnostics]:
    diag = Diagnostics()
    # (a BytesIO's read1(CHUNK) gives exactly CHUNK octets: the boundaries are known)
    return decompressed(io.BytesIO(packed), kind, "t", diag).read(), diag


def _gzip_member(data: bytes, size: int) -> bytes:
    """A gzip member of ``data`` exactly ``size`` octets long (padded by its FNAME field)."""

    def member(name_len: int) -> bytes:
        buf = io.BytesIO()
        with gzip.GzipFile(filename="p" * name_len, mode="wb", fileobj=buf, mtime=0) as f:
            f.write(data)
        return buf.getvalue()

    packed = member(1 + size - len(member(1)))
    assert len(packed) == size
    return packed


@pytest.mark.parametrize("shift", [-2, -1, 0])
def test_gzip_member_magic_across_a_read_boundary(shift):
    """The second member starts 1 octet before the end of the first read (its 0x1f in
    one read, 0x8b in the next), or 2 octets before, or right at the boundary: it was
    called trailing data (``data after the end``) and the second half of the trace lost."""
    first = _gzip_member(TRACE[:HALF], CHUNK + shift)
    packed = first + gzip.compress(TRACE[HALF:])
    assert packed[CHUNK + shift : CHUNK + shift + 2] == b"\x1f\x8b"
    out, diag = _read(packed, "gzip")
    assert out == TRACE
    assert diag.total == 0


def _skippable(magic: int, size: int) -> bytes:
    """A zstd skippable frame (RFC 8878 3.1.2), built by hand."""
    return struct.pack("<II", magic, size) + bytes(range(256)) * (size // 256) + b"s" * (size % 256)


def _zstd(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


@pytest.mark.parametrize("magic", [0x184D2A50, 0x184D2A5F])
@pytest.mark.parametrize("size", [0, 7, CHUNK + 100])
def test_zstd_skippable_frames_before_between_and_after(magic, size):
    """zstd and zstandard step over skippable frames; at the start the input was 'not a
    pcap or pcapng capture', between frames the rest was 'data after the end'."""
    skip = _skippable(magic, size)
    packed = skip + _zstd(TRACE[:HALF]) + skip + skip + _zstd(TRACE[HALF:]) + skip
    assert (
        zstandard.ZstdDecompressor().decompressobj(read_across_frames=True).decompress(packed)
        == TRACE
    )  # the peer reads it so
    out, diag = _read(packed, "zstd")
    assert out == TRACE
    assert diag.total == 0


def test_zstd_skippable_frame_first_is_told_by_content(tmp_path):
    plain = run_cli("analyze", "-f", "csv", str(SAMPLES / "mixed.pcap"))
    packed = tmp_path / "mixed.pcap"
    packed.write_bytes(_skippable(0x184D2A53, 12) + _zstd((SAMPLES / "mixed.pcap").read_bytes()))
    got = run_cli("analyze", "-f", "csv", str(packed))
    assert got.exit_code == plain.exit_code == 0, got.output
    assert got.stdout == plain.stdout and plain.stdout.count("\n") > 1


def _messages(diag: Diagnostics) -> list[str]:
    return [d.message for d in diag.kept]


@pytest.mark.parametrize(
    "between, after",
    [(4, 0), (4, 8), (CHUNK, 4), (0, CHUNK + 4)],  # (CHUNK: the zeros span reads)
)
def test_xz_stream_padding_is_stepped_over(between, after):
    """xz's stream padding (multiples of four zero octets between and after streams, as
    ``xz`` writes and reads them): the stream after it was 'data after the end'."""
    packed = lzma.compress(TRACE[:HALF]) + bytes(between) + lzma.compress(TRACE[HALF:])
    packed += bytes(after)
    out, diag = _read(packed, "xz")
    assert out == TRACE
    assert diag.total == 0


@pytest.mark.parametrize("between, after, kept", [(3, 0, HALF), (0, 5, len(TRACE))])
def test_xz_padding_not_a_multiple_of_four_is_damage(between, after, kept):
    """``xz -d`` calls such a file corrupt (after the first stream, or at its end)."""
    packed = lzma.compress(TRACE[:HALF]) + bytes(between) + lzma.compress(TRACE[HALF:])
    out, diag = _read(packed + bytes(after), "xz")
    assert out == TRACE[:kept]
    assert diag.counts["truncated_compressed_stream"] == 1
    assert f"stream padding of {between or after} octets, not a multiple of 4" in _messages(diag)[0]


def test_gzip_zeros_between_members_are_damage_and_after_the_last_allowed():
    """gzip has no padding between members (``gzip -d`` stops: 'trailing garbage');
    zeros after the last member are a tape's padding."""
    packed = gzip.compress(TRACE[:HALF]) + bytes(5) + gzip.compress(TRACE[HALF:])
    out, diag = _read(packed, "gzip")
    assert out == TRACE[:HALF]
    assert "data after the end of the compressed stream (after 5 zero octets)" in _messages(diag)[0]
    out, diag = _read(gzip.compress(TRACE) + bytes(CHUNK + 3), "gzip")
    assert out == TRACE and diag.total == 0
