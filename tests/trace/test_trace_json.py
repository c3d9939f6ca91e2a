"""JSON Lines traces (ebutool/trace/jsonl.py, docs/trace-format.md): round trips, simulator
lines without mh_hex, diagnoses with line and field, fatal inputs, the convert command."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
from dataclasses import fields, replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ebutool.core.addr import ntop, pton
from ebutool.core.diagnostics import Diagnostics
from ebutool.records.from_packet import StreamStats
from ebutool.records.record import MSG_LABELS, HandoverEvent, Record, classify_bu
from ebutool.stream.reader import read_records
from ebutool.trace.jsonl import read_trace_records, schema_errors, write_trace
from ebutool.wire import build
from ebutool.wire.mh import messages as M
from ebutool.wire.mh import mobility_options as O
from ebutool.wire.mh.codec import aligned, checksum_ok, decode_mh, encode_mh
from tests.support.cli import run_cli

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "captures"
HOA, HA, CN = "2001:db8:1::100", "2001:db8:1::1", "2001:db8:2::2"
COA, COA2 = "2001:db8:3::100", "2001:db8:4::100"
T0 = 1_700_000_000_123_456_789
AUTH = bytes(range(12))
COMPARED = [f.name for f in fields(Record) if f.name != "source"]


# ----------------------------------------------------------------------------- helpers
def read_lines(lines: list, name: str = "t.jsonl", stats=None):
    """Records of a trace given as dicts and/or raw strings, and the diagnostics."""
    text = "".join((ln if isinstance(ln, str) else json.dumps(ln)) + "\n" for ln in lines)
    diag = Diagnostics()
    recs = list(read_trace_records(io.BytesIO(text.encode()), diag, stats, name))
    return recs, diag


def assert_same_records(expected: list, got: list) -> None:
    assert len(got) == len(expected)
    for a, b in zip(expected, got, strict=False):
        assert type(a) is type(b)
        diffs = (
            [f for f in COMPARED if getattr(a, f) != getattr(b, f)]
            if isinstance(a, Record)
            else [
                f
                for f in ("ts_ns", "mn", "coa", "prev_coa", "frame")
                if getattr(a, f) != getattr(b, f)
            ]
        )
        assert not diffs, f"frame {a.frame}: {[(f, getattr(a, f), getattr(b, f)) for f in diffs]}"


def round_trip_file(capture: Path, tmp_path: Path):
    """(records of the capture, records of its converted trace read through read_records)."""
    original = list(read_records(capture, Diagnostics()))
    trace = tmp_path / (capture.name + ".jsonl")
    with open(trace, "w", encoding="utf-8") as fh:
        write_trace(read_records(capture, Diagnostics()), fh, str(capture))
    return original, list(read_records(trace, Diagnostics()))


def inet_checksum(data: bytes) -> int:
    """RFC 1071, written here independently of ebutool's codec."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def with_mh_checksum(mh: bytes, src: str, dst: str) -> bytes:
    pseudo = pton(src) + pton(dst) + struct.pack("!I3xB", len(mh), 135)
    return mh[:4] + struct.pack("!H", inet_checksum(pseudo + mh)) + mh[6:]


