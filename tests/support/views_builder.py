"""An independent builder of one run seen at several vantage points (the MN, its HA, a
CN), each capture stamped with its own clock (uses only tests/support/rfc_packets and rr,
none of ebutool's code; written by a reviewer of stop 32).

True time in ms; each view's packets are stamped with its own clock:
    view_time = true + offset_ms + drift_ppm * 1e-6 * true
Links: MN-HA ``d_mh`` (or ``d_mh_up``/``d_mh_down``), HA-CN ``d_hc``, MN-CN ``d_mc``;
the HA and the CN answer after ``proc_ha``/``proc_cn``.
"""

from __future__ import annotations

from pathlib import Path

from tests.support import rfc_packets as P
from tests.support import rr
from tests.support.rfc_scenarios import BASE_NS, KCN, NONCES

HOA, HA, CN = "2001:db8:1::100", "2001:db8:1::1", "2001:db8:c::1"
COAS = ["2001:db8:a::100", "2001:db8:b::100"]


class Run:
    def __init__(
        self,
        d_mh=20.0,
        d_hc=40.0,
        d_mc=12.0,
        proc_ha=1.0,
        proc_cn=1.0,
        d_mh_up=None,
        d_mh_down=None,
    ):
        self.d_mh_up = d_mh if d_mh_up is None else d_mh_up
        self.d_mh_down = d_mh if d_mh_down is None else d_mh_down
        self.d_hc, self.d_mc = d_hc, d_mc
        self.proc_ha, self.proc_cn = proc_ha, proc_cn
        self.views = {"mn": [], "ha": [], "cn": []}
        self.nonces = dict(NONCES)

    def add(self, view, t, pkt):
        self.views[view].append((t, pkt))

    def home_token(self, i):
        return rr.home_token(KCN, HOA, self.nonces[i])

    def careof_token(self, coa, i):
        return rr.careof_token(KCN, coa, self.nonces[i])

    # --- HA registration: MN -> HA -> MN. returns arrival time of BA at MN
    def bu_ha(self, t, seq, coa, lost_at_mn_view=False):
        bu = P.mh_packet(coa, HA, P.MH_BU, P.bu_body(seq, P.BU_A | P.BU_H, 60), hoa=HOA)
        ba = P.mh_packet(HA, coa, P.MH_BA, P.ba_body(0, seq, 60), rh2=HOA)
        t_ha = t + self.d_mh_up
        t_ba = t_ha + self.proc_ha
        t_mn = t_ba + self.d_mh_down
        self.add("mn", t, bu)
        self.add("ha", t_ha, bu)
        self.add("ha", t_ba, ba)
        self.add("mn", t_mn, ba)
        return t_mn

    def hoti_hot(self, t, cookie, coa, index):
        inner = P.mh_packet(HOA, CN, P.MH_HOTI, P.hoti_body(cookie))
        tun = P.tunnel(coa, HA, inner)
        t_ha = t + self.d_mh_up
        t_cn = t_ha + self.d_hc
        t_cn2 = t_cn + self.proc_cn
        hot_in = P.mh_packet(CN, HOA, P.MH_HOT, P.hot_body(index, cookie, self.home_token(index)))
        hot_tun = P.tunnel(HA, coa, hot_in)
        t_ha2 = t_cn2 + self.d_hc
        t_mn = t_ha2 + self.d_mh_down
        self.add("mn", t, tun)
        self.add("ha", t_ha, tun)
        self.add("ha", t_ha, inner)
        self.add("cn", t_cn, inner)
        self.add("cn", t_cn2, hot_in)
        self.add("ha", t_ha2, hot_in)
        self.add("ha", t_ha2, hot_tun)
        self.add("mn", t_mn, hot_tun)
        return t_mn

    def coti_cot(self, t, cookie, coa, index):
        coti = P.mh_packet(coa, CN, P.MH_COTI, P.hoti_body(cookie))
        cot = P.mh_packet(
            CN, coa, P.MH_COT, P.hot_body(index, cookie, self.careof_token(coa, index))
        )
        t_cn = t + self.d_mc
        t_cn2 = t_cn + self.proc_cn
        t_mn = t_cn2 + self.d_mc
        self.add("mn", t, coti)
        self.add("cn", t_cn, coti)
        self.add("cn", t_cn2, cot)
        self.add("mn", t_mn, cot)
        return t_mn

    def bu_cn(self, t, seq, coa, hidx, cidx, early=False):
        body = P.bu_body(seq, P.BU_A, 60)
        opts = [P.nonce_indices(hidx, 0 if early else cidx), P.AUTH_PLACEHOLDER]
        mh = P.mobility_header(P.MH_BU, body, opts, src=HOA, dst=CN)
        home = self.home_token(hidx)
        key = (
            rr.kbm_home_only(home) if early else rr.kbm_standard(home, self.careof_token(coa, cidx))
        )
        mac = rr.authenticator(key, coa, CN, P.mac_data(mh))
        mh = P.set_authenticator(mh, mac, HOA, CN)
        bu = P.packet(coa, CN, P.NH_MH, mh, hoa=HOA)
        bamh = P.mobility_header(
            P.MH_BA, P.ba_body(0, seq, 60), [P.AUTH_PLACEHOLDER], src=CN, dst=HOA
        )
        bamac = rr.authenticator(key, coa, CN, P.mac_data(bamh))
        bamh = P.set_authenticator(bamh, bamac, CN, HOA)
        ba = P.packet(CN, coa, P.NH_MH, bamh, rh2=HOA)
        t_cn = t + self.d_mc
        t_cn2 = t_cn + self.proc_cn
        t_mn = t_cn2 + self.d_mc
        self.add("mn", t, bu)
        self.add("cn", t_cn, bu)
        self.add("cn", t_cn2, ba)
        self.add("mn", t_mn, ba)
        return t_mn

    def data_up(self, t, coa):
        p = P.udp_packet(coa, CN, hoa=HOA)
        self.add("mn", t, p)
        self.add("cn", t + self.d_mc, p)

    def data_down(self, t, coa):
        p = P.udp_packet(CN, coa, rh2=HOA)
        self.add("cn", t, p)
        self.add("mn", t + self.d_mc, p)

    def standard_handover(self, t0, coa, seq_ha, seq_cn, hidx, cidx, cookie_tag, conservative=True):
        a = self.bu_ha(t0, seq_ha, coa)
        b = self.hoti_hot(t0, (cookie_tag * 7).encode()[:7] + b"H", coa, hidx)
        c = self.coti_cot(t0, (cookie_tag * 7).encode()[:7] + b"C", coa, cidx)
        t_bu = max(b, c)
        d = self.bu_cn(t_bu, seq_cn, coa, hidx, cidx)
        t_data = (d if conservative else t_bu) + 3.0
        self.data_up(t_data, coa)
        t_down = t_data + 20
        self.data_down(t_down, coa)
        return dict(
            t0=t0,
            rtt_ha=a - t0,
            rtt_bt=b - t0,
            rtt_ro=c - t0,
            send=t_data - t0,
            recv=t_down + self.d_mc - t0,
        )

    def write(self, directory, offsets=None, drifts=None, names=None, only=None):
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        offsets = offsets or {}
        drifts = drifts or {}
        paths = {}
        for view, pkts in self.views.items():
            if only and view not in only:
                continue
            off = offsets.get(view, 0.0)
            dr = drifts.get(view, 0.0)
            stamped = [(BASE_NS + round((t + off + dr * 1e-6 * t) * 1e6), p) for t, p in pkts]
            stamped.sort(key=lambda x: x[0])
            path = directory / ((names or {}).get(view, f"{view}.pcap"))
            path.write_bytes(P.pcap(stamped, nanosecond=True))
            paths[view] = path
        return paths
