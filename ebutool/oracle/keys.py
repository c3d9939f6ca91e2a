"""Key material of the correspondent nodes the oracle plays: Kcn and nonce tables.

A :class:`KeyTable` holds, per correspondent node (CN) address, the node key Kcn
(RFC 6275 5.2.1) and the CN's nonce table (index -> nonce, optionally with the
time the nonce was generated).  An entry under :data:`ANY_CN` applies to every CN
that has none of its own.  Nothing here ever formats a secret: ``repr`` shows only
which CNs have keys, and every error message says *where* a value is wrong, never
the value itself.

Option syntax (see docs/verify.md):

* ``--kcn [ADDR=]HEX``           Kcn in hexadecimal, for CN ADDR or (no ADDR) for every CN
* ``--kcn-file [ADDR=]PATH``     a file whose content is Kcn in hexadecimal
* ``--nonces [ADDR=]PATH``       JSON object {"index": "hex" | {"nonce": "hex", "generated": t}}
* ``--keys PATH``                JSON object {ADDR or "*": {"kcn": ..., "kcn_file": ...,
                                 "nonces": {...} or "path"}}
* environment ``EBUTOOL_KCN``    ``[ADDR=]HEX`` entries separated by commas or blanks,
                                 used only when no Kcn is given by option
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ebutool.core import constants as C
from ebutool.core.addr import canonical
from ebutool.core.errors import UsageError
from ebutool.core.keyfile import (
    MAX_KCN_FILE_BYTES,
    Warn,
    load_key_json,
    read_key_text,
    shown_name,
    shown_path,
)

ANY_CN = "*"
ESP_SAS_KEY = "esp_sas"  # the keys file's section of ESP SAs (ebutool.esp.sa_files)
ENV_KCN = "EBUTOOL_KCN"
MAX_NONCE_INDEX = 0xFFFF
MAX_EPOCH_S = (1 << 63) // 1_000_000_000  # times are int64 nanoseconds (year 2262)

_HEX_JUNK = re.compile(r"[\s:]")
ENTRY_FIELDS = ("kcn", "kcn_file", "nonces")  # of a --keys entry
NONCE_FIELDS = ("nonce", "generated")  # of a nonce table entry
KEY_FIELDS = ENTRY_FIELDS + NONCE_FIELDS


@dataclass(frozen=True, slots=True)
class Nonce:
    """One entry of a CN's nonce table.  ``generated`` (epoch seconds) lets the oracle
    check MAX_NONCE_LIFETIME from generation; without it the age counts from the
    nonce's first use seen in the capture."""

    value: bytes = field(repr=False)
    generated: float | None = None


@dataclass(slots=True)
class CNKeys:
    kcn: bytes | None = field(default=None, repr=False)
    nonces: dict[int, Nonce] | None = field(default=None, repr=False)


