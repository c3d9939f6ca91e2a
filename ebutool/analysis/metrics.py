"""From a closed handover to finished :class:`Episode` objects and table rows:
RTTs (Karn's rule), observed latencies, the draft's predictions, auth, diagnosis codes."""

from __future__ import annotations

from ebutool.analysis.classify import cn_kind, cn_mode, eba, ha_kind
from ebutool.analysis.formulas import FORMULAS, predict
from ebutool.analysis.quality import quality
from ebutool.analysis.state import (
    EVICTED_NOTE,
    HOT_CUT_NOTE,
    HOTI_CUT_NOTE,
    INDEX0_AMBIGUOUS_NOTE,
    CNState,
    Episode,
    Exchange,
    Handover,
    Step,
)
from ebutool.core.constants import ProtocolConfig

NS_PER_MS = 1_000_000
NS_PER_S = 1_000_000_000
# A CN episode whose first request came more than INITIAL_BINDACK_TIMEOUT after the
# handover's home registration (DESIGN.md section 4; docs/analysis.md "quality")
LATE_NOTE = "cn_first_request_late"
# A reply of the handover answered a request the capture lost (not its first handover)
LOST_NOTE = "request_not_captured"
# a handover event that came after records with later times dated or opened it
EVENT_LATE_NOTE = "handover_event_out_of_order"


def _ms(ns: float | None) -> float | None:
    return None if ns is None else ns / NS_PER_MS


def _rtt(ex: Exchange | None, name: str, karn: list[str]) -> float | None:
    """The exchange's RTT in ms; ``name`` is added to ``karn`` when Karn's rule withheld it."""
    if ex is None:
        return None
    if ex.ambiguous:
        karn.append(name)
        return None
    return _ms(ex.rtt_ns())


def _rate_exceeded(exchanges, config: ProtocolConfig) -> bool:
    """More than MAX_UPDATE_RATE BU/EBU transmissions to one peer within one second
    (RFC 6275 11.8), counting every transmission the episode kept."""
    rate = config.max_update_rate
    if rate <= 0:
        return False
    # at most k transmissions in any window of `window` ns (k = rate per second, or one
    # per 1/rate seconds when the rate is below one)
    k, window = (int(rate), NS_PER_S) if rate >= 1 else (1, NS_PER_S / rate)
    sends = [e.sends for e in exchanges if e.sends]
    if sum(map(len, sends)) <= k:  # (most episodes: a few sends, no window to look at)
        return False
    times = sorted(t for s in sends for t in s)
    return any(times[i + k] - times[i] < window for i in range(len(times) - k))


def _retransmissions(exchanges) -> int:
    """Extra transmissions among requests of one type to one peer: copies of the same
    request (same sequence number or cookie), plus each unanswered request followed by
    another one (RFC 6275 11.8: a retransmitted BU may carry a new sequence number)."""
    if not exchanges:  # most tables of an episode are empty (dict views have a length)
        return 0
    sent = [e for e in exchanges if e.n_sends]
    if len(sent) < 2:  # usually one request per table: nothing to order or follow
        return sent[0].n_sends - 1 if sent else 0
    sent.sort(key=_first_ts_or_0)
    return sum(e.n_sends - 1 for e in sent) + sum(1 for e in sent[:-1] if not e.answered)


def _first_ts_or_0(ex: Exchange) -> int:
    return ex.first_ts or 0


def _auth(verdicts: list[tuple[str, str]]) -> str:
    """invalid if any BU/EBU/BA verdict is invalid; valid if every BU/EBU verdict is valid."""
    if any(v == "invalid" for _, v in verdicts):
        return "invalid"
    requests = [v for role, v in verdicts if role == "request"]
    if requests and all(v == "valid" for v in requests):
        return "valid"
    return "unknown"


def _latency(first: tuple[int, int] | None, t0: int | None, notes: set[str]) -> float | None:
    if first is None or t0 is None:
        return None
    if first[0] < t0:
        notes.add("data_before_handover")
        return None
    return _ms(first[0] - t0)


def _unanswered(
    exchanges,
    missing: str,
    notes: set[str],
    rejected: str | None = None,
    cut_reply_ts: int | None = None,
) -> None:
    """Note ``missing`` when no request of this type was answered, ``<rejected>_<status>``
    for a refusing BA, and ``reply_before_request`` when timestamps run backwards."""
    # (one pass: this runs several times per row)
    asked = answered = False
    for e in exchanges:
        if e.reply_ts is None:
            if _maybe_answered(e, cut_reply_ts):
                answered = True  # a reply the capture cut (ba_cut_off, ...) may be its answer
                continue
            asked = asked or e.ack_requested
            continue
        answered = True
        if rejected and e.status is not None and not e.accepted:
            notes.add(f"{rejected}_rejected_{e.status}")
        if e.sends and e.reply_ts < e.sends[0]:
            notes.add("reply_before_request")
    # a request without the A flag asks for no answer (RFC 6275 6.1.7): its silence is no
    # loss (an answered request, whatever its flag, means no note either)
    if asked and not answered:
        notes.add(missing)


