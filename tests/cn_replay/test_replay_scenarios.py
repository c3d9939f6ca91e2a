"""ebutool replay, library level: traces built packet by packet, decoded by the real
decoder, replayed with an injected acceptance function (or the oracle).

Every expected count is computed here from the packets the test built and the rules
of docs/replay.md (a CN's action takes effect, on the capture clock, when the
acknowledgement that answers it arrives; a tentative binding lasts
TENTATIVE_BINDING_LIFETIME from then), never read back from ebutool's output.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import replace

import pytest

from ebutool.cn_replay import EXPOSURE_COLUMNS, replay, replay_records
from ebutool.core.constants import DEFAULT_CONFIG
from ebutool.core.diagnostics import Diagnostics
from ebutool.records.from_packet import record_from_packet
from ebutool.wire.build import mh_packet, tunnel, udp_packet, write_pcap
from ebutool.wire.mh.codec import aligned, encode_mh
from ebutool.wire.mh.messages import (
    BindingAcknowledgement,
    BindingUpdate,
    CareOfTest,
    CareOfTestInit,
    HomeTest,
    HomeTestInit,
)
from ebutool.wire.mh.mobility_options import BindingAuthorizationData, NonceIndices

MS = 1_000_000
S = 1_000_000_000
T0 = 1_700_000_000 * S
MN = "2001:db8:1::100"
HA = "2001:db8:1::1"
CN = "2001:db8:c::1"
COA1 = "2001:db8:2::100"
COA2 = "2001:db8:3::100"
A, H = 0x8000, 0x4000
KCN = bytes.fromhex("00112233445566778899aabbccddeeff01234567")
NONCES = {1: bytes.fromhex("a0a1a2a3a4a5a6a7"), 2: bytes.fromhex("b0b1b2b3b4b5b6b7b8b9")}


def _ip(a: str) -> bytes:
    return ipaddress.IPv6Address(a).packed


def home_token(hoa: str, idx: int, kcn: bytes = KCN) -> bytes:
    """RFC 6275 5.2.5, written out independently of ebutool.oracle.crypto."""
    return hmac.new(kcn, _ip(hoa) + NONCES[idx] + b"\x00", hashlib.sha1).digest()[:8]


def careof_token(coa: str, idx: int, kcn: bytes = KCN) -> bytes:
    return hmac.new(kcn, _ip(coa) + NONCES[idx] + b"\x01", hashlib.sha1).digest()[:8]


def signed(msg, kbm: bytes, coa: str, cn: str):
    """``msg`` with its authenticator (RFC 6275 5.2.6): MH data up to and including the
    Binding Authorization Data option's type and length (the last 14 octets after
    alignment), checksum zeroed."""
    wire = encode_mh(aligned(msg))
    assert wire[-14:-12] == b"\x05\x0c"
    data = wire[:4] + b"\x00\x00" + wire[6:-12]
    mac = hmac.new(kbm, _ip(coa) + _ip(cn) + data, hashlib.sha1).digest()[:12]
    return replace(
        msg,
        options=[
            BindingAuthorizationData(mac) if isinstance(o, BindingAuthorizationData) else o
            for o in msg.options
        ],
    )


class Trace:
    """A capture at the MN, built packet by packet (times in ms after T0)."""

    def __init__(self, mn: str = MN, cn: str = CN, sign: bool = False):
        self.mn, self.cn, self.sign = mn, cn, sign
        self.pkts: list[tuple[int, bytes]] = []

    def _add(self, ms: float, pkt: bytes) -> bytes:
        self.pkts.append((T0 + round(ms * MS), pkt))
        return pkt

    def _bu_msg(self, seq, flags, lifetime, hidx, cidx, coa, kbm):
        msg = BindingUpdate(
            sequence=seq,
            flags=flags,
            lifetime=lifetime,
            options=[NonceIndices(hidx, cidx), BindingAuthorizationData(bytes(12))],
        )
        return signed(msg, kbm, coa, self.cn) if self.sign else msg

    def ebu(self, ms, seq, coa=COA1, lifetime=25, ack=True, hidx=1, bad_mac=False):
        kbm = hashlib.sha1(home_token(self.mn, hidx)).digest()
        if bad_mac:
            kbm = bytes(20)
        msg = self._bu_msg(seq, A if ack else 0, lifetime, hidx, 0, coa, kbm)
        return self._add(ms, mh_packet(msg, coa, self.cn, hoa=self.mn))

    def bu(self, ms, seq, coa=COA1, lifetime=25, ack=True, hidx=1, cidx=2):
        kbm = hashlib.sha1(home_token(self.mn, hidx) + careof_token(coa, cidx)).digest()
        msg = self._bu_msg(seq, A if ack else 0, lifetime, hidx, cidx, coa, kbm)
        return self._add(ms, mh_packet(msg, coa, self.cn, hoa=self.mn))

    def dereg(self, ms, seq, coa=None, ack=True, hidx=1):
        """Lifetime 0; from the home address (returning home) unless ``coa`` is given."""
        kbm = hashlib.sha1(home_token(self.mn, hidx)).digest()
        src = coa or self.mn
        msg = self._bu_msg(seq, A if ack else 0, 0, hidx, 0, src, kbm)
        return self._add(ms, mh_packet(msg, src, self.cn, hoa=None if coa is None else self.mn))

    def ba(self, ms, seq, status=0, coa=COA1, lifetime=1):
        msg = BindingAcknowledgement(status=status, sequence=seq, lifetime=lifetime)
        home = None if coa == self.mn else self.mn
        return self._add(ms, mh_packet(msg, self.cn, coa, home=home))

    def data(self, ms, coa=COA1, size=100) -> int:
        """A route-optimised packet from the CN to ``coa``; returns its IPv6 length."""
        return len(self._add(ms, udp_packet(self.cn, coa, bytes(size), home=self.mn)))

    def data_home(self, ms, coa=COA1, size=100) -> int:
        """A packet from the CN to the home address, tunnelled by the HA to ``coa``."""
        return len(self._add(ms, tunnel(HA, coa, udp_packet(self.cn, self.mn, bytes(size)))))

    def mn_data(self, ms, coa=COA1, size=100) -> int:
        return len(self._add(ms, udp_packet(coa, self.cn, bytes(size), hoa=self.mn)))

    def ha_bu(self, ms, seq, coa=COA1):
        self._add(
            ms,
            mh_packet(BindingUpdate(sequence=seq, flags=A | H, lifetime=100), coa, HA, hoa=self.mn),
        )

    def ha_ba(self, ms, seq, coa=COA1):
        self._add(
            ms, mh_packet(BindingAcknowledgement(sequence=seq, lifetime=100), HA, coa, home=self.mn)
        )

    def hoti_hot(self, ms, coa, hidx=1, rtt=100, cookie=b"HOMECOOK"):
        self._add(
            ms, tunnel(coa, HA, mh_packet(HomeTestInit(init_cookie=cookie), self.mn, self.cn))
        )
        hot = HomeTest(nonce_index=hidx, init_cookie=cookie, keygen_token=home_token(self.mn, hidx))
        self._add(ms + rtt, tunnel(HA, coa, mh_packet(hot, self.cn, self.mn)))

    def coti_cot(self, ms, coa, cidx=2, rtt=30, cookie=b"CAREOFCK"):
        self._add(ms, mh_packet(CareOfTestInit(init_cookie=cookie), coa, self.cn))
        cot = CareOfTest(nonce_index=cidx, init_cookie=cookie, keygen_token=careof_token(coa, cidx))
        self._add(ms + rtt, mh_packet(cot, self.cn, coa))

    def sorted(self) -> list[tuple[int, bytes]]:
        return sorted(self.pkts, key=lambda p: p[0])

    def records(self):
        diag = Diagnostics()
        recs = [
            record_from_packet(i + 1, ts, pkt, 0, diag) for i, (ts, pkt) in enumerate(self.sorted())
        ]
        assert not diag.counts, diag.kept
        return [r for r in recs if r is not None]

    def write(self, path) -> str:
        with open(path, "wb") as fh:
            write_pcap(fh, self.sorted())
        return str(path)


def accept_all(rec):
    return "valid"


def run(trace: Trace, **kw):
    kw.setdefault("authenticate", accept_all)
    return replay_records(trace.records(), **kw)


def kinds(result) -> list[str]:
    return list(result.divergences["kind"])


def early_handover(
    tr: Trace, data_ms, bu_ms: float, rtt: float = 30, seq: int = 10, size: int = 100
):
    """EBU at 1 ms, EBA one RTT later, CN data at ``data_ms``, standard BU at ``bu_ms``
    answered one RTT later.  Returns the IPv6 lengths of the data packets by time."""
    tr.ha_bu(0, 1)
    tr.ebu(1, seq)
    tr.ba(1 + rtt, seq)
    tr.ha_ba(40, 1)
    sizes = {t: tr.data(t, size=size) for t in data_ms}
    tr.bu(bu_ms, seq + 1)
    tr.ba(bu_ms + rtt, seq + 1)
    return sizes


# ----------------------------------------------------------------------------------------
def test_tentative_binding_verified_in_time_has_no_violation():
    tr = Trace()
    data_ms = [40 + 20 * i for i in range(20)]  # 40 .. 420 ms
    sizes = early_handover(tr, data_ms, bu_ms=100)
    r = run(tr)
    assert list(r.exposure.columns) == EXPOSURE_COLUMNS
    assert len(r.exposure) == 1
    row = r.exposure.iloc[0]
    start, verified_at = 1 + 30, 100 + 30  # EBA arrival, BA arrival (ms)
    unverified = [t for t in data_ms if start <= t < verified_at]
    assert row["verified"] and row["end_reason"] == "verified"
    assert (row["mn"], row["cn"], row["coa"]) == (MN, CN, COA1)
    assert row["unverified_packets"] == len(unverified) > 0
    assert row["unverified_bytes"] == sum(sizes[t] for t in unverified)
    assert row["tentative_ms"] == pytest.approx(verified_at - start)
    assert row["tentative_start"] == pytest.approx((T0 + start * MS) / S, abs=1e-6)
    assert row["overstay_packets"] == row["overstay_bytes"] == row["violations"] == 0
    assert r.divergences.empty
    assert list(r.decisions["action"]) == ["tentative", "verified"]
    assert list(r.decisions["state_after"]) == ["tentative", "regular"]


def test_tentative_binding_expires_while_cn_keeps_sending():
    tr = Trace()
    data_ms = [40 + 250 * i for i in range(20)]  # 40 .. 4790 ms, varying sizes below
    tr.ha_bu(0, 1)
    tr.ebu(1, 10)
    tr.ba(31, 10)
    sizes = {t: tr.data(t, size=60 + 7 * i) for i, t in enumerate(data_ms)}
    tr.bu(4200, 11)  # too late: the binding expired at 3031
    tr.ba(4230, 11)
    r = run(tr)
    row = r.exposure.iloc[0]
    start = 31
    end = start + DEFAULT_CONFIG.tentative_binding_lifetime * 1000
    unverified = [t for t in data_ms if start <= t <= end]
    overstay = [t for t in data_ms if end < t < 4230]  # until the late BU takes effect
    assert not row["verified"] and row["end_reason"] == "expired"
    assert row["tentative_end"] == pytest.approx((T0 + end * MS) / S, abs=1e-6)
    assert row["tentative_ms"] == pytest.approx(end - start)
    assert row["unverified_packets"] == len(unverified)
    assert row["unverified_bytes"] == sum(sizes[t] for t in unverified)
    assert row["overstay_packets"] == len(overstay) == 5
    assert row["overstay_bytes"] == sum(sizes[t] for t in overstay)
    assert row["violations"] == len(overstay)
    div = r.divergences
    assert kinds(r) == ["data_after_tentative_lifetime"] * len(overstay)
    assert list(div["time"]) == pytest.approx([(T0 + t * MS) / S for t in overstay], abs=1e-6)
    assert set(div["mn"]) == {MN} and set(div["cn"]) == {CN} and set(div["coa"]) == {COA1}
    assert all(str(sizes[t]) in obs for t, obs in zip(overstay, div["observed"], strict=False))
    # the late BU makes a fresh regular binding: packets after it are fine
    assert list(r.decisions["action"]) == ["tentative", "regular"]


def test_tentative_lifetime_changes_the_outcome():
    tr = Trace()
    data_ms = [40 + 250 * i for i in range(20)]
    early_handover(tr, data_ms, bu_ms=4200)
    recs = tr.records()
    short = replay_records(recs, authenticate=accept_all)
    long = replay_records(
        recs, authenticate=accept_all, config=DEFAULT_CONFIG.with_(tentative_binding_lifetime=5.0)
    )
    shorter = replay_records(
        recs, authenticate=accept_all, config=DEFAULT_CONFIG.with_(tentative_binding_lifetime=1.0)
    )
    assert not short.exposure.iloc[0]["verified"]
    assert long.exposure.iloc[0]["verified"] and long.divergences.empty
    n = {
        name: int(res.exposure.iloc[0]["overstay_packets"])
        for name, res in (("3", short), ("1", shorter))
    }
    assert n["1"] == len([t for t in data_ms if 31 + 1000 < t < 4230])
    assert n["3"] == len([t for t in data_ms if 31 + 3000 < t < 4230])
    assert n["1"] > n["3"] > 0
    assert len(shorter.divergences) == n["1"]


def test_ebu_to_a_standard_cn_policy():
    """The same trace replayed against a CN without EBU support: the EBU is silently
    dropped, so the EBA is unexpected and every packet to the CoA before the standard
    BU takes effect goes to an unbound care-of address."""
    tr = Trace()
    data_ms = [40 + 20 * i for i in range(20)]
    early_handover(tr, data_ms, bu_ms=100)
    r = run(tr, cn_policy="standard")
    assert r.exposure.empty and list(r.exposure.columns) == EXPOSURE_COLUMNS
    before = [t for t in data_ms if t < 130]
    assert kinds(r) == ["eba_unexpected"] + ["data_to_unbound_coa"] * len(before)
    assert list(r.decisions["action"]) == ["unsupported", "regular"]
    assert r.summary["divergences_by_kind"] == {
        "eba_unexpected": 1,
        "data_to_unbound_coa": len(before),
    }
    assert all(
        "EBU in frame 2 was not accepted (unsupported)" in d for d in r.divergences["detail"][1:]
    )


def test_fallback_trace_against_an_early_cn():
    """The trace's CN does not support EBUs (no EBA; data only after the standard BU):
    an early CN would have answered, but from the MN a missing EBA may as well be a lost
    EBU or a lost EBA: an unobservable row, not a divergence; against a standard CN the
    same trace has none."""
    tr = Trace()
    tr.ebu(1, 10)
    tr.bu(100, 11)
    tr.ba(130, 11)
    for t in range(140, 1500, 20):  # longer than INITIAL_BINDACK_TIMEOUT after the EBU
        tr.data(t)
    early = run(tr)
    assert kinds(early) == ["unobservable_eba_missing"]
    assert early.divergences.iloc[0]["frame"] == 1
    assert early.summary["divergences"] == 0 and early.summary["unobservable"] == 1
    assert early.exit_status() == 0 and early.exit_status(strict=True) == 1
    assert "did not send it again" in early.divergences.iloc[0]["detail"]
    assert run(tr, cn_policy="standard").divergences.empty


def test_trusted_mns_only_draft_6_2():
    tr = Trace()
    early_handover(tr, [50, 60], bu_ms=100)
    granted = run(tr, trusted=[MN])
    refused = run(tr, trusted=["2001:db8:1::999"])
    assert granted.divergences.empty and len(granted.exposure) == 1
    assert refused.exposure.empty
    assert kinds(refused) == ["eba_unexpected", "data_to_unbound_coa", "data_to_unbound_coa"]


@pytest.mark.parametrize(
    "last,new,accepted",
    [
        (10, 11, True),
        (10, 10, False),
        (10, 9, False),
        (65535, 0, True),
        (65530, 3, True),
        (5, 5 + 32767, True),
        (5, 5 + 32768, False),
        (40000, 7000, True),
        (40000, 8000, False),
    ],
)
def test_sequence_number_window(last, new, accepted):
    """RFC 6275 9.5.1: an update whose number is not greater (modulo 2^16) than the
    last accepted one is rejected with status 135 carrying the last accepted number."""
    tr = Trace()
    tr.bu(1, last)
    tr.ba(31, last)
    tr.bu(100, new, coa=COA2)
    if accepted:
        tr.ba(130, new, coa=COA2)
    else:
        tr.ba(130, last, status=135, coa=COA2)
    r = run(tr)
    assert r.divergences.empty, r.divergences.to_dict("records")
    assert list(r.decisions["action"]) == [
        "regular",
        "regular" if accepted else "rejected_sequence",
    ]


def test_sequence_out_of_window_accepted_by_the_trace_cn_is_a_divergence():
    tr = Trace()
    tr.ebu(1, 500)
    tr.ba(31, 500)
    tr.bu(100, 500)  # not greater than 500
    tr.ba(130, 500)  # ... but the CN accepted it
    for t in (3100, 3200):  # and kept sending after the tentative lifetime (3031 ms)
        tr.data(t)
    r = run(tr)
    assert kinds(r) == [
        "ack_status",
        "data_after_tentative_lifetime",
        "data_after_tentative_lifetime",
    ]
    first = r.divergences.iloc[0]
    assert (
        first["expected"] == "BA status 135 seq 500" and first["observed"] == "BA status 0 seq 500"
    )
    assert list(r.decisions["action"]) == ["tentative", "rejected_sequence"]


def test_sequence_out_of_window_without_a_flag_still_answered():
    tr = Trace()
    tr.bu(1, 7)
    tr.ba(31, 7)
    tr.bu(100, 3, coa=COA2, ack=False)  # rejected: a BA 135 is sent whatever the A flag
    tr.mn_data(1200)  # the capture goes on past INITIAL_BINDACK_TIMEOUT
    r = run(tr)
    assert kinds(r) == ["unobservable_ack_missing"]
    assert r.divergences.iloc[0]["expected"] == "BA status 135 seq 7"


def test_deregistration_deletes_the_binding():
    tr = Trace()
    tr.ebu(1, 10)
    tr.ba(31, 10)
    tr.data(50)
    tr.dereg(500, 11)  # returning home: from the home address, lifetime 0
    tr.ba(530, 11, coa=MN)
    late = [tr.data(t) for t in (600, 700)]
    r = run(tr)
    row = r.exposure.iloc[0]
    assert row["end_reason"] == "deleted" and not row["verified"]
    assert row["tentative_ms"] == pytest.approx(530 - 31)
    assert row["unverified_packets"] == 1 and row["overstay_packets"] == 0
    assert kinds(r) == ["data_to_unbound_coa"] * 2
    assert all("deregistration" in d for d in r.divergences["detail"])
    assert all(str(n) in o for n, o in zip(late, r.divergences["observed"], strict=False))
    dec = r.decisions
    assert list(dec["action"]) == ["tentative", "deleted"]
    assert dec.iloc[1]["msg"] == "BU (deregistration)" and dec.iloc[1]["coa"] == MN
    assert dec.iloc[1]["state_after"] == "none"


def test_deregistration_from_care_of_address_and_then_new_numbers():
    """Lifetime 0 from a care-of address deletes too; with no entry left any sequence
    number is accepted again (RFC 6275 9.5.1)."""
    tr = Trace()
    tr.bu(1, 100)
    tr.ba(31, 100)
    tr.dereg(200, 101, coa=COA1)
    tr.ba(230, 101)
    tr.bu(300, 5, coa=COA2)  # lower than 101, but the entry is gone
    tr.ba(330, 5, coa=COA2)
    r = run(tr)
    assert r.divergences.empty
    assert list(r.decisions["action"]) == ["regular", "deleted", "regular"]


def test_data_to_a_coa_never_bound():
    tr = Trace()
    tr.bu(1, 10)
    tr.ba(31, 10)
    n = tr.data(50, coa=COA2)  # binding is for COA1
    tr.data(60)  # fine
    r = run(tr)
    assert kinds(r) == ["data_to_unbound_coa"]
    d = r.divergences.iloc[0]
    assert d["coa"] == COA2 and d["expected"] == f"data to {COA1}" and str(n) in d["observed"]


def test_replaced_tentative_binding():
    tr = Trace()
    tr.ebu(1, 10)
    tr.ba(31, 10)
    tr.data(40)
    tr.ebu(200, 11, coa=COA2)
    tr.ba(230, 11, coa=COA2)
    tr.data(240, coa=COA2)
    tr.bu(300, 12, coa=COA2)
    tr.ba(330, 12, coa=COA2)
    r = run(tr)
    ex = r.exposure
    assert list(ex["coa"]) == [COA1, COA2]
    assert list(ex["end_reason"]) == ["replaced", "verified"]
    assert list(ex["unverified_packets"]) == [1, 1]
    assert r.divergences.empty


def test_repeated_ebu_does_not_extend_the_tentative_lifetime():
    tr = Trace()
    tr.ebu(1, 10)
    tr.ba(31, 10)
    tr.ebu(2000, 11)  # same care-of address, still unverified
    tr.ba(2030, 11)
    tr.data(3500)  # 3031 + ... : after the first EBU's lifetime
    r = run(tr)
    assert len(r.exposure) == 1 and r.exposure.iloc[0]["end_reason"] == "expired"
    assert kinds(r) == ["data_after_tentative_lifetime"]
    assert list(r.decisions["action"]) == ["tentative", "tentative_kept"]


def test_unauthenticated_update_is_discarded():
    tr = Trace()
    tr.ebu(1, 10)
    tr.ba(31, 10)
    tr.data(40)
    r = run(tr, authenticate=lambda rec: "invalid" if rec.msg == "EBU" else None)
    assert list(r.decisions["action"]) == ["discarded"]
    assert kinds(r) == ["eba_unexpected", "data_to_unbound_coa"]
    assert r.exposure.empty


def test_without_any_check_the_trace_is_followed_and_said_so():
    tr = Trace()
    tr.ebu(1, 10)  # answered: accepted per the trace
    tr.ba(31, 10)
    tr.ebu(500, 11, coa=COA2)  # A flag set, never answered: not accepted
    r = run(tr, authenticate=None)
    assert list(r.decisions["basis"]) == ["trace", "trace"]
    assert list(r.decisions["action"]) == ["tentative", "discarded"]
    assert all("followed the trace" in x for x in r.decisions["reason"])
    assert r.summary["basis"] == {"trace": 2}
    assert r.divergences.empty


def test_unverifiable_without_ack_flag_follows_the_data():
    tr = Trace()
    tr.ebu(1, 10, ack=False)
    tr.data(40)
    r = run(tr, authenticate=lambda rec: "unverifiable" if rec.msg == "EBU" else None)
    assert list(r.decisions["basis"]) == ["trace"]
    assert list(r.decisions["action"]) == ["tentative"]
    assert r.exposure.iloc[0]["unverified_packets"] == 1


def test_ack_answering_nothing_and_ack_flag_clear():
    tr = Trace()
    tr.bu(1, 10, ack=False)
    tr.ba(31, 10)  # RFC 6275 9.5.4: SHOULD NOT be sent
    tr.ba(60, 99)  # answers no update at all
    r = run(tr)
    assert kinds(r) == ["ack_unexpected", "ack_unexpected"]
    assert "answers no binding update" in r.divergences.iloc[1]["detail"]


def test_missing_ack_near_the_end_of_the_capture_is_not_reported():
    tr = Trace()
    tr.bu(1, 10)  # capture ends before INITIAL_BINDACK_TIMEOUT
    tr.mn_data(500)
    assert run(tr).divergences.empty
    tr.mn_data(1500)
    assert kinds(run(tr)) == ["unobservable_ack_missing"]


def test_binding_from_before_the_capture_is_assumed():
    tr = Trace()
    tr.data(1)  # the CN already routes to COA1
    tr.bu(100, 7, coa=COA2)
    tr.ba(130, 7, coa=COA2)
    tr.data(150, coa=COA2)
    diag = Diagnostics()
    r = run(tr, diag=diag)
    assert r.divergences.empty
    assert diag.counts["replay_prior_binding"] == 1
    assert r.summary["prior_bindings"] == 1


def test_data_through_the_home_agent_is_never_a_divergence():
    tr = Trace()
    tr.ebu(1, 10)
    tr.ba(31, 10)
    for t in (3500, 3600):
        tr.data_home(t)  # after expiry the CN uses the home address: right
    r = run(tr)
    assert r.divergences.empty
    assert r.exposure.iloc[0]["overstay_packets"] == 0


def test_rtt_estimated_without_acknowledgement():
    """No A flag, no EBA: the CN's action is placed one CoTI/CoT round trip after the
    EBU (docs/replay.md "Time")."""
    tr = Trace()
    tr.coti_cot(0, COA1, rtt=50)
    tr.ebu(2, 10, ack=False)
    tr.data(60)
    r = run(tr)
    row = r.exposure.iloc[0]
    assert row["tentative_start"] == pytest.approx((T0 + 52 * MS) / S, abs=1e-6)
    # still tentative when the capture ends (the CN's packet at 60 ms, the last one): open
    assert row["end_reason"] == "open"
    assert row["tentative_end"] == pytest.approx((T0 + 60 * MS) / S, abs=1e-6)


def test_handover_events_and_foreign_records_are_ignored():
    from ebutool.records.record import HandoverEvent

    tr = Trace()
    early_handover(tr, [50], bu_ms=100)
    recs = [HandoverEvent(T0, MN, COA1)] + tr.records()
    assert replay_records(recs, authenticate=accept_all).divergences.empty


# -- with the oracle ----------------------------------------------------------------------
def signed_handover(bad_ebu_mac: bool = False) -> Trace:
    tr = Trace(sign=True)
    tr.hoti_hot(-2000, "2001:db8:9::100")  # home test before the handover
    tr.ha_bu(0, 1)
    tr.ebu(1, 10, bad_mac=bad_ebu_mac)
    tr.coti_cot(2, COA1)
    tr.ba(31, 10)
    tr.ha_ba(40, 1)
    tr.data(45)
    tr.bu(40, 11)
    tr.ba(70, 11)
    return tr


def test_keyless_oracle_uses_the_tokens_of_the_capture(tmp_path):
    r = replay(signed_handover().write(tmp_path / "a.pcap"))
    assert list(r.decisions["authentication"]) == ["valid", "valid"]
    assert list(r.decisions["basis"]) == ["capture", "capture"]
    assert r.divergences.empty


def test_oracle_with_keys_rejects_a_forged_ebu(tmp_path):
    from ebutool.oracle.keys import KeyTable, Nonce

    keys = KeyTable()
    keys.set_kcn(KCN, CN)
    keys.set_nonces({i: Nonce(v) for i, v in NONCES.items()}, CN)
    r = replay(signed_handover(bad_ebu_mac=True).write(tmp_path / "a.pcap"), keys=keys)
    assert list(r.decisions["authentication"]) == ["invalid", "valid"]
    assert list(r.decisions["basis"]) == ["kcn", "kcn"]
    assert list(r.decisions["action"]) == ["discarded", "regular"]
    # the trace's CN answered the forged EBU and sent data on it
    assert kinds(r) == ["eba_unexpected", "data_to_unbound_coa"]


@pytest.mark.parametrize("answer,expected_kinds", [(137, []), (0, ["ack_status"])])
def test_unknown_care_of_nonce_index_is_status_137(tmp_path, answer, expected_kinds):
    """The CN's nonce table lacks care-of index 2: RFC 6275 9.5.1 says BA status 137."""
    from ebutool.oracle.keys import KeyTable, Nonce

    keys = KeyTable()
    keys.set_kcn(KCN, CN)
    keys.set_nonces({1: Nonce(NONCES[1])}, CN)
    tr = Trace(sign=True)
    tr.bu(1, 10, hidx=1, cidx=2)
    tr.ba(31, 10, status=answer)
    r = replay(tr.write(tmp_path / "n.pcap"), keys=keys)
    assert list(r.decisions["action"]) == ["rejected_nonce"]
    assert list(r.decisions["expected_ack"]) == ["BA status 137 seq 10"]
    assert kinds(r) == expected_kinds