# ----------------------------------------------------------------------------- a built capture
def scenario_packets() -> list[bytes]:
    """Every message type, tunnelled HoTI/HoT, data with HAO / RH2 / reverse tunnel,
    unusual options, a wrong checksum, non-RFC padding, and one irrelevant packet."""
    BU, BA = M.BindingUpdate, M.BindingAcknowledgement
    A, H, L = M.BU_FLAG_A, M.BU_FLAG_H, M.BU_FLAG_L
    mhp = build.mh_packet
    wrong = aligned(BU(sequence=9, flags=A, lifetime=10, options=[O.NonceIndices(3, 4)]))
    wrong.checksum = 0x1234
    odd = BU(
        sequence=10,
        flags=A,
        lifetime=10,
        options=[O.BindingAuthorizationData(AUTH), O.PadN(bytes(4))],
    )
    return [
        build.tunnel(COA, HA, mhp(M.HomeTestInit(init_cookie=b"hoti-ck1"), HOA, CN)),
        mhp(M.CareOfTestInit(init_cookie=b"coti-ck1"), COA, CN),
        build.tunnel(
            HA,
            COA,
            mhp(
                M.HomeTest(nonce_index=3, init_cookie=b"hoti-ck1", keygen_token=b"home-tok"),
                CN,
                HOA,
            ),
        ),
        mhp(
            M.CareOfTest(nonce_index=4, init_cookie=b"coti-ck1", keygen_token=b"care-tok"), CN, COA
        ),
        mhp(
            BU(sequence=1, flags=A | H | L, lifetime=105, options=[O.AlternateCareOfAddress(COA)]),
            COA,
            HA,
            hoa=HOA,
        ),
        mhp(
            BA(status=0, sequence=1, lifetime=105, options=[O.BindingRefreshAdvice(15)]),
            HA,
            COA,
            home=HOA,
        ),
        mhp(
            BU(
                sequence=2,
                flags=A,
                lifetime=105,
                options=[O.NonceIndices(3, 0), O.BindingAuthorizationData(AUTH)],
            ),
            COA2,
            CN,
            hoa=HOA,
        ),
        mhp(
            BU(
                sequence=3,
                flags=A,
                lifetime=105,
                options=[
                    O.NonceIndices(3, 0),
                    O.CareOfTestInitOption(),
                    O.BindingAuthorizationData(AUTH),
                ],
            ),
            COA2,
            CN,
            hoa=HOA,
        ),
        mhp(
            BA(
                sequence=3,
                lifetime=105,
                options=[O.CareOfTestOption(b"care-tk2"), O.BindingAuthorizationData(AUTH)],
            ),
            CN,
            COA2,
            home=HOA,
        ),
        mhp(
            BU(
                sequence=4,
                flags=A,
                lifetime=105,
                options=[O.NonceIndices(3, 4), O.BindingAuthorizationData(AUTH)],
            ),
            COA2,
            CN,
            hoa=HOA,
        ),
        mhp(
            BU(
                sequence=5,
                flags=A,
                lifetime=0,
                options=[O.NonceIndices(3, 0), O.BindingAuthorizationData(AUTH)],
            ),
            HOA,
            CN,
        ),  # deregistration from home
        mhp(M.BindingRefreshRequest(), CN, COA2, home=HOA),
        mhp(M.BindingError(status=1, home_address=HOA), CN, COA2),
        mhp(M.OtherMobilityMessage(type_number=11, data=bytes(range(10))), COA2, CN, hoa=HOA),
        mhp(
            BU(sequence=6, flags=A, lifetime=1, options=[O.UnknownOption(200, b"\1\2\3")]),
            COA2,
            CN,
            hoa=HOA,
        ),
        build.ipv6_packet(COA2, CN, 135, encode_mh(wrong), hoa=HOA),  # checksum 0x1234: wrong
        build.ipv6_packet(
            COA2, CN, 135, encode_mh(odd, pton(HOA), pton(CN)), hoa=HOA
        ),  # not RFC-aligned
        build.udp_packet(COA2, CN, b"route-optimised", hoa=HOA),
        build.udp_packet(CN, COA2, b"to the care-of address", home=HOA),
        build.tunnel(COA, HA, build.udp_packet(HOA, CN, b"reverse tunnelled")),
        build.udp_packet(CN, HA, b"not mobility related"),
    ]


