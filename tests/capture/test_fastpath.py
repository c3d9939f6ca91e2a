"""The fast path gives exactly what the reference decoder gives.

Reference: ``records_from_frames(open_frames(...))`` (every frame through every layer).
Fast: ``capture_records`` (the same walkers with the skip rule ``capture.skip.MOBILITY``:
block-level prefilter, Ethernet probes, runs of skipped blocks).  Compared field by
field: every Record, every diagnosis (counts and kept messages, in order) and StreamStats
(including the order of the skip reasons).
"""

from __future__ import annotations

import dataclasses
import io
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ebutool.capture import open_frames
from ebutool.capture.skip import SKIP_NEXT_HEADERS, must_decode
from ebutool.core import constants as C
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import InputError
from ebutool.records.from_packet import StreamStats
from ebutool.stream.reader import capture_records, read_records, records_from_frames
from ebutool.wire import build
from ebutool.wire.ipv6 import decode_ipv6
from ebutool.wire.mh.messages import BindingUpdate, HomeTestInit
from ebutool.wire.mh.mobility_options import BindingAuthorizationData, NonceIndices
from tests.support.capbuild import (
    LINKTYPE_ETHERNET,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
    pcap_bytes,
    pcapng_block,
    pcapng_bytes,
)
from tests.support.strategies import wire_ready

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "captures"
from benchmarks import gen_capture  # noqa: E402

T0 = 1_700_000_000_000_000_000


# --- comparison ---------------------------------------------------------------------------


def reference(raw_or_path, name="x"):
    diag, stats = Diagnostics(), StreamStats()
    src = io.BytesIO(raw_or_path) if isinstance(raw_or_path, bytes) else raw_or_path
    try:
        recs = list(records_from_frames(open_frames(src, diag), diag, stats, name))
    except InputError as exc:
        return ("error", str(exc))
    return recs, diag, stats


def fast(raw_or_path):
    diag, stats = Diagnostics(), StreamStats()
    src = io.BytesIO(raw_or_path) if isinstance(raw_or_path, bytes) else raw_or_path
    try:
        recs = list(capture_records(src, diag, stats, "x"))
    except InputError as exc:
        return ("error", str(exc))
    return recs, diag, stats


def assert_same(ref, got):
    if ref[0] == "error" or got[0] == "error":
        assert ref == got
        return
    (ra, da, sa), (rb, db, sb) = ref, got
    assert len(ra) == len(rb)
    for a, b in zip(ra, rb, strict=False):
        for f in dataclasses.fields(a):
            assert getattr(a, f.name) == getattr(b, f.name), (a.frame, f.name)
    assert da.counts == db.counts
    assert da.kept == db.kept
    assert sa == sb
    assert list(sa.skipped.items()) == list(sb.skipped.items())
    assert list(sa.messages.items()) == list(sb.messages.items())


def check(raw_or_path):
    ref = reference(raw_or_path)
    assert_same(ref, fast(raw_or_path))
    return ref


# --- files --------------------------------------------------------------------------------


def _shared():
    return sorted(SHARED.glob("**/*.pcap*")) if SHARED.is_dir() else []


@pytest.mark.skipif(not _shared(), reason="shared captures not present")
@pytest.mark.parametrize("path", _shared(), ids=lambda p: p.name)
def test_shared_captures(path):
    check(path)
    # The same frames written as pcapng (raw IPv6 and Ethernet), so the pcapng block
    # loop sees every odd packet too.
    diag = Diagnostics()
    frames = list(open_frames(path, diag))
    if frames:
        ifaces = sorted({f.linktype for f in frames})
        raw = pcapng_bytes(
            [(lt, 9) for lt in ifaces],
            [(ifaces.index(f.linktype), f.ts_ns, f.data) for f in frames],
        )
        check(raw)


