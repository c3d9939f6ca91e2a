"""JSON Lines traces: the message stream as one JSON object per line (docs/trace-format.md).

:func:`write_trace` streams Records and HandoverEvents out as lines; :func:`read_trace_records`
reads them back.  A line carrying ``mh_hex`` (what ``ebutool convert`` writes) is decoded from
those octets, so reading a converted capture gives exactly the records the capture gives.  A
simulator may leave ``mh_hex`` out: the message is then built from its fields and encoded with
RFC 6275 alignment, and MACs are checked on that encoding.

Every line is checked against the rules of ``ebutool/schema/trace.schema.json`` by the
converter below (a generic validator costs 1-3 ms a line; the tests keep the two in step),
and :func:`schema_errors` runs the schema itself with jsonschema for anyone who wants it.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from decimal import Decimal, InvalidOperation
from typing import BinaryIO, Iterable, Iterator, TextIO

from . import __version__
from . import constants as C
from .addr import canonical, pton
from .diagnostics import Diagnostics
from .errors import InputError
from .mh import messages as M
from .mh import options as O
from .mh.codec import aligned, checksum_ok, decode_mh, encode_mh, mh_checksum
from .records import MSG_LABELS, HandoverEvent, Record, classify_bu

FORMAT = "ebutool-trace"
VERSION = 1
MH_PROTOS = (C.NH_MOBILITY, C.NH_MOBILITY_OLD)
# Lifetimes and refresh intervals travel in 4-second units (LIFETIME_UNIT_S == BRA_UNIT_S).
_UNIT_S = C.LIFETIME_UNIT_S
assert C.BRA_UNIT_S == _UNIT_S
MAX_S4 = 0xFFFF * _UNIT_S            # largest lifetime / refresh interval in seconds
_TYPES = ("header", "packet", "handover")


# ----------------------------------------------------------------------------- checking
class _Bad(Exception):
    """One line breaks the format: ``path`` is where (e.g. "mh.options[1].home_index")."""

    def __init__(self, path: str, text: str):
        super().__init__(text)
        self.path, self.text = path, text

    def __str__(self) -> str:
        return f"{self.path}: {self.text}" if self.path else self.text


def _show(v) -> str:
    text = json.dumps(v, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def _join(path: str, key) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _int(v, path: str, lo: int | None = None, hi: int | None = None) -> int:
    if type(v) is int and (lo is None or v >= lo) and (hi is None or v <= hi):
        return v                         # the common case, first
    if isinstance(v, Decimal) and v.is_finite() and v == v.to_integral_value():
        v = int(v)                       # 5.0 is an integer in JSON Schema
    if isinstance(v, bool) or not isinstance(v, int):
        raise _Bad(path, f"{_show(v)} is not of type 'integer'")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise _Bad(path, f"{v} is out of range {lo}..{hi}")
    return v


_HEX = re.compile(r"(?:[0-9a-fA-F]{2})*")


def _hex(v, path: str, size: int | None = None) -> bytes:
    if not isinstance(v, str):
        raise _Bad(path, f"{_show(v)} is not of type 'string' (hexadecimal octets)")
    if not _HEX.fullmatch(v):
        raise _Bad(path, f"{_show(v)} is not hexadecimal octets (two digits each)")
    data = bytes.fromhex(v)
    if size is not None and len(data) != size:
        raise _Bad(path, f"{len(data)} octets, expected {size} ({2 * size} hex digits)")
    return data


def _addr(v, path: str) -> str:
    if not isinstance(v, str):
        raise _Bad(path, f"{_show(v)} is not of type 'string' (an IPv6 address)")
    try:
        return canonical(v)
    except ValueError:
        raise _Bad(path, f"{_show(v)} is not an IPv6 address") from None


def _s4(v, path: str) -> int:
    """Seconds (a multiple of the 4-second wire unit) -> wire units."""
    s = _int(v, path, 0, MAX_S4)
    if s % _UNIT_S:
        raise _Bad(path, f"{s} s is not a multiple of {_UNIT_S} s, the unit on the wire")
    return s // _UNIT_S


def _flags(table: dict[int, str], bits: int):
    letters = {name: bit for bit, name in table.items()}

    def conv(v, path):
        if isinstance(v, str):
            bad = [c for c in v if c not in letters]
            if bad:
                raise _Bad(path, f"{_show(v)}: unknown flag letter(s) {''.join(bad)} "
                                 f"(known: {''.join(letters)})")
            return sum({letters[c] for c in v})
        return _int(v, path, 0, (1 << bits) - 1)
    return conv


def _u(bits: int):
    return lambda v, path: _int(v, path, 0, (1 << bits) - 1)


def _sized(n: int):
    return lambda v, path: _hex(v, path, n)


def _typed(kind: type | tuple, name: str, nullable: bool = False):
    def conv(v, path):
        if (nullable and v is None) or isinstance(v, kind) and (kind is bool or not isinstance(v, bool)):
            return v
        raise _Bad(path, f"{_show(v)} is not of type '{name}'" + (" or null" if nullable else ""))
    return conv


def _nullable(conv):
    return lambda v, path: None if v is None else conv(v, path)


_ANY = lambda v, path: v  # noqa: E731 - checked by the caller
_BOOL = _typed(bool, "boolean")
_U8, _U16, _H64 = _u(8), _u(16), _sized(8)
# Field specs: JSON key -> (attribute, converter, required).  Pairs of alternatives
# (seconds or wire units) are listed in _ONE_OF: exactly one of them must be given.
_LIFE = {"lifetime_s": ("lifetime", _s4, False), "lifetime": ("lifetime", _U16, False)}
_BODY: dict[int, dict] = {
    C.MH_BRR: {"body_reserved": ("body_reserved", _U16, False)},
    C.MH_HOTI: {"body_reserved": ("body_reserved", _U16, False), "init_cookie": ("init_cookie", _H64, True)},
    C.MH_HOT: {"nonce_index": ("nonce_index", _U16, True), "init_cookie": ("init_cookie", _H64, True),
               "keygen_token": ("keygen_token", _H64, True)},
    C.MH_BU: {"sequence": ("sequence", _U16, True), "flags": ("flags", _flags(M.BU_FLAGS, 16), True), **_LIFE},
    C.MH_BA: {"status": ("status", _U8, True), "flags": ("flags", _flags(M.BA_FLAGS, 8), True),
              "sequence": ("sequence", _U16, True), **_LIFE},
    C.MH_BE: {"status": ("status", _U8, True), "body_reserved": ("body_reserved", _U8, False),
              "home_address": ("home_address", _addr, True)},
}
_BODY[C.MH_COTI], _BODY[C.MH_COT] = _BODY[C.MH_HOTI], _BODY[C.MH_HOT]
_OTHER_BODY = {"data": ("data", _hex, False)}
_MH_COMMON = {"mh_type": ("mh_type", _U8, True), "payload_proto": ("payload_proto", _U8, False),
              "reserved": ("reserved", _U8, False), "checksum": ("checksum", _U16, False),
              "header_len": ("header_len", _U8, False), "truncated": ("truncated", _BOOL, False),
              "options": ("options", _ANY, False)}
_OPTIONS: dict[str, tuple[type, dict]] = {
    "Pad1": (O.Pad1, {}),
    "PadN": (O.PadN, {"data": ("data", _hex, False)}),
    "BindingRefreshAdvice": (O.BindingRefreshAdvice, {"interval_s": ("interval", _s4, False),
                                                      "interval": ("interval", _U16, False)}),
    "AlternateCareOfAddress": (O.AlternateCareOfAddress, {"address": ("address", _addr, True)}),
    "NonceIndices": (O.NonceIndices, {"home_index": ("home_index", _U16, True),
                                      "careof_index": ("careof_index", _U16, True)}),
    "BindingAuthorizationData": (O.BindingAuthorizationData,
                                 {"authenticator": ("authenticator", _sized(C.AUTHENTICATOR_LEN), True)}),
    "CareOfTestInit": (O.CareOfTestInitOption, {}),
    "CareOfTest": (O.CareOfTestOption, {"keygen_token": ("keygen_token", _H64, True)}),
}
_OPTION_NAME = {cls: name for name, (cls, _) in _OPTIONS.items()}
_ONE_OF = (("lifetime_s", "lifetime", "'lifetime_s' (seconds) or 'lifetime' (units of 4 s)"),
           ("interval_s", "interval", "'interval_s' (seconds) or 'interval' (units of 4 s)"),
           ("time_ns", "time", "the record's time, 'time_ns' (integer ns) or 'time' (seconds),"))


def _fields(obj: dict, path: str, spec: dict, skip: tuple = ()) -> dict:
    """Check ``obj`` against ``spec`` (unknown keys, required keys, types); -> attr: value."""
    for key in obj:
        if key not in spec and key not in skip and not key.startswith("x_"):
            raise _Bad(path, f"unexpected field '{key}' (free annotations start with 'x_')")
    for a, b, what in _ONE_OF:          # exactly one of the pair, when the spec has the pair
        if a in spec and (a in obj) == (b in obj):
            raise _Bad(path, f"give '{a}' or '{b}', not both" if a in obj else f"{what} is required")
    out = {}
    for key, (attr, conv, required) in spec.items():
        if key not in obj:
            if required:
                raise _Bad(path, f"'{key}' is a required property")
            continue
        try:
            out[attr] = conv(obj[key], key)
        except _Bad as exc:       # the path is only worked out for a bad line
            exc.path = _join(path, exc.path)
            raise
    return out


def _object(v, path: str) -> dict:
    if not isinstance(v, dict):
        raise _Bad(path, f"{_show(v)} is not of type 'object'")
    return v


def _option(obj, path: str) -> O.Option:
    obj = _object(obj, path)
    t = obj.get("type")
    if isinstance(t, str) and t in _OPTIONS:
        cls, spec = _OPTIONS[t]
        return cls(**_fields(obj, path, spec, ("type",)))
    if isinstance(t, str) or t is None:
        raise _Bad(_join(path, "type"), f"{_show(t)} is not an option name ({', '.join(_OPTIONS)}) "
                                         "or type number")
    otype = _int(t, _join(path, "type"), 0, 255)
    return O.UnknownOption(otype, _fields(obj, path, _OTHER_BODY, ("type",)).get("data", b""))


def _message(obj, path: str = "mh") -> M.MobilityMessage:
    """The message a packet line's "mh" object describes (header_len/checksum as given)."""
    obj = _object(obj, path)
    if "mh_type" not in obj:
        raise _Bad(path, "'mh_type' is a required property")
    mtype = _int(obj["mh_type"], _join(path, "mh_type"), 0, 255)
    kw = _fields(obj, path, {**_MH_COMMON, **_BODY.get(mtype, _OTHER_BODY)})
    opts = obj.get("options", [])
    if not isinstance(opts, list):
        raise _Bad(_join(path, "options"), f"{_show(opts)} is not of type 'array'")
    kw["options"] = [_option(o, f"{path}.options[{i}]") for i, o in enumerate(opts)]
    del kw["mh_type"]
    cls = M.MESSAGE_CLASSES.get(mtype)
    return cls(**kw) if cls is not None else M.OtherMobilityMessage(type_number=mtype, **kw)