@pytest.fixture(scope="module")
def scenario_pcap(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cap") / "scenario.pcap"
    with open(path, "wb") as fh:
        build.write_pcap(
            fh, [(T0 + i * 1_000_001, p) for i, p in enumerate(scenario_packets())], nanosecond=True
        )
    return path


def test_round_trip_of_a_built_capture_covers_every_message_type(scenario_pcap, tmp_path):
    original, back = round_trip_file(scenario_pcap, tmp_path)
    assert {r.msg for r in original} == set(MSG_LABELS)  # the test covers every label
    assert len(original) == len(scenario_packets()) - 1  # the irrelevant packet is not a record
    assert any(r.msg == "HoTI" and r.tunnel_src == COA for r in original)
    assert any(r.checksum_ok is False for r in original) and any(r.rfc4866 for r in original)
    assert any(r.deregistration for r in original)
    assert_same_records(original, back)
    assert all(r.source.endswith(".jsonl") for r in back)


def test_round_trip_of_a_pcapng_capture(tmp_path):
    path = tmp_path / "scenario.pcapng"
    with open(path, "wb") as fh:
        build.write_pcapng(fh, [(T0 + i * 1000, p) for i, p in enumerate(scenario_packets())])
    original, back = round_trip_file(path, tmp_path)
    assert len(original) > 15
    assert_same_records(original, back)


def _shared_captures() -> list[Path]:
    found = sorted(SHARED.glob("**/*.pcap*")) + sorted((REPO / "samples").glob("*.pcap*"))
    return found or [
        pytest.param(None, marks=pytest.mark.skip(reason="no shared captures or samples"))
    ]


@pytest.mark.parametrize("capture", _shared_captures(), ids=lambda p: p.name if p else "none")
def test_round_trip_of_shared_captures_and_samples(capture, tmp_path):
    original, back = round_trip_file(capture, tmp_path)
    assert_same_records(original, back)


# ----------------------------------------------------------------------------- hypothesis
addresses = st.binary(min_size=16, max_size=16).map(ntop) | st.sampled_from(
    [HOA, HA, CN, COA, COA2]
)
options = st.one_of(
    st.builds(O.NonceIndices, st.integers(0, 0xFFFF), st.integers(0, 0xFFFF)),
    st.builds(O.BindingAuthorizationData, st.binary(min_size=12, max_size=12)),
    st.builds(O.AlternateCareOfAddress, addresses),
    st.builds(O.BindingRefreshAdvice, st.integers(0, 0xFFFF)),
    st.builds(O.CareOfTestOption, st.binary(min_size=8, max_size=8)),
    st.just(O.CareOfTestInitOption()),
    st.builds(O.UnknownOption, st.integers(17, 255), st.binary(max_size=12)),
)
u16, u8, b8 = st.integers(0, 0xFFFF), st.integers(0, 0xFF), st.binary(min_size=8, max_size=8)
messages = st.one_of(
    st.builds(M.BindingRefreshRequest, body_reserved=u16),
    st.builds(M.HomeTestInit, init_cookie=b8),
    st.builds(M.CareOfTestInit, init_cookie=b8),
    st.builds(M.HomeTest, nonce_index=u16, init_cookie=b8, keygen_token=b8),
    st.builds(M.CareOfTest, nonce_index=u16, init_cookie=b8, keygen_token=b8),
    st.builds(M.BindingUpdate, sequence=u16, flags=u16, lifetime=u16),
    st.builds(M.BindingAcknowledgement, status=u8, flags=u8, sequence=u16, lifetime=u16),
    st.builds(M.BindingError, status=u8, home_address=addresses),
    st.builds(
        M.OtherMobilityMessage,
        type_number=st.integers(8, 255),
        data=st.integers(0, 5).map(lambda n: bytes(2 + 8 * n)),
    ),
)


@st.composite
def records(draw):
    src, dst = draw(addresses), draw(addresses)
    hoa, rh2 = draw(st.none() | addresses), draw(st.none() | addresses)
    tun = draw(st.none() | st.tuples(addresses, addresses))
    rec = Record(
        frame=draw(st.integers(1, 10**7)),
        ts_ns=draw(st.integers(0, 4 * 10**18)),
        src=src,
        dst=dst,
        hoa=hoa,
        rh2=rh2,
        tunnel_src=tun and tun[0],
        tunnel_dst=tun and tun[1],
        ip_len=draw(st.integers(0, 65575)),  # (40 + the 16-bit Payload Length at most)
        source="h.jsonl",
    )
    if draw(st.booleans()):  # decrypted from ESP (ebutool.esp)
        rec.esp_spi = draw(st.integers(0, (1 << 32) - 1))
        rec.esp_seq = draw(st.integers(0, (1 << 64) - 1))
        rec.esp_algorithm = draw(st.sampled_from(["aes-cbc/hmac-sha1-96", "aes-gcm-16"]))
    if draw(st.booleans()) and (hoa or rh2 or tun):
        rec.proto = draw(st.sampled_from([6, 17, 50, 58]))
        return rec  # a data packet
    rec.proto = draw(st.sampled_from([135, 135, 62]))
    msg = draw(messages)
    if not isinstance(msg, M.OtherMobilityMessage):
        msg.options = draw(st.lists(options, max_size=4))
    wire = encode_mh(aligned(msg), pton(hoa or src), pton(rh2 or dst))
    if draw(st.booleans()):  # a wrong checksum
        wire = wire[:4] + draw(st.binary(min_size=2, max_size=2)) + wire[6:]
    if draw(st.booleans()) and len(wire) > 24:  # cut by the snap length
        wire = wire[: draw(st.integers(24, len(wire) - 1))]
    rec.mh = decode_mh(wire, [])
    rec.mh_wire = wire
    rec.checksum_ok = draw(
        st.sampled_from([checksum_ok(wire, pton(hoa or src), pton(rh2 or dst), rec.proto), None])
    )
    rec.msg = "other" if isinstance(rec.mh, M.OtherMobilityMessage) else rec.mh.NAME
    if isinstance(rec.mh, M.BindingUpdate):
        rec.msg, rec.deregistration, rec.rfc4866 = classify_bu(rec.mh, src, hoa)
    return rec


events = st.builds(
    HandoverEvent,
    ts_ns=st.integers(0, 4 * 10**18),
    mn=addresses,
    coa=addresses,
    prev_coa=st.none() | addresses,
    frame=st.integers(1, 10**6),
    source=st.just("h.jsonl"),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records() | events, max_size=6))