def _maybe_answered(ex: Exchange, cut_reply_ts: int | None) -> bool:
    """A reply the capture cut (``cut_reply_ts``: ba_cut_off, mh_cut_off, ...) came
    after the request was first sent: it may be its answer."""
    return cut_reply_ts is not None and bool(ex.sends) and ex.sends[0] <= cut_reply_ts


def finalize(
    ho: Handover, config: ProtocolConfig, capture_end_ns: int | None, timeline: bool = True
) -> list[Episode]:
    """The episodes of one closed handover: one per CN, or one HA-only episode.
    ``capture_end_ns`` is the last timestamp of the capture when the handover was still
    open at its end, None when the MN's next handover closed it.  ``timeline=False``
    leaves the timelines empty (the table does not need them)."""
    if not ho.cns and not ho.ha_bus:
        return []  # the MN used an address but signalled nothing about it
    ha_karn: list[str] = []
    ha_ex = ho.ha_final
    rtt_ha = _rtt(ha_ex, "rtt_ha", ha_karn) if ha_ex is not None and ha_ex.accepted else None
    ha_retx = _retransmissions(ho.ha_bus.values())
    ha_notes: set[str] = {EVICTED_NOTE} if ho.evicted else set()
    if ho.lost_request:
        ha_notes.add(LOST_NOTE)
    if ho.event_late:
        ha_notes.add(EVENT_LATE_NOTE)
    ha_cut = ho.ha_cut_last_ts  # (the last cut BA may answer every BU before it)
    if ho.ha_cut_notes:
        ha_notes.update(ho.ha_cut_notes)
    _unanswered(ho.ha_bus.values(), "ha_bu_unanswered", ha_notes, "ha_ba", ha_cut)
    if _rate_exceeded(ho.ha_bus.values(), config):
        ha_notes.add("ha_update_rate_exceeded")
    if not ho.cns:
        kind = ha_kind(ho)
        notes = set(ha_notes)
        if ho.mid_start:
            notes.add("capture_started_mid_episode")
        last_request = max((e.sends[-1] for e in ho.ha_bus.values() if e.sends), default=ho.t0_ns)
        # (a BA the capture cut after the last request answered it: no reply missing)
        answered = ha_cut is not None and ha_cut >= last_request
        if (
            kind == "incomplete"
            and not answered
            and _ended_early(last_request, capture_end_ns, config)
        ):
            notes.add("capture_ended_mid_episode")
        verdicts = [("request", v) for e in ho.ha_bus.values() for v in e.verdicts]
        t0 = None if ho.mid_start else ho.t0_ns
        return [
            Episode(
                id=0,
                mn=ho.mn,
                ha=ho.ha,
                cn=None,
                prev_coa=ho.prev_coa,
                coa=ho.coa,
                kind=kind,
                mode="unknown",
                t0_ns=t0,
                t0_source=ho.t0_source if t0 is not None else None,
                complete=ho.ha_done and not ho.mid_start,
                rtt_ha_ms=rtt_ha,
                rtt_bt_ms=None,
                rtt_ro_ms=None,
                rtt_ro_from=None,
                send_latency_ms=None,
                recv_latency_ms=None,
                predicted=dict.fromkeys(FORMULAS),
                auth=_auth(verdicts),
                n_retransmissions=ha_retx,
                karn_excluded=ha_karn,
                home_test_before_handover=None,
                n_binding_errors=0,
                binding_errors=[],
                diagnosis=sorted(notes),
                timeline=sorted(ho.ha_steps) if timeline else [],
                source=ho.source,
                quality=quality(ho.ha_done and not ho.mid_start, "unknown", notes),
                esp_protected=esp_protected(ho.ha_steps),
            )
        ]
    ha_ack = ha_ex.reply_ts if ha_ex is not None and ha_ex.accepted else None
    out = []
    for ep in ho.all_cns():
        if ep.t0_ns is None:
            ha = (rtt_ha, ha_karn, ha_retx, ha_notes, ha_ack)
        else:  # an event of its own: the handover's home registration is not part of it
            ha = (None, [], 0, set(), None)
        out.append(_cn_episode(ho, ep, config, capture_end_ns, *ha, timeline))
    return out


