"""Every per-packet warning code ebutool can emit is explained in the README's
"Diagnostics" table (a user who sees a code on stderr finds what it means).

The codes are collected from the source (``.warn("code"`` calls with a literal code), so
a new code without a README row fails here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WARN = re.compile(r'\.warn\(\s*f?"([a-z][a-z0-9_]*)"')


# The packet decoder's problems, (code, message) tuples the reader warns with: in
# ebutool/wire/*.py (not wire/mh, whose problems are messages of malformed_mh)
PROBLEM = re.compile(r'\(\s*"([a-z][a-z0-9]*_[a-z0-9_]+)",\s*f?"')


def _emitted() -> dict[str, str]:
    codes: dict[str, str] = {}
    for path in sorted((ROOT / "ebutool").rglob("*.py")):
        for code in WARN.findall(path.read_text(encoding="utf-8")):
            codes.setdefault(code, str(path.relative_to(ROOT)))
    for path in sorted((ROOT / "ebutool" / "wire").glob("*.py")):
        for code in PROBLEM.findall(path.read_text(encoding="utf-8")):
            codes.setdefault(code, str(path.relative_to(ROOT)))
    return codes


def _documented() -> set[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Diagnostics", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`([a-z][a-z0-9_]*)`", section))


def test_the_scan_finds_the_codes():
    codes = _emitted()
    assert len(codes) > 30  # the regular expression still matches the calls
    assert {"orphan_reply", "exchange_limit", "truncated_record"} <= set(codes)


def test_every_emitted_code_is_in_the_readme():
    missing = {c: f for c, f in _emitted().items() if c not in _documented()}
    assert not missing, f"warning codes without a README 'Diagnostics' row: {missing}"
