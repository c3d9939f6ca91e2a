"""An EBA of the draft's own MH type (named with --eba-mh-type) that the capture cut
before the BA layout could read it: it is the CN's answer as a cut BA is.  Before, the
analysis saw no answer: `ebu_unanswered`, mode `optimistic`, quality ok (cut to 10
octets: an "other" message the BA layout cannot read, warning bad_ebu_mh_type; cut to 4:
an undecodable one whose type octet is not the BA's).  Now, cut to 10 octets (Status and
Sequence Number in), it is read as a BA cut in its Lifetime; cut to 4 (its type octet in),
it is `ba_cut_off`.

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
from tests.support import rr
from tests.support.rfc_scenarios import Scenario

H, C = b"homeck01", b"careck01"
T0, EBA_AT = 1000.0, 1110.5
EBA_LEN = 32  # MH 6 + BA body 6 + pad 2 + Binding Authorization Data 12 + pad 6
EBA_MH_TYPE = 11  # RFC 5096's experimental MH type, as a testbed might number the EBA


def _row(tmp_path, left: int):
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
    mh = P.mobility_header(
        EBA_MH_TYPE, P.ba_body(0, 20, 60), [P.AUTH_PLACEHOLDER], src=s.cn, dst=s.hoa
    )
    mac = rr.authenticator(s.kbm(s.new, 1, None), s.new, s.cn, P.mac_data(mh))
    s.add(
        EBA_AT, P.packet(s.cn, s.new, P.NH_MH, P.set_authenticator(mh, mac, s.cn, s.hoa), rh2=s.hoa)
    )
    s.bu_cn(T0 + 112, seq=21, hidx=1, cidx=2)
    s.ba_cn(T0 + 140, seq=21, key=(1, 2))
    s.data_down(T0 + 96, s.new)
    s.data_up(T0 + 111, s.new)  # after the EBA
    path = s.write(tmp_path, "cut.pcap", cut={EBA_AT: EBA_LEN - left} if left < EBA_LEN else None)
    config = replace(DEFAULT_CONFIG, eba_mh_type=EBA_MH_TYPE)
    df = ebutool.analyze(path, diag=Diagnostics(), vantage="mn", config=config)
    rows = df[df["cn"].notna()]
    assert len(rows) == 1, rows[["cn", "kind", "diagnosis"]].to_string()
    row = rows.iloc[0]
    return row, (row["diagnosis"] or "").split(";")


def test_whole_eba_of_its_own_type(tmp_path):
    row, notes = _row(tmp_path, EBA_LEN)
    assert (row["kind"], row["mode"], row["quality"]) == ("early", "conservative", "ok")


def test_cut_in_its_lifetime_it_is_read_as_the_eba(tmp_path):
    row, notes = _row(tmp_path, 10)
    assert "ebu_unanswered" not in notes and "ba_cut_off" not in notes
    assert (row["kind"], row["mode"]) == ("early", "conservative")


@pytest.mark.parametrize("left", [4, 8])
def test_cut_inside_its_fixed_fields_it_is_ba_cut_off(tmp_path, left):
    row, notes = _row(tmp_path, left)
    assert "ba_cut_off" in notes and "ebu_unanswered" not in notes
    assert (row["mode"], row["quality"]) == ("unknown", "ambiguous_classification")