def _first_request_late(
    ho: Handover, ep: CNState, ha_ack: int | None, config: ProtocolConfig
) -> bool:
    """The MN's first request to this CN from the new address (CoTI, EBU, BU, or a home
    test sent after t0) came more than INITIAL_BINDACK_TIMEOUT after the handover's
    home registration had run (t0, the HA's accepting BA, or the MN's last BU to the HA
    before that request): a registration with a correspondent the MN took up later, not
    this handover's, whose latency from t0 is no handover latency.  A handover's requests
    go out at t0 (early) or once the HA's BA is in (standard)."""
    first = _first_request(ho, ep)
    if first is None:
        return False
    start = ho.t0_ns
    if ho.t0_source == "event":
        # (a simulator's event is the link's attachment: the MN's signalling starts
        # once it has an address, later by movement detection and DAD; from there)
        begun = [e.sends[0] for e in ho.ha_bus.values() if e.sends]
        begun += [t for t in (_first_request(ho, st) for st in ho.all_cns()) if t is not None]
        start = max(start, min(begun))
    if ha_ack is not None and start < ha_ack <= first:
        start = ha_ack
    for ex in ho.ha_bus.values():  # (its retransmissions: the registration still running)
        for sent in ex.sends:
            if start < sent <= first:
                start = sent
    return first - start > config.initial_bindack_timeout * NS_PER_S


def _first_request(ho: Handover, ep: CNState) -> int | None:
    """When the MN first sent a request of this CN episode from the new address (CoTI,
    EBU, BU, or a home test sent after t0); None: none seen."""
    firsts = [e.sends[0] for t in (ep.cotis, ep.ebus, ep.bus) for e in t.values() if e.sends]
    ht = ep.home_test
    if ht is not None and ht.sends and ht.sends[0] >= ho.t0_ns:
        firsts.append(ht.sends[0])
    return min(firsts, default=None)


def _reply_missing_at_end(
    ep: CNState, t0_ns: int, capture_end_ns: int | None, config: ProtocolConfig
) -> bool:
    """The capture ended too soon after the episode's last request to call its missing
    reply lost; a BA the capture cut after that request (ba_cut_off) is no missing reply."""
    last_up = ep.last_up_ts or t0_ns
    if ep.cut_reply_last_ts is not None and ep.cut_reply_last_ts >= last_up:
        return False
    return _ended_early(last_up, capture_end_ns, config)


def _ended_early(last_request_ns: int, capture_end_ns: int | None, config: ProtocolConfig) -> bool:
    """The capture stopped less than INITIAL_BINDACK_TIMEOUT after the episode's last
    request, before a reply could be missed (None: the handover was closed by the MN's
    next one, not by the end of the capture)."""
    if capture_end_ns is None:
        return False
    return capture_end_ns - last_request_ns < config.initial_bindack_timeout * NS_PER_S


