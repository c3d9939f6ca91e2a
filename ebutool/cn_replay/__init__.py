"""Trace replay through a reference correspondent node (issue 4; docs/replay.md).

::

    import ebutool
    r = ebutool.replay("samples/early-conservative.pcap", cn_policy="early")
    r.exposure        # one row per tentative binding: flooding exposure (draft 4.2, 6.2)
    r.divergences     # one row per difference between the model and the trace's CN
    r.decisions       # one row per binding update: what the model did and why

The model (:mod:`ebutool.cn_replay.binding_cache`) is RFC 6275 9.5 plus the draft's
tentative binding; the oracle (:mod:`ebutool.oracle.verify`) decides which updates
authenticate; where it cannot, the replay follows what the CN in the trace did and
says so (``basis`` = ``trace``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import pandas as pd

from ebutool.cn_replay.answers import describe_ack
from ebutool.cn_replay.binding_cache import CNPolicies, Policy
from ebutool.cn_replay.collected_trace import (
    BASIS_INJECTED,
    BASIS_KEYLESS,
    BASIS_KEYS,
    BASIS_TRACE,
    Authenticate,
    answer_types,
)
from ebutool.cn_replay.divergences import (
    DIVERGENCE_COLUMNS,
    DIVERGENCE_KINDS,
    UNOBSERVABLE_KINDS,
    divergence_frame,
)
from ebutool.cn_replay.exposure import EXPOSURE_COLUMNS, exposure_frame
from ebutool.cn_replay.per_mn import batches
from ebutool.cn_replay.replayer import RunResult, run_trace
from ebutool.core.constants import DEFAULT_CONFIG, ProtocolConfig
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import UsageError
from ebutool.core.exact_time import EXACT_NS, TIME_DECIMALS, exact_map, merged_attrs
from ebutool.core.units import seconds
from ebutool.records.retype import retyped

DECISION_COLUMNS = [
    "frame",
    "time",
    "mn",
    "cn",
    "coa",
    "msg",
    "seq",
    "lifetime_s",
    "ack_requested",
    "authentication",
    "basis",
    "cn_time",
    "action",
    "state_after",
    "expected_ack",
    "observed_ack",
    "reason",
]
POLICIES = tuple(p.value for p in Policy)
NULLABLE_SUMS = ("overstay_bytes",)  # summary sums that are None when unknown


@dataclass
class ReplayResult:
    exposure: pd.DataFrame  # EXPOSURE_COLUMNS
    divergences: pd.DataFrame  # DIVERGENCE_COLUMNS
    decisions: pd.DataFrame  # DECISION_COLUMNS
    policy: str = Policy.early.value  # CNPolicies.describe(): the default, then per-CN ones
    config: ProtocolConfig = DEFAULT_CONFIG
    summary: dict = field(default_factory=dict)

    def summary_line(self) -> str:
        """One line for stderr: what was replayed and what diverged."""
        s = self.summary
        by = s["divergences_by_kind"]
        kinds = (
            ", ".join(f"{k} {v}" for k, v in by.items() if k not in UNOBSERVABLE_KINDS) or "none"
        )
        unobs = ", ".join(f"{k} {v}" for k, v in by.items() if k in UNOBSERVABLE_KINDS) or "none"
        basis = ", ".join(f"{k} {v}" for k, v in s["basis"].items()) or "none"
        return (
            f"policy {self.policy}, "
            f"tentative lifetime {self.config.tentative_binding_lifetime:g} s: "
            f"{s['updates']} binding updates to CNs (decided by: {basis}); "
            f"{s['tentative_bindings']} tentative bindings, {s['verified']} verified, "
            f"{s['expired_unverified']} expired unverified; "
            f"overstay {s['overstay_packets']} packets{_octets(s)}; "
            f"divergences {s['divergences']} ({kinds}); "
            f"unobservable from the MN {s['unobservable']} ({unobs})"
        )

    def exit_status(self, strict: bool = False) -> int:
        """1 if there is a divergence (with ``strict``, also an unobservable row), else 0."""
        return 1 if _counted(self.summary, strict) else 0


def _octets(s: dict) -> str:
    """The overstay octets of a summary, or why they are unknown."""
    if s["overstay_bytes"] is None:
        return (
            f", octets unknown ({s['overstay_unknown_length']} of unknown length: "
            "replay_length_unknown)"
        )
    return f" {s['overstay_bytes']} octets"


def parse_cn_policies(values: Iterable[str]) -> dict:
    """``--cn-policy`` values, each ``POLICY`` (the default for every CN) or
    ``ADDR=POLICY``, as the mapping ``cn_policy`` accepts (key ``"*"`` = the default).
    Raises UsageError for an unknown policy, a bad address, or two different policies
    for the same CN (or two different defaults)."""
    out: dict = {}
    for v in values:
        addr, sep, name = v.rpartition("=")
        key = addr.strip() if sep else "*"
        if key != "*":
            key = _canonical(key, v)
        pol = _policy(name.strip(), v)
        if out.get(key, pol) is not pol:
            what = "the default" if key == "*" else key
            raise UsageError(f"--cn-policy {v!r}: {what} already has policy {out[key].value}")
        out[key] = pol
    return out


def _canonical(addr: str, given) -> str:
    from ebutool.core.addr import canonical

    try:
        return canonical(addr)
    except ValueError:
        raise UsageError(f"--cn-policy {given!r}: {addr!r} is not an IPv6 address") from None


def _policy(name, given) -> Policy:
    try:
        return Policy(getattr(name, "value", name))
    except ValueError:
        raise UsageError(
            f"--cn-policy {given!r}: choose one of {', '.join(POLICIES)}, optionally as ADDR=POLICY"
        ) from None


def _counted(summary: dict, strict: bool) -> int:
    return summary["divergences"] + (summary["unobservable"] if strict else 0)


def _check_options(config: ProtocolConfig, cn_policy) -> CNPolicies:
    if isinstance(cn_policy, CNPolicies):
        policy = cn_policy
    elif isinstance(cn_policy, Mapping):
        per = {
            (k if k in ("*", None) else _canonical(k, f"{k}={v}")): _policy(v, f"{k}={v}")
            for k, v in cn_policy.items()
        }
        policy = CNPolicies.coerce(per)
    else:
        policy = CNPolicies(_policy(cn_policy, cn_policy))
    for name in (
        "tentative_binding_lifetime",
        "max_rr_binding_lifetime",
        "initial_bindack_timeout",
    ):
        v = getattr(config, name)
        if not v >= 0 or v == float("inf"):
            raise UsageError(
                f"--{name.replace('_', '-')} {v!r}: must be a finite number of seconds >= 0"
            )
    return policy


def _oracle_check(keys, config: ProtocolConfig) -> tuple[Authenticate | None, str]:
    """The oracle's per-record check, and the basis its verdicts are reported under."""
    try:
        from ebutool.oracle.verify import Oracle
    except ModuleNotFoundError as exc:
        if exc.name != "ebutool.oracle.verify":
            raise
        if keys is not None:
            raise UsageError(
                "keys given but this ebutool has no oracle (ebutool.oracle.verify)"
            ) from None
        return None, BASIS_TRACE
    oracle = Oracle(keys=keys, config=config)
    return oracle.check, (BASIS_KEYS if keys else BASIS_KEYLESS)


