"""JSON Lines traces: the message stream as one JSON object per line (docs/trace-format.md).

:func:`write_trace` streams Records and HandoverEvents out as lines; :func:`read_trace_records`
reads them back.  A line carrying ``mh_hex`` (what ``ebutool convert`` writes) is decoded from
those octets, so reading a converted capture gives exactly the records the capture gives.  A
simulator may leave ``mh_hex`` out: the message is then built from its fields and encoded with
RFC 6275 alignment, and MACs are checked on that encoding.

Every line is checked against the rules of ``ebutool/trace/schema/trace.schema.json`` by the
converter below (a generic validator costs 1-3 ms a line; the tests keep the two in step),
and :func:`schema_errors` runs the schema itself with jsonschema for anyone who wants it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import BinaryIO, TextIO

from ebutool.core import constants as C
from ebutool.core.addr import pton
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import InputError
from ebutool.core.exact_time import NS_DECIMALS
from ebutool.core.names import readable_name
from ebutool.core.units import NS_PER_US
from ebutool.core.version import __version__
from ebutool.records.record import HandoverEvent, Record, classify_bu
from ebutool.trace.check import (
    EVENT_FIELDS,
    FORMAT,
    HEADER_FIELDS,
    LINE_TYPES,
    MH_PROTOS,
    OPTION_FIELDS,
    OPTION_NAME,
    PACKET_FIELDS,
    UNIT_S,
    VERSION,
    Bad,
    check_fields,
    seconds_in_units,
    show,
)
from ebutool.trace.lines import UTF8_BOM, bounded_lines, max_trace_line_bytes
from ebutool.wire.mh import messages as M
from ebutool.wire.mh import mobility_options as O
from ebutool.wire.mh.codec import aligned, checksum_ok, decode_mh, encode_mh, mh_checksum


# ----------------------------------------------------------------------------- reading
def _event(obj: dict, lineno: int, name: str) -> HandoverEvent:
    f = check_fields(obj, "", EVENT_FIELDS)
    return HandoverEvent(
        ts_ns=f["ts_ns"],
        mn=f["mn"],
        coa=f["coa"],
        prev_coa=f.get("prev_coa"),
        frame=f.get("frame", lineno),
        source=name,
    )


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


def _as_cut(wire: bytes, given: M.MobilityMessage) -> bytes:
    """``wire``, encoded from a line's ``mh`` fields, as the capture's cut message when
    the line says the capture cut it (``truncated``; its octets are not in the trace, the
    fields hold what was captured): with the line's Header Len and checksum, the whole
    message's, so that it decodes cut, as from the capture (its MAC unverifiable, a BU
    without Nonce Indices `bu_cut_off`).  Without a Header Len longer than the fields
    give, the cut cannot be stated: ``wire`` as it is."""
    hlen = given.header_len
    if not given.truncated or hlen is None or (hlen + 1) * 8 <= len(wire):
        return wire
    csum = wire[4:6] if given.checksum is None else given.checksum.to_bytes(2, "big")
    return wire[:1] + bytes((hlen,)) + wire[2:4] + csum + wire[6:]


def _without_message(rec: Record, f: dict, lineno: int, diag: Diagnostics) -> Record:
    """A packet record with neither 'mh' nor 'mh_hex': a data packet."""
    if f["msg"] != "data":
        raise Bad("", f"msg {f['msg']} needs 'mh' (the message's fields) or 'mh_hex' (its octets)")
    for key in ("checksum_ok", "deregistration", "rfc4866"):
        if f.get(key):
            raise Bad(key, "only a record with a Mobility Header ('mh' or 'mh_hex') can be true")
    if rec.proto in MH_PROTOS:
        # A Mobility Header whose octets the trace does not hold (a capture cut it before
        # its MH type, or a trace written before mh_hex was kept on such a record): a
        # message of unknown type, counted as the capture reader counts a cut one
        diag.warn(
            "malformed_mh",
            f"line {lineno} (frame {rec.frame}): a Mobility Header (proto {rec.proto}) "
            "without its octets ('mh_hex'): a message of unknown type",
            rec.frame,
        )
    return rec


def _packet(obj: dict, lineno: int, name: str, diag: Diagnostics) -> Record:
    f = check_fields(obj, "", PACKET_FIELDS)
    frame, has_mh = f.get("frame", lineno), "mh" in f or "mh_hex" in f
    rec = Record(
        frame=frame,
        ts_ns=f["ts_ns"],
        src=f["src"],
        dst=f["dst"],
        hoa=f.get("hoa"),
        rh2=f.get("rh2"),
        tunnel_src=f.get("tunnel_src"),
        tunnel_dst=f.get("tunnel_dst"),
        proto=f.get("proto", C.NH_MOBILITY if has_mh else C.NH_NONE),
        ip_len=f.get("ip_len", 0),
        source=name,
    )
    if "esp" in f:
        rec.esp_spi, rec.esp_seq, rec.esp_algorithm = f["esp"]
    if (rec.tunnel_src is None) != (rec.tunnel_dst is None):
        raise Bad("", "'tunnel_src' and 'tunnel_dst' come together (the outer IPv6 header)")
    if not has_mh:
        return _without_message(rec, f, lineno, diag)
    if rec.proto not in MH_PROTOS:
        raise Bad(
            "proto", f"{rec.proto}: a Mobility Header is next header 135 (or 62, pre-RFC 3775)"
        )
    ps, pd = pton(rec.hoa or rec.src), pton(rec.rh2 or rec.dst)
    given = f.get("mh")
    problems: list[str] = []
    notes: list[str] = []
    if "mh_hex" in f:
        m = decode_mh(f["mh_hex"], problems)
        if m is not None:
            assert m.header_len is not None  # decode_mh always states the decoded length
            wire = f["mh_hex"][: (m.header_len + 1) * 8]
            if len(f["mh_hex"]) > len(wire):
                notes.append(
                    f"mh_hex has {len(f['mh_hex']) - len(wire)} octets past its Header Len "
                    "(ignored)"
                )
            computed = checksum_ok(wire, ps, pd, rec.proto)
    else:
        try:
            wire = encode_mh(aligned(f["mh"]))
        except ValueError as exc:
            raise Bad("mh", f"cannot encode the message: {exc}") from None
        wire = wire[:4] + mh_checksum(wire, ps, pd, rec.proto).to_bytes(2, "big") + wire[6:]
        wire = _as_cut(wire, f["mh"])
        m, computed = decode_mh(wire, problems), None  # None: nothing was on a wire to check
    for text in problems:
        diag.warn("malformed_mh", f"line {lineno} (frame {frame}): {text}", frame)
    if m is None:  # undecodable octets: a data packet with them, as the capture reader gives
        rec.mh_wire = f.get("mh_hex")
        return rec
    label = "other" if isinstance(m, M.OtherMobilityMessage) else m.NAME
    dereg = rfc4866 = False
    if isinstance(m, M.BindingUpdate):
        label, dereg, rfc4866 = classify_bu(m, rec.src, rec.hoa)
    rec.msg, rec.mh, rec.mh_wire, rec.deregistration, rec.rfc4866 = label, m, wire, dereg, rfc4866
    rec.checksum_ok = computed
    if "checksum_ok" in f:
        if "mh_hex" not in f or f["checksum_ok"] is None:
            rec.checksum_ok = f["checksum_ok"]
        elif f["checksum_ok"] != computed:
            notes.append(f"checksum_ok {show(f['checksum_ok'])} (mh_hex gives {show(computed)})")
    if given is not None:
        notes.extend(_differences(obj["mh"], m, given))
    for key, value in (("msg", label), ("deregistration", dereg), ("rfc4866", rfc4866)):
        if key in f and f[key] != value:
            notes.append(f"{key} {show(f[key])} (the message makes it {show(value)})")
    if notes:
        diag.warn(
            "trace_field_mismatch",
            f"line {lineno} (frame {frame}): "
            + "; ".join(notes)
            + "; the values from the message are used",
            frame,
        )
    if rec.checksum_ok is False:
        diag.warn(
            "bad_mh_checksum",
            f"line {lineno} (frame {frame}): {m.NAME} checksum 0x{m.checksum:04x} does not verify",
            frame,
        )
    if "ip_len" not in f:  # what ebutool.wire.build would send: IPv6 header(s) + HAO/RH2 + the MH
        rec.ip_len = (
            C.IPV6_HEADER_LEN * (2 if rec.tunnel_src else 1)
            + C.HAO_DSTOPTS_LEN * (rec.hoa is not None)
            + C.RH2_LEN * (rec.rh2 is not None)
            + len(wire)
        )
    return rec


def _header(obj: dict, lineno: int, name: str) -> None:
    """Fatal unless the header names this format and a version this module reads."""
    if obj.get("format") != FORMAT:
        raise InputError(
            f"{name}: line {lineno}: header format {show(obj.get('format'))} is not {FORMAT!r}"
        )
    version = obj.get("version")
    if type(version) is not int or not 1 <= version <= VERSION:
        raise InputError(
            f"{name}: line {lineno}: trace format version {show(version)}; this "
            f"ebutool reads version {VERSION}"
        )
    check_fields(obj, "", HEADER_FIELDS)


def _no_constant(text: str):
    raise ValueError(f"{text} is not a JSON number")


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """An object's members as a dict; a name given twice is an error, not last-wins
    (RFC 8259 4: which value a reader keeps is unpredictable, so the line is not used)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        names = Counter(k for k, _ in pairs)
        twice = next(k for k, _ in pairs if names[k] > 1)
        raise ValueError(f"duplicate key {show(twice)} in a JSON object")
    return obj


