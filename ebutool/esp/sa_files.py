"""SA files: Wireshark's ``esp_sa`` table, ``ip xfrm state`` output, the keys JSON.

:func:`load_sa_files` reads each file (through :func:`read_sa_file`, the one place
that opens them, with a size limit), recognises its format from the content and
returns the :class:`~ebutool.esp.sa.EspSA` list.  A file that cannot be read or parsed
is a one-line :class:`~ebutool.core.errors.UsageError` naming the file and line; no
message ever contains a key.  Formats (docs/esp.md has an example of each):

- Wireshark's ``esp_sa`` UAT file: one SA per line, comma-separated quoted fields
  ``"IPv6","SRC","DST","SPI","ENCRYPTION","ENC KEY","AUTHENTICATION","AUTH KEY"``
  (later fields, if any, are ignored); keys ``0x``-hex or text; ``*`` wildcards;
- ``ip xfrm state``: blocks starting ``src A dst B``, with ``proto esp spi 0x...``,
  ``enc``/``auth``/``auth-trunc``/``aead`` lines, ``replay-window N`` and ``flag esn``;
- JSON: an object with an ``esp_sas`` list (the keys JSON of ``--keys`` may hold it):
  ``{"spi": "0x1000", "src": "*", "dst": "*", "encryption": "aes-cbc", "enc_key": HEX,
  "integrity": "hmac-sha1-96", "auth_key": HEX, "esn": false, "replay_window": 64}``.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterable

from ebutool.core.errors import UsageError
from ebutool.core.keyfile import Warn, read_key_text
from ebutool.esp.fields import address_field, checked, parse_key, parse_spi_selector
from ebutool.esp.sa import WILDCARD, EspSA, SecretKey

# The largest SA file read (a few hundred SAs take a few tens of KiB).
MAX_SA_FILE_OCTETS = 1 << 20
ESP_SAS_KEY = "esp_sas"  # the section of the keys JSON

# Wireshark's algorithm names (its esp_encryption_type_vals / authentication_type_vals).
WIRESHARK_CIPHERS = {
    "NULL": "null",
    "AES-CBC [RFC3602]": "aes-cbc",
    "AES-CTR [RFC3686]": "aes-ctr",
    "AES-GCM [RFC4106]": "aes-gcm-16",
    "AES-GCM with 8 octet ICV [RFC4106]": "aes-gcm-8",
    "AES-GCM with 12 octet ICV [RFC4106]": "aes-gcm-12",
    "AES-GCM with 16 octet ICV [RFC4106]": "aes-gcm-16",
}
WIRESHARK_INTEGRITY = {
    "NULL": "null",
    "HMAC-SHA-1-96 [RFC2404]": "hmac-sha1-96",
    "HMAC-SHA-256-128 [RFC4868]": "hmac-sha256-128",
    "HMAC-SHA-256-96 [draft-ietf-ipsec-ciph-sha-256-00]": "hmac-sha256-96",
}


def read_sa_file(
    path: str | os.PathLike[str], where: str = "--esp-sa", warn: Warn | None = None
) -> str:
    """The text of an SA file, at most MAX_SA_FILE_OCTETS, through the one bounded reader
    of key files (ebutool.core.keyfile: size limit, a file name that looks like key
    material not shown, ``warn`` told when group or others can access the file)."""
    return read_key_text(os.fspath(path), where, MAX_SA_FILE_OCTETS, warn)


def load_sa_files(paths: Iterable[str | os.PathLike[str]], warn: Warn | None = None) -> list[EspSA]:
    """The SAs of every file, in order (format by content, module doc); ``warn`` gets the
    key-file warnings (an SA file others can read holds keys: ssh's rule)."""
    sas: list[EspSA] = []
    for path in paths:
        sas.extend(parse_sa_text(read_sa_file(path, warn=warn), f"--esp-sa {path}"))
    return sas


def sa_format(text: str) -> str | None:
    """ "wireshark", "xfrm" or "json" by the first meaningful line, or None."""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("{"):
            return "json"
        if line.startswith('"'):
            return "wireshark"
        if re.match(r"src\s+\S+\s+dst\s+\S+", line):
            return "xfrm"
        return None
    return None


def parse_sa_text(text: str, where: str) -> list[EspSA]:
    kind = sa_format(text)
    if kind == "json":
        return parse_json_sas(text, where)
    if kind == "wireshark":
        return parse_wireshark(text, where)
    if kind == "xfrm":
        from ebutool.esp.xfrm import parse_xfrm

        return parse_xfrm(text, where)
    raise UsageError(
        f"{where}: not an SA file (expected Wireshark's esp_sa table, "
        f"`ip xfrm state` output or a JSON object with {ESP_SAS_KEY!r})"
    )


def parse_wireshark(text: str, where: str) -> list[EspSA]:
    sas = []
    for lineno, row in enumerate(csv.reader(text.splitlines()), 1):
        if not row or row[0].lstrip().startswith("#"):
            continue
        here = f"{where} line {lineno}"
        if len(row) < 8:
            raise UsageError(f"{here}: {len(row)} fields, Wireshark's esp_sa has 8 or more")
        proto, src, dst, spi, enc, enc_key, auth, auth_key = (f.strip() for f in row[:8])
        if proto != "IPv6":
            continue  # IPv4 SAs cannot protect Mobile IPv6 signalling
        spi_value, spi_mask = parse_spi_selector(spi, here)
        sa = EspSA(
            spi_value,
            address_field(src),
            address_field(dst),
            WIRESHARK_CIPHERS.get(enc, enc),
            _wireshark_key(enc_key, here),
            WIRESHARK_INTEGRITY.get(auth, auth),
            _wireshark_key(auth_key, here),
            origin=here,
            spi_mask=spi_mask,
        )
        sas.append(checked(sa, here))
    return sas


def _wireshark_key(text: str, where: str) -> SecretKey:
    if text[:2].lower() == "0x":
        return parse_key(text, where)
    return SecretKey(text.encode("utf-8"))  # Wireshark takes other text as the key itself


def parse_json_sas(text: str, where: str) -> list[EspSA]:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{where}: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    entries = obj.get(ESP_SAS_KEY) if isinstance(obj, dict) else None
    if not isinstance(entries, list):
        raise UsageError(f"{where}: no {ESP_SAS_KEY!r} list in the JSON object")
    return [_json_sa(entry, f"{where} {ESP_SAS_KEY}[{i}]") for i, entry in enumerate(entries)]


_JSON_FIELDS = {
    "spi",
    "src",
    "dst",
    "encryption",
    "enc_key",
    "integrity",
    "auth_key",
    "esn",
    "esn_high",
    "replay_window",
    "mode",
    "comment",
}


def _json_sa(entry: object, here: str) -> EspSA:
    if not isinstance(entry, dict):
        raise UsageError(f"{here}: must be a JSON object")
    unknown = set(entry) - _JSON_FIELDS
    if unknown:
        raise UsageError(f"{here}: unknown field(s) {', '.join(sorted(unknown))}")
    if "spi" not in entry:
        raise UsageError(f'{here}: no "spi" (use "*" for any SPI)')
    for name in ("esn_high", "replay_window"):
        value = entry.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise UsageError(f'{here}: "{name}" must be a whole number >= 0')
    spi_value, spi_mask = parse_spi_selector(str(entry["spi"]), here)
    sa = EspSA(
        spi_value,
        address_field(str(entry.get("src", WILDCARD))),
        address_field(str(entry.get("dst", WILDCARD))),
        str(entry.get("encryption", "null")).lower(),
        parse_key(str(entry.get("enc_key", "")), here),
        str(entry.get("integrity", "null")).lower(),
        parse_key(str(entry.get("auth_key", "")), here),
        bool(entry.get("esn", False)),
        entry.get("esn_high", 0),
        entry.get("replay_window") or None,  # 0 or none: the run's default
        origin=here,
        spi_mask=spi_mask,
    )
    return checked(sa, here)
