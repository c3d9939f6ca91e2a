"""One capture rotated over several files (tcpdump -C/-W) is recognised and merged by time
without --merge, with a note; --no-merge keeps the pieces apart (issue 13 item 3).

The pieces are cut by tshark's editcap (a peer tool) where it is installed, and by the
independent splitter of tests/support/splitcap.py."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import ebutool
from ebutool.core.diagnostics import Diagnostics
from tests.support.cli import run_cli
from tests.support.splitcap import split_pcap

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
COLUMNS = ["mn", "cn", "coa", "kind", "mode", "rtt_ha_ms", "rtt_bt_ms", "rtt_ro_ms"]


def editcap_pieces(src: Path, folder: Path, packets: int) -> list[Path]:
    folder.mkdir()
    subprocess.run(
        ["editcap", "-F", "pcap", "-c", str(packets), str(src), str(folder / "rot.pcap")],
        check=True,
        capture_output=True,
    )
    return sorted(folder.iterdir())


@pytest.fixture(params=["editcap", "splitcap"])
def pieces(request, tmp_path):
    src = SAMPLES / "standard.pcap"
    if request.param == "editcap":
        if shutil.which("editcap") is None:
            pytest.skip("editcap (tshark) is not installed")
        return src, editcap_pieces(src, tmp_path / "e", 120)
    return src, split_pcap(src, tmp_path / "s", 4)


def test_rotated_pieces_are_merged_without_asking(pieces):
    src, parts = pieces
    assert len(parts) >= 3
    whole = ebutool.analyze(src)
    diag = Diagnostics()
    # given in any order: the pieces are put in time order
    df = ebutool.analyze(*reversed(parts), diag=diag)
    assert len(df) == len(whole) == 3
    assert df[COLUMNS].equals(whole[COLUMNS])
    assert any("rotated over" in n for n in df.attrs["notes"])
    assert not diag.counts.get("shared_messages")
    apart = ebutool.analyze(*parts, no_merge=True)
    assert not apart.attrs["notes"] and set(apart["source"]) <= {p.name for p in parts}
    assert len(set(apart["source"])) >= 2  # each piece analysed on its own


def test_cli_notes_the_rotation_and_no_merge_keeps_apart(pieces):
    src, parts = pieces
    res = run_cli("analyze", *map(str, parts), "-f", "csv")
    assert res.exit_code == 0, res.output
    assert "one capture rotated over" in res.stderr and "--no-merge" in res.stderr
    assert res.stdout.count("\n") == 4  # header and the three handovers
    apart = run_cli("analyze", *map(str, parts), "--no-merge", "-f", "csv")
    assert "rotated" not in apart.stderr
    assert run_cli("analyze", *map(str, parts), "--merge", "--no-merge").exit_code == 2


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_rotated_captures_warnings_are_the_merged_ones_not_its_pieces(tmp_path, jobs):
    """Cut in four, the pieces read apart reply to requests of the piece before
    (orphan_reply) and each has too little to tell its vantage: warnings of the
    pieces, not of the capture they are merged into, which has none (review of stop 31:
    the stitched table was right, its warnings the pieces')."""
    src = SAMPLES / "standard.pcap"
    parts = split_pcap(src, tmp_path / "s", 4)
    whole, stitched, apart = Diagnostics(), Diagnostics(), Diagnostics()
    ebutool.analyze(src, diag=whole)
    ebutool.analyze(*parts, diag=stitched, jobs=jobs)
    ebutool.analyze(*parts, diag=apart, no_merge=True, jobs=jobs)
    assert apart.counts["orphan_reply"] >= 1  # (what the cut makes: the guard)
    assert dict(stitched.counts) == dict(whole.counts)
    res = run_cli("analyze", *map(str, parts), "-f", "csv", "-j", str(jobs))
    assert res.exit_code == 0, res.output
    assert "orphan_reply" not in res.stderr and "rotated over" in res.stderr


def test_captures_far_apart_in_time_are_not_one_rotation(tmp_path):
    # the same pieces, the second moved an hour later: not consecutive
    src = SAMPLES / "standard.pcap"
    a, b = split_pcap(src, tmp_path / "s", 2)
    data = bytearray(b.read_bytes())
    pos = 24
    while pos + 16 <= len(data):
        sec = int.from_bytes(data[pos : pos + 4], "little") + 3600
        data[pos : pos + 4] = sec.to_bytes(4, "little")
        pos += 16 + int.from_bytes(data[pos + 8 : pos + 12], "little")
    b.write_bytes(bytes(data))
    df = ebutool.analyze(a, b)
    assert not df.attrs["notes"]
