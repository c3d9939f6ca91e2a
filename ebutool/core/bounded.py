"""Tables keyed by what a capture controls, bounded, with every eviction counted.

Addresses, cookies and sequence numbers come from the packets: an attacker (or a very
large capture) can make as many distinct ones as it has packets.  Every table keyed by
them keeps at most a bound of entries (``ProtocolConfig.max_state_entries``, option
``--max-state-entries``); beyond it the entry used longest ago *in capture order* is
evicted, and the eviction is a counted diagnosis, ``state_evicted``, whose message names
the table (docs/analysis.md "Limits").  Tables are plain dicts kept in
least-recently-used order: :func:`touch` moves a key to the end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ebutool.core.diagnostics import Diagnostics

EVICTED = "state_evicted"  # the diagnosis code of an eviction


def touch(table: dict, key: Any) -> Any:
    """``table[key]`` made the most recently used entry (None when absent)."""
    value = table.pop(key, None)
    if value is not None:
        table[key] = value
    return value


def make_room(
    table: dict,
    limit: int | None,
    diag: Diagnostics | None,
    name: str,
    frame: int | None = None,
    on_evict: Callable[[Any, Any], None] | None = None,
) -> None:
    """Evict the least recently used entries of ``table`` until one more fits within
    ``limit`` (None: no bound); each eviction is a ``state_evicted`` warning naming
    ``name`` (when ``diag`` is given) and is handed to ``on_evict(key, value)``."""
    if limit is None:
        return
    while len(table) >= limit:
        key = next(iter(table))
        value = table.pop(key)
        if diag is not None:
            diag.warn(
                EVICTED,
                f"{'' if frame is None else f'frame {frame}: '}{name} table full "
                f"({limit} entries, --max-state-entries): "
                f"the least recently active entry ({_show(key)}) was evicted",
                frame,
            )
        if on_evict is not None:
            on_evict(key, value)


def put(
    table: dict,
    key: Any,
    value: Any,
    limit: int | None,
    diag: Diagnostics | None,
    name: str,
    frame: int | None = None,
    on_evict: Callable[[Any, Any], None] | None = None,
) -> None:
    """``table[key] = value`` as the most recently used entry, evicting beyond ``limit``."""
    if table.pop(key, None) is None and limit is not None and len(table) >= limit:
        make_room(table, limit, diag, name, frame, on_evict)  # (called per record: inline test)
    table[key] = value


def _show(key: Any) -> str:
    """A table key for a message: addresses as they are, octets (cookies) as hex."""
    if isinstance(key, tuple):
        return ", ".join(_show(k) for k in key)
    if isinstance(key, bytes | bytearray):
        return bytes(key).hex()
    return str(key)
