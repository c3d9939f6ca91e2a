"""Checking one JSON trace line against the trace format (docs/trace-format.md).

The rules of ``ebutool/trace/schema/trace.schema.json``, written as field tables of
(attribute, converter, required) so that a line is checked and converted in one pass
(a generic validator costs 1-3 ms a line); ``tests/test_trace_json.py`` keeps the two
in step.  A failing check raises :class:`Bad` with the path of the field.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from ebutool.core import constants as C
from ebutool.core.addr import canonical
from ebutool.records.record import MSG_LABELS
from ebutool.wire.mh import messages as M
from ebutool.wire.mh import mobility_options as O

FORMAT = "ebutool-trace"
VERSION = 1
MH_PROTOS = C.MH_NEXT_HEADERS
# Lifetimes and refresh intervals travel in 4-second units (LIFETIME_UNIT_S == BRA_UNIT_S).
UNIT_S = C.LIFETIME_UNIT_S
assert C.BRA_UNIT_S == UNIT_S
MAX_S4 = 0xFFFF * UNIT_S  # largest lifetime / refresh interval in seconds
LINE_TYPES = ("header", "packet", "handover")
INT64 = 1 << 63  # times in ns and frame numbers fit a signed 64-bit integer
MAX_TIME_S = Decimal(INT64 - 1) / 1_000_000_000


class Bad(Exception):
    """One line breaks the format: ``path`` is where (e.g. "mh.options[1].home_index")."""

    def __init__(self, path: str, text: str):
        super().__init__(text)
        self.path, self.text = path, text

    def __str__(self) -> str:
        return f"{self.path}: {self.text}" if self.path else self.text


def show(v) -> str:
    text = json.dumps(v, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def _join(path: str, key) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _int(v, path: str, lo: int | None = None, hi: int | None = None) -> int:
    if type(v) is int and (lo is None or v >= lo) and (hi is None or v <= hi):
        return v  # the common case, first
    if isinstance(v, Decimal) and v.is_finite() and v == v.to_integral_value():
        if v.adjusted() > 19:  # 1E999999999: no field is that large; int() would hang
            raise Bad(path, f"{show(v)} is out of range")
        v = int(v)  # 5.0 is an integer in JSON Schema
    if isinstance(v, bool) or not isinstance(v, int):
        raise Bad(path, f"{show(v)} is not of type 'integer'")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise Bad(path, f"{show(v)} is out of range {lo}..{hi}")
    return v


_HEX = re.compile(r"(?:[0-9a-fA-F]{2})*")


def _hex(v, path: str, size: int | None = None) -> bytes:
    if not isinstance(v, str):
        raise Bad(path, f"{show(v)} is not of type 'string' (hexadecimal octets)")
    if not _HEX.fullmatch(v):
        raise Bad(path, f"{show(v)} is not hexadecimal octets (two digits each)")
    data = bytes.fromhex(v)
    if size is not None and len(data) != size:
        raise Bad(path, f"{len(data)} octets, expected {size} ({2 * size} hex digits)")
    return data


def _addr(v, path: str) -> str:
    if not isinstance(v, str):
        raise Bad(path, f"{show(v)} is not of type 'string' (an IPv6 address)")
    try:
        return canonical(v)
    except ValueError:
        raise Bad(path, f"{show(v)} is not an IPv6 address") from None


def seconds_in_units(v, path: str) -> int:
    """Seconds (a multiple of the 4-second wire unit) -> wire units."""
    s = _int(v, path, 0, MAX_S4)
    if s % UNIT_S:
        raise Bad(path, f"{s} s is not a multiple of {UNIT_S} s, the unit on the wire")
    return s // UNIT_S


def _flags(table: dict[int, str], bits: int):
    letters = {name: bit for bit, name in table.items()}

    def conv(v, path):
        if isinstance(v, str):
            bad = [c for c in v if c not in letters]
            if bad:
                raise Bad(
                    path,
                    f"{show(v)}: unknown flag letter(s) {''.join(bad)} (known: {''.join(letters)})",
                )
            return sum({letters[c] for c in v})
        return _int(v, path, 0, (1 << bits) - 1)

    return conv


def _u(bits: int):
    return lambda v, path: _int(v, path, 0, (1 << bits) - 1)


def _sized(n: int):
    return lambda v, path: _hex(v, path, n)


def _typed(kind: type | tuple, name: str, nullable: bool = False):
    def conv(v, path):
        if (
            (nullable and v is None)
            or isinstance(v, kind)
            and (kind is bool or not isinstance(v, bool))
        ):
            return v
        raise Bad(path, f"{show(v)} is not of type '{name}'" + (" or null" if nullable else ""))

    return conv


def _nullable(conv):
    return lambda v, path: None if v is None else conv(v, path)


def _unchecked(v: Any, path: str) -> Any:
    return v  # checked by the caller


_ANY = _unchecked
_BOOL = _typed(bool, "boolean")
_U8, _U16, _H64 = _u(8), _u(16), _sized(8)
# Field specs: JSON key -> (attribute, converter, required).  Pairs of alternatives
# (seconds or wire units) are listed in _ONE_OF: exactly one of them must be given.
_LIFE = {"lifetime_s": ("lifetime", seconds_in_units, False), "lifetime": ("lifetime", _U16, False)}
_BODY: dict[int, dict] = {
    C.MH_BRR: {"body_reserved": ("body_reserved", _U16, False)},
    C.MH_HOTI: {
        "body_reserved": ("body_reserved", _U16, False),
        "init_cookie": ("init_cookie", _H64, True),
    },
    C.MH_HOT: {
        "nonce_index": ("nonce_index", _U16, True),
        "init_cookie": ("init_cookie", _H64, True),
        "keygen_token": ("keygen_token", _H64, True),
    },
    C.MH_BU: {
        "sequence": ("sequence", _U16, True),
        "flags": ("flags", _flags(M.BU_FLAGS, 16), True),
        **_LIFE,
    },
    C.MH_BA: {
        "status": ("status", _U8, True),
        "flags": ("flags", _flags(M.BA_FLAGS, 8), True),
        "sequence": ("sequence", _U16, True),
        **_LIFE,
    },
    C.MH_BE: {
        "status": ("status", _U8, True),
        "body_reserved": ("body_reserved", _U8, False),
        "home_address": ("home_address", _addr, True),
    },
}
_BODY[C.MH_COTI], _BODY[C.MH_COT] = _BODY[C.MH_HOTI], _BODY[C.MH_HOT]
_OTHER_BODY = {"data": ("data", _hex, False)}
_MH_COMMON = {
    "mh_type": ("mh_type", _U8, True),
    "payload_proto": ("payload_proto", _U8, False),
    "reserved": ("reserved", _U8, False),
    "checksum": ("checksum", _U16, False),
    "header_len": ("header_len", _U8, False),
    "truncated": ("truncated", _BOOL, False),
    "options": ("options", _ANY, False),
}
OPTION_FIELDS: dict[str, tuple[type, dict]] = {
    "Pad1": (O.Pad1, {}),
    "PadN": (O.PadN, {"data": ("data", _hex, False)}),
    "BindingRefreshAdvice": (
        O.BindingRefreshAdvice,
        {
            "interval_s": ("interval", seconds_in_units, False),
            "interval": ("interval", _U16, False),
        },
    ),
    "AlternateCareOfAddress": (O.AlternateCareOfAddress, {"address": ("address", _addr, True)}),
    "NonceIndices": (
        O.NonceIndices,
        {"home_index": ("home_index", _U16, True), "careof_index": ("careof_index", _U16, True)},
    ),
    "BindingAuthorizationData": (
        O.BindingAuthorizationData,
        {"authenticator": ("authenticator", _sized(C.AUTHENTICATOR_LEN), True)},
    ),
    "CareOfTestInit": (O.CareOfTestInitOption, {}),
    "CareOfTest": (O.CareOfTestOption, {"keygen_token": ("keygen_token", _H64, True)}),
}
OPTION_NAME = {cls: name for name, (cls, _) in OPTION_FIELDS.items()}
_ONE_OF = (
    ("lifetime_s", "lifetime", "'lifetime_s' (seconds) or 'lifetime' (units of 4 s)"),
    ("interval_s", "interval", "'interval_s' (seconds) or 'interval' (units of 4 s)"),
    ("time_ns", "time", "the record's time, 'time_ns' (integer ns) or 'time' (seconds),"),
)


def check_fields(obj: dict, path: str, spec: dict, skip: tuple = ()) -> dict:
    """Check ``obj`` against ``spec`` (unknown keys, required keys, types); -> attr: value."""
    for key in obj:
        if key not in spec and key not in skip and not key.startswith("x_"):
            raise Bad(path, f"unexpected field '{key}' (free annotations start with 'x_')")
    for a, b, what in _ONE_OF:  # exactly one of the pair, when the spec has the pair
        if a in spec and (a in obj) == (b in obj):
            raise Bad(path, f"give '{a}' or '{b}', not both" if a in obj else f"{what} is required")
    out = {}
    for key, (attr, conv, required) in spec.items():
        if key not in obj:
            if required:
                raise Bad(path, f"'{key}' is a required property")
            continue
        try:
            out[attr] = conv(obj[key], key)
        except Bad as exc:  # the path is only worked out for a bad line
            exc.path = _join(path, exc.path)
            raise
    return out


def _object(v, path: str) -> dict:
    if not isinstance(v, dict):
        raise Bad(path, f"{show(v)} is not of type 'object'")
    return v


def _option(obj, path: str) -> O.Option:
    obj = _object(obj, path)
    t = obj.get("type")
    if isinstance(t, str) and t in OPTION_FIELDS:
        cls, spec = OPTION_FIELDS[t]
        return cls(**check_fields(obj, path, spec, ("type",)))
    if isinstance(t, str) or t is None:
        raise Bad(
            _join(path, "type"),
            f"{show(t)} is not an option name ({', '.join(OPTION_FIELDS)}) or type number",
        )
    otype = _int(t, _join(path, "type"), 0, 255)
    return O.UnknownOption(otype, check_fields(obj, path, _OTHER_BODY, ("type",)).get("data", b""))


def _message(obj, path: str = "mh") -> M.MobilityMessage:
    """The message a packet line's "mh" object describes (header_len/checksum as given)."""
    obj = _object(obj, path)
    if "mh_type" not in obj:
        raise Bad(path, "'mh_type' is a required property")
    mtype = _int(obj["mh_type"], _join(path, "mh_type"), 0, 255)
    kw = check_fields(obj, path, {**_MH_COMMON, **_BODY.get(mtype, _OTHER_BODY)})
    opts = obj.get("options", [])
    if not isinstance(opts, list):
        raise Bad(_join(path, "options"), f"{show(opts)} is not of type 'array'")
    kw["options"] = [_option(o, f"{path}.options[{i}]") for i, o in enumerate(opts)]
    del kw["mh_type"]
    cls = M.MESSAGE_CLASSES.get(mtype)
    return cls(**kw) if cls is not None else M.OtherMobilityMessage(type_number=mtype, **kw)