class KeyTable:
    """Kcn and nonce table per CN address (canonical text) or for :data:`ANY_CN`."""

    def __init__(self) -> None:
        self._cns: dict[str, CNKeys] = {}
        self.notes: list[str] = []  # one-line remarks for the user (never secrets)
        self.warnings: list[str] = []  # e.g. a keys file others can read (never secrets)
        self.esp_sas_file: str | None = None  # a keys file with an esp_sas section
        # the files a --keys file names (its "kcn_file" and "nonces" paths), each with the
        # place that names it: inputs like the keys file (an output may not replace them)
        self.named_files: list[tuple[str, str]] = []

    # -- building -------------------------------------------------------------
    def set_kcn(self, kcn: bytes, cn: str | None = None, where: str = "Kcn") -> None:
        cn = _cn_key(cn, where)
        entry = self._cns.setdefault(cn, CNKeys())
        if entry.kcn is not None:
            raise UsageError(f"{where}: a Kcn for {_cn_label(cn)} is given twice")
        if not kcn:
            raise UsageError(f"{where}: the Kcn for {_cn_label(cn)} is empty")
        if len(kcn) != C.KCN_LEN:
            self.notes.append(
                f"the Kcn for {_cn_label(cn)} is {len(kcn)} octets; "
                f"RFC 6275 5.2.1 specifies {C.KCN_LEN}"
            )
        entry.kcn = bytes(kcn)

    def set_nonces(
        self, nonces: Mapping[int, Nonce], cn: str | None = None, where: str = "nonces"
    ) -> None:
        cn = _cn_key(cn, where)
        entry = self._cns.setdefault(cn, CNKeys())
        if entry.nonces is not None:
            raise UsageError(f"{where}: a nonce table for {_cn_label(cn)} is given twice")
        entry.nonces = dict(nonces)

    # -- lookup ---------------------------------------------------------------
    def _get(self, cn: str, attr: str):
        own = self._cns.get(cn)
        if own is not None and getattr(own, attr) is not None:
            return getattr(own, attr)
        anyone = self._cns.get(ANY_CN)
        return getattr(anyone, attr) if anyone is not None else None

    def kcn(self, cn: str) -> bytes | None:
        return self._get(cn, "kcn")

    def nonce_table(self, cn: str) -> dict[int, Nonce] | None:
        return self._get(cn, "nonces")

    def nonce(self, cn: str, index: int) -> Nonce | None:
        table = self.nonce_table(cn)
        return table.get(index) if table is not None else None

    def usable(self, cn: str) -> bool:
        """True when ``cn`` has both a Kcn and a nonce table (the oracle then works as
        that CN); otherwise the oracle falls back to the tokens seen in the capture."""
        return self.kcn(cn) is not None and self.nonce_table(cn) is not None

    @property
    def cns(self) -> list[str]:
        """The CN addresses (and "*") that have some key material."""
        return sorted(self._cns)

    def describe(self) -> str:
        """Which CNs have a Kcn / a nonce table; no key material."""
        if not self._cns:
            return "no keys (keyless mode: tokens from the capture)"
        parts = []
        for cn in self.cns:
            e = self._cns[cn]
            what = [
                w
                for w, v in (("Kcn", e.kcn), (f"{len(e.nonces or ())} nonces", e.nonces))
                if v is not None
            ]
            parts.append(f"{_cn_label(cn)}: {' + '.join(what)}")
        return "; ".join(parts)

    def secrets(self) -> Iterable[bytes]:
        """Every Kcn and nonce value (for tests that make sure none is ever printed)."""
        for e in self._cns.values():
            if e.kcn is not None:
                yield e.kcn
            for n in (e.nonces or {}).values():
                yield n.value

    def __bool__(self) -> bool:
        return bool(self._cns)

    def __repr__(self) -> str:
        return f"KeyTable({self.describe()})"


def _cn_key(cn: str | None, where: str) -> str:
    if cn is None or cn == ANY_CN:
        return ANY_CN
    try:
        return canonical(cn)
    except ValueError:
        raise UsageError(
            f"{where}: the correspondent node address is not an IPv6 address"
        ) from None


def _no_unknown(entry: Mapping, allowed: tuple[str, ...], where: str) -> None:
    """Unknown field names are counted, not shown (one may be a mistyped secret)."""
    unknown = [k for k in entry if k not in allowed]
    if unknown:
        raise UsageError(
            f"{where}: {len(unknown)} unknown field name(s) (not shown); "
            f"the fields are {', '.join(allowed)}"
        )


def _cn_label(cn: str) -> str:
    return "every correspondent node" if cn == ANY_CN else f"correspondent node {cn}"


# -- parsing values (errors never contain the value) ----------------------------------
def parse_hex_secret(text: str, where: str) -> bytes:
    """Hexadecimal text (blanks, colons and a leading 0x allowed) -> octets."""
    s = _HEX_JUNK.sub("", text or "")
    if s[:2].lower() == "0x":
        s = s[2:]
    if not s:
        raise UsageError(f"{where}: empty value")
    if len(s) % 2:
        raise UsageError(
            f"{where}: not a hexadecimal string (odd number of digits; value not shown)"
        )
    try:
        return bytes.fromhex(s)
    except ValueError:
        raise UsageError(f"{where}: not a hexadecimal string (value not shown)") from None


