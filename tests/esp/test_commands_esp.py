"""Decrypted packets flow on like clear ones (issue 14 item 3) in every command that
uses them, not only analyze: verify, replay, timeline and compare of the bundled
ESP-protected sample with its SAs print what they print for the same run in clear
(samples/early-conservative.pcap, the run synth protected: tests/esp/test_synth_esp.py
decrypts it with scapy)."""

from __future__ import annotations

import pytest

from tests.support.cli import SAMPLES, run_cli

CLEAR = SAMPLES / "early-conservative.pcap"
ESP = SAMPLES / "esp" / "early-conservative.pcap"
SA_FILE = SAMPLES / "esp" / "early-conservative.esp_sa"
KEYS = SAMPLES / "early-conservative.keys.json"

# command -> (arguments after the input, whether the output differs without the SAs)
COMMANDS = {
    "verify": (["--keys", KEYS, "-f", "csv", "--quiet"], True),
    "replay": (["-f", "csv", "--quiet"], False),  # the CN model needs no MN-HA message
    "timeline": (["--episode", "1", "--quiet"], True),
    "compare": (["-f", "csv", "--quiet"], True),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_protected_sample_gives_the_clear_output(command):
    args, differs = COMMANDS[command]
    clear = run_cli(command, CLEAR, *args)
    got = run_cli(command, ESP, *args, "--esp-sa", SA_FILE)
    assert clear.exit_code == got.exit_code == 0, got.output
    assert len(clear.stdout) > 100 and got.stdout == clear.stdout
    if differs:  # the SAs are what made it the same
        without = run_cli(command, ESP, *args)
        assert without.stdout != clear.stdout