def test_written_records_read_back_equal(stream):
    out = io.StringIO()
    write_trace(stream, out, "hypothesis")
    diag = Diagnostics()
    back = list(read_trace_records(io.BytesIO(out.getvalue().encode()), diag, None, "h.jsonl"))
    assert back == stream
    assert "bad_trace_record" not in diag.counts and "trace_field_mismatch" not in diag.counts


@settings(max_examples=60, deadline=None)
@given(st.lists(records() | events, min_size=1, max_size=3))
def test_written_lines_are_valid_under_the_schema(stream):
    out = io.StringIO()
    write_trace(stream, out, "hypothesis")
    for line in out.getvalue().splitlines():
        assert schema_errors(json.loads(line)) == []


# ----------------------------------------------------------------------------- simulators
EBU_LINE = {
    "type": "packet",
    "time": 1700000000.5,
    "src": COA2,
    "dst": CN,
    "hoa": HOA,
    "msg": "EBU",
    "mh": {
        "mh_type": 5,
        "sequence": 7,
        "flags": "A",
        "lifetime_s": 420,
        "options": [
            {"type": "NonceIndices", "home_index": 1, "careof_index": 0},
            {"type": "BindingAuthorizationData", "authenticator": "00112233445566778899aabb"},
        ],
    },
}


