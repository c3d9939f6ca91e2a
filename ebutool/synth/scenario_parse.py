"""Scenario files for ``ebutool synth``: TOML -> validated :class:`Scenario`.

The format is documented field by field in docs/synth.md; the data model is
:mod:`ebutool.synth.scenario`.  Every problem is one :class:`ScenarioError` (an
:class:`~ebutool.core.errors.InputError`, exit 3) whose text says which file, which
table and which key is wrong: unknown keys are errors too, so that a typo never
silently falls back to a default.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import tomllib
from typing import Any

from ebutool.core import constants as C
from ebutool.core.units import MAX_TS_NS, NS_PER_MS
from ebutool.synth.scenario import (
    DATA_HEADER_LEN,
    DEFAULT_BE_INTERVAL_MS,
    DEFAULT_CN_PORT,
    DEFAULT_HA_LIFETIME_S,
    DEFAULT_HOME_TEST_LEAD_MS,
    DEFAULT_MN_PORT,
    DEFAULT_START,
    DIRECTIONS,
    HOME,
    HOME_TESTS,
    MAX_PAYLOAD,
    MODES,
    PROCEDURES,
    Correspondent,
    Flow,
    Handover,
    HomeAgent,
    MobileNode,
    Network,
    Scenario,
    ScenarioError,
    err,
    finite,
)

_MAX_NONCE_INDEX = 0xFFFF
SYNTH = "synth"  # the [protocol] table takes the constants whose users (C.USERS) include it
_MAX_LIFETIME_S = 0xFFFF * C.LIFETIME_UNIT_S


class Table:
    """One TOML table with typed getters; :meth:`done` rejects keys nobody asked for.

    ``required_*`` getters raise when the key is missing; the others take a default
    (``optional_*``: None).  TOML has no null, so a present value is never None."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise err(where, "must be a table")
        self.data, self.where = data, where
        self.seen: set[str] = set()

    def _get(self, key: str, default: Any, required: bool) -> Any:
        self.seen.add(key)
        if key not in self.data:
            if required:
                raise err(self.where, f"missing key '{key}'")
            return default
        return self.data[key]

    def raw(self, key: str, default: Any = None) -> Any:
        """The TOML value as it is (the caller checks it)."""
        return self._get(key, default, False)

    # -- text ----------------------------------------------------------------------
    def _text(
        self, key: str, default: str | None, required: bool, choices: tuple[str, ...]
    ) -> str | None:
        v = self._get(key, default, required)
        if v is not None and not isinstance(v, str):
            raise err(self.where, f"'{key}' must be a string")
        if choices and v not in choices:
            raise err(self.where, f"'{key}' is {v!r}; expected one of {', '.join(choices)}")
        return v

    def text(self, key: str, default: str, choices: tuple[str, ...] = ()) -> str:
        v = self._text(key, default, False, choices)
        return default if v is None else v

    def required_text(self, key: str, choices: tuple[str, ...] = ()) -> str:
        v = self._text(key, None, True, choices)
        assert v is not None  # present (else _get raised)
        return v

    def optional_text(self, key: str, default: str | None = None) -> str | None:
        return self._text(key, default, False, ())

    def _address(self, key: str, required: bool) -> str | None:
        v = self._text(key, None, required, ())
        if v is None:
            return None
        try:
            return str(ipaddress.IPv6Address(v))
        except ValueError:
            raise err(self.where, f"'{key}' = {v!r} is not an IPv6 address") from None

    def address(self, key: str) -> str:
        """A required IPv6 address, in compressed canonical form."""
        v = self._address(key, True)
        assert v is not None  # present (else _get raised)
        return v

    def optional_address(self, key: str) -> str | None:
        return self._address(key, False)

    # -- numbers ---------------------------------------------------------------------
    def _number(
        self,
        key: str,
        default: float | None,
        required: bool,
        lo: float,
        hi: float | None,
        lo_open: bool,
    ) -> float | None:
        v = self._get(key, default, required)
        if v is None:
            return v
        if not finite(v):  # (also TOML's inf and nan: no delay, rate or probability)
            raise err(self.where, f"'{key}' must be a finite number")
        if v < lo or (lo_open and v == lo) or (hi is not None and v > hi):
            rng = f"{'>' if lo_open else '>='} {lo:g}" + (
                f" and <= {hi:g}" if hi is not None else ""
            )
            raise err(self.where, f"'{key}' is {v:g}; it must be {rng}")
        return float(v)

    def number(
        self,
        key: str,
        default: float,
        lo: float = 0.0,
        hi: float | None = None,
        lo_open: bool = False,
    ) -> float:
        v = self._number(key, default, False, lo, hi, lo_open)
        return default if v is None else v

    def required_number(
        self, key: str, lo: float = 0.0, hi: float | None = None, lo_open: bool = False
    ) -> float:
        v = self._number(key, None, True, lo, hi, lo_open)
        assert v is not None  # present (else _get raised)
        return v

    def optional_number(
        self, key: str, lo: float = 0.0, hi: float | None = None, lo_open: bool = False
    ) -> float | None:
        return self._number(key, None, False, lo, hi, lo_open)

    def _integer(
        self, key: str, default: int | None, required: bool, lo: int, hi: int | None
    ) -> int | None:
        v = self._get(key, default, required)
        if v is None:
            return v
        if not isinstance(v, int) or isinstance(v, bool):
            raise err(self.where, f"'{key}' must be an integer")
        if v < lo or (hi is not None and v > hi):
            raise err(self.where, f"'{key}' is {v}; it must be between {lo} and {hi}")
        return v

    def integer(self, key: str, default: int, lo: int = 0, hi: int | None = None) -> int:
        v = self._integer(key, default, False, lo, hi)
        return default if v is None else v

    def required_integer(self, key: str, lo: int = 0, hi: int | None = None) -> int:
        v = self._integer(key, None, True, lo, hi)
        assert v is not None  # present (else _get raised)
        return v

    def optional_integer(self, key: str, lo: int = 0, hi: int | None = None) -> int | None:
        return self._integer(key, None, False, lo, hi)

    # -- others ----------------------------------------------------------------------
    def flag(self, key: str, default: bool) -> bool:
        v = self._get(key, default, False)
        if not isinstance(v, bool):
            raise err(self.where, f"'{key}' must be true or false")
        return v

    def items(self, key: str, default: list[Any]) -> list[Any]:
        v = self._get(key, default, False)
        if not isinstance(v, list):
            raise err(self.where, f"'{key}' must be a list")
        return v

    def done(self) -> None:
        extra = sorted(set(self.data) - self.seen)
        if extra:
            raise err(
                self.where, f"unknown key '{extra[0]}' (known: {', '.join(sorted(self.seen))})"
            )


