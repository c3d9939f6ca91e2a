"""open_frames: pcap and pcapng reading, cross-checked with dpkt, scapy and tshark."""

from __future__ import annotations

import dataclasses
import io
import os
import shutil
import struct
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

import dpkt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ebutool.capture import ip6_offset, open_frames
from ebutool.capture.frame import Frame
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import InputError
from ebutool.records.from_packet import StreamStats
from ebutool.stream.reader import capture_records
from tests.support.capbuild import (
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV6,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_RAW,
    pcap_bytes,
    pcapng_block,
    pcapng_bytes,
    pcapng_idb,
    pcapng_shb,
    to_units,
)

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "captures"
TSHARK = shutil.which("tshark")
NS = 1_000_000_000
T0 = 1_700_000_000_123_456_789  # an arbitrary instant with all 9 digits set

IP6 = bytes.fromhex(
    "6000000000083b40" + "20010db8" + "00" * 11 + "01" + "20010db8" + "00" * 11 + "02"
) + bytes(8)
ETH6 = bytes(6) + b"\x02" + bytes(5) + b"\x86\xdd" + IP6
ETH4 = bytes(12) + b"\x08\x00" + b"\x45" + bytes(19)
SLL6 = bytes(14) + b"\x86\xdd" + IP6


def read(data: bytes | str | Path, diag: Diagnostics | None = None) -> list[Frame]:
    diag = Diagnostics() if diag is None else diag
    src = io.BytesIO(data) if isinstance(data, bytes) else data
    frames = list(open_frames(src, diag))
    for d in diag.kept:
        assert "\n" not in d.message and len(d.message) < 300
    return frames


