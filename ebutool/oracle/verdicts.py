"""What the CN oracle says about one message: verdicts, their exact reasons, the row.

The ``reason`` texts are part of the output (the ``reason`` column of ``ebutool verify``
and of replay's decisions); :class:`Verdict` is one checked message and
:func:`verdicts_frame` the table of many.  The checking itself is
:class:`ebutool.oracle.verify.Oracle`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ebutool.core.constants import AUTHENTICATOR_LEN

if TYPE_CHECKING:
    import pandas as pd

VALID, INVALID, UNVERIFIABLE = "valid", "invalid", "unverifiable"
# The MAC matches, but with a token the capture carried more than MAX_TOKEN_LIFETIME
# before: a rule only the MN applies (RFC 6275 5.2.7), so a keyless check cannot call it
# invalid; a CN would still accept the MAC (it checks the nonce's age, not the token's).
STALE_TOKEN = "stale_token"
VERDICTS = (VALID, INVALID, UNVERIFIABLE, STALE_TOKEN)
BASIS_KCN, BASIS_CAPTURE = "kcn", "capture"

# Reasons (the ``reason`` column).  The invalid/unverifiable ones name the exact cause.
R_AUTH_OK = "authenticator matches"
R_HOME_TOKEN_OK = "home keygen token matches Kcn"
R_CAREOF_TOKEN_OK = "care-of keygen token matches Kcn"
R_MISMATCH = "authenticator mismatch"
R_NO_AUTH = "no Binding Authorization Data option"
R_NO_NONCE_INDICES = "no Nonce Indices option"
R_NONCE_INDICES_MALFORMED = "malformed Nonce Indices option ({length} octets, not 4)"
# The option is there but its length is wrong (the decoder keeps it as an unknown option):
# not the same as a message sent without one.
R_AUTH_MALFORMED = (
    f"malformed Binding Authorization Data option ({{length}} octets, not {AUTHENTICATOR_LEN})"
)
R_UNKNOWN_NONCE = "unknown nonce index {index}"
R_UNKNOWN_NONCES = "unknown nonce indices {home} (home) and {careof} (care-of)"
R_NONCE_OLD = "nonce older than MAX_NONCE_LIFETIME"
R_TOKEN_OLD = "token older than MAX_TOKEN_LIFETIME"
R_NO_HOME_TOKEN = "no home keygen token seen for nonce index {index}"
R_NO_CAREOF_TOKEN = "no care-of keygen token seen for nonce index {index}"
R_HOME_TOKEN_BAD = "home keygen token does not match Kcn for nonce index {index}"
R_CAREOF_TOKEN_BAD = "care-of keygen token does not match Kcn for nonce index {index}"
R_COT_OPTION_BAD = (
    "care-of keygen token in the Care-of Test option does not match Kcn for nonce index {index}"
)
R_NO_KCN = "no Kcn for this correspondent node"
R_NO_NONCES = "no nonce table for this correspondent node"
R_NO_BU = "no Binding Update seen for this acknowledgement"
R_NO_WIRE = "no Mobility Header octets to compute the authenticator on"
# The capture holds fewer octets of the message than its Header Len says (snaplen): the
# authenticator covers the whole message, so it cannot be computed, and a missing
# option may only be missing from the capture.
R_CUT_OFF = "{msg} cut off by the capture ({got} of {total} octets)"
R_REJECTED_NO_AUTH = "status {status} ({name}) without Binding Authorization Data option"
R_NONCE_AGE_UNKNOWN = (
    "; nonce age unknown (no HoT/CoT with nonce index {index} in the capture and no "
    "generation time that shows it is fresh)"
)
R_NONCE_AGE_BACKWARDS = (
    "; nonce age unknown (the message is timestamped before the first use of nonce "
    "index {index}: timestamps out of order)"
)
# Care-of nonce index 0 (RFC 6275 does not reserve it): a standard BU or an EBU?
R_INDEX0_COT_SEEN = " (a standard BU: a CoT with care-of nonce index 0 came before it)"
R_INDEX0_STANDARD = " (a standard BU with care-of nonce index 0: the standard Kbm matches)"
R_INDEX0_EARLY = (
    " (an EBU: a CoT with care-of nonce index 0 came before it, but only Kbm_early matches)"
)
R_INDEX0_AMBIGUOUS = (
    "authenticator mismatch with Kbm_early; a standard BU with care-of nonce index 0 "
    "cannot be ruled out: {why}"
)
_INDEX0_AMBIGUOUS_HEAD = R_INDEX0_AMBIGUOUS.split("{", 1)[0]

# BA status values a CN sends when it cannot rebuild the tokens (RFC 6275 6.1.8): it
# then has no Kbm, so such a BA is not expected to be authenticated.
NONCE_STATUSES = (136, 137, 138)

COLUMNS = [
    "frame",
    "time",
    "msg",
    "mn",
    "cn",
    "coa",
    "seq",
    "verdict",
    "reason",
    "key_form",
    "basis",
    "home_index",
    "careof_index",
    "tokens_from",
    "nonce_age_ms",
]
_INT_COLUMNS = ("seq", "home_index", "careof_index")


@dataclass(slots=True)
class Verdict:
    """One checked message.  ``time`` is epoch seconds; ``key_form`` says which key
    authenticated it (crypto.KEY_FORMS) or, for an invalid MAC, the form expected."""

    frame: int
    time: float
    msg: str  # HoT, CoT, BU, EBU, BA, EBA
    mn: str | None
    cn: str | None
    coa: str | None
    seq: int | None
    verdict: str = UNVERIFIABLE  # valid | invalid | unverifiable | stale_token
    reason: str = ""
    key_form: str | None = None
    basis: str | None = None  # kcn | capture | None (nothing to check with)
    home_index: int | None = None
    careof_index: int | None = None
    tokens_from: str | None = None  # keyless: frames of the HoT/CoT whose tokens were used
    # Age of the (oldest) nonce the message used, from its first use in the capture (the
    # first HoT/CoT carrying that index for that CN, RFC 6275 5.2.7); None: not known
    nonce_age_ms: float | None = None
    source: str = field(default="", repr=False)
    # The BA status a CN following RFC 6275 9.5.1 sends for an update refused for its
    # nonces (136 home, 137 care-of, 138 both; None otherwise): not a column of verify's
    # table, read by the reference CN (ebutool.cn_replay).
    status: int | None = field(default=None, repr=False)
    # ``time``'s exact integer ns (``time`` is ``time_ns / 1e9``, a float 0.24 us
    # coarse): the table prints a nanosecond capture's 9 decimals from it (exact_time)
    time_ns: int | None = field(default=None, repr=False)

    def as_row(self) -> dict:
        return {c: getattr(self, c) for c in COLUMNS}

    @property
    def care_of_index_0_undecided(self) -> bool:
        """The early MAC fails and, keyless, a standard BU with care-of nonce index 0 cannot
        be ruled out (R_INDEX0_AMBIGUOUS): standard or early cannot be told."""
        return self.verdict == UNVERIFIABLE and self.reason.startswith(_INDEX0_AMBIGUOUS_HEAD)


def verdicts_frame(verdicts: Iterable[Verdict]) -> pd.DataFrame:
    """Verdicts as a DataFrame with :data:`COLUMNS` (integer columns nullable)."""
    import pandas as pd

    from ebutool.core.exact_time import EXACT_NS, exact_map

    verdicts = list(verdicts)
    df = pd.DataFrame([v.as_row() for v in verdicts], columns=COLUMNS)
    df.attrs[EXACT_NS] = exact_map(v.time_ns for v in verdicts)  # the times' exact ns
    for c in _INT_COLUMNS:
        df[c] = df[c].astype("Int64")
    df["frame"] = df["frame"].astype("int64")
    df["time"] = df["time"].astype("float64")
    df["nonce_age_ms"] = df["nonce_age_ms"].astype("float64")
    return df
