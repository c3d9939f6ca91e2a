"""extract --esp-sa: a store of ESP-protected captures holds the decrypted records with
their ESP facts, so analyze STORE/ gives the rows of analyze CAPTURE --esp-sa F.

Ground truth: the clear capture the protected one was made from (scapy's
SecurityAssociation encrypts it, tests/esp/peer.py), and the capture read directly."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

import ebutool
from ebutool.core.diagnostics import Diagnostics
from ebutool.esp import load_sa_files
from ebutool.records.from_packet import StreamStats
from ebutool.store import analyze_store, extract, store_records
from ebutool.stream.reader import read_records
from tests.esp.test_scapy_peer import ebutool_sa, protected_sample
from tests.support.cli import SAMPLES
from tests.support.splitcap import split_pcap

pytest.importorskip("pyarrow")

ESP_SAMPLE = SAMPLES / "esp" / "early-conservative.pcap"
SA_FILES = {
    "esp_sa": SAMPLES / "esp" / "early-conservative.esp_sa",
    "xfrm": SAMPLES / "esp" / "early-conservative.xfrm",
    "json": SAMPLES / "esp" / "early-conservative.esp.json",
}
ESP_FIELDS = ("esp_spi", "esp_seq", "esp_algorithm")


def _fields(items):
    return [{k: getattr(r, k) for k in r.__slots__ if k != "source"} for r in items]


def _sa_file(tmp_path, kind: str):
    """A private copy of the sample's SA file (no permission warning)."""
    copy = tmp_path / SA_FILES[kind].name
    shutil.copyfile(SA_FILES[kind], copy)
    copy.chmod(0o600)
    return copy


def test_store_records_keep_the_esp_facts(tmp_path):
    sas = load_sa_files([SA_FILES["json"]])
    diag, stats = Diagnostics(), StreamStats()
    direct = list(read_records(ESP_SAMPLE, diag, stats, esp_sas=sas))
    protected = [r for r in direct if r.esp_spi is not None]
    assert protected and all(r.esp_seq and r.esp_algorithm for r in protected)
    extract([ESP_SAMPLE], tmp_path / "s", esp_sas=sas)
    diag2, stats2 = Diagnostics(), StreamStats()
    stored = list(store_records(str(tmp_path / "s"), diag2, stats2))
    assert _fields(stored) == _fields(direct)
    assert stats2 == stats and diag2.counts == diag.counts


@pytest.mark.parametrize("kind", sorted(SA_FILES))
def test_analyze_store_gives_the_capture_rows(tmp_path, cli, kind):
    sa = _sa_file(tmp_path, kind)
    res = cli("extract", ESP_SAMPLE, "-o", tmp_path / "s", "--esp-sa", sa, "-q")
    assert res.exit_code == 0, res.stderr
    from_store = cli("analyze", tmp_path / "s", "-f", "csv", "-q")
    direct = cli("analyze", ESP_SAMPLE, "--esp-sa", sa, "-f", "csv", "-q")
    assert from_store.exit_code == direct.exit_code == 0, from_store.stderr + direct.stderr
    assert from_store.stdout == direct.stdout
    header, *rows = direct.stdout.splitlines()
    at = header.split(",").index("esp_protected")
    assert rows and all(r.split(",")[at] == "HoTI;HoT;BU;BA" for r in rows)


def test_store_of_a_protected_capture_equals_the_clear_rows(tmp_path):
    """Independent ground truth: the scapy-protected capture's store gives the clear
    capture's rows (esp_protected aside)."""
    clear, esp, sas, _ = protected_sample(tmp_path, "gcm16")
    extract([esp], tmp_path / "s", esp_sas=[ebutool_sa(sa) for sa in sas.values()])
    got, want = analyze_store(tmp_path / "s"), ebutool.analyze(clear)
    assert len(want) > 0 and got["esp_protected"].notna().all()
    pd.testing.assert_frame_equal(
        got.drop(columns=["esp_protected", "source"]),
        want.drop(columns=["esp_protected", "source"]),
    )


def test_part_extracted_with_other_sas_is_extracted_again(tmp_path):
    sas = load_sa_files([SA_FILES["json"]])
    store = tmp_path / "s"
    assert extract([ESP_SAMPLE], store).results[0].status == "extracted"
    assert analyze_store(store)["rtt_ha_ms"].isna().all()  # the BU/BA stayed ESP
    assert extract([ESP_SAMPLE], store, esp_sas=sas).results[0].status == "extracted"
    assert extract([ESP_SAMPLE], store, esp_sas=sas).results[0].status == "unchanged"
    pd.testing.assert_frame_equal(analyze_store(store), ebutool.analyze(ESP_SAMPLE, esp_sas=sas))
    assert extract([ESP_SAMPLE], store).results[0].status == "extracted"  # SAs dropped


def test_store_keeps_no_key(tmp_path):
    sas = load_sa_files([SA_FILES["json"]])
    extract([ESP_SAMPLE], tmp_path / "s", esp_sas=sas)
    octets = b"".join(p.read_bytes() for p in (tmp_path / "s").rglob("*") if p.is_file())
    for sa in sas:
        for key in (sa.enc_key.octets, sa.auth_key.octets):
            if key:
                assert key not in octets and key.hex().encode() not in octets


def test_cluster_extract_with_sas(tmp_path, cli):
    pytest.importorskip("distributed")
    pieces = split_pcap(ESP_SAMPLE, tmp_path / "rotated", 3)[0].parent
    sa = _sa_file(tmp_path, "xfrm")
    res = cli("extract", pieces, "-o", tmp_path / "s", "--esp-sa", sa, "--cluster", "local:2")
    assert res.exit_code == 0, res.stderr
    got = analyze_store(tmp_path / "s")
    want = ebutool.analyze(ESP_SAMPLE, esp_sas=load_sa_files([sa]))
    assert got["esp_protected"].notna().all()
    pd.testing.assert_frame_equal(got.drop(columns="source"), want.drop(columns="source"))


def test_sas_given_for_a_store_extracted_without_them_are_said(tmp_path):
    """ESP SAs are applied at extraction; given to analyze for a store extracted without
    them they are a counted warning, never silently unused."""
    sas = load_sa_files([SA_FILES["json"]])
    store = tmp_path / "s"
    extract([ESP_SAMPLE], store)
    diag = Diagnostics()
    ebutool.analyze(store, esp_sas=sas, diag=diag)
    assert diag.counts["esp_sa_not_applied"] == 1
    assert "extract --esp-sa" in diag.kept[0].message
    extract([ESP_SAMPLE], store, esp_sas=sas)
    diag = Diagnostics()
    rows = ebutool.analyze(store, esp_sas=sas, diag=diag)
    assert "esp_sa_not_applied" not in diag.counts and rows["esp_protected"].notna().all()
