"""An independent reader of Zeek's ASCII logs for the tests (the zat/parsezeeklogs way:
the header says the separators and types; nothing here comes from ebutool)."""

from __future__ import annotations

import ipaddress
import re

_HEX = re.compile(r"\\x([0-9a-fA-F]{2})")


def _unescape(text: str) -> str:
    out = bytearray()
    i = 0
    while i < len(text):
        if text.startswith("\\\\", i):
            out += b"\\"
            i += 2
            continue
        m = _HEX.match(text, i)
        if m:
            out.append(int(m.group(1), 16))
            i = m.end()
            continue
        out += text[i].encode("utf-8")
        i += 1
    return out.decode("utf-8")


def read_zeek(text: str) -> tuple[dict, list[dict]]:
    """(header, rows): header maps separator, set_separator, empty_field, unset_field,
    path, fields, types (and anything else after '#'); rows map field -> Python value."""
    lines = text.split("\n")
    assert lines[-1] == "", "a Zeek log ends with a newline"
    lines = lines[:-1]
    first = lines[0]
    assert first.startswith("#separator "), first
    sep = _unescape(first.split(" ", 1)[1])
    header: dict = {"separator": sep}
    data = []
    for line in lines[1:]:
        if line.startswith("#"):
            key, *vals = line[1:].split(sep)
            header[key] = vals if key in ("fields", "types") else sep.join(vals)
        else:
            data.append(line.split(sep))
    rows = []
    for values in data:
        assert len(values) == len(header["fields"]), values
        rows.append(
            {
                f: _value(v, t, header)
                for f, t, v in zip(header["fields"], header["types"], values, strict=True)
            }
        )
    return header, rows


def _value(v: str, ztype: str, header: dict):
    if v == header["unset_field"]:
        return None
    if ztype.startswith(("set[", "vector[")):
        if v == header["empty_field"]:
            return []
        return [_unescape(x) for x in v.split(header["set_separator"])]
    if v == header["empty_field"]:
        return ""
    if ztype in ("time", "double", "interval"):
        return float(v)
    if ztype in ("count", "int"):
        return int(v)
    if ztype == "bool":
        return {"T": True, "F": False}[v]
    if ztype == "addr":
        return str(ipaddress.ip_address(v))
    return _unescape(v)
