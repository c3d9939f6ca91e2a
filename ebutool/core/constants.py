"""Protocol constants, each a named value (RFC 6275 section 12, the EBU draft section 8).

Every value here has a command-line option of the same name in lower-kebab case
(e.g. ``--tentative-binding-lifetime``); :class:`ProtocolConfig` carries the values
in force for one run, so library code never reads a module constant directly
where a user may want another value.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

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
NH_HIP = 139
NH_SHIM6 = 140

IPV6_HEADER_LEN = 40  # octets
MH_FIXED_LEN = 6  # payload proto, header len, MH type, reserved, checksum

OPT_HOME_ADDRESS = 201  # Destination option carrying the home address (RFC 6275 6.3)
OPT_PADN = 1  # PadN destination option (RFC 8200 4.2)
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


@dataclass(frozen=True, slots=True)
class ProtocolConfig:
    """The protocol constants in force for one run (all durations in seconds)."""

    max_nonce_lifetime: float = MAX_NONCE_LIFETIME_S
    max_token_lifetime: float = MAX_TOKEN_LIFETIME_S
    max_rr_binding_lifetime: float = MAX_RR_BINDING_LIFETIME_S
    initial_bindack_timeout: float = INITIAL_BINDACK_TIMEOUT_S
    max_bindack_timeout: float = MAX_BINDACK_TIMEOUT_S
    max_update_rate: float = MAX_UPDATE_RATE_PER_S
    tentative_binding_lifetime: float = TENTATIVE_BINDING_LIFETIME_S

    def with_(self, **changes: float | None) -> ProtocolConfig:
        """A copy with the given values changed; ``None`` keeps the current value."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


DEFAULT_CONFIG = ProtocolConfig()