def _time(v, path: str) -> int:
    """Seconds (the decimal text, exactly: floats lose ~100 ns at epoch scale) -> ns."""
    v = _typed((int, float, Decimal), "number")(v, path)
    try:
        return int((Decimal(v) * 1_000_000_000).to_integral_value())
    except (InvalidOperation, ValueError, OverflowError):
        raise _Bad(path, f"{_show(v)} is not a finite number") from None


def _mh_hex(v, path: str) -> bytes:
    raw = _hex(v, path)
    if len(raw) < C.MH_FIXED_LEN:
        raise _Bad(path, f"{len(raw)} octets; a Mobility Header has at least {C.MH_FIXED_LEN}")
    return raw


def _enum(values: tuple):
    def conv(v, path):
        if v not in values or not isinstance(v, str):
            raise _Bad(path, f"{_show(v)} is not one of {', '.join(values)}")
        return v
    return conv


_OPT_ADDR = _nullable(_addr)
_TIMES = {"time_ns": ("ts_ns", lambda v, path: _int(v, path), False), "time": ("ts_ns", _time, False),
          "frame": ("frame", lambda v, path: _int(v, path, 1), False)}
_PACKET = {"type": ("type", _ANY, True), **_TIMES, "msg": ("msg", _enum(MSG_LABELS), True),
           "src": ("src", _addr, True), "dst": ("dst", _addr, True), "hoa": ("hoa", _OPT_ADDR, False),
           "rh2": ("rh2", _OPT_ADDR, False), "tunnel_src": ("tunnel_src", _OPT_ADDR, False),
           "tunnel_dst": ("tunnel_dst", _OPT_ADDR, False), "proto": ("proto", _U8, False),
           "ip_len": ("ip_len", lambda v, path: _int(v, path, 0), False),
           "checksum_ok": ("checksum_ok", _typed(bool, "boolean", True), False),
           "deregistration": ("deregistration", _BOOL, False), "rfc4866": ("rfc4866", _BOOL, False),
           "mh": ("mh", _message, False), "mh_hex": ("mh_hex", _mh_hex, False)}
