"""What `extract` takes from its arguments: the store of a directory answers for what
`analyze --merge` of that directory reads, no more and no less."""

from __future__ import annotations

import gzip

from tests.support.cli import SAMPLES, run_cli
from tests.support.splitcap import split_pcap


def _analyze(*args) -> tuple[str, int]:
    res = run_cli("analyze", *args, "-f", "csv", "-q")
    return res.stdout, res.exit_code


def test_store_of_a_directory_holds_its_traces_and_compressed_captures(tmp_path):
    """A directory of rotated pieces, one of them gzip-compressed, and a JSON Lines trace
    of another run: `analyze --merge DIR` reads all of them (ebutool.runner.inputs), and
    so does `extract DIR` (it took only the uncompressed pcap/pcapng files: the store
    gave half the episodes, without a word)."""
    folder = tmp_path / "caps"
    pieces = split_pcap(SAMPLES / "mixed.pcap", folder, 4, stem="mixed")
    packed = pieces[2].with_name(pieces[2].name + ".gz")
    packed.write_bytes(gzip.compress(pieces[2].read_bytes()))
    pieces[2].unlink()
    (folder / "other-run.jsonl").write_bytes((SAMPLES / "standard.jsonl").read_bytes())
    store = tmp_path / "store"
    res = run_cli("extract", folder, "-o", store, "-q")
    assert res.exit_code == 0, res.stderr
    assert len(list((store / "parts").iterdir())) == 5
    merged, rc = _analyze("--merge", folder)
    assert rc == 0 and merged.count("\n") > 10
    assert _analyze(store) == (merged, 0)
