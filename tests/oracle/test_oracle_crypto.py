"""RFC 6275 5.2.5/5.2.6 arithmetic of ebutool.oracle.crypto against independent vectors.

Two independent sources: (1) known answers computed with the OpenSSL command line
(`openssl dgst -sha1 [-mac HMAC -macopt hexkey:...]`), a different implementation;
(2) the formulas written out with hashlib/hmac in tests/rr.py, straight from the RFC
text, on random inputs and on whole messages (deregistration, both EBU flavours, the
BA answering an EBU).
"""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import given, settings
from hypothesis import strategies as st

from ebutool.core.addr import pton
from ebutool.oracle import crypto
from ebutool.wire.mh.codec import aligned, encode_mh, mac_data
from ebutool.wire.mh.messages import BindingUpdate
from ebutool.wire.mh.mobility_options import BindingAuthorizationData, NonceIndices
from tests.support import rr
from tests.support.rr import CN, COA1, COA2, HOA, KCN, NONCES, RR

# Known answers, computed with OpenSSL 3 (see the module docstring), not with ebutool:
#   HMAC-SHA1(KCN, HOA | NONCES[1] | 00)  = 627b6c8e09d5883746d259ee3dd1a2e0b243f747
#   HMAC-SHA1(KCN, COA1 | NONCES[2] | 01) = 24c0e9f5b6df123dbab56460816a321a673df66d
#   SHA1(home | care-of)                   = db47625683410c1154f3a4d7bdd0afd0f7ee1d03
#   SHA1(home)                             = 012842154a71ca6f441d569f7203b5f78a3998f7
#   SHA1(home | 00 x 8)                    = 71d0b1e534eebd9ea4f751dcbf2ea8bf7e25217d
#   HMAC-SHA1(Kbm, COA1 | CN | BU_MH_DATA) = 00db1efa286c1d9f3da53c9e8525167898f15a9f
OPENSSL_HOME_TOKEN = bytes.fromhex("627b6c8e09d58837")
OPENSSL_CAREOF_TOKEN = bytes.fromhex("24c0e9f5b6df123d")
OPENSSL_KBM = bytes.fromhex("db47625683410c1154f3a4d7bdd0afd0f7ee1d03")
OPENSSL_KBM_HOME_ONLY = bytes.fromhex("012842154a71ca6f441d569f7203b5f78a3998f7")
OPENSSL_KBM_RFC4866 = bytes.fromhex("71d0b1e534eebd9ea4f751dcbf2ea8bf7e25217d")
# BU seq 10, A flag, lifetime 25 (100 s), Nonce Indices (1, 2), then the Binding
# Authorization Data option's type and length; checksum zero (RFC 6275 6.1.7, 6.2.6, 6.2.7).
BU_MH_DATA = bytes.fromhex("3b0305000000000a80000019040400010002050c")
OPENSSL_AUTH = bytes.fromhex("00db1efa286c1d9f3da53c9e")


def test_known_answers_from_openssl():
    home = crypto.home_keygen_token(KCN, pton(HOA), NONCES[1])
    careof = crypto.careof_keygen_token(KCN, pton(COA1), NONCES[2])
    assert home == OPENSSL_HOME_TOKEN
    assert careof == OPENSSL_CAREOF_TOKEN
    assert crypto.kbm(home, careof) == OPENSSL_KBM
    assert crypto.kbm(home, None) == OPENSSL_KBM_HOME_ONLY
    assert crypto.kbm_dereg(home) == OPENSSL_KBM_HOME_ONLY
    assert crypto.kbm_early(home) == OPENSSL_KBM_HOME_ONLY
    assert crypto.kbm_early_rfc4866(home) == OPENSSL_KBM_RFC4866
    assert crypto.authenticator(OPENSSL_KBM, pton(COA1), pton(CN), BU_MH_DATA) == OPENSSL_AUTH