def split_spec(spec: str, where: str) -> tuple[str | None, str]:
    """``[ADDR=]VALUE`` -> (canonical ADDR or None, VALUE).  IPv6 addresses hold no '='."""
    if "=" not in spec:
        return None, spec
    addr, value = spec.split("=", 1)
    addr = addr.strip()
    if addr in ("", ANY_CN):
        return None, value
    try:
        return canonical(addr), value
    except ValueError:
        # The part before '=' may be a mistyped secret: never echo it.
        raise UsageError(
            f"{where}: the part before '=' is not an IPv6 address (expected ADDR=VALUE or VALUE)"
        ) from None


def parse_nonce_table(obj, where: str) -> dict[int, Nonce]:
    """The JSON nonce table: {"1": "hex", "2": {"nonce": "hex", "generated": 1700000000.5}}."""
    if not isinstance(obj, dict):
        raise UsageError(f"{where}: a nonce table must be a JSON object mapping index to nonce")
    table: dict[int, Nonce] = {}
    for n, (key, val) in enumerate(obj.items(), 1):
        text = str(key).strip()
        if not (text.isdigit() and text.isascii()) or len(text) > 5:
            raise UsageError(
                f"{where}: the nonce index of entry {n} is not a decimal number "
                f"0..{MAX_NONCE_INDEX} (not shown)"
            )
        index = int(text, 10)
        if not 0 <= index <= MAX_NONCE_INDEX:
            raise UsageError(f"{where}: nonce index {index} is outside 0..{MAX_NONCE_INDEX}")
        if index in table:
            raise UsageError(
                f"{where}: nonce index {index} is given twice (entry {n}; indices are "
                'numbers: "1" and "01" are the same)'
            )
        here = f"{where}: nonce {index}"
        generated = None
        if isinstance(val, dict):
            _no_unknown(val, NONCE_FIELDS, here)
            if "nonce" not in val:
                raise UsageError(f'{here}: no "nonce" field')
            generated = val.get("generated")
            if generated is not None and (
                isinstance(generated, bool)
                or not isinstance(generated, (int, float))
                or not math.isfinite(generated)
                or abs(generated) > MAX_EPOCH_S
            ):
                raise UsageError(f'{here}: "generated" must be a time in epoch seconds')
            val = val["nonce"]
        if not isinstance(val, str):
            raise UsageError(f"{here}: the nonce must be a hexadecimal string")
        table[index] = Nonce(
            parse_hex_secret(val, here), float(generated) if generated is not None else None
        )
    return table


def load_nonce_file(
    path: str, where: str = "--nonces", warn: Warn | None = None
) -> dict[int, Nonce]:
    obj = load_key_json(path, where, NONCE_FIELDS, warn=warn)
    return parse_nonce_table(obj, f"{where} {shown_path(path)}")


def load_kcn_file(path: str, where: str = "--kcn-file", warn: Warn | None = None) -> bytes:
    text = read_key_text(path, where, MAX_KCN_FILE_BYTES, warn)
    return parse_hex_secret(text, f"{where} {shown_path(path)}")


