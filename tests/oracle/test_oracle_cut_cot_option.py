"""An RFC 4866 BA (here the EBA) carries the care-of keygen token in a Care-of Test
option; the oracle keeps it for the BU that later uses it (no CoT is sent in that
flavour).  A BA the capture cut after that option (only its authenticator's tail gone)
is unverifiable itself, but the token it carries is whole: before, the oracle returned
before reading the option, so the completing standard BU became unverifiable ("no
care-of keygen token") although the capture holds its token; with the CN's keys, a wrong
token in the option went unreported.  Now the token is kept and checked as for a whole BA.

Packets are built with the independent builder (tests/support/rfc_packets,
tests/support/rr's hashlib arithmetic); the pcap record headers are written by
hand (rfc_packets.pcap, cut=) with captured length < original length.
"""

from __future__ import annotations

import json

import pytest

from ebutool.core.diagnostics import Diagnostics
from ebutool.oracle.keys import load_keys_file
from ebutool.oracle.verify import Oracle
from ebutool.stream.reader import read_records
from tests.support import rfc_packets as P
from tests.support import rr
from tests.support.rfc_scenarios import Scenario

H = b"homeck01"
T0, EBA_AT = 1000.0, 1030.0
CARE_OF_INDEX = 2
# The EBA: MH 6 + BA 6 + Nonce Indices 6 + Care-of Test 10 + pad 6 + Binding
# Authorization Data 14 = 48 octets; cutting 2 leaves every option but the
# authenticator's tail whole.
AUTH_TAIL = 2


def _mh(s: Scenario, mh_type: int, body: bytes, opts: list, kbm: bytes, src: str, dst: str):
    """A Mobility Header with ``opts`` and Binding Authorization Data MACed with ``kbm``
    for the care-of address ``s.new`` and the CN (RFC 6275 5.2.6)."""
    mh = P.mobility_header(mh_type, body, [*opts, P.AUTH_PLACEHOLDER], src=src, dst=dst)
    mac = rr.authenticator(kbm, s.new, s.cn, P.mac_data(mh))
    return P.set_authenticator(mh, mac, src, dst)


def _capture(tmp_path, token: bytes | None, cut: int) -> tuple[Scenario, object]:
    s = Scenario()
    s.hoti(T0 - 500, H, s.old)
    s.hot(T0 - 400, H, index=1, coa=s.old)
    early = rr.kbm_rfc4866(s.home_token(1))
    ebu = _mh(
        s, P.MH_BU, P.bu_body(20, P.BU_A, 60), [P.nonce_indices(1, 0), P.coti_option()],
        early, s.hoa, s.cn,
    )  # fmt: skip
    s.add(T0, P.packet(s.new, s.cn, P.NH_MH, ebu, hoa=s.hoa))
    token = s.careof_token(s.new, CARE_OF_INDEX) if token is None else token
    eba = _mh(
        s, P.MH_BA, P.ba_body(0, 20, 60), [P.nonce_indices(0, CARE_OF_INDEX), P.cot_option(token)],
        early, s.cn, s.hoa,
    )  # fmt: skip
    s.add(EBA_AT, P.packet(s.cn, s.new, P.NH_MH, eba, rh2=s.hoa))
    s.bu_cn(T0 + 40, seq=21, hidx=1, cidx=CARE_OF_INDEX)  # uses the EBA's care-of token
    path = s.write(tmp_path, "cut.pcap", cut={EBA_AT: cut})
    return s, path


def _verdicts(tmp_path, token: bytes | None, cut: int, keyed: bool) -> dict:
    s, path = _capture(tmp_path, token, cut)
    table = None
    if keyed:
        keys = tmp_path / "keys.json"
        nonces = {str(i): v.hex() for i, v in s.nonces.items()}
        keys.write_text(json.dumps({s.cn: {"kcn": s.kcn.hex(), "nonces": nonces}}))
        keys.chmod(0o600)
        table = load_keys_file(str(keys))
    oracle = Oracle(table, diag=Diagnostics())
    return {
        (v.msg, v.seq): (v.verdict, v.reason)
        for v in oracle.run(read_records(path, Diagnostics()))
        if v.msg in ("BU", "EBA")
    }


def test_whole_eba_lends_its_care_of_token_to_the_standard_bu(tmp_path):
    got = _verdicts(tmp_path, None, 0, keyed=False)
    assert got[("EBA", 20)][0] == "valid"
    verdict, reason = got[("BU", 21)]
    assert (verdict, reason.split(";")[0]) == ("valid", "authenticator matches")


def test_cut_eba_still_lends_its_whole_care_of_token(tmp_path):
    got = _verdicts(tmp_path, None, AUTH_TAIL, keyed=False)
    assert got[("EBA", 20)][0] == "unverifiable"  # its own MAC is cut
    verdict, reason = got[("BU", 21)]
    assert (verdict, reason.split(";")[0]) == ("valid", "authenticator matches")


@pytest.mark.parametrize("cut", [0, AUTH_TAIL])
def test_wrong_token_in_a_cut_ebas_option_is_invalid_with_the_keys(tmp_path, cut):
    got = _verdicts(tmp_path, b"\xee" * 8, cut, keyed=True)
    assert got[("EBA", 20)] == (
        "invalid",
        f"care-of keygen token in the Care-of Test option does not match Kcn for nonce "
        f"index {CARE_OF_INDEX}",
    )
