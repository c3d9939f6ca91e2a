"""Every listed link type through decode and analyze: the same rows as over Ethernet.

The sample capture's IPv6 packets (read with dpkt, an independent reader) are wrapped
by scapy in each link layer -- 802.11 data and QoS data with LLC/SNAP, 4-address
frames, radiotap headers with several present fields, PPP with and without the HDLC
address/control and with protocol-field compression, PPP in HDLC framing, Cisco HDLC
-- and every tenth frame is one that carries no IPv6 (ARP over Ethernet; a beacon, a
protected frame, a null frame over 802.11; LCP over PPP), so frame numbers line up.
The files are written as Ethernet pcap, then given their link type by tshark's
``editcap -T`` (where editcap has a name for it) and turned into pcapng by
``editcap -F pcapng``.  decode and analyze must print the same rows as for the
Ethernet capture, and count the other frames under their skip reasons.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import dpkt
import pytest
from scapy.layers.dot11 import Dot11, Dot11Beacon, Dot11QoS, Dot11WEP, RadioTap
from scapy.layers.l2 import ARP, LLC, SNAP, Ether
from scapy.layers.ppp import HDLC, PPP

from tests.support.capbuild import pcap_bytes, pcapng_bytes
from tests.support.cli import SAMPLES, run_cli

EDITCAP = shutil.which("editcap")
pytestmark = pytest.mark.skipif(EDITCAP is None, reason="editcap (tshark) not installed")
SNAP6 = LLC() / SNAP(code=0x86DD)
# editcap's names for the link types (editcap -T); PPP in HDLC framing (50) has none.
EDITCAP_NAMES = {1: "ether", 9: "ppp", 104: "chdlc", 105: "ieee-802-11"}
EDITCAP_NAMES[127] = "ieee-802-11-radiotap"


def _sample_packets() -> list[tuple[int, bytes]]:
    with open(SAMPLES / "standard.pcap", "rb") as fh:
        reader = dpkt.pcap.Reader(fh)
        assert reader.datalink() == 229  # LINKTYPE_IPV6
        return [(int(ts * 1_000_000) * 1000, bytes(buf)) for ts, buf in reader]


def _wlan(i: int, p: bytes) -> bytes:
    if i % 3 == 0:
        return bytes(Dot11(type=2, subtype=8, FCfield="from_DS") / Dot11QoS() / SNAP6 / p)
    if i % 3 == 1:
        return bytes(Dot11(type=2, subtype=0, FCfield="to_DS+from_DS") / SNAP6 / p)
    return bytes(Dot11(type=2, subtype=0, FCfield="to_DS") / SNAP6 / p)


def _wlan_other(i: int) -> bytes:
    k = i % 3
    if k == 0:
        return bytes(Dot11(type=0, subtype=8) / Dot11Beacon())
    if k == 1:
        return bytes(Dot11(type=2, subtype=8, FCfield="to_DS+protected") / Dot11QoS() / Dot11WEP())
    return bytes(Dot11(type=2, subtype=4, FCfield="to_DS"))


def _radiotap(i: int, p: bytes) -> bytes:
    rt = RadioTap(present="TSFT+Flags+Rate+Channel+dBm_AntSignal", Flags=0) if i % 2 else RadioTap()
    return bytes(rt) + _wlan(i, p)


# link type -> (wrap an IPv6 packet, a frame without IPv6, the skip reasons it gives)
LINKS = {
    1: (lambda i, p: bytes(Ether(type=0x86DD) / p), lambda i: bytes(Ether() / ARP()), {"not_ipv6"}),
    105: (_wlan, _wlan_other, {"wlan_not_data", "wlan_protected", "wlan_null_data"}),
    127: (
        _radiotap,
        lambda i: bytes(RadioTap()) + _wlan_other(i),
        {"wlan_not_data", "wlan_protected", "wlan_null_data"},
    ),
    9: (
        lambda i, p: bytes(PPP(proto=0x57) / p) if i % 2 else b"\xff\x03\x57" + p,
        lambda i: b"\xff\x03\xc0\x21" + bytes(8),
        {"not_ipv6"},
    ),
    50: (
        lambda i, p: bytes(HDLC() / PPP(proto=0x57) / p),
        lambda i: b"\xff\x03\xc0\x21" + bytes(8),
        {"not_ipv6"},
    ),
    104: (
        lambda i, p: b"\x0f\x00\x86\xdd" + p,
        lambda i: b"\x8f\x00\x80\x35" + bytes(8),
        {"not_ipv6"},
    ),
}


def _frames(lt: int) -> list[tuple[int, bytes]]:
    wrap, other, _ = LINKS[lt]
    out = []
    for i, (ts, pkt) in enumerate(_sample_packets()):
        if i % 10 == 5:
            out.append((ts, other(i)))
        out.append((ts, wrap(i, pkt)))
    return out


def _capture(tmp: Path, lt: int, fmt: str) -> Path:
    """The frames of ``lt`` written as Ethernet, relabelled by editcap -T (pcap), then
    converted by editcap -F pcapng.  Always named ``capture`` (in a folder of its own):
    the file name is in analyze's rows, and the format is told by content."""
    name = EDITCAP_NAMES.get(lt)
    (tmp / "pcap").mkdir(exist_ok=True)
    (tmp / "pcapng").mkdir(exist_ok=True)
    pcap, ng = tmp / "pcap" / "capture", tmp / "pcapng" / "capture"
    if name is None:  # editcap would write PPP_HDLC as PPP (9): written here
        pcap.write_bytes(pcap_bytes(_frames(lt), lt))
        ng.write_bytes(pcapng_bytes([(lt, None)], [(0, ts, d) for ts, d in _frames(lt)]))
        return pcap if fmt == "pcap" else ng
    base = tmp / f"lt{lt}-base.pcap"
    base.write_bytes(pcap_bytes(_frames(lt), 1))
    cmd = [EDITCAP, "-F", "pcap"] + (["-T", name] if name else []) + [str(base), str(pcap)]
    subprocess.run(cmd, check=True, capture_output=True)
    if fmt == "pcap":
        return pcap
    subprocess.run([EDITCAP, "-F", "pcapng", str(pcap), str(ng)], check=True, capture_output=True)
    return ng


