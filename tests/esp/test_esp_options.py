"""--esp-replay-window, Wireshark-style SPI patterns, and the --keys file's esp_sas section.

Ground truth: the packets are encrypted by scapy's SecurityAssociation (tests/esp/peer.py)
with sequence numbers chosen here; the RFC 4303 3.4.3 window rule decides by hand which
arrive inside and outside the window."""

from __future__ import annotations

import json
import os

import pytest

from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import UsageError
from ebutool.esp import parse_sa_text
from ebutool.esp.sa import SATable
from ebutool.records.from_packet import StreamStats
from ebutool.stream.reader import read_records
from tests.esp.peer import json_entry, make_sa, wireshark_line
from tests.esp.test_scapy_peer import assert_no_sa_key_in, clear_packets, protected_sample
from tests.support.capbuild import LINKTYPE_IPV6, pcap_bytes

# 8 comes late but within a window of 4 below the highest number seen (10): accepted;
# 3 comes after 10, i.e. 7 below it: outside a window of 4, inside the default 64.
ORDER = [1, 2, 4, 5, 6, 7, 9, 10, 8, 3]


@pytest.fixture
def late_capture(tmp_path):
    peer = make_sa(0x1001, "*", "*", "gcm16")
    engine, bu = peer.scapy(), clear_packets()["bu"]
    frames = [(10**18 + i, bytes(engine.encrypt(bu, seq_num=n))) for i, n in enumerate(ORDER)]
    path = tmp_path / "late.pcap"
    path.write_bytes(pcap_bytes(frames, LINKTYPE_IPV6, nanosecond=True))
    return path, peer


def decoded_seqs(result) -> list[int]:
    header, *rows = result.stdout.splitlines()
    at = header.split(",").index("esp_seq")
    return [int(r.split(",")[at]) for r in rows if r.split(",")[at]]


def test_replay_window_option(tmp_path, cli, late_capture):
    path, peer = late_capture
    sas = tmp_path / "sas.esp_sa"
    sas.write_text(wireshark_line(peer) + "\n")  # Wireshark's table gives no window
    os.chmod(sas, 0o600)
    small = cli("decode", path, "-f", "csv", "--esp-sa", sas, "--esp-replay-window", 4)
    assert small.exit_code == 0, small.stderr
    assert "esp_replayed_sequence 1" in small.stderr
    assert decoded_seqs(small) == [n for n in ORDER if n != 3]
    default = cli("decode", path, "-f", "csv", "--esp-sa", sas)
    assert "esp_replayed_sequence" not in default.stderr
    assert decoded_seqs(default) == ORDER
    bad = cli("decode", path, "--esp-sa", sas, "--esp-replay-window", 0)
    assert bad.exit_code != 0 and "Traceback" not in bad.stderr


def test_sa_file_window_wins_over_the_option(tmp_path, cli, late_capture):
    path, peer = late_capture
    sas = tmp_path / "sas.json"
    sas.write_text(json.dumps({"esp_sas": [{**json_entry(peer), "replay_window": 64}]}))
    os.chmod(sas, 0o600)
    got = cli("decode", path, "-f", "csv", "--esp-sa", sas, "--esp-replay-window", 4)
    assert "esp_replayed_sequence" not in got.stderr
    assert decoded_seqs(got) == ORDER
    sas.write_text(json.dumps({"esp_sas": [{**json_entry(peer), "replay_window": 4}]}))
    got = cli("decode", path, "-f", "csv", "--esp-sa", sas, "--esp-replay-window", 64)
    assert "esp_replayed_sequence 1" in got.stderr


@pytest.mark.parametrize(
    "command",
    [
        "analyze",
        "decode",
        "verify",
        "replay",
        "timeline",
        "convert",
        "compare",
        "annotate",
        "extract",
        "report",
    ],
)
def test_every_esp_command_has_the_window_option(cli, command):
    got = cli(command, "--help")
    assert "--esp-sa" in got.stdout and "--esp-replay-window" in got.stdout


