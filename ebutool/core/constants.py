"""Protocol constants, each a named value (RFC 6275 section 12, the EBU draft section 8).

The run-time values (timeouts, lifetimes, the update rate) are declared once, as the
fields of :class:`ProtocolConfig` with their :class:`ConstantSpec` (option, unit, default,
bound, the packages that use them); the command-line options, their help and README's
table come from :data:`PROTOCOL_CONSTANTS`.  A ProtocolConfig carries the values in force
for one run, so library code never reads a module constant directly where a user may
want another value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any

from ebutool.core.errors import UsageError

# IPv6 next-header values (IANA "Assigned Internet Protocol Numbers").
NH_HOPOPTS = 0
NH_TCP = 6
NH_UDP = 17
NH_IPV6 = 41  # IPv6-in-IPv6 tunnel (MN <-> HA)
NH_ROUTING = 43
NH_FRAGMENT = 44
NH_ESP = 50
NH_AH = 51
NH_ICMPV6 = 58
NH_NONE = 59
NH_DSTOPTS = 60
NH_MOBILITY = 135  # Mobility Header (RFC 6275 6.1)
# The number Mobile IPv6 drafts used for the Mobility Header before IANA assigned 135
# (tcpdump and Wireshark still decode it as one); IANA has it as CFTP, which nobody runs.
NH_MOBILITY_OLD = 62
MH_NEXT_HEADERS = frozenset((NH_MOBILITY, NH_MOBILITY_OLD))  # a Mobility Header's numbers
NH_HIP = 139
NH_SHIM6 = 140

IPV6_HEADER_LEN = 40  # octets
# The largest IPv6 packet: a 16-bit Payload Length (RFC 8200 3) after the fixed header;
# jumbograms (RFC 2675, Payload Length 0 with a Jumbo Payload option) are not read, only
# said (ebutool.wire.ipv6: ipv6_jumbogram, ipv6_payload_length_zero; their length unknown).
IPV6_MAX_PAYLOAD_LEN = 0xFFFF
IPV6_MAX_PACKET_LEN = IPV6_HEADER_LEN + IPV6_MAX_PAYLOAD_LEN  # 65575 octets
MH_FIXED_LEN = 6  # payload proto, header len, MH type, reserved, checksum
MH_TYPE_AT = 2  # offset of the MH Type octet (RFC 6275 6.1.1): 3 octets show the type
MH_LENGTH_UNIT = 8  # Header Len counts 8-octet units past the first 8 (RFC 6275 6.1.1)
# A BA's octets up to the end of its Sequence Number (RFC 6275 6.1.8: the fixed 6, then
# Status, K flag and reserved, Sequence Number 16 bits; its Lifetime follows)
BA_SEQUENCE_END = MH_FIXED_LEN + 4

OPT_HOME_ADDRESS = 201  # Destination option carrying the home address (RFC 6275 6.3)
OPT_PADN = 1  # PadN destination option (RFC 8200 4.2)
OPT_PAD1 = 0  # Pad1 option: one octet, no length (RFC 8200 4.2)
OPT_JUMBO_PAYLOAD = 0xC2  # Hop-by-Hop Jumbo Payload option (RFC 2675 2)
JUMBO_LEN = 4  # its data: the 32-bit Jumbo Payload Length, octets
HAO_LEN = 16  # Home Address option data: the address, octets (RFC 6275 6.3)
HAO_DSTOPTS_LEN = 24  # a Destination Options header holding just the aligned HAO, octets
RH2_LEN = 24  # a type 2 routing header, octets
ROUTING_TYPE_2 = 2  # Type 2 routing header (RFC 6275 6.4)

# Mobility Header types (RFC 6275 6.1.2 and IANA).
MH_BRR = 0
MH_HOTI = 1
MH_COTI = 2
MH_HOT = 3
MH_COT = 4
MH_BU = 5
MH_BA = 6
MH_BE = 7

# Mobility options (RFC 6275 6.2, RFC 4866 9.x).
MOPT_PAD1 = 0
MOPT_PADN = 1
MOPT_BRA = 2  # Binding Refresh Advice
MOPT_ALT_COA = 3  # Alternate Care-of Address
MOPT_NONCE_INDICES = 4
MOPT_AUTH_DATA = 5  # Binding Authorization Data
MOPT_COTI = 15  # Care-of Test Init (RFC 4866)
MOPT_COT = 16  # Care-of Test (RFC 4866)

# Binding Error status values (RFC 6275 6.1.9).
BE_STATUS_UNKNOWN_BINDING = 1  # home address without a binding (RO data it cannot place)
BE_STATUS_UNKNOWN_MH = 2  # unrecognised MH type value (a CN that does not know EBUs)

# Binding Acknowledgement status values (RFC 6275 6.1.8) the episode logic reads.
BA_STATUS_SEQ_OUT_OF_WINDOW = 135  # carries the last *accepted* sequence number (9.5.1)
BA_STATUS_EXPIRED_HOME_NONCE = 136  # the home nonce index is unknown or too old (9.5.1)
BA_STATUS_EXPIRED_CAREOF_NONCE = 137  # the care-of nonce index likewise
BA_STATUS_EXPIRED_NONCES = 138  # both

LIFETIME_UNIT_S = 4  # BU/BA lifetime field unit (RFC 6275 6.1.7)
BRA_UNIT_S = 4  # Binding Refresh Advice interval unit

TOKEN_LEN = 8  # keygen token, octets (64 bits)
COOKIE_LEN = 8  # init cookie, octets
AUTHENTICATOR_LEN = 12  # First(96, HMAC_SHA1(...)), octets
KCN_LEN = 20  # node key Kcn, octets

# Defaults of the run-time configurable values (seconds unless named otherwise).
MAX_NONCE_LIFETIME_S = 240.0
MAX_TOKEN_LIFETIME_S = 210.0
MAX_RR_BINDING_LIFETIME_S = 420.0
INITIAL_BINDACK_TIMEOUT_S = 1.0
MAX_BINDACK_TIMEOUT_S = 32.0  # retransmission back-off cap (RFC 6275 section 12)
MAX_UPDATE_RATE_PER_S = 3.0
TENTATIVE_BINDING_LIFETIME_S = 3.0
# Not a protocol constant: ebutool's own bound on each table keyed by what the capture
# controls (mobile nodes, correspondents, care-of addresses, cookies, ...; ebutool.core.bounded)
MAX_STATE_ENTRIES = 20_000

# The longest duration a constant may be: its nanoseconds (how times are kept, e.g. the
# analysis's deadlines and synth's clock) must fit a signed 64-bit integer, about 292 years;
# a larger value raised OverflowError (or wrapped) deep in the run instead of a usage error.
MAX_DURATION_S = (2**63 - 1) // 10**9
MAX_COUNT = 2**63 - 1  # the largest count (entries) a constant may be: an int64 too
# The highest rate (1/s) a constant may be: its interval, 1 ns, is the finest time kept
MAX_RATE_PER_S = 10**9
COUNT_UNIT = "entries"  # the unit of the constants that are counts (whole numbers)
# synth's clock runs in whole microseconds (ebutool.core.units.ms_to_ns_us): a timer or
# an interval below this would round to 0 (a retransmission timer of 0 never lets time pass)
SYNTH_RESOLUTION_S = 1e-6
# The synth constants that are timers, refused below its resolution (MAX_UPDATE_RATE's
# window is n / rate with n = max(1, floor(rate)): never below 1 s)
SYNTH_TIMERS = ("max_token_lifetime", "initial_bindack_timeout", "max_bindack_timeout")

KIND_MH_TYPE = "mh_type"  # a ConstantSpec that is an optional MH type number
MH_TYPE_RANGE = (8, 255)  # MH types a user may name: RFC 6275 uses 0-7

# The packages whose results a run-time constant can change (ConstantSpec.used_by); a
# command offers the constants of the packages it runs (ebutool.cli.option_groups).
USERS = ("analysis", "oracle", "cn_replay", "synth")


@dataclass(frozen=True, slots=True)
class ConstantSpec:
    """How one run-time protocol constant is named, bounded and offered: its option is
    ``--`` + the ProtocolConfig field in kebab case, with ``unit`` and ``default`` in its
    help; every value must be finite and >= 0, or > 0 where ``positive`` says so.  A
    constant of ``kind`` :data:`KIND_MH_TYPE` is an optional MH type number instead
    (None: not used), one RFC 6275 does not assign (:data:`MH_TYPE_RANGE`)."""

    constant: str  # the name in RFC 6275 section 12 or the draft
    unit: str  # "s" or "1/s"
    meaning: str  # a few words for --help and the README
    used_by: frozenset[str]  # packages (USERS) whose results depend on the value
    positive: bool = False  # True: 0 is refused too (it would make no sense, see each use)
    aliases: tuple[str, ...] = ()  # further option names
    name: str = ""  # the ProtocolConfig field (filled in from the declaration)
    default: float | None = 0.0  # filled in from the declaration too
    kind: str = "value"  # "value" (a number) or KIND_MH_TYPE

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def bound(self) -> str:
        if self.kind == KIND_MH_TYPE:
            return f"{MH_TYPE_RANGE[0]}-{MH_TYPE_RANGE[1]}"
        return "> 0" if self.positive else ">= 0"

    @property
    def bounds(self) -> str:
        """Both ends of the range :meth:`problem` lets a value in, as --help and the README's
        table show them (tests/cli/test_protocol_options.py checks the ends against
        :meth:`problem`): the lower :attr:`bound`, then :attr:`limits`."""
        if self.kind == KIND_MH_TYPE:
            return self.bound
        if self.unit == "s":
            return f"{self.bound}, <= {MAX_DURATION_S}"
        if self.unit == "1/s":  # (the interval 1 / rate at most MAX_DURATION_S)
            return f">= 1/{MAX_DURATION_S}, <= {MAX_RATE_PER_S}"
        whole = ">= 1" if self.positive else ">= 0"  # (a count is whole: > 0 means >= 1)
        return f"{whole}, <= {MAX_COUNT}"

    @property
    def synth_bounds(self) -> str:
        """:attr:`bounds` as ``synth`` checks them: its timers at least its clock's
        resolution (ebutool.synth.simulator.check_resolution)."""
        if self.name in SYNTH_TIMERS:
            return f"{self.bounds}; synth: >= {SYNTH_RESOLUTION_S:g}"
        return self.bounds

    @property
    def default_text(self) -> str:
        return "none" if self.default is None else f"{self.default:g}"

    def problem(self, value: float | None, given: str | None = None) -> str | None:
        """Why ``value`` cannot be this constant (one line naming ``given``, how the user
        gave it: the option by default), or None."""
        given = given or self.option
        if self.kind == KIND_MH_TYPE:
            low, high = MH_TYPE_RANGE
            if value is None or (
                math.isfinite(value) and value == int(value) and low <= value <= high
            ):
                return None
            return (
                f"{given} {value:g}: must be an MH type number {low}-{high} "
                f"(0-{low - 1} are RFC 6275's messages) ({self.constant})"
            )
        if value is None:
            return f"{given}: a value is needed ({self.constant}, {self.unit})"
        if not (math.isfinite(value) and (value > 0 if self.positive else value >= 0)):
            return (
                f"{given} {value:g}: must be a finite number {self.bound} "
                f"({self.constant}, {self.unit})"
            )
        if self.unit == COUNT_UNIT and value != int(value):
            # (each user takes int() of it: 1.5 entries would silently be 1)
            return f"{given} {value:g}: must be a whole number ({self.constant}, {self.unit})"
        least, most = self.limits
        if least <= value <= most:
            return None
        shown = most if isinstance(most, int) else f"{most:.10g}"  # (a count: exactly)
        side = f"at least {least:.10g}" if value < least else f"at most {shown}"
        why = "its nanoseconds must fit 64 bits" if self.unit in ("s", "1/s") else "a 64-bit count"
        return f"{given} {value:g}: must be {side} ({self.constant}, {self.unit}: {why})"

    def synth_problem(self, value: float, given: str | None = None) -> str | None:
        """:meth:`problem`, and for synth's timers (SYNTH_TIMERS) its clock's resolution:
        a value that would round to 0 there (a retransmission that never lets time pass,
        a token never valid)."""
        problem = self.problem(value, given)
        if problem is None and self.name in SYNTH_TIMERS and value < SYNTH_RESOLUTION_S:
            return (
                f"{given or self.option} {value:g}: synth's clock counts whole microseconds; "
                f"give at least {SYNTH_RESOLUTION_S:g} s ({self.constant})"
            )
        return problem

    @property
    def limits(self) -> tuple[float, float]:
        """The range a finite value must be in: a duration (s) or the interval of a rate
        (1/s) whose nanoseconds fit an int64 (MAX_DURATION_S), a count below MAX_COUNT."""
        if self.unit == "s":
            return 0.0, float(MAX_DURATION_S)
        if self.unit == "1/s":
            return 1.0 / MAX_DURATION_S, float(MAX_RATE_PER_S)
        return 0, MAX_COUNT  # (an int: float(MAX_COUNT) is 2^63, which it would let in)


def _constant(
    default: float | None,
    constant: str,
    unit: str,
    meaning: str,
    used_by: str,
    *,
    positive: bool = False,
    aliases: tuple[str, ...] = (),
    kind: str = "value",
) -> Any:
    """A ProtocolConfig field declared with its spec (``used_by``: names from USERS)."""
    users = frozenset(used_by.split())
    if not users <= set(USERS):
        raise ValueError(f"{constant}: unknown users {sorted(users - set(USERS))}")
    spec = ConstantSpec(
        constant, unit, meaning, users, positive, aliases, default=default, kind=kind
    )
    return field(default=default, metadata={"spec": spec})


@dataclass(frozen=True, slots=True)
class ProtocolConfig:
    """The protocol constants in force for one run (all durations in seconds).

    Each field is declared once, with its spec (PROTOCOL_CONSTANTS): the options, their
    help, the README's table and the bound every value is checked against come from it.
    ``positive`` marks the constants for which 0 means nothing: a nonce or token that is
    never valid, a binding lifetime of 0 (a deletion, RFC 6275 9.5.1), a retransmission
    timer that never runs out, an update rate that forbids every update."""

    max_nonce_lifetime: float = _constant(
        MAX_NONCE_LIFETIME_S,
        "MAX_NONCE_LIFETIME",
        "s",
        "how long a CN accepts a nonce after it first used it",
        "oracle",
        positive=True,
    )
    max_token_lifetime: float = _constant(
        MAX_TOKEN_LIFETIME_S,
        "MAX_TOKEN_LIFETIME",
        "s",
        "how long an MN uses a keygen token",
        "analysis oracle synth",
        positive=True,
    )
    max_rr_binding_lifetime: float = _constant(
        MAX_RR_BINDING_LIFETIME_S,
        "MAX_RR_BINDING_LIFETIME",
        "s",
        "the longest binding a CN grants after return routability",
        "analysis cn_replay synth",
        positive=True,
    )
    initial_bindack_timeout: float = _constant(
        INITIAL_BINDACK_TIMEOUT_S,
        "INITIAL_BINDACK_TIMEOUT",
        "s",
        "the first retransmission timeout of a request",
        "analysis cn_replay synth",
        positive=True,
    )
    max_bindack_timeout: float = _constant(
        MAX_BINDACK_TIMEOUT_S,
        "MAX_BINDACK_TIMEOUT",
        "s",
        "the cap of the retransmission back-off (analyze --follow: how long a "
        "handover's silence closes its episodes)",
        "analysis synth",
        positive=True,
    )
    max_update_rate: float = _constant(
        MAX_UPDATE_RATE_PER_S,
        "MAX_UPDATE_RATE",
        "1/s",
        "binding updates an MN may send to one peer per second",
        "analysis synth",
        positive=True,
    )
    tentative_binding_lifetime: float = _constant(
        TENTATIVE_BINDING_LIFETIME_S,
        "TENTATIVE_BINDING_LIFETIME",
        "s",
        "how long a CN uses an unverified care-of address (0: never)",
        "analysis cn_replay synth",
        aliases=("--tentative-lifetime",),
    )
    max_state_entries: float = _constant(
        MAX_STATE_ENTRIES,
        "MAX_STATE_ENTRIES",
        COUNT_UNIT,
        "ebutool's bound on each table keyed by addresses or cookies from the capture (mobile "
        "nodes, correspondents, care-of addresses...); beyond it the least recently active "
        "entry is evicted (diagnosis state_evicted)",
        "analysis oracle cn_replay",
        positive=True,
    )
    # The draft introduces EBU and EBA as messages of their own without numbers; a
    # testbed may give them MH types (e.g. RFC 5096's experimental 11).  Named here, such
    # messages are EBU/EBA with the BU/BA body layout (DESIGN.md 3); None: not used.
    ebu_mh_type: int | None = _constant(
        None,
        "EBU_MH_TYPE",
        "MH type",
        "the MH type number a testbed gives the draft's EBU (BU body layout)",
        "analysis oracle cn_replay",
        kind=KIND_MH_TYPE,
    )
    eba_mh_type: int | None = _constant(
        None,
        "EBA_MH_TYPE",
        "MH type",
        "the MH type number a testbed gives the draft's EBA (BA body layout)",
        "analysis oracle cn_replay",
        kind=KIND_MH_TYPE,
    )

    def __post_init__(self) -> None:
        for spec in PROTOCOL_CONSTANTS:
            problem = spec.problem(getattr(self, spec.name))
            if problem is not None:
                raise UsageError(problem)
        if self.ebu_mh_type is not None and self.ebu_mh_type == self.eba_mh_type:
            # one number cannot be both layouts: every such message would be read as one
            # of them, silently (mh_types keeps the last)
            raise UsageError(
                f"--ebu-mh-type {self.ebu_mh_type} and --eba-mh-type {self.eba_mh_type}: "
                "the same MH type for EBU and EBA; give each its own number"
            )

    @property
    def mh_types(self) -> dict[int, int]:
        """{MH type number: the standard type whose body layout it has} for the draft's
        own message types the user named (ebu_mh_type -> BU, eba_mh_type -> BA)."""
        out = {}
        if self.ebu_mh_type is not None:
            out[int(self.ebu_mh_type)] = MH_BU
        if self.eba_mh_type is not None:
            out[int(self.eba_mh_type)] = MH_BA
        return out

    def with_(self, **changes: Any) -> ProtocolConfig:
        """A copy with the given values changed; ``None`` keeps the current value."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