def test_samples():
    for path in sorted((REPO / "samples").glob("*")):
        if path.suffix in (".pcap", ".pcapng"):
            check(path)


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_benchmark_capture_small(tmp_path, fmt):
    paths = gen_capture.generate(12000, 3, tmp_path, (fmt,))
    recs, diag, stats = check(paths[fmt])
    assert stats.frames == 12000
    # the mix is what the generator promises: signalling, RO data, IPv4, ordinary IPv6
    assert stats.messages["EBU"] and stats.messages["HoTI"] and stats.messages["BA"]
    assert any(r.hoa for r in recs) and any(r.rh2 for r in recs) and any(r.tunnel_src for r in recs)
    assert stats.skipped["not_ipv6"] > 100 and stats.skipped["not_mobility_related"] > 3000


def test_generator_is_deterministic(tmp_path):
    a = gen_capture.generate(1500, 5, tmp_path / "a", ("pcap", "pcapng"))
    b = gen_capture.generate(1500, 5, tmp_path / "b", ("pcap", "pcapng"))
    c = gen_capture.generate(1500, 6, tmp_path / "c", ("pcap",))
    assert a["pcap"].read_bytes() == b["pcap"].read_bytes()
    assert a["pcapng"].read_bytes() == b["pcapng"].read_bytes()
    assert a["pcap"].read_bytes() != c["pcap"].read_bytes()


# --- the rule -----------------------------------------------------------------------------


@pytest.mark.parametrize("nh", sorted(SKIP_NEXT_HEADERS))
def test_skipped_next_headers_are_silent_and_irrelevant_in_the_decoder(nh):
    rng = random.Random(nh)
    for size in (0, 1, 8, 40, 200):
        payload = bytes(rng.getrandbits(8) for _ in range(size))
        pkt = build.ipv6_header("2001:db8::1", "2001:db8::2", nh, len(payload)) + payload
        problems: list = []
        decoded = decode_ipv6(pkt, 0, problems)
        assert decoded is not None and not decoded.relevant and problems == []
        assert not must_decode(pkt, 0, len(pkt))


def test_must_decode_the_packets_that_matter():
    hoti = build.mh_packet(HomeTestInit(), "2001:db8::1", "2001:db8::2")
    hao = build.udp_packet("2001:db8:1::1", "2001:db8::2", b"x", hoa="2001:db8::1")
    rh2 = build.udp_packet("2001:db8::2", "2001:db8:1::1", b"x", home="2001:db8::1")
    for pkt in (
        hoti,
        hao,
        rh2,
        build.tunnel("2001:db8::a", "2001:db8::b", hoti),
        build.tunnel("2001:db8::a", "2001:db8::b", build.udp_packet("::1", "::2", b"")),
    ):
        assert must_decode(pkt, 0, len(pkt))
    assert must_decode(hoti[:39], 0, 39)  # truncated: decoder reports it
    udp = build.udp_packet("2001:db8::1", "2001:db8::2", b"x")
    assert not must_decode(udp, 0, len(udp))
    # Hop-by-Hop then UDP: walked and skipped; Hop-by-Hop then MH: decoded
    hbh = lambda nh: bytes((nh, 0, 1, 4, 0, 0, 0, 0))  # noqa: E731
    for inner, expect in ((C.NH_UDP, False), (C.NH_MOBILITY, True), (C.NH_IPV6, True)):
        p = build.ipv6_header("::1", "::2", C.NH_HOPOPTS, 8 + 8) + hbh(inner) + bytes(8)
        assert must_decode(p, 0, len(p)) is expect


# --- hypothesis: arbitrary frames and mutated mobility packets ---------------------------


def _eth(ip6: bytes) -> bytes:
    return build.ethernet(ip6)


