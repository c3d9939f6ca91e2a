"""A value out of range in a scenario's [protocol] table is named by the file, the table
and the key the user wrote, like every other scenario error (exit 3, docs/synth.md).
Before, the checks the [protocol] table did not do itself (an upper end, synth's
microsecond clock, an MH type) named the command-line option the user never typed
("--max-token-lifetime 1e+300: ...", exit 2); and tentative_binding_lifetime = 0, which
the option takes (the CN never uses an unverified address), was refused by the table.
And a constant synth does not run on (max_nonce_lifetime, max_state_entries, the MH
type numbers) was taken from the table and changed nothing: now refused, naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import SAMPLES, run_cli

TOML = SAMPLES / "standard.toml"


def _scenario(tmp_path: Path, lines: str) -> Path:
    path = tmp_path / "s.toml"
    assert "[protocol]" not in TOML.read_text()
    path.write_text(TOML.read_text() + "\n[protocol]\n" + lines + "\n")
    return path


BAD = [
    ("max_token_lifetime = 1e300", "'max_token_lifetime' = 1e+300: must be at most 9223372036"),
    ("max_rr_binding_lifetime = 1e12", "'max_rr_binding_lifetime' = 1e+12: must be at most"),
    ("initial_bindack_timeout = 1e-9", "'initial_bindack_timeout' = 1e-09: synth's clock counts"),
    ("max_bindack_timeout = 5e-7", "'max_bindack_timeout' = 5e-07: synth's clock counts whole"),
    ("max_token_lifetime = 1e-7", "'max_token_lifetime' = 1e-07: synth's clock counts whole"),
    ("max_update_rate = 1e-300", "'max_update_rate' = 1e-300: must be at least 1.08"),
    ("max_update_rate = 2e9", "'max_update_rate' = 2e+09: must be at most 1000000000"),
    ("max_bindack_timeout = 0", "'max_bindack_timeout' = 0: must be a finite number > 0"),
    ("max_rr_binding_lifetime = -1", "'max_rr_binding_lifetime' = -1: must be a finite number"),
    ("tentative_binding_lifetime = -2", "'tentative_binding_lifetime' = -2: must be a finite"),
    ("max_bindack_timeout = nan", "'max_bindack_timeout' must be a finite number"),
    ('max_bindack_timeout = "32"', "'max_bindack_timeout' must be a finite number"),
]


@pytest.mark.parametrize("lines,says", BAD, ids=[b[0] for b in BAD])
def test_a_bad_value_in_the_protocol_table_names_the_file_and_key(tmp_path, lines, says):
    scenario = _scenario(tmp_path, lines)
    out = tmp_path / "x.pcap"
    result = run_cli("synth", scenario, "-o", out)
    assert result.exit_code == 3, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"ebutool: error: {scenario}: [protocol]: {says}"), line
    assert " --" not in line  # no option: the value came from the file
    assert not out.exists()


@pytest.mark.parametrize(
    "lines",
    ["max_nonce_lifetime = 1", "max_state_entries = 1", "ebu_mh_type = 11", "eba_mh_type = 12"],
)
def test_a_constant_synth_does_not_run_on_is_refused(tmp_path, lines):
    """Before, these were taken and changed nothing (the same capture, octet for octet):
    e.g. ebu_mh_type = 11 did not make synth write EBUs of MH type 11."""
    scenario = _scenario(tmp_path, lines)
    out = tmp_path / "x.pcap"
    result = run_cli("synth", scenario, "-o", out)
    assert result.exit_code == 3, result.output
    key = lines.split(" ")[0]
    option = "--" + key.replace("_", "-")
    (line,) = result.stderr.splitlines()
    assert line == (
        f"ebutool: error: {scenario}: [protocol]: '{key}' is not used by synth (it changes how "
        f"ebutool reads captures: give {option} to analyze, verify or replay)"
    )
    assert not out.exists()


def test_the_same_value_given_as_the_option_names_the_option(tmp_path):
    out = tmp_path / "x.pcap"
    for option, value, says in [
        ("--max-token-lifetime", "1e300", "--max-token-lifetime 1e+300: must be at most"),
        ("--initial-bindack-timeout", "1e-9", "--initial-bindack-timeout 1e-09: synth's clock"),
    ]:
        result = run_cli("synth", TOML, "-o", out, option, value)
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith(f"ebutool: error: {says}"), result.stderr
    assert not out.exists()


def test_a_tentative_lifetime_of_0_is_taken_from_the_table_as_from_the_option(tmp_path):
    by_table = tmp_path / "t.pcap"
    by_option = tmp_path / "o.pcap"
    scenario = _scenario(tmp_path, "tentative_binding_lifetime = 0")
    result = run_cli("synth", scenario, "-o", by_table, "-q")
    assert result.exit_code == 0, result.output
    result = run_cli("synth", TOML, "-o", by_option, "-q", "--tentative-binding-lifetime", "0")
    assert result.exit_code == 0, result.output
    assert by_table.read_bytes() == by_option.read_bytes()


def test_the_table_bounds_at_their_ends_are_taken(tmp_path):
    scenario = _scenario(
        tmp_path,
        "initial_bindack_timeout = 1e-6\nmax_token_lifetime = 9223372036\nmax_update_rate = 1e9",
    )
    result = run_cli("synth", scenario, "-o", tmp_path / "x.pcap", "-q")
    assert result.exit_code == 0, result.output


NON_FINITE = [
    ("duration_ms = 5000", "duration_ms = inf", "[scenario]", "duration_ms"),
    ("ha_delay_ms = 40 ", "ha_delay_ms = nan ", "[[correspondent]] 'cn1'", "ha_delay_ms"),
    ("cn_delay_ms = { cn1 = 10 }", "cn_delay_ms = { cn1 = -inf }", "cn_delay_ms", "cn1"),
    ("at_ms = 2500", "at_ms = +inf", "'mn1': handover 2", "at_ms"),
    ("rate_pps = 50", "rate_pps = nan", "[[flow]]", "rate_pps"),
]


@pytest.mark.parametrize("old,new,table,key", NON_FINITE, ids=[n[1] for n in NON_FINITE])
def test_inf_or_nan_in_another_table_is_not_a_finite_number(tmp_path, old, new, table, key):
    """TOML's inf and nan are numbers: the other tables said "'ha_delay_ms' must be a
    number" of them; now "must be a finite number", as [protocol] says (exit 3)."""
    text = TOML.read_text()
    assert text.count(old) == 1
    scenario = tmp_path / "s.toml"
    scenario.write_text(text.replace(old, new))
    out = tmp_path / "x.pcap"
    result = run_cli("synth", scenario, "-o", out)
    assert result.exit_code == 3, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"ebutool: error: {scenario}: "), line
    assert table in line and line.endswith(f"'{key}' must be a finite number"), line
    assert not out.exists()
