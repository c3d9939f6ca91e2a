"""Protocol constants declared once (ebutool.core.constants.PROTOCOL_CONSTANTS): every
command offers exactly the constants of the packages it runs, with unit and default in
its help, checks them with one rule, and hands them to the run; README's table says
the same."""

from __future__ import annotations

import math
import re

import pytest
import typer.main

from ebutool.cli.app import app
from ebutool.cli.option_groups import (
    command_constants,
    constants_used_by,
    key_options,
    protocol_options,
)
from ebutool.core.constants import (
    DEFAULT_CONFIG,
    KIND_MH_TYPE,
    PROTOCOL_CONSTANTS,
    USERS,
    ProtocolConfig,
)
from ebutool.core.errors import UsageError
from tests.support.cli import ROOT, SAMPLES

PCAP = SAMPLES / "early-conservative.pcap"
TOML = SAMPLES / "early-conservative.toml"

# The packages each command runs (what its protocol options are for).
RUNS = {
    "analyze": ("analysis", "oracle"),
    "annotate": ("analysis", "oracle"),
    "compare": ("analysis", "oracle"),
    "report": ("analysis", "oracle"),
    "timeline": ("analysis",),
    "verify": ("oracle",),
    "replay": ("cn_replay", "oracle"),
    "synth": ("synth",),
}
NO_CONSTANTS = {"decode", "convert", "model", "extract"}