def replay(
    path,
    keys=None,
    config: ProtocolConfig = DEFAULT_CONFIG,
    cn_policy: str | Mapping = "early",
    diag: Diagnostics | None = None,
    trusted: Iterable[str] | None = None,
    stats=None,
    esp_sas=None,
) -> ReplayResult:
    """Replay the capture or trace at ``path`` through the reference CN model (several
    inputs: ebutool.replay, through ebutool.runner).

    ``keys``: the oracle's key table (``ebutool.oracle.keys``), None = keyless mode;
    ``cn_policy``: "early" (supports the draft), "standard" (RFC 6275 only) or
    "observed" (each CN as the trace shows: early if it ever answered an EBU) for every
    CN, or a mapping CN address -> policy whose key "*" is the default for the others;
    ``trusted``: home addresses granted EBUs (draft 6.2), None = all MNs; ``stats``
    (ebutool.records.from_packet.StreamStats) counts what was read; ``esp_sas``: ESP
    SAs (ebutool.esp) to decrypt protected signalling with.  ``path`` may be a record
    store (``ebutool extract``): its parts merged by time are replayed as the capture
    they were cut from (their records were decrypted at extraction)."""
    return combine(
        list(replay_stream(path, keys, config, cn_policy, diag, trusted, stats, esp_sas))
    )


def replay_stream(
    path,
    keys=None,
    config: ProtocolConfig = DEFAULT_CONFIG,
    cn_policy: str | Mapping = "early",
    diag: Diagnostics | None = None,
    trusted: Iterable[str] | None = None,
    stats=None,
    esp_sas=None,
    decisions: bool = True,
) -> Iterator[ReplayResult]:
    """:func:`replay` batch by batch (ebutool.cn_replay.per_mn; one batch for an input
    within ``--max-state-entries`` MNs); ``decisions=False`` leaves the decisions
    tables empty (not built)."""
    from ebutool.store.layout import is_store
    from ebutool.stream.reader import read_records

    policy = _check_options(config, cn_policy)
    diag = diag if diag is not None else Diagnostics()
    authenticate, basis = _oracle_check(keys, config)
    if is_store(path):
        from ebutool.store.parts import store_records

        # (as a capture's reader: backwards timestamps are the replay's to meet)
        records = store_records(path, diag, stats, check=False)
    else:
        records = read_records(path, diag, stats, esp_sas=esp_sas)
    made = replay_batches(
        records,
        authenticate=authenticate,
        basis=basis,
        config=config,
        cn_policy=policy,
        diag=diag,
        trusted=trusted,
        decisions=decisions,
    )
    return made if stats is None else _at_resolution(made, stats)