def test_coti_cot_matched_by_care_of_address_cn_and_cookie():
    """Two MNs behind different care-of addresses use the same init cookie with one CN
    (cookies are only unique per MN): each CoT answers the CoTI from its own care-of
    address (ebutool/analysis matches by (CoA, CN, cookie)), so each MN's unacknowledged
    BU is placed one path RTT later, not the other MN's."""
    mn2, coa_b = "2001:db8:1::200", "2001:db8:4::200"
    tr1, tr2 = Trace(), Trace(mn=mn2)
    rtt1, rtt2 = 60, 30
    tr1.coti_cot(0, COA1, rtt=rtt1, cookie=b"SAMECOOK")
    tr2.coti_cot(10, coa_b, rtt=rtt2, cookie=b"SAMECOOK")  # its CoT arrives first (40 < 60)
    tr1.bu(100, 5, coa=COA1, ack=False)
    tr2.bu(101, 7, coa=coa_b, ack=False)
    tr1.pkts += tr2.pkts
    r = run(tr1)
    dec = r.decisions.set_index("mn")
    # abs: a relative tolerance on epoch seconds would be ~1700 s
    assert dec.loc[MN, "cn_time"] == pytest.approx((T0 + (100 + rtt1) * MS) / S, abs=1e-6)
    assert dec.loc[mn2, "cn_time"] == pytest.approx((T0 + (101 + rtt2) * MS) / S, abs=1e-6)


