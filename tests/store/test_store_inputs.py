"""What `extract` takes from its arguments: the store of a directory answers for what
`analyze --merge` of that directory reads, no more and no less."""

from __future__ import annotations

import gzip

import pytest

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


def test_extract_again_after_a_file_was_deleted(tmp_path):
    """A piece deleted from the directory (or named but gone) between two extracts: its
    part is kept and counted (a campaign may delete captures once extracted), and with
    --prune removed, so that the store answers for what is left, as `analyze --merge`
    does.  A part of another directory (not given this time) stays either way."""
    folder = tmp_path / "caps"
    pieces = split_pcap(SAMPLES / "mixed.pcap", folder, 4, stem="mixed")
    other = split_pcap(SAMPLES / "standard.pcap", tmp_path / "other", 1, stem="std")
    store = tmp_path / "store"
    assert run_cli("extract", folder, other[0], "-o", store, "-q").exit_code == 0
    whole = _analyze(store)
    assert whole == _analyze("--merge", *pieces, other[0])
    pieces[3].unlink()
    res = run_cli("extract", folder, "-o", store)
    assert res.exit_code == 0, res.stderr
    assert "1 part of inputs no longer there kept (--prune removes them)" in res.stderr
    assert _analyze(store) == whole  # (kept: the store still holds the deleted piece)
    res = run_cli("extract", folder, "-o", store, "--prune")
    assert res.exit_code == 0, res.stderr
    assert _analyze(store) == _analyze("--merge", *pieces[:3], other[0])
    assert len(list((store / "parts").iterdir())) == 4  # 3 pieces and the other capture
    assert len(list((store / "bindings").iterdir())) == 4
    assert "1 part of inputs no longer there removed" in res.stderr
    # named, but gone: a failed input (exit 3); its part kept, then pruned
    before = _analyze(store)
    pieces[2].unlink()
    res = run_cli("extract", *pieces[:3], "-o", store)
    assert res.exit_code == 3 and "cannot open" in res.stderr
    assert "1 part of inputs no longer there kept" in res.stderr
    assert _analyze(store) == before
    res = run_cli("extract", *pieces[:3], "-o", store, "-q", "--prune")
    assert res.exit_code == 3
    assert _analyze(store) == _analyze("--merge", *pieces[:2], other[0])


def test_extract_names_the_files_of_a_directory_it_does_not_read(tmp_path):
    """A README and a keys file beside the captures: `analyze DIR` names them in a note,
    `extract DIR` skipped them without a word; its closing line now names and counts
    them the same way (and the library report lists them)."""
    from ebutool.store import extract

    folder = tmp_path / "caps"
    folder.mkdir()
    (folder / "run.pcap").write_bytes((SAMPLES / "standard.pcap").read_bytes())
    (folder / "README.txt").write_text("captures of the 3 May campaign\n")
    (folder / "run.keys.json").write_bytes((SAMPLES / "standard.keys.json").read_bytes())
    note = (
        "2 files in the directory not read (no capture or trace, or a trace beside its "
        "capture): README.txt, run.keys.json"
    )
    analyzed = run_cli("analyze", folder, "-f", "csv")
    assert analyzed.exit_code == 0 and f"note: {note}" in analyzed.stderr
    res = run_cli("extract", folder, "-o", tmp_path / "store")
    assert res.exit_code == 0, res.stderr
    closing = res.stderr.strip().splitlines()[-1]
    assert closing.startswith(f"ebutool: {tmp_path / 'store'}: 1 files: 1 extracted")
    assert closing.endswith(f"; {note}")
    quiet = run_cli("extract", folder, "-o", tmp_path / "store", "-q")
    assert quiet.exit_code == 0 and quiet.stderr == ""
    report = extract([folder], tmp_path / "store2")
    assert sorted(report.left_out) == [str(folder / "README.txt"), str(folder / "run.keys.json")]


