"""``ebutool synth``: a deterministic scenario generator (docs/synth.md).

from ebutool.synth import load_scenario, simulate, write_capture, write_json
result = simulate(load_scenario("samples/early-conservative.toml"))
with open("out.pcap", "wb") as fh:
    write_capture(result, fh)
"""

from ebutool.synth.output import (
    key_table,
    trace_records,
    view_packets,
    write_capture,
    write_json,
    write_keys,
)
from ebutool.synth.protect import protect_run, write_sa_files
from ebutool.synth.scenario import Scenario, ScenarioError
from ebutool.synth.scenario_parse import load_scenario, parse_scenario
from ebutool.synth.simulator import SynthResult, simulate

__all__ = [
    "Scenario",
    "ScenarioError",
    "SynthResult",
    "load_scenario",
    "parse_scenario",
    "simulate",
    "write_capture",
    "write_json",
    "write_keys",
    "key_table",
    "trace_records",
    "protect_run",
    "write_sa_files",
    "view_packets",
]