def load_keys_file(path: str, table: KeyTable | None = None, warn: Warn | None = None) -> KeyTable:
    """The ``--keys`` JSON file: {ADDR or "*": {"kcn": hex | "kcn_file": path,
    "nonces": {...} | path}}; relative paths are relative to the keys file."""
    table = table if table is not None else KeyTable()
    where = f"--keys {shown_path(path)}"
    obj = load_key_json(path, "--keys", KEY_FIELDS, warn=warn)
    if not isinstance(obj, dict):
        raise UsageError(f'{where}: must be a JSON object mapping CN address (or "*") to keys')
    base = os.path.dirname(os.path.abspath(path))
    for addr, entry in obj.items():
        if addr == ESP_SAS_KEY:  # ESP security associations, read by ebutool.esp
            table.esp_sas_file = path  # (commands with --esp-sa use them too)
            continue
        cn = None if addr == ANY_CN else _cn_key(addr, where)
        label = f"{where}: {shown_name(addr)}"
        if not isinstance(entry, dict):
            raise UsageError(f'{label}: must be an object with "kcn" and/or "nonces"')
        _no_unknown(entry, ENTRY_FIELDS, label)
        if "kcn" in entry and "kcn_file" in entry:
            raise UsageError(f'{label}: give "kcn" or "kcn_file", not both')
        if "kcn" in entry:
            if not isinstance(entry["kcn"], str):
                raise UsageError(f'{label}: "kcn" must be a hexadecimal string')
            table.set_kcn(parse_hex_secret(entry["kcn"], f"{label} kcn"), cn, where)
        elif "kcn_file" in entry:
            kcn_path = os.path.join(base, str(entry["kcn_file"]))
            table.named_files.append((kcn_path, f"{label} kcn_file"))
            table.set_kcn(load_kcn_file(kcn_path, label, warn), cn, where)
        nonces = entry.get("nonces")
        if isinstance(nonces, str):
            nonce_path = os.path.join(base, nonces)
            table.named_files.append((nonce_path, f"{label} nonces"))
            table.set_nonces(load_nonce_file(nonce_path, label, warn), cn, where)
        elif nonces is not None:
            table.set_nonces(parse_nonce_table(nonces, f"{label} nonces"), cn, where)
    return table


def load_key_table(
    kcn: Iterable[str] = (),
    kcn_files: Iterable[str] = (),
    nonces: Iterable[str] = (),
    keys_file: str | None = None,
    env: Mapping[str, str] | None = None,
) -> KeyTable:
    """Assemble the key table from the command-line forms (docs/verify.md).

    ``env`` (normally ``os.environ``) supplies ``EBUTOOL_KCN`` when no Kcn is given
    by option.  A CN's Kcn or nonce table may be given once only."""
    table = KeyTable()
    warn = table.warnings.append
    if keys_file:
        load_keys_file(keys_file, table, warn)
    for spec in kcn_files or ():
        addr, path = split_spec(spec, "--kcn-file")
        table.set_kcn(load_kcn_file(path, "--kcn-file", warn), addr, "--kcn-file")
    for spec in kcn or ():
        addr, value = split_spec(spec, "--kcn")
        table.set_kcn(
            parse_hex_secret(value, "--kcn" + (f" for {addr}" if addr else "")), addr, "--kcn"
        )
    has_kcn = any(e.kcn is not None for e in table._cns.values())
    env_value = (env or {}).get(ENV_KCN, "").strip()
    if env_value and not has_kcn:
        for spec in re.split(r"[,\s]+", env_value):
            if spec:
                addr, value = split_spec(spec, ENV_KCN)
                table.set_kcn(
                    parse_hex_secret(value, ENV_KCN + (f" for {addr}" if addr else "")),
                    addr,
                    ENV_KCN,
                )
    for spec in nonces or ():
        addr, path = split_spec(spec, "--nonces")
        table.set_nonces(load_nonce_file(path, "--nonces", warn), addr, "--nonces")
    for cn, e in table._cns.items():
        if (
            e.kcn is not None
            and e.nonces is None
            and table._cns.get(ANY_CN, CNKeys()).nonces is None
        ):
            table.notes.append(
                f"{_cn_label(cn)} has a Kcn but no nonce table (--nonces): "
                "its messages are checked with the capture's own tokens"
            )
        if e.nonces is not None and e.kcn is None and table._cns.get(ANY_CN, CNKeys()).kcn is None:
            table.notes.append(
                f"{_cn_label(cn)} has a nonce table but no Kcn: "
                "its messages are checked with the capture's own tokens"
            )
    return table


__all__ = [
    "ANY_CN",
    "ENV_KCN",
    "Nonce",
    "CNKeys",
    "KeyTable",
    "parse_hex_secret",
    "split_spec",
    "parse_nonce_table",
    "load_nonce_file",
    "load_kcn_file",
    "load_keys_file",
    "load_key_table",
]