CN2 = "2001:db8:c::2"


def two_cns(sign: bool = False) -> Trace:
    """One MN, one handover, two CNs: CN answers the EBU (early-capable), CN2 does not
    (RFC 6275 only); both verify the standard BU.  The capture goes on 1.5 s, past
    INITIAL_BINDACK_TIMEOUT, so a missing EBA counts."""
    tr, tr2 = Trace(sign=sign), Trace(cn=CN2, sign=sign)
    tr.ebu(1, 10)
    tr2.ebu(2, 20)
    tr.ba(31, 10)  # the EBA of CN
    tr.bu(100, 11)
    tr2.bu(101, 21)
    tr.ba(130, 11)
    tr2.ba(141, 21)
    tr.mn_data(1500)
    tr.pkts += tr2.pkts
    return tr


def test_per_cn_policy():
    tr = two_cns()
    glob = run(tr)  # every CN modelled early: CN2 "should" have answered
    assert kinds(glob) == ["unobservable_eba_missing"]
    assert list(glob.divergences["cn"]) == [CN2]
    for spec in (
        {CN2: "standard"},
        {"*": "early", CN2: "standard"},
        {"*": "standard", CN: "early"},
    ):
        r = run(tr, cn_policy=spec)
        assert r.divergences.empty, (spec, r.divergences)
        dec = r.decisions.set_index(["cn", "msg"])["action"]
        assert dec[(CN, "EBU")] == "tentative" and dec[(CN2, "EBU")] == "unsupported"
        assert dec[(CN2, "BU")] == "regular" and dec[(CN, "BU")] == "verified"
        assert list(r.exposure["cn"]) == [CN]
        assert r.summary["cn_policies"] == {CN: "early", CN2: "standard"}
    # address spelled differently: canonicalised
    assert run(tr, cn_policy={"2001:0db8:000c::0002": "standard"}).divergences.empty