def _time(v, path: str) -> int:
    """Seconds (the decimal text, exactly: floats lose ~100 ns at epoch scale) -> ns."""
    v = _typed((int, float, Decimal), "number")(v, path)
    try:
        d = Decimal(v)
        if d.is_finite() and not 0 <= d <= MAX_TIME_S:
            raise Bad(path, f"{show(v)} is out of range 0..{MAX_TIME_S}")
        return int((d * 1_000_000_000).to_integral_value())
    except (InvalidOperation, ValueError, OverflowError):
        raise Bad(path, f"{show(v)} is not a finite number") from None


def _mh_hex(v, path: str) -> bytes:
    raw = _hex(v, path)
    if len(raw) <= C.MH_TYPE_AT:  # (a capture's cut message: as far as its MH type)
        raise Bad(path, f"{len(raw)} octets; at least {C.MH_TYPE_AT + 1}, up to its MH type")
    return raw


def _enum(values: tuple):
    def conv(v, path):
        if v not in values or not isinstance(v, str):
            raise Bad(path, f"{show(v)} is not one of {', '.join(values)}")
        return v

    return conv


def _esp(v, path: str) -> tuple[int, int, str]:
    """(SPI, sequence number, algorithm) of a packet line's "esp" object: the packet was
    ESP-protected and decrypted with a given SA (docs/esp.md)."""
    f = check_fields(_object(v, path), path, ESP_FIELDS)
    return f["spi"], f["seq"], f["algorithm"]