def _mobility_packets():
    hoa, coa, cn, ha = "2001:db8:100::10", "2001:db8:300::7", "2001:db8:200::1", "2001:db8:100::1"
    bu = BindingUpdate(
        sequence=7, lifetime=100, options=[NonceIndices(1, 0), BindingAuthorizationData(bytes(12))]
    )
    hoti = build.mh_packet(HomeTestInit(init_cookie=bytes(range(8))), hoa, cn)
    frag_udp = (
        build.ipv6_header(coa, cn, C.NH_FRAGMENT, 8 + 16)
        + bytes((C.NH_UDP, 0, 0, 1, 0, 0, 0, 9))
        + bytes(16)
    )
    return [
        build.mh_packet(bu, coa, cn, hoa=hoa),
        build.tunnel(coa, ha, hoti),
        hoti,
        build.udp_packet(cn, coa, b"data" * 4, home=hoa),
        build.udp_packet(coa, cn, b"data" * 4, hoa=hoa),
        build.tunnel(coa, ha, build.udp_packet(hoa, cn, b"rt")),
        build.ipv6_header(coa, cn, C.NH_HOPOPTS, 8 + 8)
        + bytes((C.NH_TCP, 0, 1, 4, 0, 0, 0, 0))
        + bytes(8),
        frag_udp,
        build.ipv6_header(coa, cn, C.NH_AH, 12 + 8) + bytes((C.NH_UDP, 1)) + bytes(10) + bytes(8),
        build.ipv6_header(coa, cn, C.NH_ROUTING, 24) + bytes((C.NH_NONE, 2, 0, 1)) + bytes(20),
    ]


MOBILITY = _mobility_packets()
SNAP6 = b"\xaa\xaa\x03\x00\x00\x00\x86\xdd"


def _wlan(p: bytes) -> bytes:
    """An 802.11 frame (hand-built): QoS data, or a 4-address one, or a protected one
    (skipped), by the packet's length, so that runs mix them."""
    k = len(p) % 3
    if k == 0:  # QoS data, From DS, QoS control 0
        return b"\x88\x02" + bytes(22) + b"\x00\x00" + SNAP6 + p
    if k == 1:  # plain data, To DS + From DS: 4 addresses
        return b"\x08\x03" + bytes(28) + SNAP6 + p
    return b"\x08\x41" + bytes(22) + bytes(8) + SNAP6 + p  # protected (CCMP header)


def _radiotap(p: bytes) -> bytes:
    # version 0, length 9, Flags present (no TSFT), flags 0 (or a beacon every 4th)
    hdr = b"\x00\x00\x09\x00\x02\x00\x00\x00\x00"
    if len(p) % 4 == 3:
        return hdr + b"\x80\x00" + bytes(22) + bytes(12)
    return hdr + _wlan(p)


LINKS = {
    LINKTYPE_ETHERNET: _eth,
    LINKTYPE_RAW: lambda p: p,
    LINKTYPE_LINUX_SLL: lambda p: bytes(14) + b"\x86\xdd" + p,
    LINKTYPE_NULL: lambda p: b"\x0a\x00\x00\x00" + p,
    9: lambda p: (b"\xff\x03\x00\x57" if len(p) % 2 else b"\x57") + p,  # PPP, PFC
    50: lambda p: (b"\xff\x03\x00\x57" if len(p) % 2 else b"\x8f\x00\x86\xdd") + p,
    105: _wlan,
    127: _radiotap,
}


@st.composite
def mutated(draw):
    """A mobility-ish packet with a few bytes changed and maybe cut short."""
    kind = draw(st.integers(0, 2))
    if kind == 0:
        pkt = bytearray(draw(st.sampled_from(MOBILITY)))
    elif kind == 1:
        msg = draw(wire_ready())
        pkt = bytearray(
            build.mh_packet(
                msg,
                "2001:db8::1",
                "2001:db8::2",
                align=False,
                hoa=draw(st.sampled_from([None, "2001:db8:9::9"])),
            )
        )
    else:
        pkt = bytearray(draw(st.binary(max_size=120)))
        if pkt:
            pkt[0] = (pkt[0] & 0x0F) | 0x60
    for at, value in draw(
        st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=4)
    ):
        if pkt:
            pkt[at % len(pkt)] = value
    if draw(st.booleans()):
        pkt = pkt[: draw(st.integers(0, len(pkt)))]
    return bytes(pkt)


