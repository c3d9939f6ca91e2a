"""An EBU of the draft's own MH type (--ebu-mh-type) is an EBU by its type (DESIGN.md
section 2, "The draft's own message types").  The rule for a BU with care-of nonce index
0 (standard when a CoT with care-of index 0 came before it, DESIGN.md section 3) is for
BUs of type 5 only: it relabelled such an EBU `standard`, quality `ok`, with the
diagnosis care_of_index_0_standard, whenever the MN had had a CoT with care-of index 0
at that address and the EBU's MAC could not be checked (here: the capture starts after
the home test, so no home keygen token).  Packets are built octet by octet
(tests/support/rfc_packets.py)."""

from __future__ import annotations

import pytest

import ebutool
from ebutool.core.constants import DEFAULT_CONFIG
from ebutool.core.diagnostics import Diagnostics
from tests.oracle.test_own_mh_types import EBA_T, EBU_T, early_capture
from tests.support import rfc_packets as P
from tests.support.rr import CN, COA2, MS, T0

NAMED = DEFAULT_CONFIG.with_(ebu_mh_type=EBU_T, eba_mh_type=EBA_T)
OLD_TOKEN = bytes(range(8))  # the care-of keygen token of the earlier CoT (index 0)


def _cn_row(tmp_path, cot_index_0: bool):
    packets = early_capture()[2:]  # (no HoTI/HoT: the EBU's MAC cannot be checked)
    if cot_index_0:  # the MN had a CoT with care-of index 0 at COA2 from the CN before
        packets += [
            (T0 - 300 * MS, P.mh_packet(COA2, CN, P.MH_COTI, P.hoti_body(b"OLDCOTI0"))),
            (T0 - 290 * MS, P.mh_packet(CN, COA2, P.MH_COT, P.hot_body(0, b"OLDCOTI0", OLD_TOKEN))),
        ]
    path = tmp_path / "own.pcap"
    path.write_bytes(P.pcap(sorted(packets, key=lambda p: p[0])))
    df = ebutool.analyze(path, diag=Diagnostics(), vantage="mn", config=NAMED)
    rows = df[df["cn"].notna()]
    assert len(rows) == 1, rows.to_string()
    return rows.iloc[0]


@pytest.mark.parametrize("cot_index_0", [False, True], ids=["no-cot0", "cot0-before"])
def test_an_ebu_of_the_drafts_own_type_stays_early(tmp_path, cot_index_0):
    row = _cn_row(tmp_path, cot_index_0)
    notes = (row["diagnosis"] or "").split(";")
    assert row["kind"] == "early", row.to_dict()
    assert "care_of_index_0_standard" not in notes
    assert "care_of_index_0_ambiguous" not in notes