def test_observed_policy_infers_each_cn_from_the_trace():
    tr = two_cns()
    r = run(tr, cn_policy="observed")
    assert r.divergences.empty
    assert r.summary["cn_policies"] == {CN: "early", CN2: "standard"}
    assert r.summary["cn_policies_observed"] == {
        CN: "answered 1 of 1 EBUs",
        CN2: "answered 0 of 1 EBUs",
    }
    line = r.summary_line()
    assert (
        line.startswith("policy observed (")
        and f"{CN2} standard [observed: answered 0 of 1 EBUs]" in line
    )
    # a per-CN policy given explicitly wins over the observed default
    r = run(tr, cn_policy={"*": "observed", CN2: "early"})
    assert kinds(r) == ["unobservable_eba_missing"] and r.summary["cn_policies_observed"] == {
        CN: "answered 1 of 1 EBUs"
    }


def test_bad_per_cn_policy_is_a_usage_error():
    from ebutool.core.errors import UsageError

    for spec in ({"not-an-address": "early"}, {CN: "lenient"}, "sometimes"):
        with pytest.raises(UsageError):
            run(two_cns(), cn_policy=spec)


# -- loss between the MN and the CN (the capture is at the MN) ------------------------------
def lossy_handover(ebu_lost_up: bool, bu_ms: float = 3500, rtt: float = 30):
    """The MN (now at COA2) sends an EBU at 1 ms that is never answered, and again (a new
    sequence number) at 1001 ms, answered one RTT later; the standard BU at ``bu_ms``.
    ``ebu_lost_up``: the first EBU never reached the CN, whose data to COA2 starts after
    the second EBA; else the CN got it but its EBA was lost on the way down, and its data
    to COA2 starts one RTT after the first EBU.  Returns (trace, data times)."""
    tr = Trace()
    tr.ebu(1, 10, coa=COA2)
    tr.ebu(1001, 11, coa=COA2)
    tr.ba(1001 + rtt, 11, coa=COA2)
    first = 1001 + rtt + 9 if ebu_lost_up else 1 + rtt + 9
    data_ms = [t for t in range(int(first), 5000, 100)]
    for t in data_ms:
        tr.data(t, coa=COA2)
    tr.bu(bu_ms, 12, coa=COA2)
    tr.ba(bu_ms + rtt, 12, coa=COA2)
    return tr, data_ms


