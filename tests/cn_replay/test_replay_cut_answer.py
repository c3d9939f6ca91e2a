"""A CN's answer (EBA or BA) the capture cut inside its fixed fields: the reader cannot
decode it (Record.mh None, its octets from the MH type on in mh_wire), but it shows that
an answer came.  The replay's decisions table said ``observed_ack none`` for the update it
answers, as if no answer had come, and its divergences claimed the answer missing
(unobservable_eba_missing) or, when the update was decided from the trace, that the CN
refused it and then sent data to an unbound care-of address (data_to_unbound_coa: exit 1).
Now ``observed_ack`` is ``cut_off`` and nothing is compared that the capture does not hold
(docs/replay.md "Decisions").

Captures are built with the independent builder (tests/support/rfc_scenarios); the pcap
record headers are written by hand (rfc_packets.pcap, cut=) with captured length < original length.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from ebutool.cn_replay import replay
from ebutool.core.diagnostics import Diagnostics
from tests.support.rfc_scenarios import Scenario

H, C = b"homeck01", b"careck01"
T0 = 1000.0  # ms
EBA_AT, BA_AT = T0 + 110.5, T0 + 2140.0
# The CN's answer with Binding Authorization Data: MH 6 + BA 6 + pad 2 + option 12 +
# pad 6 = 32 octets; cutting 24 leaves 8 (inside the fixed fields, its sequence number
# gone; 22 leaves it: tests/cn_replay/test_replay_cut_answer_more.py), 26 leaves 6.
CUTS = (24, 26)


def _write(tmp_path, s: Scenario, cut_at: float, cut: int):
    path = s.write(tmp_path, f"cut{cut}.pcap", cut={cut_at: cut})
    return path


def _ebu_capture(tmp_path, cut: int):
    """An EBU whose EBA is cut; the capture goes on 2 s (past INITIAL_BINDACK_TIMEOUT)."""
    s = Scenario()
    s.data_down(905, s.old)
    s.bu_ha(T0, seq=10)
    s.hoti(T0 + 0.01, H)
    s.coti(T0 + 0.02, C)
    s.ba_ha(T0 + 20, seq=10)
    s.cot(T0 + 30, C, index=2)
    s.hot(T0 + 80, H, index=1)
    s.bu_cn(T0 + 80.5, seq=20, hidx=1, cidx=0, kbm_cidx=None)  # an EBU (early Kbm)
    s.ba_cn(EBA_AT, seq=20, key=(1, None))  # its EBA, the packet cut
    s.bu_cn(T0 + 2112, seq=21, hidx=1, cidx=2)  # the standard BU that verifies it
    s.ba_cn(T0 + 2140, seq=21, key=(1, 2))
    return _write(tmp_path, s, EBA_AT, cut)


def _bu_capture(tmp_path, cut: int):
    """A standard BU whose BA is cut; the CN then sends data to the new care-of address."""
    s = Scenario()
    s.data_down(905, s.old)
    s.bu_ha(T0, seq=10)
    s.hoti(T0 + 0.01, H)
    s.coti(T0 + 0.02, C)
    s.ba_ha(T0 + 20, seq=10)
    s.cot(T0 + 30, C, index=2)
    s.hot(T0 + 80, H, index=1)
    s.bu_cn(T0 + 2112, seq=21, hidx=1, cidx=2)
    s.ba_cn(BA_AT, seq=21, key=(1, 2))  # its BA, the packet cut
    s.data_down(T0 + 2200)
    s.data_down(T0 + 4200)
    return _write(tmp_path, s, BA_AT, cut)


@pytest.mark.parametrize("cut", CUTS)
def test_a_cut_eba_is_observed_cut_off_and_not_missing(tmp_path, cut):
    diag = Diagnostics()
    r = replay(_ebu_capture(tmp_path, cut), diag=diag)
    dec = r.decisions.set_index("seq")
    assert dec.loc[20, "msg"] == "EBU"
    assert dec.loc[20, "observed_ack"] == "cut_off"  # an answer came, its content unknown
    # the EBU reached the CN: not "unanswered" (assumed lost on its way there)
    assert dec.loc[20, "action"] == "tentative"
    assert dec.loc[21, "observed_ack"] == "BA status 0 seq 21"
    # no divergence claimed on what cannot be compared (was unobservable_eba_missing)
    assert list(r.divergences["kind"]) == [], r.divergences.to_string()
    assert diag.counts.get("malformed_mh") == 1  # the cut EBA is still diagnosed


@pytest.mark.parametrize("cut", CUTS)
def test_a_cut_ba_does_not_make_the_update_refused(tmp_path, cut):
    path = _bu_capture(tmp_path, cut)
    r = replay(path)
    row = r.decisions.iloc[0]
    assert (row["msg"], row["observed_ack"], row["action"]) == ("BU", "cut_off", "regular")
    assert list(r.divergences["kind"]) == [], r.divergences.to_string()
    assert r.summary["divergences"] == 0
    # and the command's exit status: 0, no divergence found from the cut answer alone
    run = subprocess.run(
        [sys.executable, "-m", "ebutool", "replay", str(path), "-q"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("cut", CUTS)
def test_a_cut_ba_followed_from_the_trace_is_no_refusal(tmp_path, cut):
    """With no authentication check the update is decided from what the trace's CN did:
    its cut answer says nothing of the status, its data to the care-of address after it
    does (was: "no acknowledgement although the A flag was set", refused, and the data
    data_to_unbound_coa, a counted divergence)."""
    from ebutool.cn_replay import replay_records
    from ebutool.stream.reader import read_records

    path = _bu_capture(tmp_path, cut)
    r = replay_records(read_records(path, Diagnostics()))
    row = r.decisions.iloc[0]
    assert (row["basis"], row["observed_ack"], row["action"]) == ("trace", "cut_off", "regular")
    assert "cut off by the capture" in row["reason"], row["reason"]
    assert list(r.divergences["kind"]) == [], r.divergences.to_string()