def test_simulator_line_without_mh_hex_gives_the_rfc_encoded_message():
    exact_time = json.dumps(EBU_LINE).replace("1700000000.5", "1700000000.123456789")
    (rec,), diag = read_lines([exact_time])
    # Written out by hand from RFC 6275 6.1.7 / 6.2: no padding needed, 32 octets, Header Len 3.
    expected = with_mh_checksum(
        bytes.fromhex("3b0305000000000780000069040400010000050c00112233445566778899aabb"), HOA, CN
    )
    assert rec.mh_wire == expected
    assert (rec.msg, rec.deregistration, rec.rfc4866) == ("EBU", False, False)
    assert rec.ts_ns == 1_700_000_000_123_456_789  # exact: the decimal text, not a float
    assert (rec.proto, rec.ip_len, rec.frame) == (135, 40 + 24 + 32, 1)
    assert rec.checksum_ok is None  # nothing was on a wire to check
    assert (rec.mh.sequence, rec.mh.flags, rec.mh.lifetime) == (7, 0x8000, 105)
    assert rec.mh.option(O.NonceIndices) == O.NonceIndices(1, 0)
    assert diag.total == 0


def test_simulator_options_are_padded_as_rfc_6275_asks():
    line = {
        "type": "packet",
        "time_ns": 5,
        "src": COA,
        "dst": HA,
        "hoa": HOA,
        "msg": "BU",
        "mh": {
            "mh_type": 5,
            "sequence": 1,
            "flags": 0xE000,
            "lifetime": 105,
            "options": [
                {"type": "AlternateCareOfAddress", "address": COA},
                {"type": "NonceIndices", "home_index": 2, "careof_index": 3},
                {"type": "BindingAuthorizationData", "authenticator": "ff" * 12},
            ],
        },
    }
    (rec,), _ = read_lines([line])
    # AltCoA at 8n+6 (PadN of 2 at 12), Nonce Indices at 2n (32), BAD at 8n+2 (PadN of 4 at 38).
    body = (
        "3b060500"
        "0000"
        "0001"
        "e000"
        "0069"
        "0100"
        "0310" + pton(COA).hex() + "0404"
        "0002"
        "0003"
        "01020000"
        "050c" + "ff" * 12
    )
    assert rec.mh_wire == with_mh_checksum(bytes.fromhex(body), HOA, HA)
    assert rec.mh.header_len == 6 and rec.msg == "BU"


def test_simulator_record_equals_the_capture_of_the_same_packet(tmp_path):
    msg = M.BindingUpdate(
        sequence=7,
        flags=M.BU_FLAG_A,
        lifetime=105,
        options=[
            O.NonceIndices(1, 0),
            O.BindingAuthorizationData(bytes.fromhex("00112233445566778899aabb")),
        ],
    )
    cap = tmp_path / "one.pcap"
    with open(cap, "wb") as fh:
        build.write_pcap(fh, [(T0, build.mh_packet(msg, COA2, CN, hoa=HOA))], nanosecond=True)
    (captured,) = read_records(cap, Diagnostics())
    (simulated,), _ = read_lines([EBU_LINE])
    assert captured.checksum_ok is True and simulated.checksum_ok is None
    same = [f for f in COMPARED if f not in ("checksum_ok", "ts_ns")]
    assert [getattr(simulated, f) for f in same] == [getattr(captured, f) for f in same]


def test_simulator_events_data_and_out_of_order_times():
    lines = [
        {"type": "handover", "time": 10.5, "mn": "2001:DB8:1:0::100", "coa": COA2, "prev_coa": COA},
        {
            "type": "packet",
            "time": 10.25,
            "src": COA2,
            "dst": CN,
            "hoa": HOA,
            "msg": "data",
            "proto": 17,
        },
        {"type": "packet", "time_ns": 3, "src": CN, "dst": HA, "msg": "data", "proto": 17},
    ]
    stats = StreamStats()
    recs, diag = read_lines(lines, stats=stats)
    assert recs[0] == HandoverEvent(
        ts_ns=10_500_000_000, mn=HOA, coa=COA2, prev_coa=COA, frame=1, source="t.jsonl"
    )
    assert (recs[1].ts_ns, recs[1].msg, recs[1].hoa, recs[1].mh, recs[1].frame) == (
        10_250_000_000,
        "data",
        HOA,
        None,
        2,
    )
    assert len(recs) == 2 and diag.total == 0  # earlier time after a later one: no complaint
    assert stats.skipped["not_mobility_related"] == 1 and stats.relevant == 1