def _tables(data: dict, key: str, where: str) -> list[tuple[dict, str]]:
    v = data.get(key, [])
    if isinstance(v, dict):
        v = [v]
    if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
        raise err(where, f"'{key}' must be a table or an array of tables ([[{key}]])")
    return [
        (x, f"{where}: [[{key}]] " + (repr(x["name"]) if "name" in x else f"#{i + 1}"))
        for i, x in enumerate(v)
    ]


def _hex(t: Table, key: str, where: str) -> bytes:
    """A required hexadecimal string's octets ("0x", ":" and spaces allowed)."""
    s = t.required_text(key).replace(":", "").replace(" ", "")
    s = s[2:] if s[:2].lower() == "0x" else s
    try:
        out = bytes.fromhex(s)
    except ValueError:
        raise err(where, f"'{key}' is not a hexadecimal string") from None
    if not out:
        raise err(where, f"'{key}' is empty")
    return out


class Parser:
    def __init__(self, where: str):
        self.where = where
        self.names: set[str] = set()

    def _name(self, t: Table) -> str:
        name = t.required_text("name")
        if not name or name == HOME:
            raise err(t.where, f"'name' must be a non-empty string other than {HOME!r}")
        if name in self.names:
            raise err(t.where, f"name {name!r} is used twice (names must be unique)")
        self.names.add(name)
        return name

    def scenario(self, data: dict) -> Scenario:
        top = Table(data, self.where)
        for key in (
            "scenario",
            "protocol",
            "home_agent",
            "correspondent",
            "network",
            "mobile_node",
            "flow",
        ):
            top.raw(key)
        top.done()
        head = Table(data.get("scenario", {}), f"{self.where}: [scenario]")
        name = head.text("name", "scenario")
        description = head.text("description", "")
        start = head.raw("start", DEFAULT_START)
        if isinstance(start, _dt.datetime):
            if start.tzinfo is None:
                raise err(head.where, "'start' needs a time zone (e.g. 2024-01-01T12:00:00Z)")
            start_ns = int(start.timestamp()) * 10**9 + start.microsecond * 1000
        elif finite(start) and start >= 0:
            start_ns = round(start * 1e6) * 1000
        else:
            raise err(head.where, "'start' must be a date-time or epoch seconds")
        duration = head.required_number("duration_ms", lo=0, lo_open=True)
        if start_ns + duration * NS_PER_MS > MAX_TS_NS:  # (a run that would never end)
            raise err(
                head.where,
                f"'start' and 'duration_ms' = {duration:g} end after 2262-04-11T23:47:16Z, "
                "the last time ebutool's clock holds (int64 nanoseconds since 1970)",
            )
        seed = head.integer("seed", 0, hi=2**63)
        head.done()
        protocol = self.protocol(data.get("protocol", {}))
        has = {}
        for d, w in _tables(data, "home_agent", self.where):
            t = Table(d, w)
            ha = HomeAgent(self._name(t), t.address("address"))
            t.done()
            has[ha.name] = ha
        if not has:
            raise err(self.where, "no [[home_agent]] table")
        cns = {}
        for d, w in _tables(data, "correspondent", self.where):
            cn = self.correspondent(Table(d, w), duration)
            cns[cn.name] = cn
        nets = {}
        for d, w in _tables(data, "network", self.where):
            net = self.network(Table(d, w), cns)
            nets[net.name] = net
        flows_raw = _tables(data, "flow", self.where)
        mns = {}
        for d, w in _tables(data, "mobile_node", self.where):
            mn = self.mobile_node(Table(d, w), has, cns, nets, duration, flows_raw)
            mns[mn.name] = mn
        if not mns:
            raise err(self.where, "no [[mobile_node]] table")
        flows = tuple(self.flow(Table(d, w), mns, cns, duration) for d, w in flows_raw)
        self._unique_addresses(has, cns, mns)
        return Scenario(
            name, description, start_ns, duration, seed, has, cns, nets, mns, flows, protocol
        )

    def protocol(self, data) -> dict[str, float]:
        """The [protocol] table's constants, each checked by its option's own rule
        (ConstantSpec.synth_problem: range, synth's clock) but named by the key the file
        gives, not by the option (the value did not come from the command line).  A
        constant synth does not run on (the oracle's nonce lifetime, the MH type numbers
        of captures read, ebutool's state bound) is refused: it would change nothing."""
        t = Table(data, f"{self.where}: [protocol]")
        out: dict[str, float] = {}
        for spec in C.PROTOCOL_CONSTANTS:
            v = t.raw(spec.name)
            if v is None:
                continue
            if SYNTH not in spec.used_by:
                raise err(
                    t.where,
                    f"'{spec.name}' is not used by synth (it changes how ebutool reads "
                    f"captures: give {spec.option} to analyze, verify or replay)",
                )
            if not finite(v):
                raise err(t.where, f"'{spec.name}' must be a finite number")
            problem = spec.synth_problem(v, f"'{spec.name}' =")
            if problem is not None:
                raise err(t.where, problem)
            out[spec.name] = float(v)
        t.done()
        return out

    def correspondent(self, t: Table, duration: float) -> Correspondent:
        name = self._name(t)
        address = t.address("address")
        kcn = _hex(t, "kcn", t.where)
        if len(kcn) != C.KCN_LEN:
            raise err(t.where, f"'kcn' is {len(kcn)} octets; RFC 6275 5.2.1 specifies {C.KCN_LEN}")
        raw = t.raw("nonces")
        if not isinstance(raw, dict) or not raw:
            raise err(t.where, '\'nonces\' must be a non-empty table: { 1 = "hex", 2 = "hex" }')
        nt = Table(raw, f"{t.where}: nonces")
        nonces = {}
        for key in raw:
            if not key.isdigit() or not 1 <= int(key) <= _MAX_NONCE_INDEX:
                raise err(
                    nt.where,
                    f"nonce index {key!r} must be a number 1..{_MAX_NONCE_INDEX} "
                    "(care-of index 0 marks an early binding update)",
                )
            nonces[int(key)] = _hex(nt, key, nt.where)
        nonces = dict(sorted(nonces.items()))
        interval = t.number("nonce_interval_ms", duration, lo=0, lo_open=True)
        cn = Correspondent(
            name,
            address,
            kcn,
            nonces,
            interval,
            t.required_number("ha_delay_ms"),
            t.flag("early_binding_updates", True),
            t.flag("binding_errors", True),
            t.number("binding_error_interval_ms", DEFAULT_BE_INTERVAL_MS),
        )
        t.done()
        return cn

    def network(self, t: Table, cns: dict) -> Network:
        name = self._name(t)
        try:
            prefix = ipaddress.IPv6Network(t.required_text("prefix"))
        except ValueError:
            raise err(t.where, "'prefix' is not an IPv6 prefix (e.g. 2001:db8:a::/64)") from None
        if prefix.prefixlen > 64:
            raise err(t.where, "'prefix' must be /64 or shorter (the MN adds its interface id)")
        raw = t.raw("cn_delay_ms", {})
        if not isinstance(raw, dict):
            raise err(t.where, "'cn_delay_ms' must be a table { cn-name = ms, ... }")
        dt = Table(raw, f"{t.where}: cn_delay_ms")
        delays = {cn: dt.required_number(cn) for cn in cns}
        dt.done()
        net = Network(
            name,
            prefix,
            t.required_number("ha_delay_ms"),
            delays,
            t.number("jitter_ms", 0.0),
            t.number("loss", 0.0, hi=0.99),
            t.number("ar_delay_ms", 0.0),
            t.number("uplink_extra_ms", 0.0),
        )
        t.done()
        if net.ar_delay_ms > min([net.ha_delay_ms, *delays.values()]):
            raise err(t.where, "'ar_delay_ms' is part of every delay from here: at most the least")
        return net

    def mobile_node(self, t, has, cns, nets, duration, flows_raw) -> MobileNode:
        name = self._name(t)
        hoa = t.address("home_address")
        ha = t.optional_text("home_agent", next(iter(has)) if len(has) == 1 else None)
        if ha is None or ha not in has:
            raise err(
                t.where,
                f"'home_agent' {ha!r} is not a [[home_agent]] (known: {', '.join(has)})"
                if ha
                else "'home_agent' is required when there are several home agents",
            )
        iid = int(ipaddress.IPv6Address(hoa)) & (2**64 - 1)
        iid_text = t.optional_address("interface_id")
        if iid_text is not None:
            iid = int(ipaddress.IPv6Address(iid_text)) & (2**64 - 1)
        procedure = t.required_text("procedure", PROCEDURES)
        mode = t.required_text("mode", MODES)
        start = t.text("start", HOME)
        if start != HOME and start not in nets:
            raise err(
                t.where,
                f"'start' {start!r} is neither 'home' nor a [[network]] (known: {', '.join(nets)})",
            )
        start_coa = None if start == HOME else self._coa(nets[start], iid)
        home_test = t.text(
            "home_test", "anticipated" if procedure == "early" else "none", HOME_TESTS
        )
        if procedure == "standard" and home_test != "none":
            raise err(
                t.where,
                "home_test applies to procedure = 'early' only (a standard MN "
                "runs its home test after each handover)",
            )
        lead = t.number("home_test_lead_ms", DEFAULT_HOME_TEST_LEAD_MS)
        interval = t.number("home_test_interval_ms", 0.0)
        if home_test == "periodic" and interval <= 0:
            raise err(t.where, "home_test = 'periodic' needs 'home_test_interval_ms' > 0")
        handovers = self.handovers(t, nets, iid, start, duration)
        default_cns = sorted(
            {d.get("cn") for d, _ in flows_raw if d.get("mn") == name and d.get("cn") in cns}
        )
        corr = t.items("correspondents", default_cns)
        for c in corr:
            if c not in cns:
                raise err(
                    t.where,
                    f"correspondent {c!r} is not a [[correspondent]] (known: {', '.join(cns)})",
                )
        mn = MobileNode(
            name,
            hoa,
            ha,
            procedure,
            mode,
            start,
            start_coa,
            handovers,
            tuple(corr),
            home_test,
            lead,
            interval,
            t.number(
                "ha_lifetime_s", DEFAULT_HA_LIFETIME_S, lo=C.LIFETIME_UNIT_S, hi=_MAX_LIFETIME_S
            ),
        )
        t.done()
        return mn

    def _coa(self, net: Network, iid: int) -> str:
        return str(net.prefix.network_address + iid)

    def handovers(self, t: Table, nets, iid, start, duration) -> tuple[Handover, ...]:
        listed = t.items("handover", [])
        model = t.raw("mobility")
        if listed and model is not None:
            raise err(
                t.where, "give either [[...handover]] entries or a [...mobility] model, not both"
            )
        plan: list[tuple[float, str, str | None, bool, str]] = []
        for i, raw in enumerate(listed):
            h = Table(raw, f"{t.where}: handover {i + 1}")
            plan.append(
                (
                    h.required_number("at_ms"),
                    h.required_text("network"),
                    h.optional_address("coa"),
                    h.flag("anticipated", True),
                    h.where,
                )
            )
            h.done()
        if model is not None:
            m = Table(model, f"{t.where}: mobility")
            m.required_text("model", ("periodic",))
            first = m.required_number("first_ms")
            every = m.required_number("interval_ms", lo=0, lo_open=True)
            order = m.items("networks", [])
            if not order or not all(isinstance(n, str) for n in order):
                raise err(m.where, "'networks' must be a non-empty list of network names")
            count = m.optional_integer("count", lo=1)
            anticipated = m.flag("anticipated", True)
            m.done()
            n = 0
            while first + n * every < duration and (count is None or n < count):
                plan.append((first + n * every, order[n % len(order)], None, anticipated, m.where))
                n += 1
        out, current, last_t = [], start, -1.0
        for at, net, coa, anticipated, where in plan:
            if net == HOME:
                raise err(
                    where, "returning home (deregistration) is not simulated; name a [[network]]"
                )
            if net not in nets:
                raise err(where, f"network {net!r} is not a [[network]] (known: {', '.join(nets)})")
            if net == current:
                raise err(where, f"the MN is already attached to {net!r} at {at:g} ms")
            if not last_t < at < duration:
                raise err(
                    where,
                    f"at_ms {at:g} must be after the previous handover and before "
                    f"duration_ms {duration:g}",
                )
            if coa is None:
                coa = self._coa(nets[net], iid)
            elif ipaddress.IPv6Address(coa) not in nets[net].prefix:
                raise err(where, f"coa {coa} is not inside {net!r}'s prefix {nets[net].prefix}")
            out.append(Handover(at, net, coa, anticipated))
            current, last_t = net, at
        return tuple(out)

    def flow(self, t: Table, mns, cns, duration) -> Flow:
        mn = t.required_text("mn")
        cn = t.required_text("cn")
        if mn not in mns:
            raise err(t.where, f"'mn' {mn!r} is not a [[mobile_node]] (known: {', '.join(mns)})")
        if cn not in cns:
            raise err(t.where, f"'cn' {cn!r} is not a [[correspondent]] (known: {', '.join(cns)})")
        if cn not in mns[mn].correspondents:
            raise err(t.where, f"{cn!r} is not in {mn!r}'s correspondents list")
        f = Flow(
            mn,
            cn,
            t.text("direction", "both", DIRECTIONS),
            t.required_number("rate_pps", lo=0, lo_open=True),
            t.required_integer("size", lo=DATA_HEADER_LEN, hi=MAX_PAYLOAD),
            t.number("start_ms", 0.0),
            t.number("stop_ms", duration),
            t.integer("mn_port", DEFAULT_MN_PORT, lo=1, hi=65535),
            t.integer("cn_port", DEFAULT_CN_PORT, lo=1, hi=65535),
        )
        if f.start_ms >= f.stop_ms:
            raise err(t.where, "'start_ms' must be before 'stop_ms'")
        t.done()
        return f

    def _unique_addresses(self, has, cns, mns) -> None:
        owner: dict[str, str] = {}
        for kind, name, a in (
            [("home agent", h.name, h.address) for h in has.values()]
            + [("correspondent", c.name, c.address) for c in cns.values()]
            + [("mobile node", m.name, m.home_address) for m in mns.values()]
        ):
            if a in owner:
                raise err(
                    self.where, f"{kind} {name!r} has address {a}, already used by {owner[a]}"
                )
            owner[a] = f"{kind} {name!r}"
        coas: dict[str, str] = {}
        for m in mns.values():
            mine = f"mobile node {m.name!r}"
            for coa in [c for c in (m.start_coa, *(h.coa for h in m.handovers)) if c]:
                other = owner.get(coa) or coas.get(coa)
                if other is not None and other != mine:
                    raise err(
                        self.where, f"care-of address {coa} of {mine} is also used by {other}"
                    )
                coas[coa] = mine


def load_scenario(path: str) -> Scenario:
    """Read and validate a scenario file."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ScenarioError(f"{path}: is a directory, not a scenario file") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot open ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not a text (UTF-8) file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML ({exc})") from None
    return parse_scenario(data, path)


def parse_scenario(data: dict, where: str = "scenario") -> Scenario:
    """Validate the parsed TOML document ``data`` (``where`` prefixes every error)."""
    return Parser(where).scenario(data)
