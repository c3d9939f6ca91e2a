"""synth --esp-sa-out: the SA files are outputs like the others, written to a temporary
file and put in place (0600) only when the command ends well: an interrupted or failed
run leaves no half file and keeps an old one."""

from __future__ import annotations

import stat

import pytest

from ebutool.core.errors import OutputError
from tests.support.cli import SAMPLES, run_cli

TOML = SAMPLES / "standard.toml"
ESP = "aes-cbc/hmac-sha1-96"


def test_the_sa_files_are_put_in_place_at_the_end_with_mode_0600(tmp_path):
    res = run_cli(
        "synth",
        TOML,
        "-o",
        tmp_path / "s.pcap",
        "--esp",
        ESP,
        "--esp-sa-out",
        tmp_path / "sas",
        "-q",
    )
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["s.pcap", "sas.esp.json", "sas.esp_sa", "sas.xfrm"]
    for name in names[1:]:
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
        assert (tmp_path / name).stat().st_size > 0


def test_a_run_that_fails_after_the_sas_leaves_no_sa_file(tmp_path, monkeypatch):
    import ebutool.synth

    old = tmp_path / "sas.xfrm"
    old.write_text("old\n")

    def fail(*args, **kwargs):
        raise OutputError("cannot write -o s.pcap: No space left on device")

    monkeypatch.setattr(ebutool.synth, "write_capture", fail)
    res = run_cli(
        "synth",
        TOML,
        "-o",
        tmp_path / "s.pcap",
        "--esp",
        ESP,
        "--esp-sa-out",
        tmp_path / "sas",
        "-q",
    )
    assert res.exit_code == 5, res.output
    # before: sas.esp_sa, sas.xfrm and sas.esp.json were written in place at once
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sas.xfrm"]
    assert old.read_text() == "old\n"


@pytest.mark.parametrize("suffix", [".xfrm", ".esp.json"])
def test_an_sa_file_that_is_another_output_is_refused(tmp_path, suffix):
    res = run_cli(
        "synth",
        TOML,
        "-o",
        tmp_path / f"sas{suffix}",
        "--esp",
        ESP,
        "--esp-sa-out",
        tmp_path / "sas",
        "-q",
    )
    assert res.exit_code == 2, res.output
    assert "same file" in res.stderr
    assert list(tmp_path.iterdir()) == []