frames_strategy = st.lists(st.one_of(mutated(), st.binary(max_size=80)), min_size=1, max_size=8)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=frames_strategy, lt=st.sampled_from(sorted(LINKS)))
def test_fast_equals_reference_pcap(frames, lt):
    wrap = LINKS[lt]
    # each frame once as a wrapped IPv6 packet and once as raw link-layer bytes
    data = [wrap(f) for f in frames] + frames
    check(pcap_bytes([(T0 + i * 1000, d) for i, d in enumerate(data)], lt))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=frames_strategy, ifs=st.lists(st.integers(0, 7), min_size=1, max_size=8))
def test_fast_equals_reference_pcapng_mixed_interfaces(frames, ifs):
    lts = [LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LINUX_SLL, LINKTYPE_NULL, 147, 127, 9]
    pkts = []
    for i, f in enumerate(frames):
        iid = ifs[i % len(ifs)]  # 7: an undescribed interface
        lt = lts[iid] if iid < len(lts) else LINKTYPE_ETHERNET
        pkts.append((iid, T0 + i, LINKS.get(lt, _eth)(f)))
    raw = pcapng_bytes([(lt, 9) for lt in lts], pkts)
    # plus a simple packet block and an obsolete packet block
    raw += pcapng_block(3, len(_eth(frames[0])).to_bytes(4, "little") + _eth(frames[0]))
    raw += pcapng_block(
        2,
        (0).to_bytes(2, "little") * 2
        + bytes(8)
        + len(frames[-1]).to_bytes(4, "little") * 2
        + _eth(frames[-1]),
    )
    check(raw)


VALID = [
    pcap_bytes([(T0 + i, _eth(p)) for i, p in enumerate(MOBILITY)], LINKTYPE_ETHERNET),
    pcapng_bytes(
        [(LINKTYPE_ETHERNET, None), (LINKTYPE_RAW, 9)],
        [(i % 2, T0 + i, _eth(p) if i % 2 == 0 else p) for i, p in enumerate(MOBILITY)],
    ),
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.integers(0, 1),
    cut=st.integers(0, 5000),
    edits=st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 255)), max_size=6),
)
def test_corrupted_and_cut_captures_same_diagnoses(which, cut, edits):
    raw = bytearray(VALID[which])
    for at, value in edits:
        raw[at % len(raw)] = value
    check(bytes(raw[: cut % (len(raw) + 1)]))
    check(bytes(raw))


# --- streaming behaviour ------------------------------------------------------------------


def test_stats_agree_at_every_record_and_after_an_early_stop(tmp_path):
    path = gen_capture.generate(3000, 11, tmp_path, ("pcap",))["pcap"]
    d1, s1, d2, s2 = Diagnostics(), StreamStats(), Diagnostics(), StreamStats()
    ref = records_from_frames(open_frames(path, d1), d1, s1)
    got = capture_records(path, d2, s2)
    for k, (a, b) in enumerate(zip(ref, got, strict=False)):
        assert a == b
        assert s1 == s2
        if k == 20:
            break
    ref.close()
    got.close()
    assert s1 == s2 and s1.frames < 3000


def test_read_records_uses_the_fast_path_and_reports_progress(tmp_path):
    path = gen_capture.generate(20000, 2, tmp_path, ("pcap",))["pcap"]

    class Counter:
        calls: list = []

        def update(self, frames=0, octets=None):
            self.calls.append((frames, octets))

    prog = Counter()
    d, s = Diagnostics(), StreamStats()
    recs = list(read_records(str(path), d, s, progress=prog))
    ref = reference(path, str(path))
    assert_same(ref, (recs, d, s))
    assert recs[0].source == str(path)
    assert prog.calls and prog.calls[-1][0] == 20000
    assert prog.calls[-1][1] == path.stat().st_size
    frames = [c[0] for c in prog.calls]
    assert frames == sorted(frames)