@pytest.fixture(scope="module")
def ethernet(tmp_path_factory):
    path = _capture(tmp_path_factory.mktemp("eth"), 1, "pcap")
    return {cmd: run_cli(cmd, path, "-f", "csv") for cmd in ("decode", "analyze")}


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
@pytest.mark.parametrize("lt", [105, 127, 9, 50, 104])
def test_same_rows_as_ethernet(tmp_path, ethernet, lt, fmt):
    path = _capture(tmp_path, lt, fmt)
    head = path.read_bytes()[:24]
    if fmt == "pcap":
        assert int.from_bytes(head[20:24], "little") == lt  # editcap wrote that link type
    for cmd in ("decode", "analyze"):
        want, got = ethernet[cmd], run_cli(cmd, path, "-f", "csv")
        assert want.exit_code == 0 and got.exit_code == 0, got.stderr
        assert len(want.stdout.splitlines()) > (10 if cmd == "decode" else 2)
        assert got.stdout == want.stdout, cmd


@pytest.mark.parametrize("lt", [105, 127, 9])
def test_skip_reasons_reported(tmp_path, lt):
    res = run_cli("decode", _capture(tmp_path, lt, "pcapng"), "-f", "csv")
    assert res.exit_code == 0
    for reason in LINKS[lt][2]:
        assert reason in res.stderr, res.stderr


def test_unsupported_interface_beside_a_supported_one(tmp_path):
    """pcapng: a USB interface beside an 802.11 one -- a counted warning, its frames
    counted as skipped under the link type's name; alone -- exit 3 like pcap."""
    frames = _frames(105)
    usb = [(1, ts, b"\x00" * 48) for ts, _ in frames[:3]]
    mixed = pcapng_bytes([(105, None), (189, None)], [(0, ts, d) for ts, d in frames] + usb)
    (tmp_path / "mixed.pcapng").write_bytes(mixed)
    res = run_cli("decode", tmp_path / "mixed.pcapng", "-f", "csv")
    assert res.exit_code == 0
    assert res.stdout == run_cli("decode", _capture(tmp_path, 105, "pcap"), "-f", "csv").stdout
    assert "unsupported_linktype" in res.stderr and "unsupported_linktype_usb_linux 3" in res.stderr
    only = pcapng_bytes([(189, None)], usb)
    (tmp_path / "usb.pcapng").write_bytes(only)
    (tmp_path / "usb.pcap").write_bytes(pcap_bytes([(ts, d) for _, ts, d in usb], 189))
    for name in ("usb.pcapng", "usb.pcap"):
        for cmd in ("decode", "analyze"):
            res = run_cli(cmd, tmp_path / name, "-f", "csv")
            assert res.exit_code == 3, (name, cmd, res.stderr)
            assert "no interface has a supported link type" in res.stderr
            assert "USB_LINUX" in res.stderr
