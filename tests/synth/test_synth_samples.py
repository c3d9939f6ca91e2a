"""The bundled samples: up to date with their scenarios, byte for byte, and documented."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from ebutool.synth import load_scenario

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def regenerate_module():
    spec = importlib.util.spec_from_file_location("regenerate", SAMPLES / "regenerate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_there_are_three_to_five_samples_with_all_their_files():
    tomls = sorted(SAMPLES.glob("*.toml"))
    assert 3 <= len(tomls) <= 5
    for t in tomls:
        for suffix in (".pcap", ".jsonl", ".keys.json"):
            f = SAMPLES / f"{t.stem}{suffix}"
            assert f.exists() and 0 < f.stat().st_size < 400_000, f


def test_committed_samples_are_what_the_scenarios_give():
    assert regenerate_module().main(["--check"]) == 0


def test_rendering_twice_gives_identical_bytes():
    mod = regenerate_module()
    toml = SAMPLES / "mixed.toml"
    assert mod.render(toml) == mod.render(toml)


def test_check_notices_a_stale_sample(tmp_path, capsys):
    shutil.copy(SAMPLES / "standard.toml", tmp_path)
    mod = regenerate_module()
    assert mod.main(["--dir", str(tmp_path)]) == 0  # writes the three files
    assert mod.main(["--check", "--dir", str(tmp_path)]) == 0
    pcap = tmp_path / "standard.pcap"
    data = bytearray(pcap.read_bytes())
    data[-1] ^= 1
    pcap.write_bytes(bytes(data))
    assert mod.main(["--check", "--dir", str(tmp_path)]) == 1
    assert "out of date: standard.pcap" in capsys.readouterr().err


@pytest.mark.parametrize("toml", sorted(SAMPLES.glob("*.toml")), ids=lambda p: p.stem)
def test_readme_documents_each_sample_and_its_keys(toml):
    readme = (SAMPLES / "README.md").read_text()
    assert f"{toml.stem}.pcap" in readme and f"{toml.stem}.keys.json" in readme
    for cn in load_scenario(str(toml)).correspondents.values():
        assert cn.kcn.hex() in readme and cn.address in readme
        for nonce in cn.nonces.values():
            assert nonce.hex() in readme