_EVENT = {"type": ("type", _ANY, True), **_TIMES, "mn": ("mn", _addr, True), "coa": ("coa", _addr, True),
          "prev_coa": ("prev_coa", _OPT_ADDR, False)}
_HEADER = {"type": ("type", _ANY, True), "format": ("format", _ANY, True), "version": ("version", _ANY, True),
           "source": ("source", _typed(str, "string", True), False),
           "generator": ("generator", _typed(str, "string"), False)}


# ----------------------------------------------------------------------------- reading
def _event(obj: dict, lineno: int, name: str) -> HandoverEvent:
    f = _fields(obj, "", _EVENT)
    return HandoverEvent(ts_ns=f["ts_ns"], mn=f["mn"], coa=f["coa"], prev_coa=f.get("prev_coa"),
                         frame=f.get("frame", lineno), source=name)


def _differences(given: dict, m: M.MobilityMessage, g: M.MobilityMessage) -> list[str]:
    """Fields the line states that the message actually used does not have."""
    out = []
    if g.mh_type != m.mh_type:
        out.append(f"mh.mh_type {g.mh_type} (message has {m.mh_type})")
    elif type(g) is type(m):
        for key in given:
            if key in ("mh_type", "options") or key.startswith("x_"):
                continue
            attr = "lifetime" if key == "lifetime_s" else key
            gv, mv = getattr(g, attr), getattr(m, attr)
            if gv != mv:
                fmt = (lambda v: v.hex()) if isinstance(mv, bytes) else (lambda v: v)
                out.append(f"mh.{key} {fmt(gv)} (message has {fmt(mv)})")
    if "options" in given:
        pads = (O.Pad1, O.PadN)
        keep_pads = any(isinstance(o, pads) for o in g.options)
        gl = [o for o in g.options if keep_pads or not isinstance(o, pads)]
        ml = [o for o in m.options if keep_pads or not isinstance(o, pads)]
        if gl != ml:
            out.append("mh.options (differ from the message's)")
    return out


