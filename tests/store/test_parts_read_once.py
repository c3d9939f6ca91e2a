"""A store's parts' metadata is read once per command (issue 16 review): ``analyze STORE``
asks for the parts several times (whether they are views, the ESP note, the analysis),
and each read of a store of thousands of parts is thousands of Parquet footers."""

from __future__ import annotations

import os

import pytest

from ebutool.store import extract
from ebutool.store import parts as store_parts_module
from tests.support.cli import SAMPLES
from tests.support.splitcap import split_pcap

ESP_SA = SAMPLES / "esp" / "early-conservative.esp_sa"


def _counting(monkeypatch) -> list[str]:
    reads: list[str] = []
    real = store_parts_module.part_meta
    monkeypatch.setattr(
        store_parts_module, "part_meta", lambda f: reads.append(os.path.basename(f)) or real(f)
    )
    return reads


@pytest.mark.parametrize("fmt", ["csv", "table"])
@pytest.mark.parametrize("esp", [False, True])
def test_analyze_store_reads_each_part_s_metadata_once(tmp_path, cli, monkeypatch, fmt, esp):
    extract(split_pcap(SAMPLES / "mixed.pcap", tmp_path / "rot", 3), tmp_path / "s")
    reads = _counting(monkeypatch)
    more = ["--esp-sa", ESP_SA] if esp else []  # (the store's parts have other SAs: a note)
    res = cli("analyze", tmp_path / "s", "-f", fmt, "-q", *more)
    assert res.exit_code in (0, 1), res.stderr
    assert len(res.stdout.splitlines()) > 3
    assert sorted(reads) == sorted(os.listdir(tmp_path / "s" / "parts"))


def test_a_part_extracted_again_is_read_again(tmp_path, monkeypatch):
    pieces = split_pcap(SAMPLES / "mixed.pcap", tmp_path / "rot", 2)
    extract(pieces, tmp_path / "s")
    reads = _counting(monkeypatch)
    first = store_parts_module.store_parts(str(tmp_path / "s"))
    assert store_parts_module.store_parts(str(tmp_path / "s")) == first and len(reads) == 2
    with open(pieces[0], "ab") as fh:  # a grown file: its part is written again
        fh.write(open(pieces[1], "rb").read()[24:])
    extract(pieces, tmp_path / "s")
    again = store_parts_module.store_parts(str(tmp_path / "s"))
    assert again[0].meta["size"] == os.path.getsize(pieces[0]) != first[0].meta["size"]