def parse_line(raw: bytes) -> dict:
    """One line's JSON object, as the reader takes it (names unique, no NaN or Infinity,
    numbers with a fraction as Decimal); ValueError saying why not (also what
    ebutool.runner.inputs.sniff makes of a directory's file's first line)."""
    try:
        obj = json.loads(
            raw.decode("utf-8").strip(),
            parse_float=Decimal,
            parse_constant=_no_constant,
            object_pairs_hook=_unique_keys,
        )
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg} at column {exc.colno}") from None
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if not isinstance(obj, dict):
        raise ValueError(f"a JSON {type(obj).__name__}, not an object")
    return obj


def read_trace_records(
    stream: BinaryIO, diag: Diagnostics, stats=None, name: str = ""
) -> Iterator[Record | HandoverEvent]:
    """Records and HandoverEvents of a JSON Lines trace, in file order.

    Fatal (:class:`InputError`): no line at all; a first line that is not a JSON object
    with a ``type`` of header/packet/handover; a header of another format or version.
    Any other bad line is a counted diagnosis (``bad_trace_json``, ``bad_trace_record``)
    and is skipped, as is a line over the length limit (``trace_line_too_long``,
    ebutool.trace.lines); see docs/trace-format.md for the rest."""
    started = records = False
    limit = max_trace_line_bytes()
    for lineno, raw in enumerate(bounded_lines(stream, limit), 1):
        if raw is None:
            diag.warn(
                "trace_line_too_long",
                f"line {lineno}: longer than {limit} octets (--max-trace-line-bytes); skipped",
                lineno,
            )
            _count(stats, skipped="trace_line_too_long")
            continue
        if lineno == 1 and raw[:3] == UTF8_BOM:  # (RFC 8259 8.1: may be ignored)
            raw = raw[3:]
        if not raw.strip():
            continue
        try:
            obj = parse_line(raw)
        except ValueError as exc:
            if not started:
                raise InputError(
                    f"{name}: line {lineno}: not a JSON Lines trace ({exc}; a trace "
                    "has one complete JSON object per line)"
                ) from None
            diag.warn("bad_trace_json", f"line {lineno}: {exc}", lineno)
            _count(stats, skipped="bad_trace_json")
            continue
        kind = obj.get("type")
        if not started and kind not in LINE_TYPES:
            raise InputError(
                f"{name}: line {lineno}: not an ebutool trace (a JSON object without "
                f'"type": "header", "packet" or "handover")'
            )
        started = True
        if kind == "header":
            try:
                _header(obj, lineno, name)
            except Bad as exc:
                diag.warn("bad_trace_record", f"line {lineno}: header: {exc}", lineno)
            if records:
                diag.warn(
                    "trace_concatenated",
                    f"line {lineno}: a second header (traces "
                    "concatenated?); frame numbers may repeat",
                    lineno,
                )
            continue
        _count(stats, frames=1)
        records = True
        try:
            if kind not in ("packet", "handover"):
                raise Bad("type", f"{show(kind)} is not one of 'header', 'packet', 'handover'")
            rec = (
                _packet(obj, lineno, name, diag) if kind == "packet" else _event(obj, lineno, name)
            )
        except Bad as exc:
            diag.warn("bad_trace_record", f"line {lineno}: {exc}", lineno)
            _count(stats, skipped="bad_trace_record")
            continue
        if stats is not None and rec.ts_ns % NS_PER_US and stats.time_decimals < NS_DECIMALS:
            # a time finer than a microsecond: the trace's times print with 9 decimals,
            # as a nanosecond capture's (a converted one holds its exact time_ns)
            stats.time_decimals = NS_DECIMALS
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
    name = OPTION_NAME.get(type(o))
    if name is None:  # raw (UnknownOption) or an option class this module does not know
        from ebutool.wire.mh.mobility_options import encode_option

        data = o.data if isinstance(o, O.UnknownOption) else encode_option(o)[2:]
        return {"type": o.TYPE, "data": bytes(data).hex()}
    d: dict = {"type": name}
    for key, (attr, conv, _) in OPTION_FIELDS[name][1].items():
        if key in ("interval",):
            continue
        v = getattr(o, attr)
        d[key] = (
            v * UNIT_S if conv is seconds_in_units else (v.hex() if isinstance(v, bytes) else v)
        )
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
        d = {
            "type": "handover",
            "time_ns": int(r.ts_ns),
            **_frame_json(r),
            "mn": r.mn,
            "coa": r.coa,
        }
        if r.prev_coa is not None:
            d["prev_coa"] = r.prev_coa
    elif isinstance(r, Record):
        d = {
            "type": "packet",
            "time_ns": int(r.ts_ns),
            **_frame_json(r),
            "msg": r.msg,
            "src": r.src,
            "dst": r.dst,
        }
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
        elif r.mh_wire is not None:  # octets the capture cut inside the message: no message
            d["mh_hex"] = bytes(r.mh_wire).hex()
        if r.esp_spi is not None:
            d["esp"] = {"spi": r.esp_spi, "seq": r.esp_seq, "algorithm": r.esp_algorithm}
    else:
        raise TypeError(f"not a Record or HandoverEvent: {type(r).__name__}")
    return d