def _packet(obj: dict, lineno: int, name: str, diag: Diagnostics) -> Record:
    f = _fields(obj, "", _PACKET)
    frame, msg, has_mh = f.get("frame", lineno), f["msg"], "mh" in f or "mh_hex" in f
    rec = Record(frame=frame, ts_ns=f["ts_ns"], src=f["src"], dst=f["dst"], hoa=f.get("hoa"),
                 rh2=f.get("rh2"), tunnel_src=f.get("tunnel_src"), tunnel_dst=f.get("tunnel_dst"),
                 proto=f.get("proto", C.NH_MOBILITY if has_mh else C.NH_NONE),
                 ip_len=f.get("ip_len", 0), source=name)
    if (rec.tunnel_src is None) != (rec.tunnel_dst is None):
        raise _Bad("", "'tunnel_src' and 'tunnel_dst' come together (the outer IPv6 header)")
    if not has_mh:
        if msg != "data":
            raise _Bad("", f"msg {msg} needs 'mh' (the message's fields) or 'mh_hex' (its octets)")
        for key in ("checksum_ok", "deregistration", "rfc4866"):
            if f.get(key):
                raise _Bad(key, "only a record with a Mobility Header ('mh' or 'mh_hex') can be true")
        return rec
    if rec.proto not in MH_PROTOS:
        raise _Bad("proto", f"{rec.proto}: a Mobility Header is next header 135 (or 62, pre-RFC 3775)")
    ps, pd = pton(rec.hoa or rec.src), pton(rec.rh2 or rec.dst)
    given, problems, notes = f.get("mh"), [], []
    if "mh_hex" in f:
        m = decode_mh(f["mh_hex"], problems)
        if m is not None:
            wire = f["mh_hex"][:(m.header_len + 1) * 8]
            if len(f["mh_hex"]) > len(wire):
                notes.append(f"mh_hex has {len(f['mh_hex']) - len(wire)} octets past its Header Len (ignored)")
            computed = checksum_ok(wire, ps, pd, rec.proto)
    else:
        try:
            wire = encode_mh(aligned(given))
        except ValueError as exc:
            raise _Bad("mh", f"cannot encode the message: {exc}") from None
        wire = wire[:4] + mh_checksum(wire, ps, pd, rec.proto).to_bytes(2, "big") + wire[6:]
        m, computed = decode_mh(wire, problems), None     # None: nothing was on a wire to check
    for text in problems:
        diag.warn("malformed_mh", f"line {lineno} (frame {frame}): {text}", frame)
    if m is None:      # undecodable octets: kept as a data packet, as the capture reader does
        return rec
    label, dereg, rfc4866 = ("other" if isinstance(m, M.OtherMobilityMessage) else m.NAME), False, False
    if isinstance(m, M.BindingUpdate):
        label, dereg, rfc4866 = classify_bu(m, rec.src, rec.hoa)
    rec.msg, rec.mh, rec.mh_wire, rec.deregistration, rec.rfc4866 = label, m, wire, dereg, rfc4866
    rec.checksum_ok = computed
    if "checksum_ok" in f:
        if "mh_hex" not in f or f["checksum_ok"] is None:
            rec.checksum_ok = f["checksum_ok"]
        elif f["checksum_ok"] != computed:
            notes.append(f"checksum_ok {_show(f['checksum_ok'])} (mh_hex gives {_show(computed)})")
    if given is not None:
        notes.extend(_differences(obj["mh"], m, given))
    for key, value in (("msg", label), ("deregistration", dereg), ("rfc4866", rfc4866)):
        if key in f and f[key] != value:
            notes.append(f"{key} {_show(f[key])} (the message makes it {_show(value)})")
    if notes:
        diag.warn("trace_field_mismatch", f"line {lineno} (frame {frame}): " + "; ".join(notes)
                  + "; the values from the message are used", frame)
    if rec.checksum_ok is False:
        diag.warn("bad_mh_checksum", f"line {lineno} (frame {frame}): {m.NAME} checksum "
                  f"0x{m.checksum:04x} does not verify", frame)
    if "ip_len" not in f:   # what ebutool.build would send: IPv6 header(s) + HAO/RH2 + the MH
        rec.ip_len = (C.IPV6_HEADER_LEN * (2 if rec.tunnel_src else 1)
                      + C.HAO_DSTOPTS_LEN * (rec.hoa is not None) + C.RH2_LEN * (rec.rh2 is not None)
                      + len(wire))
    return rec