def _algorithm(v, path: str) -> str:
    if not isinstance(v, str) or not v:
        raise Bad(path, f"{show(v)} is not a non-empty string (the SA's algorithms)")
    return v


ESP_FIELDS = {
    "spi": ("spi", _u(32), True),
    "seq": ("seq", _u(64), True),
    "algorithm": ("algorithm", _algorithm, True),
}
_OPT_ADDR = _nullable(_addr)
# Times are those a capture can hold: from 1970 (or the simulation start) on, in int64 ns.
_TIMES = {
    "time_ns": ("ts_ns", lambda v, path: _int(v, path, 0, INT64 - 1), False),
    "time": ("ts_ns", _time, False),
    "frame": ("frame", lambda v, path: _int(v, path, 1, INT64 - 1), False),
}
PACKET_FIELDS = {
    "type": ("type", _ANY, True),
    **_TIMES,
    "msg": ("msg", _enum(MSG_LABELS), True),
    "src": ("src", _addr, True),
    "dst": ("dst", _addr, True),
    "hoa": ("hoa", _OPT_ADDR, False),
    "rh2": ("rh2", _OPT_ADDR, False),
    "tunnel_src": ("tunnel_src", _OPT_ADDR, False),
    "tunnel_dst": ("tunnel_dst", _OPT_ADDR, False),
    "proto": ("proto", _U8, False),
    # (no IPv6 packet is longer: a larger length would be summed into byte counts)
    "ip_len": ("ip_len", lambda v, path: _int(v, path, 0, C.IPV6_MAX_PACKET_LEN), False),
    "checksum_ok": ("checksum_ok", _typed(bool, "boolean", True), False),
    "deregistration": ("deregistration", _BOOL, False),
    "rfc4866": ("rfc4866", _BOOL, False),
    "mh": ("mh", _message, False),
    "mh_hex": ("mh_hex", _mh_hex, False),
    "esp": ("esp", _esp, False),
}
EVENT_FIELDS = {
    "type": ("type", _ANY, True),
    **_TIMES,
    "mn": ("mn", _addr, True),
    "coa": ("coa", _addr, True),
    "prev_coa": ("prev_coa", _OPT_ADDR, False),
}
HEADER_FIELDS = {
    "type": ("type", _ANY, True),
    "format": ("format", _ANY, True),
    "version": ("version", _ANY, True),
    "source": ("source", _typed(str, "string", True), False),
    "generator": ("generator", _typed(str, "string"), False),
}
