"""Outcome codes: ``kind`` (which procedure ran, and whether it completed) and ``mode``
(whether the MN used the new address before it was acknowledged).  docs/analysis.md
lists every code; DESIGN.md section 4 defines them."""

from __future__ import annotations

from ebutool.analysis.state import UPDATE_NOTES, CNState, Exchange, Handover

KINDS = ("standard", "early", "early_fallback", "home_only", "deregistration", "incomplete")
MODES = ("conservative", "optimistic", "eba_only", "unknown")
EBA_ONLY = "eba_only"  # an early MN that waited for the EBA but not the HA's BA


def eba(ep: CNState) -> Exchange | None:
    """The EBU exchange the CN acknowledged (first accepted), if any."""
    for e in ep.ebus.values():  # (a loop, not next() over a generator: once per row)
        if e.accepted:
            return e
    return None


def cn_kind(ep: CNState) -> str:
    if ep.unknown_start:
        return "incomplete"  # the beginning is missing (or a refresh): no handover to classify
    if ep.dereg:
        return "deregistration" if ep.complete else "incomplete"
    if eba(ep) is not None:
        return "early"
    if ep.ebus and not any(e.ack_requested for e in ep.ebus.values()) and not ep.n_binding_errors:
        # An EBU that asked for no acknowledgement and drew no Binding Error: the MN
        # (and we) can only assume the CN took it.
        return "early"
    if ep.complete:
        return "early_fallback" if ep.ebus else "standard"
    return "incomplete"


def ha_kind(ho: Handover) -> str:
    """Kind of a handover without any CN episode (one row with ``cn`` empty)."""
    if ho.mid_start:
        return "incomplete"
    if not ho.ha_done:
        return "incomplete"
    return "deregistration" if ho.ha_dereg else "home_only"


def ack_ts(kind: str, ep: CNState) -> int | None:
    """When the acknowledgement a conservative MN waits for arrived: the EBA for an
    early episode, else the BA that accepted the standard BU."""
    if kind == "early":
        e = eba(ep)
        return e.reply_ts if e is not None else None
    f = ep.final
    return f.reply_ts if f is not None and f.accepted else None


def cn_mode(
    kind: str,
    ep: CNState,
    ha_ack_ns: int | None = None,
    ha_registered: bool = False,
    ha_cut_ns: int | None = None,
) -> str:
    """``ha_ack_ns``: when the BA from the HA accepted the home registration (None if
    not seen); ``ha_registered``: the MN sent a BU to its HA in this handover (seen);
    ``ha_cut_ns``: when a BA from the HA arrived that the capture cut (ha_ba_cut_off).

    A conservative early MN waits for *both* the HA's BA and the EBA (draft section 5.2);
    one that waited for the EBA only (RTT_HA > RTT_RO) is ``eba_only``, neither mode."""
    if kind == "deregistration" or ep.refresh:
        return "unknown"  # no route-optimised data from home to judge by; no handover
    if ep.first_send is None:
        return "unknown"  # no data to the CN from the new address at all
    if not UPDATE_NOTES.isdisjoint(ep.notes or ()):
        return "unknown"  # the acknowledgement waited for answered an update not captured
    sent = ep.first_send[0]
    if kind == "early" and eba(ep) is None:
        # The EBU asked for no acknowledgement: there was none to wait for, so the mode
        # cannot be judged by it.  Only data sent before even the HA's BA shows an MN
        # that waited for nothing.
        if ha_ack_ns is not None and sent < ha_ack_ns and (ha_cut_ns is None or sent < ha_cut_ns):
            return "optimistic"
        return "unknown"
    ack = ack_ts(kind, ep)
    cut = ep.cut_reply_ts
    if cut is not None and cut <= sent and (ack is None or sent < ack):
        # after a BA the capture cut (ba_cut_off): the MN may have waited for it
        return "unknown"
    if ack is None:
        # Data went out with no acknowledgement ever seen: optimistic by definition,
        # unless the capture began mid-episode (the acknowledgement may predate it).
        return "unknown" if ep.unknown_start else "optimistic"
    if sent < ack:
        return "optimistic"
    if kind == "early" and not ha_registered:
        # after the EBA, with no home registration in the capture (ESP-protected without
        # its SA, or not captured): conservative or eba_only differ by the HA's BA, unseen
        return "unknown"
    if kind == "early" and ha_registered and (ha_ack_ns is None or sent < ha_ack_ns):
        if ha_cut_ns is not None and ha_cut_ns <= sent:
            # after the HA's BA the capture cut: the MN may have waited for it (accepting)
            return "unknown"
        return EBA_ONLY
    return "conservative"