# --- SPI patterns -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern, spi, match",
    [
        ("0x0000*", 0x00001001, True),
        ("0x0000*", 0x0000FFFF, True),
        ("0x0000*", 0x00011001, False),
        ("0x0001*", 0x00001001, False),
        ("0x000010*1", 0x00001051, True),
        ("0x000010*1", 0x00001052, False),
        ("0x*", 0xDEADBEEF, True),
        ("*", 0xDEADBEEF, True),
        ("0x00001001", 0x00001001, True),
        ("0x00001001", 0x00001002, False),
    ],
)
def test_spi_pattern_selects(pattern, spi, match):
    line = f'"IPv6","*","*","{pattern}","NULL","","HMAC-SHA-1-96 [RFC2404]","0x{"11" * 20}"'
    (sa,) = parse_sa_text(line, "t")
    assert sa.spi_matches(spi) is match
    found, _ = SATable([sa]).lookup(spi, ("2001:db8::1",), ("2001:db8::2",))
    assert (found is sa) is match


@pytest.mark.parametrize("bad", ["0x0000*1*1*1*1", "0x00g0*", "12*"])
def test_bad_spi_pattern_is_a_usage_error(bad):
    line = f'"IPv6","*","*","{bad}","NULL","","NULL",""'
    with pytest.raises(UsageError, match="SPI"):
        parse_sa_text(line, "t")


def test_exact_spi_wins_over_a_pattern():
    exact = '"IPv6","*","*","0x00001001","NULL","","HMAC-SHA-1-96 [RFC2404]","0x' + "22" * 20 + '"'
    pattern = '"IPv6","*","*","0x0000*","NULL","","HMAC-SHA-1-96 [RFC2404]","0x' + "11" * 20 + '"'
    table = SATable(parse_sa_text(pattern + "\n" + exact, "t"))
    found, matched = table.lookup(0x1001, ("2001:db8::1",), ("2001:db8::2",))
    assert matched and found.auth_key.octets == b"\x22" * 20


def test_pattern_sa_decrypts_the_capture(tmp_path, late_capture):
    path, peer = late_capture
    for pattern, decrypted in (("0x0000*", True), ("0x0001*", False)):
        line = wireshark_line(peer).replace(f"0x{peer.spi:08x}", pattern)
        recs = list(
            read_records(path, Diagnostics(), StreamStats(), esp_sas=parse_sa_text(line, "t"))
        )
        assert [r.msg for r in recs] == (["BU"] * 10 if decrypted else ["data"] * 10)


# --- the keys JSON's esp_sas section with --keys -----------------------------------------------


def test_keys_file_esp_sas_are_used(tmp_path, cli):
    clear, esp, sas, _ = protected_sample(tmp_path, "cbc-sha1")
    keys = tmp_path / "keys.json"
    keys.write_text(
        json.dumps(
            {"2001:db8::1": {"kcn": "00" * 20}, "esp_sas": [json_entry(s) for s in sas.values()]}
        )
    )
    os.chmod(keys, 0o600)
    want = cli("analyze", esp, "-f", "csv", "--esp-sa", keys)
    without = cli("analyze", esp, "-f", "csv", "--quiet")
    assert want.exit_code == 0 and "BU;BA" in want.stdout
    assert without.stdout != want.stdout  # the SAs make a difference
    got = cli("analyze", esp, "-f", "csv", "--keys", keys)
    assert got.exit_code == 0, got.stderr
    assert got.stdout == want.stdout
    assert got.stderr.count("esp_sas section") == 1 and "4 ESP SA(s)" in got.stderr
    assert "esp_no_sa" not in got.stderr
    both = cli("analyze", esp, "-f", "csv", "--keys", keys, "--esp-sa", keys)
    assert both.stdout == want.stdout and "esp_sas section" not in both.stderr
    quiet = cli("analyze", esp, "-f", "csv", "--keys", keys, "--quiet")
    assert quiet.stdout == want.stdout and quiet.stderr == ""
    assert_no_sa_key_in(got.stdout + got.stderr, sas)


def test_keys_file_without_esp_sas_says_nothing(tmp_path, cli):
    clear, esp, sas, _ = protected_sample(tmp_path, "gcm16")
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"2001:db8::1": {"kcn": "00" * 20}}))
    os.chmod(keys, 0o600)
    got = cli("verify", esp, "--keys", keys)
    assert "esp_sas section" not in got.stderr and "esp_no_sa" in got.stderr