def _at_resolution(results: Iterator[ReplayResult], stats) -> Iterator[ReplayResult]:
    """Each batch's tables marked with the resolution of the input read so far (a
    nanosecond capture's times print 9 decimals: ebutool.core.exact_time.at_resolution)."""
    for r in results:
        for df in (r.exposure, r.divergences, r.decisions):
            df.attrs[TIME_DECIMALS] = stats.time_decimals
        yield r


def replay_records(
    records: Iterable,
    *,
    authenticate: Authenticate | None = None,
    basis: str = BASIS_INJECTED,
    config: ProtocolConfig = DEFAULT_CONFIG,
    cn_policy: str | Mapping | CNPolicies = "early",
    diag: Diagnostics | None = None,
    trusted: Iterable[str] | None = None,
) -> ReplayResult:
    """Replay a message stream (Records; HandoverEvents are ignored).

    ``authenticate`` is called with every record in order (see
    :data:`ebutool.cn_replay.collected_trace.Authenticate`); None = no check at all,
    every update is decided by following the trace's CN."""
    return combine(
        list(
            replay_batches(
                records,
                authenticate=authenticate,
                basis=basis,
                config=config,
                cn_policy=cn_policy,
                diag=diag,
                trusted=trusted,
            )
        )
    )


def replay_batches(
    records: Iterable,
    *,
    authenticate: Authenticate | None = None,
    basis: str = BASIS_INJECTED,
    config: ProtocolConfig = DEFAULT_CONFIG,
    cn_policy: str | Mapping | CNPolicies = "early",
    diag: Diagnostics | None = None,
    trusted: Iterable[str] | None = None,
    decisions: bool = True,
) -> Iterator[ReplayResult]:
    """:func:`replay_records` batch by batch, each batch's result as soon as it is made
    (the MNs evicted from the bounded table, then the rest at the end)."""
    policy = _check_options(config, cn_policy)
    diag = diag if diag is not None else Diagnostics()
    trusted = list(trusted) if trusted is not None else None
    limit = _limit(config)
    # the draft's own MH types (config.ebu_mh_type, config.eba_mh_type) read as EBU/EBA
    items = retyped(records, config.mh_types, diag)
    for tr in batches(items, authenticate, diag, basis, limit, answers=answer_types(config)):
        res = run_trace(
            tr,
            authenticated=authenticate is not None,
            config=config,
            cn_policy=policy,
            trusted=trusted,
            diag=diag,
        )
        exposure = exposure_frame(res.model.tentatives, res.trace.last_ns, diag)
        divergences = divergence_frame(res.divergences)
        yield ReplayResult(
            exposure,
            divergences,
            _decision_frame(res if decisions else None),
            res.policies.describe(),
            config,
            _summary(res, exposure, divergences),
        )


def combine(parts: list[ReplayResult]) -> ReplayResult:
    """One result of consecutive batches (the first alone is returned as it is)."""
    if len(parts) == 1:
        return parts[0]
    last = parts[-1]
    return ReplayResult(
        _concat([p.exposure for p in parts]),
        _concat([p.divergences for p in parts]),
        _concat([p.decisions for p in parts]),
        last.policy,
        last.config,
        merge_summaries([p.summary for p in parts], _limit(last.config)),
    )


def _limit(config: ProtocolConfig) -> int | None:
    bound = config.max_state_entries
    return int(bound) if bound < float("inf") else None


def without_rows(r: ReplayResult) -> ReplayResult:
    """``r`` with its tables emptied (their rows written already): what :func:`combine`
    needs to sum up a streamed run."""
    return ReplayResult(
        r.exposure.iloc[:0],
        r.divergences.iloc[:0],
        r.decisions.iloc[:0],
        r.policy,
        r.config,
        r.summary,
    )


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    full = [f for f in frames if len(f)]
    if not full:
        return frames[-1]
    if len(full) == 1:
        return full[0]
    out = pd.concat(full, ignore_index=True)
    out.attrs.update(merged_attrs(full))  # concat drops the batches' differing exact ns
    return out


