"""The benchmark capture compressed (gzip, zstd), and analyze timed on each form.

``ebutool`` reads compressed captures by content, streaming (ebutool.stream.compressed).
:func:`compressed_forms` writes ``NAME.pcap.gz`` (stdlib gzip, level 6, gzip's default)
and ``NAME.pcap.zst`` (``zstandard``, level 3, zstd's default) beside the plain capture
once, streaming; :func:`measure` times ``analyze`` on each the way run.py times the
plain one (a child process each, best CPU time of ``repeat``); :func:`lines` reports
them beside the plain capture's analyze, with the ratio and the file sizes.
"""

from __future__ import annotations

import gzip
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

CHUNK = 1 << 20
GZIP_LEVEL = 6
ZSTD_LEVEL = 3


def _gzip(src: Path, dst: Path) -> None:
    with open(src, "rb") as fin, gzip.open(dst, "wb", compresslevel=GZIP_LEVEL) as fout:
        shutil.copyfileobj(fin, fout, CHUNK)


def _zstd(src: Path, dst: Path) -> None:
    import zstandard

    with open(src, "rb") as fin, open(dst, "wb") as fout:
        zstandard.ZstdCompressor(level=ZSTD_LEVEL).copy_stream(fin, fout, read_size=CHUNK)


FORMS: dict[str, Callable[[Path, Path], None]] = {"gz": _gzip, "zst": _zstd}


def compressed_forms(plain: Path) -> dict[str, Path]:
    """{"gz": path, "zst": path} of ``plain`` compressed (made once, kept beside it)."""
    out = {}
    for suffix, write in FORMS.items():
        target = plain.with_name(plain.name + "." + suffix)
        if not target.exists():
            print(f"compressing {plain.name} -> {target.name} ...", file=sys.stderr)
            part = target.with_name(target.name + ".part")
            write(plain, part)
            part.replace(target)
        out[suffix] = target
    return out


def measure(plain: Path, repeat: int, measure_once, keep_best) -> dict:
    """{"pcap.gz/analyze": figures, "pcap.zst/analyze": ...}, best of ``repeat``."""
    forms = compressed_forms(plain)
    out: dict = {}
    for rnd in range(repeat):
        for suffix, path in forms.items():
            key = f"{plain.suffix.lstrip('.')}.{suffix}/analyze"
            print(f"  [{rnd + 1}/{repeat}] {key} ...", file=sys.stderr)
            out[key] = keep_best(out.get(key), measure_once("analyze", path))
            out[key]["file_mb"] = path.stat().st_size / 1e6
    return out


def lines(results: dict, plain_key: str = "pcap/analyze", plain_mb: float | None = None) -> list:
    """The report lines: each compressed form's analyze beside the plain capture's."""
    plain = results.get(plain_key)
    fmt = plain_key.split("/")[0]
    forms = [(s, results.get(f"{fmt}.{s}/analyze")) for s in FORMS]
    forms = [(s, r) for s, r in forms if r]
    if not plain or not forms:
        return []
    size = f", {plain_mb:.1f} MB" if plain_mb else ""
    out = [
        f"analyze on compressed forms of the {fmt} capture (plain {plain['seconds']:.3f} s{size}):"
    ]
    for suffix, r in forms:
        out.append(
            f"  {fmt}.{suffix:4} analyze {r['seconds']:7.3f} s cold, {r['warm']:7.3f} s warm, "
            f"{r['packets'] / r['seconds']:11,.0f} packets/s, peak {r['peak_mb']:6.1f} MB, "
            f"file {r['file_mb']:6.1f} MB, {r['seconds'] / plain['seconds']:.2f} x plain"
        )
    return out
