"""A full disk under the store (issue 12, "Outputs"): extract says so in one line and exits
5 (an output error), not 4 (internal) and not "failed input"; no temporary part or
bindings file is left behind, and a part that was complete before stays as it was."""

from __future__ import annotations

import errno
import os

import pyarrow.parquet as pq
import pytest

from ebutool.store import writer
from tests.support.cli import SAMPLES


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, "Error writing bytes to file")


def _left(store) -> list[str]:
    return sorted(
        os.path.relpath(os.path.join(d, f), store)
        for d, _, files in os.walk(store)
        for f in files
        if f.startswith(".")
    )


@pytest.mark.parametrize(
    "where",
    [
        # the bindings' file, after the part's records were written to their temporary
        ("_write_atomic", writer),
        # the records themselves, batch by batch
        ("write_batch", pq.ParquetWriter),
    ],
)
def test_disk_full_is_exit_5_and_leaves_nothing(cli, tmp_path, monkeypatch, where):
    store = tmp_path / "store"
    first = cli("extract", SAMPLES / "standard.pcap", "-o", store, "-q")
    assert first.exit_code == 0, first.output
    before = {p: p.read_bytes() for p in (store / "parts").iterdir()}

    monkeypatch.setattr(where[1], where[0], _enospc)
    res = cli("extract", SAMPLES / "standard.pcap", SAMPLES / "mixed.pcap", "-o", store, "-q")

    assert res.exit_code == 5, res.output
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1, res.output
    assert "No space left on device" in lines[0] and "mixed.pcap" in lines[0]
    assert "internal error" not in res.output and "Traceback" not in res.output
    assert _left(store) == []
    # standard.pcap's part was complete and unchanged: kept as it was
    assert {p: p.read_bytes() for p in (store / "parts").iterdir()} == before
