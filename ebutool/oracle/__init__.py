"""The stateless correspondent-node oracle (RFC 6275 5.2, the EBU draft 4.1).

``Oracle(keys, config).check(record) -> Verdict | None`` checks one message;
``verify.verify(path, keys=..., config=...)`` gives one row per checked message of a file.
Key material lives in a :class:`KeyTable` (``keys.py``); the RFC arithmetic in
``crypto.py``.  See docs/verify.md.
"""

from ebutool.oracle.keys import ANY_CN, KeyTable, Nonce, load_key_table
from ebutool.oracle.verify import (
    COLUMNS,
    INVALID,
    UNVERIFIABLE,
    VALID,
    Oracle,
    Verdict,
    verdicts_frame,
)

# The file-level function is ``ebutool.oracle.verify.verify`` (and ``ebutool.verify``); it
# is not re-exported here so that ``ebutool.oracle.verify`` stays the module.

__all__ = [
    "Oracle",
    "Verdict",
    "KeyTable",
    "Nonce",
    "ANY_CN",
    "load_key_table",
    "verdicts_frame",
    "COLUMNS",
    "VALID",
    "INVALID",
    "UNVERIFIABLE",
]