def _frame_json(r) -> dict:
    return {"frame": r.frame} if r.frame >= 1 else {}  # 0 = unknown: the reader uses the line


def header_json(source_name: str | None) -> dict:
    return {
        "type": "header",
        "format": FORMAT,
        "version": VERSION,
        "source": None if source_name is None else readable_name(source_name),
        "generator": f"ebutool {__version__}",
    }


# The warnings reading a trace says again from its records (a message whose octets do
# not decode, a checksum that does not verify); every other warning of the input a
# trace is written from (a routing header in transit, a cut tunnel, a false payload
# length, the capture's own damage) leaves only its outcome in the records (the final
# destination, ip_len 0, ...), not the warning: ``convert`` says so.
REREAD_WARNINGS = frozenset(("malformed_mh", "bad_mh_checksum"))


def not_carried(counts) -> str:
    """The warnings of ``counts`` (code -> number) a trace written from that run does not
    carry, as "code N, ..." ("" when none)."""
    return ", ".join(f"{c} {n}" for c, n in sorted(counts.items()) if c not in REREAD_WARNINGS)


def write_trace(
    records: Iterable[Record | HandoverEvent],
    out: TextIO,
    source_name: str | None = None,
    header: bool = True,
) -> Counter:
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

    return json.loads(
        files("ebutool.trace").joinpath("schema", "trace.schema.json").read_text("utf-8")
    )


def schema_errors(obj) -> list[str]:
    """What jsonschema finds wrong with one parsed line ("path: message"), [] if valid."""
    from jsonschema import Draft202012Validator

    global _VALIDATOR
    if _VALIDATOR is None:
        _VALIDATOR = Draft202012Validator(schema())
    out: list[str] = []
    for e in sorted(_VALIDATOR.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path))):
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.absolute_path).lstrip(
            "."
        )
        text = (
            e.schema["description"]
            if e.validator in ("anyOf", "not")
            and isinstance(e.schema, dict)
            and "description" in e.schema
            else e.message
        )
        out.append(f"{path}: {text}" if path else text)
    return out


_VALIDATOR = None
