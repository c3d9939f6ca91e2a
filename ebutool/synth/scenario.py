"""The scenario model of ``ebutool synth``: the validated :class:`Scenario` and its parts.

Scenario files (TOML, documented field by field in docs/synth.md) are read and checked
by :mod:`ebutool.synth.scenario_parse`; every problem is one :class:`ScenarioError` (an
:class:`~ebutool.core.errors.InputError`, exit 3).
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import math
from dataclasses import dataclass, field

from ebutool.core import constants as C
from ebutool.core.constants import ProtocolConfig
from ebutool.core.errors import InputError

PROCEDURES = ("early", "standard")
MODES = ("conservative", "optimistic")
HOME_TESTS = ("anticipated", "periodic", "none")
DIRECTIONS = ("both", "mn_to_cn", "cn_to_mn")
HOME = "home"  # the reserved network name of the home link

# Defaults of scenario fields (not protocol constants: properties of the simulated set-up).
DEFAULT_START = _dt.datetime(2024, 1, 1, 12, 0, tzinfo=_dt.UTC)
DEFAULT_HOME_TEST_LEAD_MS = 500.0  # anticipated home test: HoTI this long before t0
DEFAULT_HA_LIFETIME_S = 420.0  # lifetime the MN asks its home agent for
DEFAULT_BE_INTERVAL_MS = 1000.0  # a CN sends at most one Binding Error per MN per interval
DEFAULT_MN_PORT = 40000
DEFAULT_CN_PORT = 5004
DATA_HEADER_LEN = 8  # flow id and packet number at the start of each payload
MAX_PAYLOAD = 1400  # octets: keeps every packet below the IPv6 minimum MTU path


class ScenarioError(InputError):
    """A scenario file that cannot be used (one line: where and what)."""


@dataclass(frozen=True)
class HomeAgent:
    name: str
    address: str


@dataclass(frozen=True)
class Correspondent:
    name: str
    address: str
    kcn: bytes = field(repr=False)
    nonces: dict[int, bytes] = field(repr=False)  # nonce index -> nonce, in index order
    nonce_interval_ms: float  # the CN moves to its next nonce this often
    ha_delay_ms: float  # one-way delay home agent <-> this CN
    early_binding_updates: bool = True  # False: a legacy RFC 6275 CN (drops EBUs)
    binding_errors: bool = True  # answer route-optimised data without a binding with a BE
    binding_error_interval_ms: float = DEFAULT_BE_INTERVAL_MS

    def nonce_index_at(self, t_ms: float) -> int:
        """The nonce index this CN hands out at scenario time ``t_ms``."""
        keys = list(self.nonces)
        k = int(t_ms // self.nonce_interval_ms) if self.nonce_interval_ms > 0 else 0
        return keys[min(max(k, 0), len(keys) - 1)]

    def nonce_generated_ms(self, index: int) -> float:
        """Scenario time at which nonce ``index`` came into use (0 for the first)."""
        return list(self.nonces).index(index) * self.nonce_interval_ms


@dataclass(frozen=True)
class Network:
    name: str
    prefix: ipaddress.IPv6Network
    ha_delay_ms: float  # one-way delay MN <-> home agent from this network
    cn_delay_ms: dict[str, float]  # one-way delay MN <-> CN (direct path), by CN name
    jitter_ms: float = 0.0  # each crossing adds U(0, jitter) ms
    loss: float = 0.0  # probability that a crossing loses the packet
    ar_delay_ms: float = 0.0  # one-way MN <-> its access router (part of the delays above)
    uplink_extra_ms: float = 0.0  # asymmetric links: packets from the MN take this longer


@dataclass(frozen=True)
class Handover:
    at_ms: float
    network: str
    coa: str
    anticipated: bool = True  # early MNs: run the home test before this handover


@dataclass(frozen=True)
class MobileNode:
    name: str
    home_address: str
    home_agent: str
    procedure: str  # "early" | "standard"
    mode: str  # "conservative" | "optimistic"
    start: str  # network name at t = 0, or "home"
    start_coa: str | None  # care-of address at t = 0 (None at home)
    handovers: tuple[Handover, ...]
    correspondents: tuple[str, ...]
    home_test: str = "anticipated"  # "anticipated" | "periodic" | "none"
    home_test_lead_ms: float = DEFAULT_HOME_TEST_LEAD_MS
    home_test_interval_ms: float = 0.0
    ha_lifetime_s: float = DEFAULT_HA_LIFETIME_S


@dataclass(frozen=True)
class Flow:
    mn: str
    cn: str
    direction: str
    rate_pps: float
    size: int  # UDP payload octets
    start_ms: float
    stop_ms: float
    mn_port: int = DEFAULT_MN_PORT
    cn_port: int = DEFAULT_CN_PORT


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    start_ns: int  # epoch time of scenario time 0, integer ns
    duration_ms: float
    seed: int
    home_agents: dict[str, HomeAgent]
    correspondents: dict[str, Correspondent]
    networks: dict[str, Network]
    mobile_nodes: dict[str, MobileNode]
    flows: tuple[Flow, ...]
    protocol: dict[str, float]  # ProtocolConfig overrides from the [protocol] table

    def config(self, base: ProtocolConfig | None = None) -> ProtocolConfig:
        """The protocol constants: ``base`` (defaults) overridden by the [protocol] table."""
        return (base or C.DEFAULT_CONFIG).with_(**self.protocol)

    def network_of(self, coa: str) -> Network:
        addr = ipaddress.IPv6Address(coa)
        return next(n for n in self.networks.values() if addr in n.prefix)


def err(where: str, text: str) -> ScenarioError:
    return ScenarioError(f"{where}: {text}")


def finite(x: float) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
