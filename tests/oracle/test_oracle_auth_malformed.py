"""A BU or BA whose Binding Authorization Data option has a wrong length (RFC 6275
6.2.7: the authenticator, 12 octets for HMAC_SHA1-96) has the option, malformed: the
oracle said "no Binding Authorization Data option", as if the MN or CN had sent none.
Now the reason names the malformed option and its length; the verdict stays invalid.

Packets are built by hand (tests/support/rfc_packets): the option's octets are given
directly, not through ebutool's encoder.
"""

from __future__ import annotations

import pytest

import ebutool
from tests.support import rfc_packets as P
from tests.support.rfc_scenarios import Scenario

H, C = b"homeck01", b"careck01"
T0 = 1000.0
BU_AT, BA_AT = T0 + 80.5, T0 + 110.5


def _capture(tmp_path, auth_len: int):
    """A standard handover whose BU to the CN and its BA carry a Binding Authorization
    Data option of ``auth_len`` octets (type 5, length octet ``auth_len``)."""
    s = Scenario()
    s.data_up(900, s.old)
    s.bu_ha(T0, seq=10)
    s.hoti(T0 + 0.01, H)
    s.coti(T0 + 0.02, C)
    s.ba_ha(T0 + 20, seq=10)
    s.cot(T0 + 30, C, index=2)
    s.hot(T0 + 80, H, index=1)
    bad = (P.OPT_AUTH, b"\x11" * auth_len, (8, 2))
    body = P.bu_body(20, P.BU_A, 60)
    mh = P.mobility_header(P.MH_BU, body, [P.nonce_indices(1, 2), bad], src=s.hoa, dst=s.cn)
    s.add(BU_AT, P.packet(s.new, s.cn, P.NH_MH, mh, hoa=s.hoa))
    mh = P.mobility_header(P.MH_BA, P.ba_body(0, 20, 60), [bad], src=s.cn, dst=s.hoa)
    s.add(BA_AT, P.packet(s.cn, s.new, P.NH_MH, mh, rh2=s.hoa))
    s.data_down(T0 + 96, s.new)
    s.data_up(T0 + 111, s.new)
    return s.write(tmp_path)


@pytest.mark.parametrize("auth_len", [8, 16])
def test_a_malformed_binding_authorization_data_option_is_named(tmp_path, auth_len):
    v = ebutool.verify(_capture(tmp_path, auth_len)).query("seq == 20")
    reason = f"malformed Binding Authorization Data option ({auth_len} octets, not 12)"
    assert sorted(zip(v["msg"], v["verdict"], v["reason"], strict=True)) == [
        ("BA", "invalid", reason),
        ("BU", "invalid", reason),
    ]