def _header(obj: dict, lineno: int, name: str) -> None:
    """Fatal unless the header names this format and a version this module reads."""
    if obj.get("format") != FORMAT:
        raise InputError(f"{name}: line {lineno}: header format {_show(obj.get('format'))} is not "
                         f"{FORMAT!r}")
    version = obj.get("version")
    if type(version) is not int or not 1 <= version <= VERSION:
        raise InputError(f"{name}: line {lineno}: trace format version {_show(version)}; this "
                         f"ebutool reads version {VERSION}")
    _fields(obj, "", _HEADER)


def _no_constant(text: str):
    raise ValueError(f"{text} is not a JSON number")


def _parse(raw: bytes) -> dict:
    try:
        obj = json.loads(raw.decode("utf-8").strip(), parse_float=Decimal, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg} at column {exc.colno}") from None
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if not isinstance(obj, dict):
        raise ValueError(f"a JSON {type(obj).__name__}, not an object")
    return obj


def read_trace_records(stream: BinaryIO, diag: Diagnostics, stats=None,
                       name: str = "") -> Iterator[Record | HandoverEvent]:
    """Records and HandoverEvents of a JSON Lines trace, in file order.

    Fatal (:class:`InputError`): no line at all; a first line that is not a JSON object
    with a ``type`` of header/packet/handover; a header of another format or version.
    Any other bad line is a counted diagnosis (``bad_trace_json``, ``bad_trace_record``)
    and is skipped; see docs/trace-format.md for the rest."""
    started = records = False
    for lineno, raw in enumerate(stream, 1):
        if not raw.strip():
            continue
        try:
            obj = _parse(raw)
        except ValueError as exc:
            if not started:
                raise InputError(f"{name}: line {lineno}: not a JSON Lines trace ({exc}; a trace "
                                 "has one complete JSON object per line)") from None
            diag.warn("bad_trace_json", f"line {lineno}: {exc}", lineno)
            _count(stats, skipped="bad_trace_json")
            continue
        kind = obj.get("type")
        if not started and kind not in _TYPES:
            raise InputError(f"{name}: line {lineno}: not an ebutool trace (a JSON object without "
                             f"\"type\": \"header\", \"packet\" or \"handover\")")
        started = True
        if kind == "header":
            try:
                _header(obj, lineno, name)
            except _Bad as exc:
                diag.warn("bad_trace_record", f"line {lineno}: header: {exc}", lineno)
            if records:
                diag.warn("trace_concatenated", f"line {lineno}: a second header (traces "
                          "concatenated?); frame numbers may repeat", lineno)
            continue
        _count(stats, frames=1)
        records = True
        try:
            if kind not in ("packet", "handover"):
                raise _Bad("type", f"{_show(kind)} is not one of 'header', 'packet', 'handover'")
            rec = _packet(obj, lineno, name, diag) if kind == "packet" else _event(obj, lineno, name)
        except _Bad as exc:
            diag.warn("bad_trace_record", f"line {lineno}: {exc}", lineno)
            _count(stats, skipped="bad_trace_record")
            continue
        if isinstance(rec, HandoverEvent):
            yield rec
            continue
        if stats is not None:
            stats.ipv6 += 1
        if rec.mh is None and not (rec.hoa or rec.rh2 or rec.tunnel_src or rec.proto in MH_PROTOS):
            _count(stats, skipped="not_mobility_related")
            continue
        if stats is not None:
            stats.relevant += 1
            if rec.mh is not None:
                stats.messages[rec.msg] += 1
        yield rec
    if not started:
        raise InputError(f"{name}: only blank lines, not a trace")


