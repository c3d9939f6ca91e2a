"""An EBA of the draft's own MH type (--eba-mh-type) that the capture cut inside the BA
layout's fixed fields was warned `bad_ebu_mh_type` ("does not fit the BA layout") on top
of the reader's `malformed_mh` for the cut: the type was right, only the capture was
short.  Now a message whose own length (Header Len) holds the layout's fixed fields and
that the capture cut gets the cut's `malformed_mh` only; `bad_ebu_mh_type` stays for a
message whose whole length is too short for the layout (8 octets where a BA needs 12).

Captures are built with the independent builder (tests/support/rfc_scenarios); the pcap
record headers are written by hand (rfc_packets.pcap, cut=) with captured length < original length.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

import ebutool
from ebutool.core.constants import DEFAULT_CONFIG
from ebutool.core.diagnostics import Diagnostics
from tests.support import rfc_packets as P
from tests.support.rfc_scenarios import Scenario

H, C = b"homeck01", b"careck01"
T0, EBA_AT = 1000.0, 1110.5
EBA_LEN = 32  # MH 6 + BA body 6 + pad 2 + Binding Authorization Data 12 + pad 6
EBA_MH_TYPE = 11  # RFC 5096's experimental MH type, as a testbed might number the EBA


def _counts(tmp_path, eba: bytes, left: int | None) -> dict[str, int]:
    s = Scenario()
    s.data_up(900, s.old)
    s.data_down(905, s.old)
    s.bu_ha(T0, seq=10)
    s.hoti(T0 + 0.01, H)
    s.coti(T0 + 0.02, C)
    s.ba_ha(T0 + 20, seq=10)
    s.cot(T0 + 30, C, index=2)
    s.hot(T0 + 79, H, index=1)
    s.bu_cn(T0 + 80.5, seq=20, hidx=1, cidx=0, kbm_cidx=None)  # the EBU
    s.add(EBA_AT, P.packet(s.cn, s.new, P.NH_MH, eba, rh2=s.hoa))
    s.data_down(T0 + 96, s.new)
    s.data_up(T0 + 111, s.new)
    cut = {EBA_AT: len(eba) - left} if left is not None else None
    path = s.write(tmp_path, "cut.pcap", cut=cut)
    diag = Diagnostics()
    ebutool.analyze(path, diag=diag, vantage="mn", config=replace(DEFAULT_CONFIG, eba_mh_type=11))
    return dict(diag.counts)


@pytest.mark.parametrize("left", [8, 10])  # inside the BA's fixed 12 octets
def test_a_cut_eba_of_its_own_type_is_a_cut_not_a_bad_type(tmp_path, left):
    s = Scenario()
    eba = P.mobility_header(
        EBA_MH_TYPE, P.ba_body(0, 20, 60), [P.AUTH_PLACEHOLDER], src=s.cn, dst=s.hoa
    )
    assert len(eba) == EBA_LEN
    counts = _counts(tmp_path, eba, left)
    assert counts.get("malformed_mh") == 1  # the cut
    assert "bad_ebu_mh_type" not in counts


def test_a_whole_message_too_short_for_the_layout_is_a_bad_type(tmp_path):
    s = Scenario()
    short = P.mobility_header(EBA_MH_TYPE, b"\0\0", src=s.cn, dst=s.hoa)  # 8 octets
    assert (
        len(short) == 8 < 12
    )  # a BA's fixed fields: MH 6 + Status, flags, Sequence 4 + Lifetime 2
    counts = _counts(tmp_path, short, None)
    assert counts.get("bad_ebu_mh_type") == 1


def test_a_cut_message_too_short_for_the_layout_is_a_bad_type(tmp_path):
    s = Scenario()
    short = P.mobility_header(EBA_MH_TYPE, b"\0\0", src=s.cn, dst=s.hoa)  # 8 octets
    counts = _counts(tmp_path, short, 7)  # cut too, but its own length is already short
    assert counts.get("bad_ebu_mh_type") == 1