PROTOCOL_CONSTANTS: tuple[ConstantSpec, ...] = tuple(
    replace(f.metadata["spec"], name=f.name) for f in fields(ProtocolConfig)
)
"""Every run-time constant's spec, in declaration order."""

DEFAULT_CONFIG = ProtocolConfig()

# The statistics of the draft's claim (``analyze --summary``; docs/analysis.md).  Here, not
# in ebutool.analysis, so that the command line can show them without importing numpy.
BOOTSTRAP_RESAMPLES = 10_000  # resamples per bootstrap interval
BOOTSTRAP_SEED = 20040216  # fixed seed (the draft's date, 2004-02-16): same input, same bytes
CONFIDENCE = 0.95  # two-sided confidence of the bootstrap intervals
ALPHA = 0.05  # significance level of the Holm-adjusted Mann-Whitney U test
RTT_TOLERANCE = 0.1  # "about one RTT sooner": the difference must reach (1 - this) x RTT_RO
EXACT_P_MAX_WORK = 100_000_000
"""Largest exact computation of the claim's Mann-Whitney p (ebutool.analysis.claim_stats.
exact_mann_whitney_less): cells of its table of rank-sum counts, (k + 1) x (2 k N + 1) for
the smaller side k of N values, times the shifts, sum over the groups of equal values of
min(group size, k) + 1; about 0.3 s.  Up to about 49 and 49 without ties, or 3 against
several hundred, fit.  Beyond it: scipy's exact distribution when there are no ties and a
side has at most 8, else the normal approximation (column p_method says which)."""
MIN_CLAIM_SAMPLES = 3
"""Fewest samples per side (early, standard) for a claim verdict (``analyze --summary``,
``--min-claim-samples``; DESIGN.md section 4: 3); fewer gives "too few samples".  A verdict
also needs sides large enough for the one-sided Mann-Whitney test to reach ALPHA at all
(3 and 3: its smallest p is 1/20 = 0.05): below that "too few samples" too, never a
"not supported" that no data could have turned (ebutool.analysis.claim_stats.verdict_possible)."""

# report: episodes embedded in the page (rows and ladders): the first ones in the table's order.
# Statistics, figures and the summary are of every episode; the rest of the table is
# counted and said on the page and on stderr (a million episodes would be GBs of page
# and of memory, issue 12; issue 17 wants < 5 MB at 10,000 episodes).
MAX_EMBEDDED_ROWS = 10_000