def _caps(tmp_path):
    folder = tmp_path / "caps"
    folder.mkdir()
    for name in ("early-conservative.pcap", "standard.pcap"):
        (folder / name).write_bytes((SAMPLES / name).read_bytes())
    return folder


def test_a_store_inside_its_input_directory_is_not_read_as_input(tmp_path):
    """`extract DIR -o DIR/store`, again and again: a directory's subdirectories are not
    read, so the store's parts never become inputs (the second run: 2 unchanged)."""
    folder = _caps(tmp_path)
    store = folder / "store"
    first = run_cli("extract", folder, "-o", store)
    again = run_cli("extract", folder, "-o", store)
    assert (first.exit_code, again.exit_code) == (0, 0), first.stderr + again.stderr
    assert "2 files: 0 extracted, 2 unchanged, 0 failed" in again.stderr, again.stderr
    assert len(list((store / "parts").iterdir())) == 2
    assert _analyze(store) == _analyze("--merge", folder)
    # analyze DIR reads the captures only, not the store beside them
    assert _analyze(folder) == _analyze(
        folder / "early-conservative.pcap", folder / "standard.pcap"
    )


@pytest.mark.parametrize(
    ("given", "out", "said"),
    [
        ("caps", "caps", "input {t}/caps is the store -o {t}/caps"),  # not a store yet
        ("caps/store", "caps/store", "input {t}/caps/store is the store -o {t}/caps/store"),
        ("caps/store", "other", "{t}/caps/store: is a record store"),  # was left out unsaid
        ("PART", "caps/store", "is inside the store -o {t}/caps/store"),  # was exit 3
        ("caps/store/parts", "caps/store", "input {t}/caps/store/parts is inside the store"),
    ],
)
def test_an_input_that_is_or_is_inside_a_store_is_refused(tmp_path, given, out, said):
    """A store given to extract was silently left out (`extract caps caps/store -o x`:
    exit 0, x without the store's parts), its part read as a capture (exit 3, 'not a pcap
    or pcapng capture'): now one line, exit 2, nothing written."""
    folder = _caps(tmp_path)
    assert run_cli("extract", folder, "-o", folder / "store", "-q").exit_code == 0
    part = next((folder / "store" / "parts").iterdir())
    before = sorted(p.name for p in (folder / "store" / "parts").iterdir())
    arg = part if given == "PART" else tmp_path / given
    res = run_cli("extract", arg, folder / "early-conservative.pcap", "-o", tmp_path / out)
    assert res.exit_code == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and said.format(t=tmp_path) in lines[0], res.stderr
    assert sorted(p.name for p in (folder / "store" / "parts").iterdir()) == before
    assert not (tmp_path / "other").exists()


def test_extract_of_a_directory_with_nothing_readable_names_its_files(tmp_path):
    """A directory whose every file is unreadable (a README, a 2-octet 'capture'):
    `extract DIR` said 'extract needs at least one capture' (exit 2) and named none; it
    now says what `analyze DIR` says, one line naming them, exit 3 (unreadable input,
    README exit table); no store is made.  Four files: the first three and '1 more'."""
    folder = tmp_path / "caps"
    folder.mkdir()
    (folder / "README.txt").write_text("captures of the 3 May campaign\n")
    (folder / "a.pcap").write_bytes(b"xx")
    (folder / "b.keys.json").write_text("{}\n")
    (folder / "c.txt").write_text("notes\n")
    want = (
        f"ebutool: error: {folder}: is a directory with no pcap or pcapng capture or JSON "
        "Lines trace in it (its files: README.txt, a.pcap, b.keys.json and 1 more)"
    )
    for cmd in (("extract", folder, "-o", tmp_path / "store"), ("analyze", folder)):
        res = run_cli(*cmd)
        assert res.exit_code == 3, res.stderr
        assert res.stderr.strip().splitlines() == [want]
    assert not (tmp_path / "store").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    res = run_cli("extract", empty, "-o", tmp_path / "store")
    assert res.exit_code == 3 and "(and no file)" in res.stderr