def test_lost_request_is_unobservable_not_a_divergence():
    tr, data_ms = lossy_handover(ebu_lost_up=True)
    r = run(tr)
    # Only the unanswered EBU is reported, and as unobservable: exit status 0.
    assert kinds(r) == ["unobservable_eba_missing"]
    row = r.divergences.iloc[0]
    assert row["frame"] == 1 and "the MN sent the EBU again (frame 2, seq 11)" in row["detail"]
    assert r.summary["divergences"] == 0 and r.summary["unobservable"] == 1
    assert r.exit_status() == 0 and r.exit_status(strict=True) == 1
    assert (
        "divergences 0 (none); unobservable from the MN 1 (unobservable_eba_missing 1)"
        in r.summary_line()
    )
    # Nothing shows the CN got the first EBU: assumed lost, the tentative binding is the
    # second EBU's, from its EBA (1031 ms) for 3 s, verified by the BA at 3530 ms.
    assert list(r.decisions["action"]) == ["unanswered", "tentative", "verified"]
    assert len(r.exposure) == 1
    ex = r.exposure.iloc[0]
    start, end = 1031, 3530
    assert ex["verified"] and ex["tentative_start"] == pytest.approx(
        (T0 + start * MS) / S, abs=1e-6
    )
    assert ex["unverified_packets"] == len([t for t in data_ms if start <= t <= end])


