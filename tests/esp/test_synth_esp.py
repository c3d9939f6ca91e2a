"""ebutool synth --esp: the protected packets decrypt with scapy (an independent peer) to
the packets in clear; the bundled ESP sample with each of its SA files gives the episode
rows of the clear sample; SA files are written 0600 and keys never leak."""

from __future__ import annotations

import copy
import os
import stat

import pandas as pd
import pytest
from cryptography.hazmat.primitives.ciphers import algorithms, modes
from scapy.layers.inet6 import IPv6
from scapy.layers.ipsec import ESP, SecurityAssociation

import ebutool
from ebutool.esp import load_sa_files
from ebutool.esp.algorithms import CIPHERS
from ebutool.synth import load_scenario, protect_run, simulate
from ebutool.synth.protect import ALGORITHMS
from tests.support.cli import SAMPLES

SCAPY_CRYPT = {"null": "NULL", "aes-cbc": "AES-CBC", "aes-ctr": "AES-CTR"}
SCAPY_AUTH = {
    "null": "NULL",
    "hmac-sha1-96": "HMAC-SHA1-96",
    "hmac-sha256-128": "SHA2-256-128",
    "aes-cmac-96": "AES-CMAC-96",
}


def scapy_sa(sa) -> SecurityAssociation:
    gcm = CIPHERS[sa.encryption].aead
    peer = SecurityAssociation(
        ESP,
        spi=sa.spi,
        crypt_algo="AES-GCM" if gcm else SCAPY_CRYPT[sa.encryption],
        crypt_key=sa.enc_key.octets or None,
        crypt_icv_size=CIPHERS[sa.encryption].icv_len if gcm else None,
        auth_algo=SCAPY_AUTH[sa.integrity],
        auth_key=sa.auth_key.octets or None,
    )
    if gcm and CIPHERS[sa.encryption].icv_len != 16:
        # scapy's AESGCM path takes 16-octet tags only; its cipher-API path any length
        peer.crypt_algo = copy.copy(peer.crypt_algo)
        peer.crypt_algo.ciphers_aead_api = False
        peer.crypt_algo.cipher, peer.crypt_algo.mode = algorithms.AES, modes.GCM
    return peer


@pytest.fixture(scope="module")
def run_in_clear():
    return simulate(load_scenario(str(SAMPLES / "early-conservative.toml")))


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_synth_protection_decrypts_with_scapy(run_in_clear, algorithm):
    run = protect_run(run_in_clear, algorithm)
    assert dict(run.protected) == {"bu": 3, "ba": 3, "hoti": 3, "hot": 3}
    peers = {sa.spi: scapy_sa(sa) for sa in run.sas}
    changed = 0
    for (ts, clear), (ts2, sent) in zip(run_in_clear.packets, run.packets, strict=True):
        assert ts == ts2
        if sent == clear:
            continue
        changed += 1
        pkt = IPv6(sent)
        spi = pkt[ESP].spi
        assert bytes(peers[spi].decrypt(pkt)) == clear
    assert changed == 12


@pytest.mark.parametrize("suffix", [".esp_sa", ".xfrm", ".esp.json"])
def test_bundled_sample_gives_the_clear_rows(suffix):
    clear = ebutool.analyze(SAMPLES / "early-conservative.pcap")
    diag = ebutool.Diagnostics()
    sas = load_sa_files([SAMPLES / "esp" / f"early-conservative{suffix}"])
    got = ebutool.analyze(SAMPLES / "esp" / "early-conservative.pcap", esp_sas=sas, diag=diag)
    assert not diag.counts
    assert list(got["esp_protected"]) == ["HoTI;HoT;BU;BA"] * 3
    pd.testing.assert_frame_equal(
        got.drop(columns=["esp_protected", "source"]),
        clear.drop(columns=["esp_protected", "source"]),
    )


def test_cli_synth_writes_sa_files_0600(tmp_path, cli):
    out = tmp_path / "e.pcap"
    prefix = tmp_path / "sas"
    got = cli(
        "synth", SAMPLES / "early-conservative.toml", "-o", out, "--esp", "aes-gcm-12",
        "--esp-sa-out", prefix,
    )  # fmt: skip
    assert got.exit_code == 0, got.stderr
    for suffix in (".esp_sa", ".xfrm", ".esp.json"):
        path = f"{prefix}{suffix}"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert len(load_sa_files([path])) == 4
    alone = cli("synth", SAMPLES / "early-conservative.toml", "-o", out, "--esp", "aes-gcm-12")
    assert alone.exit_code != 0 and "--esp-sa-out" in alone.stderr
    bad = cli(
        "synth", SAMPLES / "early-conservative.toml", "-o", out, "--esp", "rot13",
        "--esp-sa-out", prefix,
    )  # fmt: skip
    assert bad.exit_code != 0 and "aes-cbc/hmac-sha1-96" in bad.stderr


def test_keys_never_in_output_even_with_debug(tmp_path, cli):
    """Wrong keys (ICV mismatches), and a broken SA file, under EBUTOOL_DEBUG."""
    sample_sas = (SAMPLES / "esp" / "early-conservative.esp_sa").read_text()
    keys = [f.strip('"')[2:] for line in sample_sas.splitlines()[1:] for f in line.split(",")[5::2]]
    wrong = tmp_path / "wrong.esp_sa"
    flipped = sample_sas.replace("0x", "0x0").replace('"0x0', '"0x')  # same length, other keys
    wrong.write_text(flipped.replace(keys[0][:4], "ffff"))
    env = {"EBUTOOL_DEBUG": "1"}
    for args in (
        ("analyze", SAMPLES / "esp" / "early-conservative.pcap", "--esp-sa", wrong),
        ("decode", SAMPLES / "esp" / "early-conservative.pcap", "--esp-sa", wrong),
        ("verify", SAMPLES / "esp" / "early-conservative.pcap", "--esp-sa", wrong),
    ):
        got = cli(*args, env=env)
        text = got.stdout + got.stderr
        assert got.exit_code in (0, 1), text
        for key in keys:
            assert key not in text and key.upper() not in text
    short = tmp_path / "short.esp_sa"
    short.write_text(sample_sas.replace(keys[0], keys[0][:-2]))
    got = cli("analyze", SAMPLES / "esp" / "early-conservative.pcap", "--esp-sa", short, env=env)
    assert got.exit_code != 0 and "octets" in got.stderr
    assert all(k[:-2] not in got.stderr and k not in got.stderr for k in keys)
