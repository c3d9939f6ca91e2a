"""Outputs of every command: checked before the work, atomic, exit status 5 when they
cannot be written (issue 12 items 4, 5 and 8), as real processes."""

from __future__ import annotations

import os
import stat
import subprocess

import pytest

from tests.support.cli import SAMPLES
from tests.support.proc import env, fsize_limit, run

PCAP = SAMPLES / "mixed.pcap"


@pytest.mark.parametrize(
    "args",
    [
        ["decode", PCAP, "-f", "csv", "-o"],
        ["analyze", PCAP, "-f", "csv", "-o"],
        ["verify", PCAP, "-f", "csv", "-o"],
        ["replay", PCAP, "-f", "csv", "-o"],
        ["convert", PCAP, "-o"],
        ["synth", SAMPLES / "mixed.toml", "-o"],
    ],
    ids=lambda a: a[0] if isinstance(a, list) else "",
)
def test_full_disk_keeps_old_file(tmp_path, args):
    target = tmp_path / "out"
    target.write_bytes(b"old content\n")
    p = run(*args, target, "-q", cwd=tmp_path, preexec_fn=fsize_limit(100))
    assert p.returncode == 5, p.stderr
    lines = p.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "cannot write -o" in lines[0]
    assert target.read_bytes() == b"old content\n"
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_replay_bad_divergences_path_before_work_and_old_output_kept(tmp_path):
    target = tmp_path / "exposure.csv"
    target.write_bytes(b"old\n")
    p = run("replay", PCAP, "-f", "csv", "-o", target, "--divergences", tmp_path / "no" / "d.csv")
    assert p.returncode == 2
    assert b"--divergences" in p.stderr and b"Traceback" not in p.stderr
    assert target.read_bytes() == b"old\n"


def test_output_checked_before_reading(tmp_path):
    # the input is a FIFO nobody writes to: a run that read it first would hang
    fifo = tmp_path / "in"
    os.mkfifo(fifo)
    p = run("decode", fifo, "-o", tmp_path / "no" / "x.csv", timeout=30)
    assert p.returncode == 2 and b"no such directory" in p.stderr


@pytest.mark.parametrize("how", ["dev_full", "closed"])
def test_stdout_errors_are_exit_5(how):
    if how == "dev_full":
        with open("/dev/full", "wb") as full:
            p = run(
                "decode",
                PCAP,
                "-f",
                "csv",
                "-q",
                stdout=full,
                capture_output=False,
                stderr=subprocess.PIPE,
            )
    else:
        p = run(
            "decode",
            PCAP,
            "-f",
            "csv",
            "-q",
            stdout=subprocess.DEVNULL,
            capture_output=False,
            stderr=subprocess.PIPE,
            preexec_fn=lambda: os.close(1),
        )
    assert p.returncode == 5, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and b"Traceback" not in p.stderr


def test_convert_to_dev_null_fifo_and_symlink(tmp_path):
    before = os.stat("/dev/null")
    assert run("convert", PCAP, "-o", "/dev/null", "-q").returncode == 0
    assert os.stat("/dev/null").st_ino == before.st_ino
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    proc = subprocess.Popen(
        ["python", "-m", "ebutool", "convert", str(PCAP), "-o", str(fifo), "-q"], env=env()
    )
    data = fifo.read_bytes()
    assert proc.wait(60) == 0
    assert data.startswith(b'{"type":"header"') and stat.S_ISFIFO(os.stat(fifo).st_mode)

    (tmp_path / "real.jsonl").write_bytes(b"old")
    (tmp_path / "link.jsonl").symlink_to("real.jsonl")
    assert run("convert", PCAP, "-o", tmp_path / "link.jsonl", "-q").returncode == 0
    assert (tmp_path / "link.jsonl").is_symlink()
    assert (tmp_path / "real.jsonl").read_bytes() == data


def test_modes_follow_umask_keys_are_0600(tmp_path):
    def umask027() -> None:
        os.umask(0o027)

    p = run("convert", PCAP, "-o", tmp_path / "t.jsonl", "-q", preexec_fn=umask027)
    assert p.returncode == 0
    assert stat.S_IMODE(os.stat(tmp_path / "t.jsonl").st_mode) == 0o640
    p = run(
        "synth",
        SAMPLES / "mixed.toml",
        "-o",
        tmp_path / "s.pcap",
        "--keys",
        tmp_path / "k.json",
        "-q",
    )
    assert p.returncode == 0, p.stderr
    assert stat.S_IMODE(os.stat(tmp_path / "k.json").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "s.pcap").st_mode) == 0o666 & ~_umask()


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m