def test_test_helper_agrees_with_openssl():
    # the independent formulas of tests/rr.py are themselves right
    assert rr.home_token(KCN, HOA, NONCES[1]) == OPENSSL_HOME_TOKEN
    assert rr.careof_token(KCN, COA1, NONCES[2]) == OPENSSL_CAREOF_TOKEN
    assert rr.kbm_standard(OPENSSL_HOME_TOKEN, OPENSSL_CAREOF_TOKEN) == OPENSSL_KBM
    assert rr.kbm_rfc4866(OPENSSL_HOME_TOKEN) == OPENSSL_KBM_RFC4866
    assert rr.authenticator(OPENSSL_KBM, COA1, CN, BU_MH_DATA) == OPENSSL_AUTH


def test_mac_data_of_an_encoded_bu_is_the_rfc_octets():
    bu = BindingUpdate(
        sequence=10,
        flags=0x8000,
        lifetime=25,
        options=[NonceIndices(1, 2), BindingAuthorizationData(bytes(12))],
    )
    wire = encode_mh(aligned(bu), pton(COA1), pton(CN))  # with a real checksum
    assert wire[4:6] != b"\x00\x00"
    assert mac_data(wire) == BU_MH_DATA
    assert rr.mh_data_of(wire) == BU_MH_DATA


def test_home_and_careof_tokens_differ_only_by_the_final_octet():
    # same address and nonce: the 0x00 / 0x01 suffix separates the two tokens
    h = crypto.keygen_token(KCN, pton(HOA), NONCES[1], crypto.HOME)
    c = crypto.keygen_token(KCN, pton(HOA), NONCES[1], crypto.CARE_OF)
    assert h != c
    assert c == hmac.new(KCN, pton(HOA) + NONCES[1] + b"\x01", hashlib.sha1).digest()[:8]
    assert len(h) == 8


addresses = st.ip_addresses(v=6).map(str)


@settings(max_examples=60, deadline=None)
@given(kcn=st.binary(min_size=1, max_size=40), addr=addresses, nonce=st.binary(max_size=24))
def test_tokens_match_rfc_formula(kcn, addr, nonce):
    assert crypto.home_keygen_token(kcn, pton(addr), nonce) == rr.home_token(kcn, addr, nonce)
    assert crypto.careof_keygen_token(kcn, pton(addr), nonce) == rr.careof_token(kcn, addr, nonce)


@settings(max_examples=60, deadline=None)
@given(
    home=st.binary(min_size=8, max_size=8),
    careof=st.binary(min_size=8, max_size=8),
    coa=addresses,
    cn=addresses,
    data=st.binary(max_size=64),
)
def test_kbm_and_authenticator_match_rfc_formula(home, careof, coa, cn, data):
    assert crypto.kbm(home, careof) == rr.kbm_standard(home, careof)
    assert crypto.kbm_dereg(home) == rr.kbm_home_only(home)
    assert crypto.kbm_early(home) == rr.kbm_home_only(home)
    assert crypto.kbm_early_rfc4866(home) == rr.kbm_rfc4866(home)
    key = crypto.kbm(home, careof)
    assert crypto.authenticator(key, pton(coa), pton(cn), data) == rr.authenticator(
        key, coa, cn, data
    )
    assert len(crypto.authenticator(key, pton(coa), pton(cn), data)) == 12


def _auth_option(rec):
    return next(o for o in rec.mh.options if isinstance(o, BindingAuthorizationData)).authenticator


def _one(pkt):
    (rec,) = rr.records([pkt])
    return rec


def test_deregistration_vector():
    # returning home: care-of nonce index 0, care-of address = home address, Kbm = SHA1(home token)
    m = RR()
    rec = _one(m.dereg_home(rr.T0, seq=30, hidx=3))
    assert rec.deregistration and rec.src == HOA and rec.hoa is None
    home = crypto.home_keygen_token(KCN, pton(HOA), NONCES[3])
    ours = crypto.authenticator(crypto.kbm_dereg(home), pton(HOA), pton(CN), mac_data(rec.mh_wire))
    independent = hmac.new(
        hashlib.sha1(
            hmac.new(KCN, pton(HOA) + NONCES[3] + b"\x00", hashlib.sha1).digest()[:8]
        ).digest(),
        pton(HOA) + pton(CN) + rr.mh_data_of(rec.mh_wire),
        hashlib.sha1,
    ).digest()[:12]
    assert ours == independent == _auth_option(rec)
    # the standard key (with a care-of token for index 0) would not authenticate it
    wrong = crypto.kbm(home, crypto.careof_keygen_token(KCN, pton(HOA), NONCES[1]))
    assert crypto.authenticator(wrong, pton(HOA), pton(CN), mac_data(rec.mh_wire)) != ours