def merge_summaries(parts: list[dict], limit: int | None = None) -> dict:
    """The summary of consecutive batches (counts added, per-kind counts merged; the
    per-CN policies of at most ``limit`` CNs, the first ones)."""
    out = dict(parts[0])
    for p in parts[1:]:
        for k, v in p.items():
            if k in NULLABLE_SUMS:  # unknown (None) when any part is unknown
                out[k] = None if v is None or out[k] is None else out[k] + v
            elif isinstance(v, int):
                out[k] += v
            elif k in ("basis", "actions", "divergences_by_kind"):
                out[k] = dict(Counter(out[k]) + Counter(v))
            else:  # per-CN policies: the latest batch's word
                merged = dict(out[k])
                for cn, policy in v.items():
                    if cn in merged or limit is None or len(merged) < limit:
                        merged[cn] = policy
                out[k] = merged
    out["basis"] = dict(sorted(out["basis"].items()))
    out["actions"] = dict(sorted(out["actions"].items()))
    by = out["divergences_by_kind"]
    out["divergences_by_kind"] = {k: by[k] for k in DIVERGENCE_KINDS if by.get(k)}
    return out


def _decision_frame(res: RunResult | None) -> pd.DataFrame:
    rows: list[dict] = []
    if res is None:
        return pd.DataFrame(rows, columns=DECISION_COLUMNS)
    for s, oc, b in zip(res.sent, res.outcomes, res.basis, strict=False):
        detail = "; ".join(x for x in (s.reason, oc.detail) if x)
        rows.append(
            {
                "frame": s.rec.frame,
                "time": seconds(s.rec.ts_ns),
                "mn": s.mn,
                "cn": s.cn,
                "coa": s.coa,
                "msg": s.rec.msg + (" (deregistration)" if s.deregistration else ""),
                "seq": s.seq,
                "lifetime_s": s.lifetime_s,
                "ack_requested": s.ack_requested,
                "authentication": s.verdict,
                "basis": b,
                "cn_time": seconds(oc.update.at_ns),
                "action": oc.action.value,
                "state_after": oc.state_after,
                "expected_ack": oc.ack.describe() if oc.ack else "none",
                "observed_ack": describe_ack(s.ack, s.early),
                "reason": detail,
            }
        )
    df = pd.DataFrame(rows, columns=DECISION_COLUMNS)
    df.attrs[EXACT_NS] = exact_map(  # the times' exact ns (ebutool.core.exact_time)
        ns
        for s, oc in zip(res.sent, res.outcomes, strict=False)
        for ns in (s.rec.ts_ns, oc.update.at_ns)
    )
    return df


def _summary(res: RunResult, exposure: pd.DataFrame, divergences: pd.DataFrame) -> dict:
    by_kind = Counter(divergences["kind"]) if len(divergences) else Counter()
    unknown_len = sum(tb.overstay_unknown_length for tb in res.model.tentatives)
    return {
        "updates": len(res.sent),
        "basis": dict(sorted(Counter(res.basis).items())),
        "actions": dict(sorted(Counter(o.action.value for o in res.outcomes).items())),
        "tentative_bindings": len(exposure),
        "verified": int(exposure["verified"].sum()) if len(exposure) else 0,
        "expired_unverified": int((exposure["end_reason"] == "expired").sum())
        if len(exposure)
        else 0,
        "overstay_packets": int(exposure["overstay_packets"].sum()) if len(exposure) else 0,
        # unknown (None) when a packet of unknown length is among them, never a partial sum
        # (a row begun after the capture's end is empty but has no packets: not unknown)
        "overstay_bytes": None if unknown_len else int(exposure["overstay_bytes"].sum()),
        "overstay_unknown_length": unknown_len,
        "divergences": sum(v for k, v in by_kind.items() if k not in UNOBSERVABLE_KINDS),
        "unobservable": sum(by_kind[k] for k in UNOBSERVABLE_KINDS),
        "divergences_by_kind": {k: by_kind[k] for k in DIVERGENCE_KINDS if by_kind[k]},
        "prior_bindings": len(res.prior_pairs),
        "cn_policies": {
            cn: res.policies.of(cn).value for cn in dict.fromkeys(s.cn for s in res.sent)
        },
        "cn_policies_observed": dict(res.policies.inferred),
    }


__all__ = [
    "UNOBSERVABLE_KINDS",
    "replay",
    "replay_records",
    "replay_stream",
    "replay_batches",
    "combine",
    "merge_summaries",
    "without_rows",
    "ReplayResult",
    "Policy",
    "POLICIES",
    "CNPolicies",
    "parse_cn_policies",
    "EXPOSURE_COLUMNS",
    "DIVERGENCE_COLUMNS",
    "DECISION_COLUMNS",
    "DIVERGENCE_KINDS",
    "BASIS_KEYS",
    "BASIS_KEYLESS",
    "BASIS_INJECTED",
    "BASIS_TRACE",
]