def _commands() -> dict[str, object]:
    return dict(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def _callback(name: str):
    return next(c.callback for c in app.registered_commands if c.name == name)


def test_every_command_is_classified():
    assert set(_commands()) == set(RUNS) | NO_CONSTANTS


@pytest.mark.parametrize("name", sorted(RUNS))
def test_command_offers_the_constants_of_what_it_runs(name):
    offered = command_constants(_callback(name))
    assert offered == [s.name for s in constants_used_by(RUNS[name])]
    options = {o for p in _commands()[name].params for o in p.opts}
    for spec in PROTOCOL_CONSTANTS:
        assert (spec.option in options) == (spec.name in offered), (name, spec.option)


@pytest.mark.parametrize("name", sorted(NO_CONSTANTS))
def test_commands_without_protocol_logic_offer_none(name):
    assert command_constants(_callback(name)) == []


def _mentions(package: str, field: str) -> bool:
    pattern = re.compile(rf"\b{field}\b")
    return any(pattern.search(p.read_text()) for p in (ROOT / "ebutool" / package).rglob("*.py"))


@pytest.mark.parametrize("spec", PROTOCOL_CONSTANTS, ids=lambda s: s.name)
def test_used_by_is_where_the_code_reads_the_constant(spec):
    # A package that starts (or stops) reading a constant must say so in its spec, so
    # that the constant reaches every command that runs the package.
    assert spec.used_by == {u for u in USERS if _mentions(u, spec.name)}


@pytest.mark.parametrize("name", sorted(RUNS))
def test_help_lists_each_constant_with_unit_bound_and_default(cli, name):
    text = " ".join(cli(name, "--help").stdout.split())
    for spec in constants_used_by(RUNS[name]):
        assert spec.option in text
        bounds = spec.synth_bounds if name == "synth" else spec.bounds
        assert f"{spec.constant} ({spec.unit}, {bounds})" in text
        assert f"[default {spec.default_text}]" in text


def _bad_values(spec):
    if spec.kind == KIND_MH_TYPE:  # an integer option: typer refuses non-integers itself
        return ["0", "7", "256", "-1"]
    bad = ["-1", "nan", "inf", "-inf", "1e400"]
    return bad + (["0"] if spec.positive else [])


CASES = [
    (name, spec, value)
    for name in sorted(RUNS)
    for spec in constants_used_by(RUNS[name])
    for value in _bad_values(spec)
]


@pytest.mark.parametrize("name,spec,value", CASES, ids=[f"{n}-{s.name}-{v}" for n, s, v in CASES])
def test_one_rule_for_every_command(cli, tmp_path, name, spec, value):
    first = TOML if name == "synth" else PCAP
    extra = ["-o", tmp_path / "x.pcap"] if name == "synth" else []
    res = cli(name, first, *extra, spec.option, value)
    assert res.exit_code == 2, (res.exit_code, res.output)
    assert res.stdout == "" and "Traceback" not in res.stderr
    (line,) = res.stderr.splitlines()
    bound = spec.bound
    if spec.kind == KIND_MH_TYPE:
        assert line == (
            f"ebutool: error: {spec.option} {value}: must be an MH type number {bound} "
            f"(0-7 are RFC 6275's messages) ({spec.constant})"
        )
        return
    assert line == (
        f"ebutool: error: {spec.option} {float(value):g}: must be a finite number {bound} "
        f"({spec.constant}, {spec.unit})"
    )


def test_zero_is_refused_only_where_it_means_nothing():
    zero_ok = [s.name for s in PROTOCOL_CONSTANTS if not s.positive and s.kind != KIND_MH_TYPE]
    assert zero_ok == ["tentative_binding_lifetime"]  # 0: no unverified use at all
    assert ProtocolConfig(tentative_binding_lifetime=0).tentative_binding_lifetime == 0
    for spec in PROTOCOL_CONSTANTS:
        assert spec.problem(spec.default) is None
        assert spec.problem(math.nan) and spec.problem(-1.0)
        with pytest.raises(UsageError, match=spec.constant):
            DEFAULT_CONFIG.with_(**{spec.name: -1.0})


def test_the_config_fields_are_the_specs():
    assert ProtocolConfig.names() == [s.name for s in PROTOCOL_CONSTANTS]
    for spec in PROTOCOL_CONSTANTS:
        assert getattr(DEFAULT_CONFIG, spec.name) == spec.default
        assert spec.option == "--" + spec.name.replace("_", "-")


def test_tentative_lifetime_zero_accepted_by_synth(cli, tmp_path):
    res = cli("synth", TOML, "-o", tmp_path / "o.pcap", "-q", "--tentative-binding-lifetime", 0)
    assert res.exit_code == 0, res.output


# -- the groups hand the command what the options say ------------------------------------------


def _probe_app(seen: dict) -> typer.Typer:
    probe = typer.Typer()

    @probe.command()
    @protocol_options("analysis", "oracle")
    @key_options
    def run(path: str, config: ProtocolConfig, keys: object, flag: bool = False) -> None:
        seen.update(path=path, config=config, keys=keys, flag=flag)

    @probe.command()
    @protocol_options("synth", overrides=True)
    def sim(overrides: dict[str, float]) -> None:
        seen.update(overrides=overrides)

    return probe


def test_protocol_group_hands_a_validated_config(monkeypatch):
    from typer.testing import CliRunner

    monkeypatch.delenv("EBUTOOL_KCN", raising=False)
    seen: dict = {}
    res = CliRunner().invoke(
        _probe_app(seen), ["run", "x.pcap", "--max-update-rate", "7", "--tentative-lifetime", "0"]
    )
    assert res.exit_code == 0, res.output
    assert seen["config"] == DEFAULT_CONFIG.with_(max_update_rate=7, tentative_binding_lifetime=0)
    assert seen["path"] == "x.pcap" and seen["flag"] is False
    assert not seen["keys"]  # no key option: an empty key table (keyless mode)
    # the analysis reads MAX_BINDACK_TIMEOUT for --follow (ebutool.analysis.follow)
    res = CliRunner().invoke(_probe_app(seen), ["run", "x.pcap", "--max-bindack-timeout", "9"])
    assert res.exit_code == 0, res.output
    assert seen["config"].max_bindack_timeout == 9
    res = CliRunner().invoke(_probe_app(seen), ["run", "x.pcap", "--no-such-constant", "9"])
    assert res.exit_code == 2


def test_overrides_are_only_the_values_given():
    from typer.testing import CliRunner

    seen: dict = {}
    res = CliRunner().invoke(
        _probe_app(seen), ["sim", "--max-token-lifetime", "210", "--max-bindack-timeout", "5"]
    )
    assert res.exit_code == 0, res.output
    assert seen["overrides"] == {"max_token_lifetime": 210.0, "max_bindack_timeout": 5.0}


def test_synth_option_beats_the_scenario_table_even_at_the_default(cli, tmp_path):
    import ebutool

    # [protocol] max_token_lifetime = 0.2: tokens 500 ms old at each handover, so no EBU
    scenario = tmp_path / "short.toml"
    scenario.write_text(TOML.read_text() + "\n[protocol]\nmax_token_lifetime = 0.2\n")
    out = tmp_path / "o.pcap"
    assert cli("synth", scenario, "-o", out, "-q").exit_code == 0
    assert "EBU" not in {r.msg for r in ebutool.read_records(out)}
    default = f"{DEFAULT_CONFIG.max_token_lifetime:g}"
    assert cli("synth", scenario, "-o", out, "-q", "--max-token-lifetime", default).exit_code == 0
    assert "EBU" in {r.msg for r in ebutool.read_records(out)}


def test_a_group_needs_its_parameter():
    with pytest.raises(TypeError, match="config"):

        @protocol_options("oracle")
        def no_config(path: str) -> None: ...

    with pytest.raises(ValueError, match="nosuch"):
        protocol_options("nosuch")


# -- README -----------------------------------------------------------------------------------


def _readme_constants() -> dict[str, list[str]]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Protocol constants", 1)[1].split("\n## ", 1)[0]
    rows = [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("| `--")
    ]
    return {r[0]: r for r in rows}


def test_readme_table_is_the_specs():
    rows = _readme_constants()
    assert list(rows) == [f"`{s.option}`" for s in PROTOCOL_CONSTANTS]
    for spec in PROTOCOL_CONSTANTS:
        option, constant, unit, default, bound, commands = rows[f"`{spec.option}`"]
        assert constant == spec.constant and unit == spec.unit and bound == spec.synth_bounds
        assert default == spec.default_text
        takers = sorted(n for n in RUNS if spec.name in command_constants(_callback(n)))
        assert commands == ", ".join(f"`{n}`" for n in takers), spec.name


def _number(text: str) -> float:
    if "/" in text:
        num, den = text.split("/")
        return int(num) / int(den)
    # (a count's end exactly: float("9223372036854775807") is 2^63, one beyond it)
    return int(text) if text.isdigit() else float(text)


def _holds(clause: str, accepts) -> None:
    """``clause`` (">= X", "> X", "<= X", "A-B") is what ``accepts`` lets in, at its edge."""
    if re.fullmatch(r"\d+-\d+", clause):
        low, high = map(int, clause.split("-"))
        assert accepts(low) and accepts(high), clause
        assert not accepts(low - 1) and not accepts(high + 1), clause
        return
    op, number = clause.split(" ")
    x = _number(number)
    up, down = math.nextafter(x, math.inf), math.nextafter(x, -math.inf)
    if op == ">=":
        assert accepts(x) and not accepts(down), clause
    elif op == ">":
        assert not accepts(x) and accepts(up), clause
    else:
        assert op == "<=", clause
        assert accepts(x) and not accepts(up), clause


@pytest.mark.parametrize("spec", PROTOCOL_CONSTANTS, ids=lambda s: s.name)
def test_the_range_shown_is_the_range_checked(spec):
    """The README's and --help's range (ConstantSpec.bounds, synth_bounds) has both ends
    (it showed the lower one only), and each end is where the checks refuse."""
    from ebutool.synth.simulator import check_resolution

    shown, _, in_synth = spec.synth_bounds.partition("; synth: ")
    assert shown == spec.bounds
    assert spec.kind == KIND_MH_TYPE or "<=" in shown, shown  # the upper end too
    for clause in shown.split(", "):
        _holds(clause, lambda v: spec.problem(v) is None)
    if in_synth:

        def synth_accepts(v: float) -> bool:
            config = ProtocolConfig().with_(**{spec.name: v})
            try:
                check_resolution(config)
            except UsageError:
                return False
            return True

        _holds(in_synth, synth_accepts)


def test_synth_doc_lists_its_constant_options():
    synth = (ROOT / "docs" / "synth.md").read_text()
    for spec in constants_used_by(RUNS["synth"]):
        assert spec.option in synth


def test_one_mh_type_for_both_ebu_and_eba_is_a_usage_error(cli):
    """One number cannot be both the BU and the BA layout: it was accepted (exit 0) and
    every message of that type was read as an EBA (the last one named)."""
    for cmd in ("analyze", "verify", "replay"):
        r = cli(
            cmd, SAMPLES / "early-conservative.pcap", "--ebu-mh-type", "8", "--eba-mh-type", "8"
        )
        assert r.exit_code == 2, (cmd, r.output)
        assert "--ebu-mh-type 8 and --eba-mh-type 8: the same MH type" in r.stderr, cmd
    with pytest.raises(UsageError, match="the same MH type for EBU and EBA"):
        ProtocolConfig(ebu_mh_type=11, eba_mh_type=11)
    assert ProtocolConfig(ebu_mh_type=11, eba_mh_type=12).mh_types == {11: 5, 12: 6}
