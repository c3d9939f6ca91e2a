"""The SA file readers (Wireshark esp_sa, ip xfrm state, JSON esp_sas), --esp-sa on the
command line, selectors, and the rule that no key ever appears in any output."""

from __future__ import annotations

import json

import pytest

from ebutool.core.errors import UsageError
from ebutool.esp import EspSA, load_sa_files, parse_sa_text
from ebutool.esp.sa import address_matches
from ebutool.esp.sa_files import MAX_SA_FILE_OCTETS
from tests.esp.peer import ALGORITHMS, json_entry, make_sa, wireshark_line, xfrm_block
from tests.esp.test_scapy_peer import assert_no_sa_key_in, protected_sample

FORMATS = ("wireshark", "xfrm", "json")


def write_sas(path, sas, fmt: str) -> None:
    if fmt == "wireshark":
        text = "# esp_sa written by a test\n" + "\n".join(wireshark_line(sa) for sa in sas) + "\n"
    elif fmt == "xfrm":
        text = "".join(xfrm_block(sa) for sa in sas)
    else:
        text = json.dumps(
            {"2001:db8::1": {"kcn": "00" * 20}, "esp_sas": [json_entry(sa) for sa in sas]}
        )
    path.write_text(text)


def facts(sa: EspSA) -> tuple:
    return (sa.spi, sa.src, sa.dst, sa.encryption, sa.enc_key, sa.integrity, sa.auth_key, sa.esn)


@pytest.mark.parametrize("algo", sorted(ALGORITHMS))
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_gives_the_same_sa(tmp_path, algo, fmt):
    if fmt == "wireshark" and not ALGORITHMS[algo].ws_auth:
        pytest.skip("Wireshark has no AES-CMAC-96")
    peer = make_sa(0x00C0FFEE, "2001:db8:1::100", "2001:db8:1::1", algo)
    path = tmp_path / "sas"
    write_sas(path, [peer], fmt)
    (sa,) = load_sa_files([path])
    assert facts(sa) == (
        0x00C0FFEE,
        "2001:db8:1::100",
        "2001:db8:1::1",
        peer.algo.encryption,
        sa.enc_key.__class__(peer.enc_key),
        peer.algo.integrity,
        sa.auth_key.__class__(peer.auth_key),
        False,
    )


def test_xfrm_esn_and_replay_window():
    text = (
        "src 2001:db8:a::100 dst 2001:db8:1::1\n"
        "\tproto esp spi 0x00000101 reqid 7 mode tunnel\n"
        "\treplay-window 128 flag af-unspec esn\n"
        "\taead rfc4106(gcm(aes)) 0x" + "11" * 20 + " 96\n"
        "\tanti-replay esn context:\n"
        "src 2001:db8:1::1 dst 2001:db8:a::100\n"
        "\tproto comp spi 0x00000202 reqid 7 mode tunnel\n"
    )
    (sa,) = parse_sa_text(text, "t")
    assert (sa.spi, sa.encryption, sa.esn, sa.replay_window) == (0x101, "aes-gcm-12", True, 128)


@pytest.mark.parametrize(
    "selector, address, match",
    [
        ("*", "2001:db8::1", True),
        ("2001:db8::1", "2001:db8:0::1", True),
        ("2001:db8::1", "2001:db8::2", False),
        ("2001:0db8:0001:*", "2001:db8:1::100", True),
        ("2001:0db8:0002:*", "2001:db8:1::100", False),
    ],
)
def test_address_selectors(selector, address, match):
    assert address_matches(selector, address) is match


@pytest.mark.parametrize("fmt", FORMATS)
def test_cli_analyze_with_each_format_gives_the_clear_rows(tmp_path, cli, fmt):
    clear, esp, sas, _ = protected_sample(tmp_path, "cbc-sha1")
    path = tmp_path / f"sas.{fmt}"
    write_sas(path, sas.values(), fmt)
    want = cli("analyze", clear, "-f", "csv", "--quiet")
    got = cli("analyze", esp, "-f", "csv", "--esp-sa", path)
    assert want.exit_code == 0 and got.exit_code == 0, got.stderr
    import csv

    want_rows = list(csv.DictReader(want.stdout.splitlines()))
    got_rows = list(csv.DictReader(got.stdout.splitlines()))
    assert want.stdout.splitlines()[0] == got.stdout.splitlines()[0]
    assert "esp_protected" in want.stdout.splitlines()[0].split(",")
    # the same but for the source column (the file name) and esp_protected
    cut = lambda row: {k: v for k, v in row.items() if k not in ("source", "esp_protected")}  # noqa: E731
    assert [cut(r) for r in got_rows] == [cut(r) for r in want_rows]
    assert all(r["esp_protected"] == "BU;BA" or "HoTI" in r["esp_protected"] for r in got_rows)
    # the keys never appear, however the run goes
    assert_no_sa_key_in(got.stdout + got.stderr, sas)