def tshark_frames(path: Path) -> list[tuple[int, int]]:
    """(frame number, timestamp in ns) for every frame, as tshark reports them."""
    out = subprocess.run(
        [TSHARK, "-r", str(path), "-T", "fields", "-e", "frame.number", "-e", "frame.time_epoch"],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [line.split("\t") for line in out.stdout.splitlines() if line.strip()]
    return [(int(num), int(Decimal(ts) * NS)) for num, ts in rows]


needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark not installed")


# --- pcap ---------------------------------------------------------------------------------


@pytest.mark.parametrize("nanosecond", [False, True])
@pytest.mark.parametrize("big_endian", [False, True])
def test_pcap_both_precisions_both_byte_orders(nanosecond, big_endian):
    raw = pcap_bytes(
        [(T0, ETH6), (T0 + 1, ETH4, 1514), (0, b"")],
        LINKTYPE_ETHERNET,
        nanosecond=nanosecond,
        big_endian=big_endian,
    )
    frames = read(raw)
    t0 = T0 if nanosecond else T0 // 1000 * 1000
    t1 = T0 + 1 if nanosecond else t0
    assert frames == [
        Frame(1, t0, 1, ETH6, len(ETH6)),
        Frame(2, t1, 1, ETH4, 1514),
        Frame(3, 0, 1, b"", 0),
    ]
    assert ip6_offset(frames[0].linktype, frames[0].data) == 14
    assert ip6_offset(frames[1].linktype, frames[1].data) is None
    # The readers build frames without Frame.__init__ (speed); they must be the same thing.
    assert type(frames[0]) is Frame and hash(frames[0]) == hash(Frame(1, t0, 1, ETH6, len(ETH6)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        frames[0].frame = 7


@pytest.mark.parametrize(
    "lt, data",
    [
        (0, struct.pack("<I", 24) + IP6),
        (12, IP6),
        (14, IP6),
        (101, IP6),
        (108, struct.pack(">I", 30) + IP6),
        (113, SLL6),
        (229, IP6),
        (276, b"\x86\xdd" + bytes(18) + IP6),
        (1, ETH6),
    ],
)
def test_pcap_every_linktype_yields_ipv6(lt, data):
    (frame,) = read(pcap_bytes([(T0, data)], lt))
    assert frame.linktype == lt
    off = ip6_offset(lt, frame.data)
    assert off is not None and frame.data[off:] == IP6


def test_pcap_ipv4_linktype_reads_but_is_never_ipv6():
    (frame,) = read(pcap_bytes([(T0, ETH4[14:])], 228))
    assert frame.linktype == 228 and ip6_offset(228, frame.data) is None


def test_pcap_matches_dpkt_writer(tmp_path):
    buf = io.BytesIO()
    w = dpkt.pcap.Writer(buf, linktype=1, nano=True)
    w.writepkt(ETH6, ts=1_700_000_000.5)
    w.writepkt(ETH4, ts=1_700_000_001.25)
    frames = read(buf.getvalue())
    assert [(f.frame, f.ts_ns, f.data) for f in frames] == [
        (1, 1_700_000_000_500_000_000, ETH6),
        (2, 1_700_000_001_250_000_000, ETH4),
    ]


def test_pcap_matches_scapy_wrpcap(tmp_path):
    from scapy.layers.l2 import Ether
    from scapy.utils import wrpcap

    pkts = [Ether(ETH6), Ether(ETH4)]
    pkts[0].time, pkts[1].time = Decimal("1700000000.000250"), Decimal("1700000002.75")
    path = tmp_path / "scapy.pcap"
    wrpcap(str(path), pkts)
    frames = read(path)
    assert [(f.frame, f.ts_ns, f.linktype, f.data) for f in frames] == [
        (1, 1_700_000_000_000_250_000, 1, ETH6),
        (2, 1_700_000_002_750_000_000, 1, ETH4),
    ]


@needs_tshark
@pytest.mark.parametrize("nanosecond", [False, True])
def test_pcap_agrees_with_tshark(tmp_path, nanosecond):
    path = tmp_path / "t.pcap"
    path.write_bytes(
        pcap_bytes(
            [(T0 + i * 1_000_003_007, ETH6) for i in range(5)],
            LINKTYPE_ETHERNET,
            nanosecond=nanosecond,
            big_endian=nanosecond,
        )
    )
    assert [(f.frame, f.ts_ns) for f in read(path)] == tshark_frames(path)


# --- pcapng -------------------------------------------------------------------------------

IFACES = [(LINKTYPE_ETHERNET, None), (LINKTYPE_IPV6, 9), (LINKTYPE_LINUX_SLL, 0x80 | 20)]
PACKETS = [(0, T0, ETH6), (1, T0 + 1, IP6), (2, T0 + 2 * NS, SLL6), (0, T0 + 3, ETH4, 60)]


def expected_ts(iface, ts_ns):
    """What a reader must return: the units stored, converted back with floor."""
    _lt, res, *off = iface
    units = to_units(ts_ns, res, off[0] if off else None)
    res = 6 if res is None else res
    base = units * NS // (1 << (res & 0x7F)) if res & 0x80 else units * NS // 10**res
    return base + (off[0] * NS if off and off[0] else 0)


@pytest.mark.parametrize("big_endian", [False, True])
def test_pcapng_interfaces_with_different_linktypes_and_resolutions(big_endian):
    frames = read(pcapng_bytes(IFACES, PACKETS, big_endian=big_endian))
    assert [f.frame for f in frames] == [1, 2, 3, 4]
    assert [f.linktype for f in frames] == [1, 229, 113, 1]
    assert frames[0].ts_ns == T0 // 1000 * 1000  # 10^-6 default
    assert frames[1].ts_ns == T0 + 1  # 10^-9 exact
    assert frames[2].ts_ns == expected_ts(IFACES[2], T0 + 2 * NS)
    assert T0 + 2 * NS - frames[2].ts_ns < 954  # 2^-20 s is 953.67 ns
    assert frames[3].wirelen == 60 and frames[3].data == ETH4
    assert [ip6_offset(f.linktype, f.data) for f in frames] == [14, 0, 16, None]


def test_pcapng_tsoffset_positive_and_negative():
    ifaces = [(LINKTYPE_RAW, 9, 1_000_000_000), (LINKTYPE_RAW, 3, -7)]
    frames = read(pcapng_bytes(ifaces, [(0, T0, IP6), (1, T0, IP6)]))
    assert frames[0].ts_ns == T0
    assert frames[1].ts_ns == T0 // 1_000_000 * 1_000_000
    # Built by hand: 5 units of 10^-9 s on an interface whose offset is 100 s.
    epb = pcapng_block(6, struct.pack("<IIIII", 0, 0, 5, len(IP6), len(IP6)) + IP6)
    (frame,) = read(pcapng_shb() + pcapng_idb(LINKTYPE_RAW, 9, 100) + epb)
    assert frame.ts_ns == 100 * NS + 5


def test_pcapng_several_sections_restart_interfaces_and_byte_order():
    raw = pcapng_bytes([(LINKTYPE_ETHERNET, None)], [(0, T0, ETH6)]) + pcapng_bytes(
        [(LINKTYPE_IPV6, 9), (LINKTYPE_ETHERNET, 3)],
        [(1, T0, ETH4), (0, T0 + 5, IP6)],
        big_endian=True,
    )
    frames = read(raw)
    assert [(f.frame, f.linktype, f.ts_ns) for f in frames] == [
        (1, 1, T0 // 1000 * 1000),
        (2, 1, T0 // 1_000_000 * 1_000_000),
        (3, 229, T0 + 5),
    ]


def test_pcapng_simple_and_obsolete_packet_blocks():
    spb = pcapng_block(3, struct.pack("<I", len(IP6)) + IP6)
    spb_snapped = pcapng_block(3, struct.pack("<I", 1500) + IP6)  # data shorter than wire
    pb = pcapng_block(2, struct.pack("<HHIIII", 0, 0, 0, 1234, len(IP6), 99) + IP6)
    raw = pcapng_bytes([(LINKTYPE_RAW, 9)], [(0, T0, IP6)]) + spb + pb + spb_snapped
    diag = Diagnostics()
    frames = read(raw, diag)
    assert [(f.frame, f.ts_ns, f.wirelen, f.data) for f in frames] == [
        (1, T0, 40 + 8, IP6),
        (2, T0, 48, IP6),
        (3, 1234, 99, IP6),
        (4, 1234, 1500, IP6),
    ]
    assert diag.counts == {"no_timestamp": 1}  # warned once, not per SPB
    assert diag.kept[0].frame == 2


def test_pcapng_other_blocks_are_skipped_silently():
    nrb = pcapng_block(4, struct.pack("<HH", 0, 0))
    isb = pcapng_block(5, struct.pack("<III", 0, 0, 0))
    dsb = pcapng_block(10, struct.pack("<II", 0x544C534B, 4) + b"keys")
    custom = pcapng_block(0xBAD, struct.pack("<I", 32473) + b"whatever")
    head = pcapng_bytes([(LINKTYPE_RAW, 9)], [(0, T0, IP6)])
    raw = head + nrb + isb + dsb + custom + pcapng_block(6, head[-(len(IP6) + 24) : -4])
    diag = Diagnostics()
    frames = read(raw, diag)
    # (the custom block is a frame in Wireshark: tests/capture/test_pcapng_custom_blocks.py)
    assert [f.frame for f in frames] == [1, 3] and frames[1].data == IP6
    assert diag.total == 0


JOURNAL = b"__REALTIME_TIMESTAMP=1700000001000000\n__MONOTONIC_TIMESTAMP=1\nMESSAGE=hi\n"


def _mixed_pcapng() -> bytes:
    return (
        pcapng_bytes(IFACES, PACKETS[:3])
        + pcapng_block(9, JOURNAL)
        + pcapng_bytes([(LINKTYPE_ETHERNET, 3, -5)], [(0, T0, ETH6)], big_endian=True)
    )


def test_pcapng_counts_journal_entries_like_wireshark():
    frames = read(_mixed_pcapng())
    assert [f.frame for f in frames] == [1, 2, 3, 5]


@needs_tshark
def test_pcapng_agrees_with_tshark(tmp_path):
    path = tmp_path / "t.pcapng"
    path.write_bytes(_mixed_pcapng())
    ours = [(f.frame, f.ts_ns) for f in read(path)]
    theirs = [row for row in tshark_frames(path) if row[0] != 4]  # 4 is the journal entry
    assert ours == theirs and len(ours) == 4


def test_pcapng_matches_dpkt_writer():
    buf = io.BytesIO()
    w = dpkt.pcapng.Writer(buf, linktype=LINKTYPE_ETHERNET)
    w.writepkt(ETH6, ts=1_700_000_000.5)
    w.writepkt(ETH4, ts=1_700_000_003.25)
    frames = read(buf.getvalue())
    assert [(f.frame, f.ts_ns, f.linktype, f.data) for f in frames] == [
        (1, 1_700_000_000_500_000_000, 1, ETH6),
        (2, 1_700_000_003_250_000_000, 1, ETH4),
    ]


def test_pcapng_matches_scapy_writer(tmp_path):
    from scapy.layers.l2 import Ether
    from scapy.utils import PcapNgWriter

    pkts = [Ether(ETH6), Ether(ETH4)]  # scapy writes one interface, one link type
    pkts[0].time, pkts[1].time = Decimal("1700000000.000001"), Decimal("1700000005.5")
    path = tmp_path / "scapy.pcapng"
    with PcapNgWriter(str(path)) as w:
        for p in pkts:
            w.write(p)
    frames = read(path)
    assert [(f.frame, f.ts_ns, f.linktype, f.data) for f in frames] == [
        (1, 1_700_000_000_000_001_000, 1, ETH6),
        (2, 1_700_000_005_500_000_000, 1, ETH4),
    ]


def test_pcapng_unsupported_linktype_frames_are_warned_and_counted():
    raw = pcapng_bytes(
        [(147, None), (LINKTYPE_RAW, 9)], [(0, T0, b"x"), (1, T0, IP6), (0, T0, b"y")]
    )
    diag = Diagnostics()
    # The reference run (no skip rule) hands every frame on, with its link type ...
    frames = read(raw, diag)
    assert [(f.frame, f.linktype) for f in frames] == [(1, 147), (2, LINKTYPE_RAW), (3, 147)]
    assert diag.counts == {"unsupported_linktype": 2}
    assert [d.frame for d in diag.kept] == [1, 3] and "147 (USER0)" in diag.kept[0].message
    # ... and the record stream counts those frames as skipped under the link type's name.
    diag, stats = Diagnostics(), StreamStats()
    assert len(list(capture_records(io.BytesIO(raw), diag, stats))) == 0
    assert stats.frames == 3 and stats.ipv6 == 1
    assert stats.skipped == {"unsupported_linktype_user0": 2, "not_mobility_related": 1}
    assert diag.counts == {"unsupported_linktype": 2}


@pytest.mark.parametrize("where", ["epb", "spb", "pb"])
def test_pcapng_with_no_supported_interface_is_refused_like_pcap(where):
    body = b"\x00" * 8
    if where == "epb":
        raw = pcapng_bytes([(147, None), (189, None)], [(0, T0, b"x"), (1, T0, b"y")])
    elif where == "spb":
        raw = pcapng_bytes([(147, None)], []) + pcapng_block(3, struct.pack("<I", 8) + body)
    else:
        pb = struct.pack("<HHIIII", 0, 0, 0, 0, 8, 8) + body
        raw = pcapng_bytes([(147, None)], []) + pcapng_block(2, pb)
    with pytest.raises(InputError, match=r"no interface has a supported link type.*147 USER0"):
        read(raw)
    with pytest.raises(InputError, match="no interface has a supported link type"):
        list(capture_records(io.BytesIO(raw), Diagnostics(), StreamStats()))
    with pytest.raises(InputError, match="no interface has a supported link type"):
        read(pcap_bytes([(T0, b"x")], 147))


def test_pcapng_unknown_interface_is_skipped():
    raw = pcapng_bytes([(LINKTYPE_RAW, 9)], [(0, T0, IP6), (3, T0, IP6), (0, T0, IP6)])
    diag = Diagnostics()
    assert [f.frame for f in read(raw, diag)] == [1, 3]
    assert diag.counts == {"unknown_interface": 1} and diag.kept[0].frame == 2


# --- truncation and corruption ------------------------------------------------------------


def _three(fmt: str) -> bytes:
    frames = [(T0, ETH6), (T0 + 1000, ETH4), (T0 + 2000, ETH6)]
    if fmt == "pcap":
        return pcap_bytes(frames, LINKTYPE_ETHERNET)
    return pcapng_bytes([(LINKTYPE_ETHERNET, None)], [(0, t, d) for t, d in frames])


@pytest.mark.parametrize("fmt, rec_header", [("pcap", 16), ("pcapng", 28)])
@pytest.mark.parametrize("where", ["header", "data"])
def test_truncated_last_record(fmt, rec_header, where):
    raw = _three(fmt)
    record_len = rec_header + len(ETH6) + (4 if fmt == "pcapng" else 0)
    record_len += -record_len % 4 if fmt == "pcapng" else 0
    keep = 10 if where == "header" else rec_header + 20  # octets of the last record kept
    diag = Diagnostics()
    frames = read(raw[: len(raw) - record_len + keep], diag)
    assert [f.frame for f in frames] == [1, 2] and frames[1].data == ETH4
    assert diag.counts == {"truncated_record": 1}
    (d,) = diag.kept
    total = 16 if fmt == "pcap" and where == "header" else record_len
    assert d.frame == 3
    assert d.message == f"frame 3: record cut off after {keep} of {total} octets; capture ends here"


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_truncated_file_read_through_a_path_too(tmp_path, fmt):
    path = tmp_path / f"cut.{fmt}"
    path.write_bytes(_three(fmt)[:-7])
    diag = Diagnostics()
    assert len(read(path, diag)) == 2 and diag.counts["truncated_record"] == 1


def test_pcap_impossible_caplen_stops_with_corrupt_record():
    raw = _three("pcap")
    bad = raw[:24] + raw[24 : 24 + 16 + len(ETH6)] + struct.pack("<IIII", 1, 0, 0xFFFFFFF0, 60)
    diag = Diagnostics()
    assert [f.frame for f in read(bad + b"\0" * 100, diag)] == [1]
    assert diag.counts == {"corrupt_record": 1} and diag.kept[0].frame == 2


@pytest.mark.parametrize("length", [13, 8, 0x7FFFFFFC])
def test_pcapng_impossible_block_length_stops_with_corrupt_record(length):
    good = pcapng_bytes([(LINKTYPE_RAW, 9)], [(0, T0, IP6)])
    diag = Diagnostics()
    frames = read(good + struct.pack("<II", 6, length) + bytes(40) + good[-60:], diag)
    assert [f.frame for f in frames] == [1]
    assert diag.counts == {"corrupt_record": 1}


def test_pcapng_mismatched_trailing_length_is_corrupt():
    good = pcapng_bytes([(LINKTYPE_RAW, 9)], [(0, T0, IP6)])
    bad = good + good[-(len(IP6) + 32) : -4] + b"\x01\x00\x00\x00"
    diag = Diagnostics()
    assert len(read(bad, diag)) == 1 and diag.counts == {"corrupt_record": 1}


# --- bad input as a whole -----------------------------------------------------------------


def test_empty_file(tmp_path):
    path = tmp_path / "empty.pcap"
    path.write_bytes(b"")
    with pytest.raises(InputError) as exc:
        open_frames(str(path), Diagnostics())
    assert str(exc.value) == f"{path}: empty file (0 bytes), not a pcap or pcapng capture"


def test_not_a_capture(tmp_path):
    path = tmp_path / "capture.pcap"  # the name does not matter, the magic does
    path.write_bytes(b"GIF89a" + bytes(100))
    with pytest.raises(InputError) as exc:
        open_frames(path, Diagnostics())
    assert str(exc.value) == f"{path}: not a pcap or pcapng capture (first bytes 0x47494638)"


def test_pcapng_named_pcap_is_read_by_magic(tmp_path):
    path = tmp_path / "really-pcapng.pcap"
    path.write_bytes(pcapng_bytes([(LINKTYPE_RAW, 9)], [(0, T0, IP6)]))
    assert read(path)[0].ts_ns == T0


@pytest.mark.parametrize("cut", [1, 3, 10, 20, 23, 27])
def test_header_cut_short(cut):
    for raw in (pcap_bytes([], 1), pcapng_bytes([], [])):
        if cut < len(raw):
            with pytest.raises(InputError, match="cut short"):
                read(raw[:cut])


def test_pcap_unsupported_linktype_names_it():
    with pytest.raises(InputError, match=r"link type 147 \(USER0\) is not supported"):
        read(pcap_bytes([(T0, b"x")], 147))


def test_missing_file_and_bad_pcapng_header(tmp_path):
    with pytest.raises(InputError, match="cannot open"):
        open_frames(tmp_path / "nope.pcap", Diagnostics())
    shb = bytearray(pcapng_shb())
    shb[8:12] = b"\0\0\0\0"
    with pytest.raises(InputError, match="byte-order magic"):
        read(bytes(shb))


# --- streams ------------------------------------------------------------------------------


def _big_capture() -> tuple[bytes, list[bytes]]:
    """~3 MiB so that records straddle the 1 MiB read blocks."""
    datas = [bytes([i % 251]) * (i * 37 % 1500) for i in range(4000)]
    return pcap_bytes([(T0 + i, d) for i, d in enumerate(datas)], 1, nanosecond=True), datas


class Dribble(io.RawIOBase):
    """A non-seekable stream that returns at most 7 octets per read."""

    def __init__(self, data: bytes):
        self._data, self._pos = data, 0

    def readable(self):
        return True

    def readinto(self, b):
        n = min(len(b), 7, len(self._data) - self._pos)
        b[:n] = self._data[self._pos : self._pos + n]
        self._pos += n
        return n


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_tiny_reads_give_the_same_frames(fmt):
    raw = _three(fmt)
    assert read(Dribble(raw)) == read(raw)


def test_large_capture_through_a_pipe():
    raw, datas = _big_capture()
    r, w = os.pipe()
    writer = threading.Thread(target=lambda: (os.write(w, raw) and None, os.close(w)))
    writer.start()
    with os.fdopen(r, "rb") as f:
        frames = read(f)
    writer.join()
    assert [f.data for f in frames] == datas
    assert [f.ts_ns for f in frames] == [T0 + i for i in range(len(datas))]


def test_stdin_dash_in_a_subprocess():
    raw = _three("pcapng")
    code = (
        "import sys; from ebutool.capture import open_frames;"
        "from ebutool.core.diagnostics import Diagnostics;"
        "[print(f.frame, f.ts_ns, f.linktype, len(f.data)) for f in open_frames('-', "
        "Diagnostics())]"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=raw, capture_output=True, cwd=REPO, check=True
    )
    assert out.stdout.decode().split("\n")[:3] == [
        f"1 {T0 // 1000 * 1000} 1 {len(ETH6)}",
        f"2 {(T0 + 1000) // 1000 * 1000} 1 {len(ETH4)}",
        f"3 {(T0 + 2000) // 1000 * 1000} 1 {len(ETH6)}",
    ]


# --- third-party captures -----------------------------------------------------------------

SHARED_FILES = sorted(SHARED.glob("*/*.pcap")) if SHARED.is_dir() else []


@pytest.mark.skipif(
    not (SHARED / "tcpdump" / "ipv6_mobility_1.pcap").exists(),
    reason="../shared/captures not present",
)
def test_tcpdump_ipv6_mobility_1_known_numbers():
    diag = Diagnostics()
    frames = read(SHARED / "tcpdump" / "ipv6_mobility_1.pcap", diag)
    assert len(frames) == 16 and diag.total == 0
    assert {f.linktype for f in frames} == {229}
    assert all(ip6_offset(229, f.data) == 0 and f.data[6] == 135 for f in frames)


@needs_tshark
@pytest.mark.parametrize("path", SHARED_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_third_party_captures_agree_with_tshark(path):
    diag = Diagnostics()
    ours = [(f.frame, f.ts_ns) for f in read(path, diag)]
    assert ours == tshark_frames(path) and ours


# --- robustness ---------------------------------------------------------------------------


def _consume(raw: bytes) -> list[Frame]:
    try:
        return read(raw)
    except InputError:
        return []


VALID = [
    _three("pcap"),
    _three("pcapng"),
    pcapng_bytes(IFACES, PACKETS, big_endian=True),
    pcap_bytes([(T0, IP6)] * 3, 229, nanosecond=True, big_endian=True),
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_random_bytes_only_ever_raise_input_error(data):
    _consume(data)
    _consume(b"\xd4\xc3\xb2\xa1" + data)  # valid pcap magic, garbage after
    _consume(b"\x0a\x0d\x0d\x0a" + data[:4] + b"\x4d\x3c\x2b\x1a" + data[4:])


@settings(max_examples=300, deadline=None)
@given(which=st.integers(0, len(VALID) - 1), cut=st.integers(0, 10_000))
def test_prefixes_of_valid_captures_give_a_prefix_of_the_frames(which, cut):
    raw = VALID[which]
    full = read(raw)
    part = _consume(raw[: cut % (len(raw) + 1)])
    assert part == full[: len(part)]
    assert len(full) >= 3


@settings(max_examples=300, deadline=None)
@given(
    which=st.integers(0, len(VALID) - 1),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=6),
)
def test_corrupted_bytes_of_valid_captures_never_crash(which, edits):
    raw = bytearray(VALID[which])
    for at, value in edits:
        raw[at % len(raw)] = value
    _consume(bytes(raw))
