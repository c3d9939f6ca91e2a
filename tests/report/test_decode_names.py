"""decode agrees with verify and analyze (issue 11 item 12): the care-of address of a
packet to the MN is where it is delivered (a HoT tunnelled by the HA: the tunnel's
destination, not the HA); a BA answering an EBU is an EBA; a BU with care-of nonce
index 0 after a CoT with index 0 is a BU.  Packets from tests/support/rr.py."""

from __future__ import annotations

from ebutool.oracle import Oracle
from ebutool.report.message_table import decode_frame
from tests.support import rr
from tests.support.rr import CN, COA1, COA2, HA, NONCES, RR

WITH0 = {**NONCES, 0: bytes.fromhex("00aa00aa00aa00aa")}


def decoded(pkts):
    return decode_frame(rr.records(pkts))


def test_care_of_address_of_packets_to_the_mn():
    df = decoded(rr.standard(RR(), COA1, seq=10))
    by = {m: df[df["msg"] == m].iloc[0] for m in ("HoTI", "HoT", "CoT", "BU", "BA")}
    hot = by["HoT"]
    assert (hot["tunnel_src"], hot["tunnel_dst"]) == (HA, COA1)
    assert hot["care_of_address"] == COA1  # not the HA
    assert by["HoTI"]["care_of_address"] == COA1  # reverse-tunnelled from the CoA
    assert by["CoT"]["care_of_address"] == COA1
    assert by["BU"]["care_of_address"] == COA1
    bas = df[df["msg"] == "BA"]
    assert set(bas["care_of_address"]) == {COA1}  # the HA's and the CN's, both via RH2


def test_one_name_for_the_early_acknowledgement():
    pkts = rr.early(RR(), COA1, COA2, seq=20)
    recs = [r for r in rr.records(pkts) if r.mh is not None]
    names = list(decoded(pkts)["msg"])
    verified = [v.msg for v in Oracle().run(recs)]
    assert "EBA" in names and "EBU" in names
    # the CN's registration messages: decode names them as verify does, in the same order
    cn_msgs = [
        m
        for m, r in zip(names, recs, strict=True)
        if (r.dst == CN or r.src == CN) and m in ("BU", "EBU", "BA", "EBA")
    ]
    assert cn_msgs == [v for v in verified if v in ("BU", "EBU", "BA", "EBA")]


def test_careof_index_0_after_its_cot_is_a_bu_in_decode_and_verify():
    m = RR(nonces=WITH0)
    pkts = rr.standard(m, COA1, seq=10, hidx=1, cidx=0)
    names = list(decoded(pkts)["msg"])
    verified = [v.msg for v in Oracle().run(rr.records(pkts))]
    assert "EBU" not in names and "EBA" not in names
    assert [n for n in verified if n not in ("HoT", "CoT")] == ["BU", "BA"]