# ----------------------------------------------------------------------------- bad lines
def _ebu(**changes):
    line = json.loads(json.dumps(EBU_LINE))
    for path, value in changes.items():
        target, *keys = path.split("__")
        obj = line
        for k in [target, *keys][:-1]:
            obj = obj[int(k)] if isinstance(obj, list) else obj[k]
        last = [target, *keys][-1]
        if value is KeyError:
            del obj[last]
        else:
            obj[int(last) if isinstance(obj, list) else last] = value
    return line


@pytest.mark.parametrize(
    "changes, where",
    [
        ({"mh__sequence": "x"}, "mh.sequence: \"x\" is not of type 'integer'"),
        (
            {"mh__options__0__careof_index": KeyError},
            "mh.options[0]: 'careof_index' is a required property",
        ),
        ({"mh__lifetime_s": 421}, "mh.lifetime_s: 421 s is not a multiple of 4 s"),
        ({"mh__init_cookie": "00" * 8}, "mh: unexpected field 'init_cookie'"),
        ({"hoa": "2001:db8::zz"}, 'hoa: "2001:db8::zz" is not an IPv6 address'),
        ({"src": KeyError}, "'src' is a required property"),
        ({"time_ns": 5}, "give 'time_ns' or 'time', not both"),
        (
            {"mh__options__1__authenticator": "0011"},
            "mh.options[1].authenticator: 2 octets, expected 12",
        ),
        ({"mh__flags": "AZ"}, 'mh.flags: "AZ": unknown flag letter(s) Z'),
        ({"msg": "EBA"}, 'msg: "EBA" is not one of'),
        ({"mh": KeyError}, "msg EBU needs 'mh'"),
        ({"hom": HOA}, "unexpected field 'hom'"),
        # no IPv6 packet is longer than 40 + 65535 octets (RFC 8200 3; no jumbograms)
        ({"ip_len": 65576}, "ip_len: 65576 is out of range 0..65575"),
        ({"ip_len": 10**12}, "ip_len: 1000000000000 is out of range 0..65575"),
    ],
)
def test_schema_errors_are_counted_with_line_and_field(changes, where):
    good = dict(EBU_LINE, time=1.0)
    recs, diag = read_lines([good, _ebu(**changes), good])
    assert len(recs) == 2 and [r.frame for r in recs] == [1, 3]  # the bad line alone is skipped
    assert diag.counts == {"bad_trace_record": 1}
    (d,) = diag.kept
    assert d.frame == 2 and d.message.startswith("line 2: ") and where in d.message, d.message
    assert (
        schema_errors(_ebu(**changes)) or "needs" in where or "IPv6" in where
    )  # the schema agrees


def test_the_longest_ipv6_packet_is_a_valid_ip_len():
    (rec,), diag = read_lines([_ebu(ip_len=65575)])
    assert rec.ip_len == 65575 and diag.total == 0 and schema_errors(_ebu(ip_len=65575)) == []


def test_x_annotations_are_free():
    (rec,), diag = read_lines([_ebu(x_node="mn1", mh__x_note=1)])
    assert rec.msg == "EBU" and diag.total == 0 and schema_errors(_ebu(x_node="mn1")) == []


def test_broken_json_on_a_later_line_is_a_counted_warning():
    stats = StreamStats()
    recs, diag = read_lines(
        [EBU_LINE, "", '{"type": "packet", "time": 1', EBU_LINE, "\xff oops"], stats=stats
    )
    assert len(recs) == 2 and [r.frame for r in recs] == [1, 4]
    assert diag.counts == {"bad_trace_json": 2}
    assert [d.frame for d in diag.kept] == [3, 5] and diag.kept[0].message.startswith(
        "line 3: invalid JSON"
    )
    assert stats.skipped["bad_trace_json"] == 2