def _count(stats, frames: int = 0, skipped: str | None = None) -> None:
    if stats is None:
        return
    stats.frames += frames
    if skipped:
        stats.skipped[skipped] += 1


# ----------------------------------------------------------------------------- writing
def option_json(o: O.Option) -> dict:
    name = _OPTION_NAME.get(type(o))
    if name is None:     # raw (UnknownOption) or an option class this module does not know
        from .mh.options import encode_option
        data = o.data if isinstance(o, O.UnknownOption) else encode_option(o)[2:]
        return {"type": o.TYPE, "data": bytes(data).hex()}
    d: dict = {"type": name}
    for key, (attr, conv, _) in _OPTIONS[name][1].items():
        if key in ("interval",):
            continue
        v = getattr(o, attr)
        d[key] = v * _UNIT_S if conv is _s4 else (v.hex() if isinstance(v, bytes) else v)
    return d


def message_json(m: M.MobilityMessage) -> dict:
    """The "mh" object of a packet line: every field of ``m`` (lifetimes in seconds)."""
    d: dict = {"mh_type": m.mh_type, "payload_proto": m.payload_proto, "reserved": m.reserved}
    if m.checksum is not None:
        d["checksum"] = m.checksum
    if m.header_len is not None:
        d["header_len"] = m.header_len
    if getattr(m, "truncated", False):
        d["truncated"] = True
    names = ["data"] if isinstance(m, M.OtherMobilityMessage) else [n for n, _, _ in m.BODY]
    for attr in names:
        v = getattr(m, attr)
        if attr == "lifetime":
            d["lifetime_s"] = v * C.LIFETIME_UNIT_S
        else:
            d[attr] = v.hex() if isinstance(v, bytes) else v
    d["options"] = [option_json(o) for o in m.options]
    return d


