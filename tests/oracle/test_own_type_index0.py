"""The oracle on an EBU of the draft's own MH type (--ebu-mh-type) after a CoT with
care-of nonce index 0 at that address: an EBU by its type, checked with Kbm_early only
(DESIGN.md section 2).  The care-of index 0 rule for type-5 BUs (a standard BU after
such a CoT, DESIGN.md section 3) named a forged one "BU invalid standard", and its EBA,
MACed with Kbm_early, "BA invalid" with it.  Packets built octet by octet
(tests/support/rfc_packets.py), MACs with tests/support/rr.py."""

from __future__ import annotations

import pytest

from ebutool.core.constants import DEFAULT_CONFIG
from tests.oracle.test_own_mh_types import EBA_T, EBU_T, KBM_EARLY, _authed, early_capture, verdicts
from tests.support import rfc_packets as P
from tests.support.rr import CN, COA2, HOA, MS, T0

NAMED = DEFAULT_CONFIG.with_(ebu_mh_type=EBU_T, eba_mh_type=EBA_T)
WRONG_KBM = bytes(20)  # not the Kbm_early of the capture's home token


@pytest.mark.parametrize(
    ("kbm", "want"), [(KBM_EARLY, "valid"), (WRONG_KBM, "invalid")], ids=["early-mac", "forged"]
)
def test_own_type_ebu_after_a_care_of_index_0_cot(tmp_path, kbm, want):
    ebu = _authed(EBU_T, P.bu_body(20, P.BU_A, 25), [P.nonce_indices(1, 0)], kbm, COA2, HOA, CN)
    packets = [
        (t, P.packet(COA2, CN, P.NH_MH, ebu, hoa=HOA)) if t == T0 + 1 * MS else (t, d)
        for t, d in early_capture()
    ]
    packets += [  # an earlier CoT with care-of index 0 from the CN at COA2
        (T0 - 300 * MS, P.mh_packet(COA2, CN, P.MH_COTI, P.hoti_body(b"OLDCOTI0"))),
        (T0 - 290 * MS, P.mh_packet(CN, COA2, P.MH_COT, P.hot_body(0, b"OLDCOTI0", bytes(8)))),
    ]
    path = tmp_path / "own.pcap"
    path.write_bytes(P.pcap(sorted(packets, key=lambda p: p[0])))
    got = {(msg, seq): verdict for msg, seq, verdict, _ in verdicts(path, NAMED) if seq == 20}
    # the EBA is MACed with Kbm_early whatever the EBU's MAC: valid either way
    assert got == {("EBU", 20): want, ("EBA", 20): "valid"}
