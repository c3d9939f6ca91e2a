"""A BU/EBU or BA/EBA the capture cut short (snaplen below the packet's length) cannot
have its authenticator checked: it covers the whole message (RFC 6275 5.2.6), and an
option missing from the capture may only be past the cut.  Before, such a message was
`invalid`, "no Binding Authorization Data option" (a wrong verdict on a correct MAC).

Captures are built with the independent builder (tests/support/rfc_scenarios) and the
pcap record headers written here by hand: captured length < original length.
"""

from __future__ import annotations

import json
import struct

import pytest

from ebutool.core.diagnostics import Diagnostics
from ebutool.oracle.keys import load_keys_file as load_keys
from ebutool.oracle.verify import Oracle
from ebutool.stream.reader import read_records
from tests.support.rfc_scenarios import Scenario

PCAP_NS_MAGIC, LINKTYPE_RAW = 0xA1B23C4D, 101
BU_CN_LEN = 32  # MH 6 + BU 6 + Nonce Indices 6 + pad 2 + Binding Authorization Data 12


def _cut_pcap(packets: list[tuple[int, bytes]], cut: dict[int, int]) -> bytes:
    """A pcap whose frames numbered in ``cut`` (1-based) lose that many trailing octets."""
    out = [struct.pack("<IHHiIII", PCAP_NS_MAGIC, 2, 4, 0, 0, 65535, LINKTYPE_RAW)]
    for frame, (ts_ns, data) in enumerate(packets, 1):
        captured = data[: len(data) - cut.get(frame, 0)]
        sec, frac = divmod(ts_ns, 1_000_000_000)
        out.append(struct.pack("<IIII", sec, frac, len(captured), len(data)) + captured)
    return b"".join(out)


def _scenario() -> Scenario:
    """Frames 5-6: BU/BA (standard Kbm), 7-8: EBU/EBA (home-only Kbm), all MACs right."""
    s = Scenario()
    s.hoti(900, b"H" * 8)
    s.hot(920, b"H" * 8, index=1)
    s.coti(901, b"C" * 8)
    s.cot(930, b"C" * 8, index=2)
    s.bu_cn(1000, seq=21, hidx=1, cidx=2)
    s.ba_cn(1020, seq=21, key=(1, 2))
    s.bu_cn(2000, seq=22, hidx=1, cidx=0, kbm_cidx=None)
    s.ba_cn(2020, seq=22, key=(1, None))
    return s


def _verdicts(tmp_path, cut: dict[int, int], keyed: bool) -> dict[int, tuple[str, str, str]]:
    s = _scenario()
    path = tmp_path / "cut.pcap"
    path.write_bytes(_cut_pcap(sorted(s.packets, key=lambda p: p[0]), cut))
    table = None
    if keyed:
        keys = tmp_path / "keys.json"
        nonces = {str(i): v.hex() for i, v in s.nonces.items()}
        keys.write_text(json.dumps({s.cn: {"kcn": s.kcn.hex(), "nonces": nonces}}))
        keys.chmod(0o600)
        table = load_keys(str(keys))
    oracle = Oracle(table, diag=Diagnostics())
    return {
        v.frame: (v.msg, v.verdict, v.reason)
        for v in oracle.run(read_records(path, Diagnostics()))
        if v.msg in ("BU", "EBU", "BA", "EBA")
    }


@pytest.mark.parametrize("keyed", [False, True])
def test_whole_messages_are_valid(tmp_path, keyed):
    got = _verdicts(tmp_path, {}, keyed)
    assert [got[f][:2] for f in (5, 6, 7, 8)] == [
        ("BU", "valid"),
        ("BA", "valid"),
        ("EBU", "valid"),
        ("EBA", "valid"),
    ]


@pytest.mark.parametrize("keyed", [False, True])
@pytest.mark.parametrize("octets", [2, 6, 12])
def test_cut_binding_messages_are_unverifiable_not_invalid(tmp_path, keyed, octets):
    got = _verdicts(tmp_path, {5: octets, 6: octets, 7: octets, 8: octets}, keyed)
    for frame, msg in ((5, "BU"), (6, "BA"), (7, "EBU"), (8, "EBA")):
        name = "BA" if msg == "EBA" else "BU" if msg == "EBU" else msg
        assert got[frame] == (
            msg,
            "unverifiable",
            f"{name} cut off by the capture ({BU_CN_LEN - octets} of {BU_CN_LEN} octets)",
        )


def test_a_whole_ba_is_still_checked_with_the_keys_of_a_cut_bu(tmp_path):
    """The BU lost only its MAC's tail: its Nonce Indices name the keys its BA uses."""
    got = _verdicts(tmp_path, {5: 2}, keyed=False)
    assert got[5][1] == "unverifiable"
    assert got[6] == ("BA", "valid", "authenticator matches")


def test_a_ba_whose_bu_lost_its_nonce_indices_says_so(tmp_path):
    """Cut before the Nonce Indices: the BA cannot be checked, and says why."""
    got = _verdicts(tmp_path, {5: 20}, keyed=True)
    reason = f"BU cut off by the capture (12 of {BU_CN_LEN} octets)"
    assert got[5] == ("BU", "unverifiable", reason)
    assert got[6] == ("BA", "unverifiable", reason)