def test_decode_shows_esp_columns_only_with_sas(tmp_path, cli):
    clear, esp, sas, _ = protected_sample(tmp_path, "gcm16")
    path = tmp_path / "sas.json"
    write_sas(path, sas.values(), "json")
    plain = cli("decode", clear, "-f", "csv", "--quiet")
    assert "esp_" not in plain.stdout.splitlines()[0]
    without = cli("decode", esp, "-f", "csv")
    assert "esp_no_sa" in without.stderr and "ESP" in without.stderr
    got = cli("decode", esp, "-f", "csv", "--esp-sa", path, "--quiet")
    header, *rows = got.stdout.splitlines()
    assert header == plain.stdout.splitlines()[0] + ",esp_spi,esp_seq,esp_algorithm"
    protected = [r for r in rows if r.endswith(",aes-gcm-16")]
    assert {r.split(",")[8] for r in protected} == {"BU", "BA", "HoTI", "HoT"}
    assert any(",0x00001001,1,aes-gcm-16" in r for r in protected)


def test_sa_for_another_care_of_address_is_used_once_said(tmp_path, cli):
    clear, esp, sas, _ = protected_sample(tmp_path, "ctr-sha1")
    for sa in sas.values():
        sa.src, sa.dst = "2001:db8:ffff::1", "2001:db8:ffff::2"
    path = tmp_path / "sas.esp_sa"
    write_sas(path, sas.values(), "wireshark")
    got = cli("analyze", esp, "-f", "csv", "--esp-sa", path)
    assert got.exit_code == 0
    assert "esp_sa_addresses_differ 4" in got.stderr  # once per SPI
    assert got.stdout == cli("analyze", esp, "-f", "csv", "--esp-sa", path).stdout


@pytest.mark.parametrize(
    "text, words",
    [
        ('"IPv6","*","*","0x1","AES-CBC [RFC3602]","0xZZ' + "ab" * 15 + '","NULL",""\n', "hex"),
        ('"IPv6","*","*","0x1","AES-CBC [RFC3602]","0x' + "ab" * 15 + '","NULL",""\n', "octets"),
        ('"IPv6","*","*"\n', "fields"),
        ("hello\n", "not an SA file"),
        ('{"esp_sas": [{"spi": "0x1", "enc_key": "ab", "colour": 1}]}', "unknown field"),
    ],
)
def test_bad_sa_file_is_one_line_without_the_key(tmp_path, cli, text, words):
    path = tmp_path / "bad"
    path.write_text(text)
    path.chmod(0o600)  # keys: readable by the owner only (else a warning line too)
    got = cli("decode", tmp_path / "none.pcap", "--esp-sa", path, env={"EBUTOOL_DEBUG": "1"})
    assert got.exit_code != 0
    assert words in got.stderr and len(got.stderr.strip().splitlines()) == 1
    assert "abab" not in got.stderr + got.stdout and "Traceback" not in got.stderr
    with pytest.raises(UsageError):
        load_sa_files([path])


def test_sa_file_size_limit_and_missing_file(tmp_path):
    big = tmp_path / "big"
    big.write_bytes(b"#" * (MAX_SA_FILE_OCTETS + 1))
    with pytest.raises(UsageError, match="larger than"):
        load_sa_files([big])
    with pytest.raises(UsageError, match="no such file"):
        load_sa_files([tmp_path / "absent"])


def test_unsupported_algorithm_is_counted_not_fatal(tmp_path, cli):
    clear, esp, sas, _ = protected_sample(tmp_path, "cbc-sha1")
    path = tmp_path / "sas"
    lines = [
        wireshark_line(sa).replace("AES-CBC [RFC3602]", "TripleDES-CBC [RFC2451]")
        for sa in sas.values()
    ]
    path.write_text("\n".join(lines) + "\n")
    got = cli("analyze", esp, "-f", "csv", "--esp-sa", path)
    assert got.exit_code == 0 and "esp_unsupported_algorithm" in got.stderr


def test_keys_never_in_repr_or_messages():
    sa = make_sa(1, "*", "*", "cbc-sha1")
    (parsed,) = parse_sa_text(wireshark_line(sa), "t")
    text = repr(parsed) + str(parsed) + repr(parsed.enc_key) + f"{parsed.auth_key}"
    assert sa.enc_key.hex() not in text and sa.auth_key.hex() not in text
    assert "<key, 16 octets>" in text


@pytest.mark.parametrize(("mode", "warned"), [(0o600, False), (0o644, True), (0o660, True)])
def test_sa_file_others_can_read_gets_a_warning(tmp_path, cli, mode, warned):
    """SA files hold keys: the key-file rule (ssh's) applies to them too (issue 14 item 6)."""
    clear, esp, sas, _ = protected_sample(tmp_path, "cbc-sha1")
    path = tmp_path / "sas.esp_sa"
    write_sas(path, sas.values(), "wireshark")
    path.chmod(mode)
    got = cli("analyze", esp, "-f", "csv", "-q", "--esp-sa", path)
    assert got.exit_code == 0, got.stderr
    assert ("accessible by group or others" in got.stderr) is warned, got.stderr
    for sa in sas.values():  # the warning names the file, never a key
        assert sa.enc_key.hex() not in got.stderr