def record_json(r: Record | HandoverEvent) -> dict:
    """One line of a trace as a dict (docs/trace-format.md)."""
    if isinstance(r, HandoverEvent):
        d = {"type": "handover", "time_ns": int(r.ts_ns), **_frame_json(r), "mn": r.mn, "coa": r.coa}
        if r.prev_coa is not None:
            d["prev_coa"] = r.prev_coa
    elif isinstance(r, Record):
        d = {"type": "packet", "time_ns": int(r.ts_ns), **_frame_json(r), "msg": r.msg,
             "src": r.src, "dst": r.dst}
        for key in ("hoa", "rh2", "tunnel_src", "tunnel_dst"):
            if getattr(r, key) is not None:
                d[key] = getattr(r, key)
        d["proto"], d["ip_len"] = r.proto, r.ip_len
        if r.mh is not None:
            d["checksum_ok"] = r.checksum_ok
            if r.deregistration:
                d["deregistration"] = True
            if r.rfc4866:
                d["rfc4866"] = True
            d["mh"] = message_json(r.mh)
            if r.mh_wire is not None:
                d["mh_hex"] = bytes(r.mh_wire).hex()
    else:
        raise TypeError(f"not a Record or HandoverEvent: {type(r).__name__}")
    return d


def _frame_json(r) -> dict:
    return {"frame": r.frame} if r.frame >= 1 else {}   # 0 = unknown: the reader uses the line


def header_json(source_name: str | None) -> dict:
    return {"type": "header", "format": FORMAT, "version": VERSION, "source": source_name,
            "generator": f"ebutool {__version__}"}


def write_trace(records: Iterable[Record | HandoverEvent], out: TextIO,
                source_name: str | None = None, header: bool = True) -> Counter:
    """Write a header line, then one line per record, streaming; -> lines written by kind
    ("packet", "handover") and MH messages by label (``"msg:BU"``...)."""
    counts: Counter = Counter()
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True).encode
    if header:
        out.write(dumps(header_json(source_name)) + "\n")
    for r in records:
        d = record_json(r)
        out.write(dumps(d) + "\n")
        counts[d["type"]] += 1
        if "mh" in d:
            counts["msg:" + r.msg] += 1
    return counts


# ----------------------------------------------------------------------------- the schema
def schema() -> dict:
    """The JSON Schema (draft 2020-12) of one trace line."""
    from importlib.resources import files
    return json.loads(files("ebutool").joinpath("schema", "trace.schema.json").read_text("utf-8"))


def schema_errors(obj) -> list[str]:
    """What jsonschema finds wrong with one parsed line ("path: message"), [] if valid."""
    from jsonschema import Draft202012Validator
    global _VALIDATOR
    if _VALIDATOR is None:
        _VALIDATOR = Draft202012Validator(schema())
    out = []
    for e in sorted(_VALIDATOR.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path))):
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.absolute_path).lstrip(".")
        text = e.schema.get("description") if e.validator in ("anyOf", "not") and \
            isinstance(e.schema, dict) and "description" in e.schema else e.message
        out.append(f"{path}: {text}" if path else text)
    return out


_VALIDATOR = None