def test_ebu_vectors_both_flavours():
    m = RR()
    home = rr.home_token(KCN, HOA, NONCES[1])
    for rfc4866, independent_key in (
        (False, hashlib.sha1(home).digest()),
        (True, hashlib.sha1(home + bytes(8)).digest()),
    ):
        rec = _one(m.ebu(rr.T0, COA2, seq=20, hidx=1, rfc4866=rfc4866))
        assert rec.msg == "EBU" and rec.rfc4866 is rfc4866
        ours_key = (crypto.kbm_early_rfc4866 if rfc4866 else crypto.kbm_early)(
            crypto.home_keygen_token(KCN, pton(HOA), NONCES[1])
        )
        assert ours_key == independent_key
        mac = hmac.new(
            independent_key, pton(COA2) + pton(CN) + rr.mh_data_of(rec.mh_wire), hashlib.sha1
        ).digest()[:12]
        assert crypto.authenticator(ours_key, pton(COA2), pton(CN), mac_data(rec.mh_wire)) == mac
        assert _auth_option(rec) == mac
        # the two flavours are different keys: each EBU fails under the other's key
        other = crypto.kbm_early(home) if rfc4866 else crypto.kbm_early_rfc4866(home)
        assert crypto.authenticator(other, pton(COA2), pton(CN), mac_data(rec.mh_wire)) != mac


def test_ba_answering_an_ebu_vector():
    # the EBA: from the CN to the MN's care-of address (RH2 = home address), early key,
    # address pair (care-of address = packet destination, correspondent = source)
    m = RR()
    home = rr.home_token(KCN, HOA, NONCES[1])
    key = hashlib.sha1(home).digest()
    rec = _one(m.ba(rr.T0, COA2, seq=20, kbm=key))
    assert rec.dst == COA2 and rec.rh2 == HOA and rec.src == CN
    mac = hmac.new(key, pton(COA2) + pton(CN) + rr.mh_data_of(rec.mh_wire), hashlib.sha1).digest()[
        :12
    ]
    assert (
        crypto.authenticator(
            crypto.kbm_early(home), pton(rec.dst), pton(rec.src), mac_data(rec.mh_wire)
        )
        == mac
        == _auth_option(rec)
    )


def test_standard_bu_with_alternate_care_of_address_vector():
    m = RR()
    rec = _one(m.bu(rr.T0, COA1, seq=11, hidx=1, cidx=2, alt_coa=COA2))
    assert rec.src == COA1 and rec.care_of_address == COA2
    key = rr.kbm_standard(rr.home_token(KCN, HOA, NONCES[1]), rr.careof_token(KCN, COA2, NONCES[2]))
    mac = rr.authenticator(key, COA2, CN, rr.mh_data_of(rec.mh_wire))
    ours = crypto.authenticator(
        crypto.kbm(
            crypto.home_keygen_token(KCN, pton(HOA), NONCES[1]),
            crypto.careof_keygen_token(KCN, pton(COA2), NONCES[2]),
        ),
        pton(COA2),
        pton(CN),
        mac_data(rec.mh_wire),
    )
    assert ours == mac == _auth_option(rec)


def test_same_is_constant_time_compare():
    assert crypto.same(b"\x01" * 12, b"\x01" * 12)
    assert not crypto.same(b"\x01" * 12, b"\x01" * 11 + b"\x02")
    assert not crypto.same(b"\x01" * 12, b"\x01" * 8)
    assert crypto.same.__code__.co_names.count("compare_digest") == 1