def _cn_episode(
    ho: Handover,
    ep: CNState,
    config: ProtocolConfig,
    capture_end_ns: int | None,
    rtt_ha: float | None,
    ha_karn: list[str],
    ha_retx: int,
    ha_notes: set[str],
    ha_ack: int | None,
    timeline: bool = True,
) -> Episode:
    """``ha_ack``: when the HA's BA accepted the home registration (None: not seen)."""
    kind = cn_kind(ep)
    mode = cn_mode(kind, ep, ha_ack, bool(ho.ha_bus), ho.ha_cut_reply_ts)
    notes = set(ep.notes or ()) | ha_notes
    karn = list(ha_karn)
    t0 = None if ep.unknown_start else (ep.t0_ns or ho.t0_ns)
    if ep.started_mid:
        notes.add("capture_started_mid_episode")
    if ep.refresh:
        notes.add("binding_refresh")
    if ep.index0_cut:  # an EBU whose MAC the capture cut, its class not shown by its EBA
        notes.add(INDEX0_AMBIGUOUS_NOTE)
    if not ho.ha_bus and not ep.unknown_start and ep.t0_ns is None:
        # (ESP-protected, no SA: it ran, but its BU and BA cannot be seen)
        notes.add("home_registration_opaque" if ho.ha_opaque else "no_home_registration")

    ht = ep.home_test
    rtt_bt = _rtt(ht, "rtt_bt", karn) if ht is not None and ht.answered else None
    before = None if ht is None or ht.first_ts is None else ht.first_ts < ho.t0_ns

    rtt_ro, ro_from = _rtt_ro(ep, karn)
    _cn_notes(ep, kind, config, capture_end_ns, notes)
    if ep.t0_ns is None and not ep.unknown_start and _first_request_late(ho, ep, ha_ack, config):
        notes.add(LATE_NOTE)
    took_effect = ep.complete  # (a scan of its BUs: once)
    complete = took_effect and not ep.unknown_start
    if not took_effect and _reply_missing_at_end(ep, ho.t0_ns, capture_end_ns, config):
        notes.add("capture_ended_mid_episode")

    # Predictions come from this episode's own RTTs: none for a deregistration (no
    # route optimisation to predict) or when not a single RTT was measured.
    bt_pred, bt_basis = _bt_for_prediction(kind, ep, ht, rtt_bt, ho.t0_ns)
    if (
        kind == "deregistration"
        or ep.refresh  # not a handover: nothing to predict
        or (rtt_ha is None and rtt_bt is None and rtt_ro is None)
    ):
        predicted, bt_pred, bt_basis = dict.fromkeys(FORMULAS), None, None
    else:
        predicted = predict(rtt_ha, bt_pred, rtt_ro)
        if all(v is None for v in predicted.values()):
            bt_pred, bt_basis = None, None  # the basis of no prediction
    retx = (
        ha_retx
        + _retransmissions(ep.cotis.values())
        + _retransmissions(ep.ebus.values())
        + _retransmissions(ep.bus.values())
    )
    if ht is not None and ht.n_sends:
        retx += ht.n_sends - 1
    all_steps = [*ep.steps, *ho.ha_steps, *(ht.steps if ht is not None else ())]
    steps = all_steps if timeline else []
    return Episode(
        id=0,
        mn=ho.mn,
        ha=ho.ha,
        cn=ep.cn,
        prev_coa=ho.prev_coa,
        coa=ho.coa,
        kind=kind,
        mode=mode,
        t0_ns=t0,
        t0_source=ho.t0_source if t0 is not None else None,
        complete=complete,
        rtt_ha_ms=rtt_ha,
        rtt_bt_ms=rtt_bt,
        rtt_ro_ms=rtt_ro,
        rtt_ro_from=ro_from,
        send_latency_ms=_latency(ep.first_send, t0, notes),
        recv_latency_ms=_latency(ep.first_recv, t0, notes),
        predicted=predicted,
        auth=_auth(ep.verdicts),
        n_retransmissions=retx,
        karn_excluded=sorted(set(karn)),
        home_test_before_handover=before,
        n_binding_errors=ep.n_binding_errors,
        binding_errors=list(ep.binding_errors),
        diagnosis=sorted(notes),
        timeline=sorted(steps),
        source=ho.source,
        rtt_bt_basis=bt_basis,
        rtt_bt_pred_ms=bt_pred,
        data_gap_send_ms=_ms(ho.data_gap((ep.cn, True))),
        data_gap_recv_ms=_ms(ho.data_gap((ep.cn, False))),
        quality=quality(complete, mode, notes),
        eba_accepted=eba(ep) is not None,
        esp_protected=esp_protected(all_steps),
    )


def esp_protected(steps: list[Step]) -> str | None:
    """The labels of the ESP-protected messages among ``steps`` (each once, in order of
    time), ";"-joined; None when none was protected."""
    protected = [s for s in steps if s.esp]
    if not protected:  # (most captures: no ESP; nothing to sort)
        return None
    return ";".join(dict.fromkeys(s.msg for s in sorted(protected)))


def _rtt_ro(ep: CNState, karn: list[str]) -> tuple[float | None, str | None]:
    """RTT_RO in ms and the exchange it was measured on: the EBU/EBA, else the first
    CoTI/CoT Karn's rule lets through ("rtt_ro" goes into ``karn`` when it withheld one)."""
    early_ex = eba(ep)
    if early_ex is not None and not early_ex.ambiguous:
        rtt = _ms(early_ex.rtt_ns())
        if rtt is not None:
            return rtt, "ebu_eba"
    cot = [e for e in ep.cotis.values() if e.answered]
    if any(not e.ambiguous for e in cot):
        rtt = _ms(next(e for e in cot if not e.ambiguous).rtt_ns())
        return rtt, "coti_cot" if rtt is not None else None
    if cot or (early_ex is not None and early_ex.ambiguous):
        karn.append("rtt_ro")
    return None, None


