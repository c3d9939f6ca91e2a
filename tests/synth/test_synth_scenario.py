"""Scenario files: what parses, and a one-line diagnosis naming the place for what does not."""

from __future__ import annotations

import copy

import pytest

from ebutool.core.errors import InputError
from ebutool.synth import ScenarioError, load_scenario, parse_scenario
from tests.synth.test_synth_engine import scenario_dict


def parse(doc):
    return parse_scenario(copy.deepcopy(doc), "s.toml")


def test_defaults_and_derived_values():
    sc = parse(scenario_dict())
    mn = sc.mobile_nodes["mn"]
    assert mn.start_coa == "2001:db8:a::5"  # prefix + the HoA's interface id
    assert [h.coa for h in mn.handovers] == ["2001:db8:b::5"]
    assert mn.home_test == "anticipated" and mn.correspondents == ("cn",)
    assert sc.flows[0].direction == "both" and sc.flows[0].stop_ms == 2500
    assert sc.start_ns == 1704110400 * 10**9  # 2024-01-01T12:00:00Z
    cn = sc.correspondents["cn"]
    # default interval = the duration: nonce 1 throughout; past the table, the last one stays
    assert cn.nonce_index_at(0) == cn.nonce_index_at(2499) == 1 and cn.nonce_index_at(10**6) == 2


def test_periodic_mobility_model_expands_to_handovers():
    doc = scenario_dict(handovers=())
    del doc["mobile_node"][0]["handover"]
    doc["mobile_node"][0]["mobility"] = {
        "model": "periodic",
        "first_ms": 300,
        "interval_ms": 700,
        "networks": ["net-b", "net-a"],
    }
    hs = parse(doc).mobile_nodes["mn"].handovers
    assert [(h.at_ms, h.network) for h in hs] == [
        (300, "net-b"),
        (1000, "net-a"),
        (1700, "net-b"),
        (2400, "net-a"),
    ]
    doc["mobile_node"][0]["mobility"]["count"] = 2
    assert len(parse(doc).mobile_nodes["mn"].handovers) == 2


def test_explicit_coa_and_start_time_forms():
    doc = scenario_dict()
    doc["mobile_node"][0]["handover"][0]["coa"] = "2001:db8:b::99"
    doc["scenario"]["start"] = 1700000000.25
    sc = parse(doc)
    assert sc.mobile_nodes["mn"].handovers[0].coa == "2001:db8:b::99"
    assert sc.start_ns == 1700000000250000000


def _broken(path, value):
    doc = scenario_dict()
    node = doc
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    "path, value, words",
    [
        (("network", 0, "dealy_ms"), 3, ["net-a", "unknown key 'dealy_ms'"]),
        (("network", 0, "ha_delay_ms"), KeyError, ["net-a", "missing key 'ha_delay_ms'"]),
        (("network", 0, "ha_delay_ms"), -1, ["'ha_delay_ms' is -1"]),
        (("network", 0, "loss"), 1.5, ["'loss'"]),
        (("network", 0, "cn_delay_ms"), {}, ["cn_delay_ms", "missing key 'cn'"]),
        (("network", 0, "prefix"), "2001:db8:a::/96", ["/64 or shorter"]),
        (("correspondent", 0, "kcn"), "abcd", ["'kcn' is 2 octets"]),
        (("correspondent", 0, "kcn"), "zz" * 20, ["'kcn' is not a hexadecimal string"]),
        (("correspondent", 0, "nonces"), {"0": "01"}, ["nonce index '0'"]),
        (("correspondent", 0, "address"), "2001:db8::zz", ["'address'", "not an IPv6 address"]),
        (("mobile_node", 0, "procedure"), "fast", ["'procedure' is 'fast'", "early, standard"]),
        (("mobile_node", 0, "start"), "net-x", ["'start' 'net-x'", "net-a, net-b"]),
        (
            ("mobile_node", 0, "handover"),
            [{"at_ms": 10, "network": "net-z"}],
            ["handover 1", "'net-z'"],
        ),
        (("mobile_node", 0, "handover"), [{"at_ms": 10, "network": "net-a"}], ["already attached"]),
        (
            ("mobile_node", 0, "handover"),
            [{"at_ms": 900, "network": "net-b"}, {"at_ms": 800, "network": "net-a"}],
            ["handover 2", "after the previous"],
        ),
        (
            ("mobile_node", 0, "handover"),
            [{"at_ms": 9000, "network": "net-b"}],
            ["before duration_ms"],
        ),
        (("mobile_node", 0, "handover"), [{"at_ms": 10, "network": "home"}], ["returning home"]),
        (
            ("mobile_node", 0, "handover"),
            [{"at_ms": 10, "network": "net-b", "coa": "2001:db8:a::7"}],
            ["not inside 'net-b'"],
        ),
        (("mobile_node", 0, "correspondents"), ["cn", "cnx"], ["'cnx'"]),
        (("flow", 0, "cn"), "nobody", ["[[flow]] #1", "'nobody'"]),
        (("flow", 0, "size"), 4, ["'size' is 4"]),
        (("flow", 0, "direction"), "up", ["'direction'"]),
        (("scenario", "duration_ms"), 0, ["'duration_ms' is 0"]),
        (("protocol",), {"max_token_lifetim": 1}, ["[protocol]", "unknown key"]),
        (("home_agent",), [], ["no [[home_agent]]"]),
    ],
)
def test_bad_scenarios_name_the_place(path, value, words):
    with pytest.raises(ScenarioError) as info:
        parse(_broken(path, value))
    text = str(info.value)
    assert text.startswith("s.toml: ") and "\n" not in text
    for w in words:
        assert w in text, text
    assert isinstance(info.value, InputError)


def test_duplicate_names_and_addresses():
    doc = scenario_dict()
    doc["network"][1]["name"] = "net-a"
    with pytest.raises(ScenarioError, match="used twice"):
        parse(doc)
    doc = scenario_dict()
    doc["correspondent"][0]["address"] = doc["home_agent"][0]["address"]
    with pytest.raises(ScenarioError, match="already used by home agent 'ha'"):
        parse(doc)
    doc = scenario_dict()
    doc["mobile_node"].append(
        dict(doc["mobile_node"][0], name="mn2", home_address="2001:db8:1::77", interface_id="::5")
    )
    with pytest.raises(ScenarioError, match="care-of address 2001:db8:a::5"):
        parse(doc)


def test_standard_mn_rejects_home_test_settings():
    doc = scenario_dict(procedure="standard")
    doc["mobile_node"][0]["home_test"] = "periodic"
    with pytest.raises(ScenarioError, match="applies to procedure = 'early'"):
        parse(doc)


@pytest.mark.parametrize(
    "text, words",
    [
        ("[scenario\n", ["not valid TOML", "line 1"]),
        ("[scenario]\nduration_ms = 10\n", ["no [[home_agent]]"]),
        ("[scenario]\nstart = 2024-01-01T00:00:00\nduration_ms = 1\n", ["time zone"]),
    ],
)
def test_load_scenario_file_errors(tmp_path, text, words):
    f = tmp_path / "s.toml"
    f.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(f))
    assert all(w in str(info.value) for w in words), str(info.value)
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(str(tmp_path / "missing.toml"))
