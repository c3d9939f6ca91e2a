"""How the numbers were made: ebutool's version, the protocol constants in force, the
inputs (names, sizes, SHA-256, vantage point and its evidence, clock offsets where
known) and the episodes left out of the statistics.

:func:`how_made` is the one place the report asks for this record, as a plain dict
(ready for JSON), so that a shared provenance module can take its place.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ebutool.report.html.data import ReportData

CHUNK = 1 << 20


def sha256_of(path: str) -> str | None:
    """The SHA-256 of a file (None: standard input or a directory, e.g. a record store)."""
    if path == "-" or not os.path.isfile(path):
        return None
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _size(path: str) -> int | None:
    try:
        return os.path.getsize(path) if path != "-" and os.path.isfile(path) else None
    except OSError:
        return None


def inputs(data: ReportData) -> list[dict[str, Any]]:
    """One dict per input: name, size, sha256, vantage (role, evidence, given)."""
    from ebutool.analysis import source_labels

    vantage = {str(d.get("source")): d for d in data.episodes.attrs.get("vantage", [])}
    out = []
    for path, label in zip(data.paths, source_labels(data.paths), strict=True):
        v = vantage.get(label) or (vantage.get("the merged inputs") if data.options.merge else None)
        out.append(
            {
                "name": label,
                "path": path,
                "size_bytes": _size(path),
                "sha256": sha256_of(path),
                "vantage": v.get("role") if v else None,
                "vantage_evidence": v.get("evidence") if v else None,
                "vantage_given": bool(v.get("given")) if v else None,
                "clock_offset_ms": None,
                "clock_offset_note": "not estimated: each input is analysed at its own "
                "vantage point (no merged views)",
            }
        )
    return out


def constants(data: ReportData) -> list[dict[str, Any]]:
    """The protocol constants in force: name, value, default, unit, meaning."""
    from ebutool.core.constants import PROTOCOL_CONSTANTS

    config = data.options.config
    specs = {s.name: s for s in PROTOCOL_CONSTANTS}
    out = []
    for f in fields(config):
        spec = specs.get(f.name)
        out.append(
            {
                "name": f.name,
                "option": spec.option if spec else None,
                "constant": spec.constant if spec else None,
                "value": getattr(config, f.name),
                "default": spec.default if spec else None,
                "unit": spec.unit if spec else None,
            }
        )
    return out


def how_made(data: ReportData) -> dict[str, Any]:
    """The record of how the report's numbers were made (module doc)."""
    from ebutool.analysis.summary import COUNTING_RULE
    from ebutool.core.version import __version__
    from ebutool.report.html.data import claim_settings

    s = claim_settings(data.options)
    return {
        "ebutool_version": __version__,
        "inputs": inputs(data),
        "constants": constants(data),
        "claim_settings": {
            "min_samples": s.min_samples,
            "tolerance": s.tolerance,
            "seed": s.seed,
            "resamples": s.resamples,
            "confidence": s.confidence,
            "alpha": s.alpha,
        },
        "episodes": len(data.episodes),
        "left_out": dict(data.exclusions),
        "counting_rule": COUNTING_RULE,
        "filters": {"mn": data.options.mn, "cn": data.options.cn, "merge": data.options.merge},
    }