def _cn_notes(
    ep: CNState,
    kind: str,
    config: ProtocolConfig,
    capture_end_ns: int | None,
    notes: set[str],
) -> None:
    """The diagnosis codes of a CN episode's exchanges (docs/analysis.md), into ``notes``."""
    ht = ep.home_test
    _unanswered(ep.cotis.values(), "coti_unanswered", notes, None, ep.cut_any_ts)
    cut = ep.cut_reply_last_ts
    _unanswered(ep.ebus.values(), "ebu_unanswered", notes, "eba", cut)
    bus = [e for e in ep.bus.values() if e.ack_requested]
    _unanswered(bus, "bu_unanswered", notes, "ba", cut)
    if ht is None and not ep.unknown_start:
        # e.g. an early episode whose home test predates the capture (or whose HoT it cut)
        if ep.cut_hot_ts is not None:
            notes.add(HOT_CUT_NOTE)
        else:  # (a HoTI the capture cut: a home test was sent, its HoT unpaired)
            notes.add("no_home_test" if ep.cut_hoti_ts is None else HOTI_CUT_NOTE)
    elif ht is not None and not ht.answered:
        # (a message cut before its type may be the HoT, tunnelled; a cut CoT is not)
        maybe_hot = ep.cut_mh_ts
        if _maybe_answered(ht, ep.cut_hot_ts):
            notes.add(HOT_CUT_NOTE)
        elif not _maybe_answered(ht, maybe_hot):
            notes.add("hoti_unanswered")
    elif ht is not None and ht.first_ts is not None and ht.first_ts == ep.cut_hoti_ts:
        notes.add(HOTI_CUT_NOTE)  # its home test is the cut HoTI, paired with its HoT
    updates = list(ep.ebus.values()) + list(ep.bus.values())
    first_bu = min((e.sends[0] for e in updates if e.sends), default=None)  # (first_ts)
    if (
        ht is not None
        and ht.reply_ts is not None
        and first_bu is not None
        and first_bu - ht.reply_ts > config.max_token_lifetime * NS_PER_S
    ):
        notes.add("home_token_stale")
    if _rate_exceeded(updates, config):
        notes.add("update_rate_exceeded")
    if ep.max_lifetime_s > config.max_rr_binding_lifetime:
        notes.add("lifetime_above_max_rr")
    if kind == "early":
        _early_notes(ep, config, capture_end_ns, notes)
    if ep.n_binding_errors:
        notes.add("binding_error")
    if ep.steps_dropped:
        notes.add("timeline_truncated")


def _bt_for_prediction(
    kind: str, ep: CNState, ht: Exchange | None, rtt_bt: float | None, t0: int
) -> tuple[float | None, str | None]:
    """(the RTT_BT the predictions use, ms; its basis code), docs/analysis.md:

    * early: the measured home test, which ran from the previous address before the
      handover ("pre_handover_test");
    * early_fallback: 0, its home token was already there (draft 5.1) ("token_reused");
    * otherwise, a home test after t0: its measured RTT ("home_test"); one sent before t0
      and answered after it: the time from t0 to the HoT's arrival, what the MN waited
      ("t0_to_hot"); answered before t0, or no home test although an (E)BU was sent
      (the token predates the capture): 0 ("token_reused");
    * None when none of these applies (unanswered, or Karn's rule withheld the RTT)."""
    if kind == "early":
        if rtt_bt is None:
            return None, None
        after = ht is not None and ht.first_ts is not None and ht.first_ts >= t0
        return rtt_bt, "home_test" if after else "pre_handover_test"
    if kind == "early_fallback" and (ht is None or ht.first_ts is None or ht.first_ts < t0):
        return 0.0, "token_reused"  # (a new home test after t0, e.g. after status 136: below)
    if ht is None:
        return (0.0, "token_reused") if (ep.bus or ep.ebus) else (None, None)
    if ht.first_ts is not None and ht.first_ts < t0:
        if ht.reply_ts is None:
            return None, None
        if ht.reply_ts <= t0:
            return 0.0, "token_reused"
        return _ms(ht.reply_ts - t0), "t0_to_hot"
    return (rtt_bt, "home_test") if rtt_bt is not None else (None, None)


def _early_notes(
    ep: CNState, config: ProtocolConfig, capture_end_ns: int | None, notes: set[str]
) -> None:
    """An early binding is tentative for TENTATIVE_BINDING_LIFETIME after the EBU: the
    standard BU must follow within it (draft 4.2)."""
    ebu_ts = min(e.first_ts for e in ep.ebus.values() if e.first_ts is not None)
    limit = ebu_ts + config.tentative_binding_lifetime * NS_PER_S
    std = [e.first_ts for e in ep.bus.values() if e.first_ts is not None]
    if not std:
        notes.add("no_final_bu")
        if capture_end_ns is not None and capture_end_ns > limit:
            notes.add("tentative_binding_expired")
    elif min(std) > limit:
        notes.add("tentative_binding_expired")
