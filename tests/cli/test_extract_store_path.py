"""extract -o: a store path that cannot be a store directory is a usage error before
any file is read, as every other command's -o (a missing parent: no such directory)."""

from __future__ import annotations

import os

import pytest

from tests.support.cli import SAMPLES, run_cli

PCAP = SAMPLES / "standard.pcap"


@pytest.mark.parametrize(
    "store,expected",
    [
        ("", "ebutool: error: -o: empty store name"),
        ("-", "ebutool: error: -o -: a store is a directory, not standard output; give a path"),
        (
            "missing/parent/store",
            "ebutool: error: cannot write -o missing/parent/store: no such "
            "directory {cwd}/missing/parent",
        ),
    ],
)
def test_a_store_path_that_cannot_be_created_is_refused(tmp_path, monkeypatch, store, expected):
    monkeypatch.chdir(tmp_path)
    res = run_cli("extract", PCAP, "-o", store)
    assert res.exit_code == 2, res.output
    assert res.stderr.splitlines() == [expected.format(cwd=os.path.realpath(tmp_path))]
    assert os.listdir(tmp_path) == []  # before: a store in '-', in the cwd, or in missing/


def test_a_new_store_in_an_existing_directory_is_created(tmp_path):
    res = run_cli("extract", PCAP, "-o", tmp_path / "store", "-q")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "store" / "ebutool-store.json").is_file()
