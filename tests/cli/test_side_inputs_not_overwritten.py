"""The files the key and ESP options read (--keys, --kcn-file, --nonces, --esp-sa) are
inputs like the captures: an output naming one is a usage error (exit 2, one line) and
the file is kept.  ``verify CAP --keys K -o K`` replaced the 292-octet keys file by the
verdict table, exit 0."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.support.cli import SAMPLES, run_cli

KEYS = SAMPLES / "early-conservative.keys.json"
ESP_SA = SAMPLES / "esp" / "early-conservative.esp_sa"
CAPTURE = SAMPLES / "early-conservative.pcap"


def _private_copy(src: Path, dst: Path) -> Path:
    shutil.copyfile(src, dst)
    os.chmod(dst, 0o600)  # (a keys file others can read is only warned about)
    return dst


@pytest.mark.parametrize(
    ("command", "option", "source", "spec"),
    [
        ("verify", "--keys", KEYS, "{f}"),
        ("analyze", "--keys", KEYS, "{f}"),
        ("replay", "--keys", KEYS, "{f}"),
        ("verify", "--kcn-file", None, "2001:db8:c1::1={f}"),
        ("verify", "--nonces", None, "{f}"),
        ("decode", "--esp-sa", ESP_SA, "{f}"),
        ("verify", "--esp-sa", ESP_SA, "{f}"),
    ],
)
def test_an_output_over_a_key_or_sa_file_is_refused(
    tmp_path: Path, command: str, option: str, source: Path | None, spec: str
) -> None:
    side = tmp_path / "side.txt"
    if source is not None:
        _private_copy(source, side)
    elif option == "--kcn-file":
        side.write_text("b22c25b9f1cee43dc71471708e23504566eda0b1\n")  # hex Kcn, by hand
    else:
        side.write_text('{"1": {"nonce": "66fd87c314105a92", "generated": 1704110400.0}}\n')
    os.chmod(side, 0o600)
    before = side.read_bytes()
    result = run_cli(command, CAPTURE, option, spec.format(f=side), "-o", side)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "same file" in lines[0] and option in lines[0], result.stderr
    assert side.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["side.txt"]  # no temporary left


def test_a_key_file_beside_another_output_is_still_read(tmp_path: Path) -> None:
    keys = _private_copy(KEYS, tmp_path / "k.json")
    out = tmp_path / "v.csv"
    result = run_cli("verify", CAPTURE, "--keys", keys, "-f", "csv", "-o", out)
    assert result.exit_code == 0, result.output
    assert "valid" in out.read_text()


def test_a_weird_log_over_an_input_is_refused_before_the_inputs_are_read(tmp_path: Path) -> None:
    # the second input is a named pipe nobody writes: reading it would block.  The clash
    # of --weird-log with the first input was found only when the log was written, after
    # every input was read (here: never, the run hung on the pipe)
    import subprocess
    import sys

    from tests.support.proc import env

    capture = tmp_path / "a.pcap"
    shutil.copyfile(CAPTURE, capture)
    os.mkfifo(tmp_path / "never.pcap")
    p = subprocess.run(
        [sys.executable, "-m", "ebutool", "analyze", capture, tmp_path / "never.pcap"]
        + ["-o", tmp_path / "x.csv", "--weird-log", capture],
        env=env(),
        capture_output=True,
        timeout=60,
    )
    assert p.returncode == 2, p.stderr
    assert p.stderr.decode().splitlines() == [
        f"ebutool: error: --weird-log {capture} is the same file as input {capture}: "
        "it would overwrite it"
    ]
    assert capture.read_bytes() == CAPTURE.read_bytes()


@pytest.mark.parametrize(("named", "option"), [("kcn.hex", "-o"), ("nonces.json", "--weird-log")])
def test_an_output_over_a_file_the_keys_file_names_is_refused(
    tmp_path: Path, named: str, option: str
) -> None:
    """A --keys file's "kcn_file" and "nonces" paths are inputs too: ``verify CAP --keys
    k.json -o kcn.hex`` replaced the 41-octet Kcn file by the 2336-octet verdict table
    (exit 0)."""
    (tmp_path / "kcn.hex").write_text("b22c25b9f1cee43dc71471708e23504566eda0b1\n")
    (tmp_path / "nonces.json").write_text(
        '{"1": {"nonce": "66fd87c314105a92", "generated": 1704110400.0},'
        ' "2": {"nonce": "4545c44de7921d5d", "generated": 1704110403.0}}\n'
    )
    keys = tmp_path / "k.json"  # names the two files relative to itself
    keys.write_text('{"2001:db8:c1::1": {"kcn_file": "kcn.hex", "nonces": "nonces.json"}}\n')
    for f in tmp_path.iterdir():
        os.chmod(f, 0o600)
    before = {f.name: f.read_bytes() for f in tmp_path.iterdir()}
    extra = ["-o", str(tmp_path / "v.csv")] if option != "-o" else []
    result = run_cli(
        "verify", CAPTURE, "--keys", keys, "-f", "csv", option, tmp_path / named, *extra
    )
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "same file" in lines[0], result.stderr
    assert named in lines[0].split("same file")[1] and "--keys" in lines[0], result.stderr
    assert {f.name: f.read_bytes() for f in tmp_path.iterdir()} == before  # nothing written


def test_the_files_a_keys_file_names_are_read(tmp_path: Path) -> None:
    (tmp_path / "kcn.hex").write_text("b22c25b9f1cee43dc71471708e23504566eda0b1\n")
    (tmp_path / "n.json").write_text(
        '{"1": {"nonce": "66fd87c314105a92", "generated": 1704110400.0},'
        ' "2": {"nonce": "4545c44de7921d5d", "generated": 1704110403.0}}\n'
    )
    keys = tmp_path / "k.json"
    keys.write_text('{"2001:db8:c1::1": {"kcn_file": "kcn.hex", "nonces": "n.json"}}\n')
    for f in tmp_path.iterdir():
        os.chmod(f, 0o600)
    out = tmp_path / "v.csv"
    result = run_cli("verify", CAPTURE, "--keys", keys, "-f", "csv", "-o", out)
    assert result.exit_code == 0, result.output
    verdicts = [line.split(",")[7] for line in out.read_text().splitlines()[1:]]
    assert verdicts and set(verdicts) == {"valid"}, verdicts