def test_lost_answer_keeps_the_observable_overstay():
    """The CN did get the first EBU (its data to COA2 follows it): its tentative binding
    ran from then, so data after that lifetime and before the late BU is an overstay —
    observable, a divergence — while the missing EBA is unobservable."""
    tr, data_ms = lossy_handover(ebu_lost_up=False)
    r = run(tr)
    start = 1 + 30  # the RTT of the path, from the second EBU's EBA
    expiry = start + DEFAULT_CONFIG.tentative_binding_lifetime * 1000
    overstay = [t for t in data_ms if expiry < t < 3530]
    assert len(overstay) > 0
    assert kinds(r) == ["unobservable_eba_missing"] + ["data_after_tentative_lifetime"] * len(
        overstay
    )
    assert list(r.decisions["action"]) == ["tentative", "tentative_kept", "regular"]
    assert r.summary["divergences"] == len(overstay) and r.exit_status() == 1
    assert r.exposure.iloc[0]["tentative_start"] == pytest.approx((T0 + start * MS) / S, abs=1e-6)


def test_synthesized_access_link_loss_gives_no_divergence(tmp_path):
    """ebutool synth with loss 0.5 on one access link (the CN itself conforms): every
    binding update to the CN that asked for an answer and got none in the capture (which
    goes on past INITIAL_BINDACK_TIMEOUT) is one unobservable row; nothing diverges."""
    import pathlib

    from ebutool.oracle.keys import load_key_table
    from ebutool.records.record import Record
    from ebutool.synth import load_scenario, simulate, trace_records, write_capture, write_keys
    from ebutool.wire.mh.messages import BU_FLAG_A, BU_FLAG_H

    toml = pathlib.Path(__file__).resolve().parents[2] / "samples" / "early-conservative.toml"
    text = toml.read_text().replace(
        "cn_delay_ms = { cn1 = 12 }", "cn_delay_ms = { cn1 = 12 }\nloss = 0.5"
    )
    assert "loss = 0.5" in text
    (tmp_path / "lossy.toml").write_text(text)
    sc = load_scenario(tmp_path / "lossy.toml")
    total = 0
    for seed in (2, 8, 11, 12):
        res = simulate(sc, seed=seed)
        cap, keys = tmp_path / f"l{seed}.pcap", tmp_path / f"l{seed}.keys.json"
        with open(cap, "wb") as fh:
            write_capture(res, fh)
        with open(keys, "w") as fh:
            write_keys(res, fh)
        recs = [x for x in trace_records(res) if isinstance(x, Record)]
        end = max(x.ts_ns for x in recs)
        cn = sc.correspondents["cn1"].address
        answered = {x.mh.sequence for x in recs if x.msg == "BA" and x.src == cn}
        unanswered = [
            x.frame
            for x in recs
            if x.msg in ("BU", "EBU")
            and x.dst == cn
            and not x.mh.flags & BU_FLAG_H
            and x.mh.flags & BU_FLAG_A
            and x.mh.sequence not in answered
            and end - x.ts_ns >= S
        ]
        total += len(unanswered)
        r = replay(str(cap), keys=load_key_table(keys_file=str(keys)))
        assert r.summary["divergences"] == 0, r.divergences.to_string()
        assert list(r.divergences["frame"]) == unanswered
        assert set(r.divergences["kind"]) <= {
            "unobservable_eba_missing",
            "unobservable_ack_missing",
        }
        assert r.exit_status() == 0
    assert total > 0  # the seeds do lose updates or answers