def test_not_a_capture_raises_before_the_first_record(tmp_path):
    p = tmp_path / "x.pcap"
    p.write_bytes(b"hello world, no capture here at all")
    with pytest.raises(InputError, match="not a pcap or pcapng"):
        capture_records(p, Diagnostics())
    for raw in (b"\xd4\xc3\xb2\xa1\x02\x00", b"\x0a\x0d\x0d\x0a\x1c\x00"):
        assert_same(reference(raw), fast(raw))


class Trickle(io.RawIOBase):
    """A stream that returns at most ``k`` octets per read (pipes, slow sources)."""

    def __init__(self, data: bytes, k: int):
        self.data, self.k, self.pos = data, k, 0

    def readable(self):
        return True

    def readinto(self, b):
        n = min(self.k, len(b), len(self.data) - self.pos)
        b[:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
@pytest.mark.parametrize("k", [1, 7, 1000, 70000])
def test_small_reads_give_the_same_result(tmp_path, fmt, k):
    path = gen_capture.generate(600 if k == 1 else 3000, 8, tmp_path, (fmt,))[fmt]
    raw = path.read_bytes()
    ref = reference(raw)
    for stream in (Trickle(raw, k), io.BufferedReader(Trickle(raw, k), 64)):
        d, s = Diagnostics(), StreamStats()
        assert_same(ref, (list(capture_records(stream, d, s, "x")), d, s))


def test_a_text_stream_is_refused_like_the_reader():
    raw = pcap_bytes([(T0, _eth(p)) for p in MOBILITY], LINKTYPE_ETHERNET)

    class Text:
        name = "<text>"

        def __init__(self):
            self.first = True

        def read(self, n=-1):
            if self.first:
                self.first = False
                return raw[:200]
            return "text"

    with pytest.raises(InputError, match="not binary"):
        list(capture_records(Text(), Diagnostics()))


def test_large_records_and_a_pipe(tmp_path):
    import os
    import threading

    big = [
        (
            T0 + i,
            _eth(build.udp_packet("2001:db8::1", "2001:db8::2", bytes(60000), hoa="2001:db8::9")),
        )
        for i in range(200)
    ]
    raw = pcap_bytes(big, LINKTYPE_ETHERNET)
    r, w = os.pipe()

    def feed():
        with os.fdopen(w, "wb") as fh:
            for i in range(0, len(raw), 4096):
                fh.write(raw[i : i + 4096])

    t = threading.Thread(target=feed)
    t.start()
    with os.fdopen(r, "rb") as fh:
        d, s = Diagnostics(), StreamStats()
        got = (list(capture_records(fh, d, s, "x")), d, s)
    t.join()
    assert len(got[0]) == 200
    assert_same(reference(raw), got)


# Long runs of skippable Ethernet packets (the fast loops' inner runs), corrupted and cut.
_BENCH = list(gen_capture.packets(400, 9))
BENCH_VALID = [
    pcap_bytes(_BENCH, LINKTYPE_ETHERNET),
    pcapng_bytes([(LINKTYPE_ETHERNET, None)], [(0, ts, fr) for ts, fr in _BENCH]),
    pcapng_bytes(
        [(LINKTYPE_RAW, 9), (LINKTYPE_ETHERNET, None)],
        [(1, ts, fr) for ts, fr in _BENCH],
        big_endian=True,
    ),
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.integers(0, len(BENCH_VALID) - 1),
    cut=st.integers(0, 1 << 20),
    edits=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=5),
)
def test_corrupted_runs_of_ordinary_packets(which, cut, edits):
    raw = bytearray(BENCH_VALID[which])
    for at, value in edits:
        raw[at % len(raw)] = value
    check(bytes(raw[: cut % (len(raw) + 1)]))
    check(bytes(raw))