def test_redundant_fields_that_disagree_with_mh_hex_are_reported(scenario_pcap):
    out = io.StringIO()
    write_trace(read_records(scenario_pcap, Diagnostics()), out, "s")
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    ebu = next(x for x in lines if x.get("msg") == "EBU" and not x.get("rfc4866"))
    ebu["mh"]["sequence"] += 1  # edited by hand, mh_hex left as it was
    ebu["msg"] = "BU"
    recs, diag = read_lines(lines)
    edited = next(r for r in recs if r.frame == ebu["frame"])
    assert edited.msg == "EBU" and edited.mh.sequence == ebu["mh"]["sequence"] - 1
    assert diag.counts["trace_field_mismatch"] == 1
    (d,) = [d for d in diag.kept if d.code == "trace_field_mismatch"]
    assert "mh.sequence" in d.message and 'msg "BU"' in d.message


# ----------------------------------------------------------------------------- fatal inputs
def _run(*args, stdin: bytes | None = None):
    return subprocess.run(
        [sys.executable, "-m", "ebutool", *args], capture_output=True, input=stdin, cwd=REPO
    )


def _invoke(*args, stdin: bytes | None = None):
    return run_cli(*args, input=stdin)


@pytest.mark.parametrize(
    "content, says",
    [
        (b"{this is not json\n", "not a JSON Lines trace"),
        (b'{\n  "type": "packet"\n}\n', "one complete JSON object per line"),
        (b'{"ts": 1.5, "uid": "C1"}\n', "not an ebutool trace"),
        (b'{"type": "header", "format": "ebutool-trace", "version": 2}\n', "version 2"),
        (b'{"type": "header", "format": "zeek-json", "version": 1}\n', "is not 'ebutool-trace'"),
        (b"   \n\n", "blank"),
    ],
)
@pytest.mark.parametrize("command", ["decode", "convert"])
def test_a_file_that_is_not_a_trace_exits_3(tmp_path, content, says, command):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    result = _invoke(command, str(path), "-o", str(tmp_path / "out"))
    assert result.exit_code == 3, result.stderr
    assert says in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()  # no half-written output


@pytest.mark.parametrize("command", ["decode", "convert"])
def test_garbage_is_exit_3_from_python_dash_m(tmp_path, command):
    path = tmp_path / "garbage.jsonl"
    path.write_bytes(b"{\x00\xff\x13 garbage " * 50)
    proc = _run(command, str(path))
    err = proc.stderr.decode()
    assert proc.returncode == 3 and proc.stdout == b""
    assert err.startswith("ebutool: error: ") and "Traceback" not in err and err.count("\n") == 1


def test_convert_to_stdout_and_to_a_file(scenario_pcap, tmp_path):
    out = tmp_path / "s.jsonl"
    to_file = _invoke("convert", str(scenario_pcap), "-o", str(out))
    to_stdout = _invoke("convert", str(scenario_pcap))
    assert to_file.exit_code == 0 and to_stdout.exit_code == 0
    assert to_stdout.stdout_bytes == out.read_bytes()
    lines = [json.loads(x) for x in to_stdout.stdout.splitlines()]
    assert lines[0] == {
        "type": "header",
        "format": "ebutool-trace",
        "version": 1,
        "source": str(scenario_pcap),
        "generator": lines[0]["generator"],
    }
    assert len(lines) == 1 + len(scenario_packets()) - 1
    assert "20 packet records" in to_file.stderr and to_file.stdout == ""
    again = _invoke("convert", "-", stdin=out.read_bytes())  # a trace in: canonical form out
    assert (
        again.exit_code == 0 and again.stdout.splitlines()[1:] == to_stdout.stdout.splitlines()[1:]
    )


def test_convert_to_a_directory_is_a_usage_error(scenario_pcap, tmp_path):
    result = _invoke("convert", str(scenario_pcap), "-o", str(tmp_path))
    assert result.exit_code == 2 and "is a directory" in result.stderr
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind


# ----------------------------------------------------------------------------- streaming
def test_writing_and_reading_stream():
    out = io.StringIO()
    rec = Record(frame=1, ts_ns=1, src=COA, dst=CN, hoa=HOA, proto=17)

    def produce():
        for i in range(1, 4):
            assert out.getvalue().count("\n") == i  # header + everything yielded so far is out
            yield replace(rec, frame=i)

    assert write_trace(produce(), out, "gen")["packet"] == 3

    consumed = []

    def lines():
        for i, line in enumerate(out.getvalue().encode().splitlines(keepends=True)):
            consumed.append(i)
            yield line

    reader = read_trace_records(lines(), Diagnostics(), None, "s")
    assert next(reader).frame == 1 and len(consumed) == 2  # header + first record only


# ----------------------------------------------------------------------------- schema agreement
SEMANTIC = (
    "is not an IPv6 address",
    "come together",
    "needs 'mh'",
    "only a record with a Mobility",
    "a Mobility Header is next header",
    "cannot encode",
)
junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 70000),
    st.sampled_from(["", "zz", "A", "::1", "00" * 8]),
    st.just([]),
    st.just({}),
    st.just(1.5),
)


@st.composite
def mutated(draw):
    """A valid written line with one random change somewhere in it."""
    out = io.StringIO()
    write_trace([draw(records())], out, None, header=False)
    line = json.loads(out.getvalue())
    containers = [line] + ([line["mh"]] + line["mh"]["options"] if "mh" in line else [])
    obj = draw(st.sampled_from(containers))
    how = draw(st.sampled_from(["delete", "set", "add"]))
    key = (
        draw(st.sampled_from(sorted(obj)))
        if how != "add"
        else draw(st.sampled_from(["bogus", "x_free", "time"]))
    )
    if how == "delete":
        del obj[key]
    else:
        obj[key] = draw(junk)
    return line


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_the_reader_rejects_exactly_what_the_schema_rejects(line):
    recs, diag = read_lines([{"type": "header", "format": "ebutool-trace", "version": 1}, line])
    rejected = diag.counts.get("bad_trace_record", 0) == 1
    assert not (rejected and recs)
    errors = schema_errors(line)
    if errors:
        assert rejected, f"schema says {errors} but the reader accepted {line}"
    elif rejected:
        assert any(s in diag.kept[0].message for s in SEMANTIC), diag.kept[0].message


# ----------------------------------------------------------------------------- docs and samples
def _doc_blocks() -> list[str]:
    text = (REPO / "docs" / "trace-format.md").read_text(encoding="utf-8")
    return [b.split("\n", 1)[1] for b in text.split("```")[1::2] if b.startswith("json\n")]


def test_the_documented_examples_read_as_documented():
    complete, spread, simulator = [b for b in _doc_blocks() if '"type"' in b and "packet" in b]
    recs, diag = read_lines(complete.splitlines())
    assert diag.total == 0 and [r.msg for r in recs] == ["HoTI", "handover", "EBU"]
    (spread_rec,), _ = read_lines([json.dumps(json.loads(spread))])
    assert spread_rec == recs[2]
    (sim,), diag = read_lines(simulator.splitlines())
    assert diag.total == 0 and sim.checksum_ok is None
    same = [f for f in COMPARED if f not in ("checksum_ok", "frame")]
    assert [getattr(sim, f) for f in same] == [getattr(recs[2], f) for f in same]


@pytest.mark.parametrize(
    "name",
    sorted(p.stem for p in (REPO / "samples").glob("*.jsonl") if p.with_suffix(".pcap").exists())
    or ["none"],
)
def test_sample_traces_hold_the_same_packets_as_their_captures(name):
    if name == "none":
        pytest.skip("no samples with both .pcap and .jsonl")
    diag = Diagnostics()
    trace = list(read_records(REPO / "samples" / f"{name}.jsonl", diag))
    assert_same_records(
        list(read_records(REPO / "samples" / f"{name}.pcap", Diagnostics())),
        [r for r in trace if isinstance(r, Record)],
    )
    assert (
        any(isinstance(r, HandoverEvent) for r in trace) and "bad_trace_record" not in diag.counts
    )
