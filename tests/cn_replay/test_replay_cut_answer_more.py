"""Replay and the CN answers the capture cut, beyond a BA cut inside its fixed fields
(tests/cn_replay/test_replay_cut_answer.py):

* a Mobility Header from the CN to the MN (type 2 routing header, as a BA goes) cut
  before its MH type octet may be the answer: before, it was no answer (`observed_ack`
  `none`, the update decided from the trace as refused, and the CN's data after it a
  `data_to_unbound_coa` divergence);
* a cut answer of the MH type named by `--eba-mh-type` is an answer as a cut BA is
  (before: none, `unobservable_eba_missing`);
* a cut answer followed by the whole one (the same update) gave two round-trip samples
  for one update; now one, the whole answer's (its pairing is by sequence number).

Captures are built with the independent builder (tests/support/rfc_scenarios); the pcap
record headers are written by hand (rfc_packets.pcap, cut=) with captured length < original length.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from ebutool.cn_replay import replay
from ebutool.cn_replay.replayer import collect, match_acks
from ebutool.core.constants import DEFAULT_CONFIG
from ebutool.core.diagnostics import Diagnostics
from ebutool.stream.reader import read_records
from tests.support import rfc_packets as P
from tests.support import rr
from tests.support.rfc_scenarios import Scenario, ns

H, C = b"homeck01", b"careck01"
T0 = 1000.0  # ms
BU_AT, BA_AT, BA_AGAIN_AT = T0 + 2112, T0 + 2140.0, T0 + 2150.0
BA_LEN = 32  # the CN's BA with Binding Authorization Data
BEFORE_TYPE = BA_LEN - 2  # 2 octets of the MH left: its type (octet 2) not
EBA_MH_TYPE = 11  # RFC 5096's experimental MH type, as a testbed might number the EBA


def _home(s: Scenario) -> None:
    s.data_down(905, s.old)
    s.bu_ha(T0, seq=10)
    s.hoti(T0 + 0.01, H)
    s.coti(T0 + 0.02, C)
    s.ba_ha(T0 + 20, seq=10)
    s.cot(T0 + 30, C, index=2)
    s.hot(T0 + 80, H, index=1)


def test_a_message_cut_before_its_type_may_be_the_ba(tmp_path):
    s = Scenario()
    _home(s)
    s.bu_cn(BU_AT, seq=21, hidx=1, cidx=2)
    s.ba_cn(BA_AT, seq=21, key=(1, 2))  # its BA, cut before its MH type
    s.data_down(T0 + 2200)
    s.data_down(T0 + 4200)
    path = s.write(tmp_path, "cut.pcap", cut={BA_AT: BEFORE_TYPE})
    r = replay(path)
    row = r.decisions.iloc[0]
    assert (row["msg"], row["observed_ack"], row["action"]) == ("BU", "cut_off", "regular")
    assert list(r.divergences["kind"]) == [], r.divergences.to_string()


@pytest.mark.parametrize("cut", [22, 24, 28])  # 10, 8, 4 octets left (its type in)
def test_a_cut_eba_of_its_own_mh_type_is_an_answer(tmp_path, cut):
    s = Scenario()
    _home(s)
    eba_at = T0 + 110.5
    s.bu_cn(T0 + 80.5, seq=20, hidx=1, cidx=0, kbm_cidx=None)  # an EBU (early Kbm)
    mh = P.mobility_header(
        EBA_MH_TYPE, P.ba_body(0, 20, 60), [P.AUTH_PLACEHOLDER], src=s.cn, dst=s.hoa
    )
    mac = rr.authenticator(s.kbm(s.new, 1, None), s.new, s.cn, P.mac_data(mh))
    mh = P.set_authenticator(mh, mac, s.cn, s.hoa)
    s.add(eba_at, P.packet(s.cn, s.new, P.NH_MH, mh, rh2=s.hoa))
    s.bu_cn(T0 + 2112, seq=21, hidx=1, cidx=2)
    s.ba_cn(T0 + 2140, seq=21, key=(1, 2))
    path = s.write(tmp_path, "cut.pcap", cut={eba_at: cut})
    r = replay(path, config=replace(DEFAULT_CONFIG, eba_mh_type=EBA_MH_TYPE))
    dec = r.decisions.set_index("seq")
    # 10 octets: its Status and Sequence Number in, read as the analysis reads them
    assert dec.loc[20, "observed_ack"] == ("cut_off" if cut > 22 else "EBA status 0 seq 20")
    assert list(r.divergences["kind"]) == [], r.divergences.to_string()


def test_a_cut_answer_and_then_the_whole_one_give_one_rtt_sample(tmp_path):
    s = Scenario()
    _home(s)
    s.bu_cn(BU_AT, seq=21, hidx=1, cidx=2)
    s.ba_cn(BA_AT, seq=21, key=(1, 2))  # cut inside its fixed fields
    s.ba_cn(BA_AGAIN_AT, seq=21, key=(1, 2))  # the same answer, whole
    path = s.write(tmp_path, "cut.pcap", cut={BA_AT: 26})
    tr = collect(read_records(path, Diagnostics()), None, Diagnostics())
    tr.rtt.clear()  # (the CoTI/CoT samples: not this update's)
    match_acks(tr)
    samples = [x for v in tr.rtt.values() for x in v]
    # one sample, sent -> the whole answer (its sequence number names the update): 38 ms
    assert samples == [(ns(BU_AT), ns(BA_AGAIN_AT) - ns(BU_AT))]


def test_a_ba_cut_in_its_lifetime_is_compared_by_status_and_sequence(tmp_path):
    """10 octets of the BA left: the 6 fixed, Status, K/reserved, Sequence Number (RFC
    6275 6.1.8): the answer is read as the analysis reads it (its Lifetime unread)."""
    s = Scenario()
    _home(s)
    s.bu_cn(BU_AT, seq=21, hidx=1, cidx=2)
    s.ba_cn(BA_AT, seq=21, key=(1, 2))
    s.data_down(T0 + 2200)
    path = s.write(tmp_path, "cut.pcap", cut={BA_AT: BA_LEN - 10})
    r = replay(path)
    row = r.decisions.iloc[0]
    assert (row["msg"], row["observed_ack"]) == ("BU", "BA status 0 seq 21")
    assert list(r.divergences["kind"]) == [], r.divergences.to_string()
