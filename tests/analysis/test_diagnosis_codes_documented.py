"""The episode diagnosis codes documented in docs/analysis.md ("Diagnosis codes",
"Episode notes") are exactly the codes the analysis can put in the ``diagnosis``
column.  The table is written by hand (the column and quality tables are generated and
checked by scripts/episode_columns_doc.py); this keeps it from drifting.

The codes are collected from the source of ebutool/analysis by its syntax tree: every
``<...>notes.add(X)``, ``with_added(<...>.notes, X)`` and ``_unanswered(..., missing,
..., rejected)`` call, with X a string, an f-string, or a module-level name.  A call
whose X is a local variable is listed in VARIABLE_SITES with the codes it can carry;
a new such call fails here until it is listed.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

from ebutool.analysis import classify, early_or_standard, observable, owd, rows

ROOT = Path(__file__).resolve().parents[2]
ANALYSIS = ROOT / "ebutool" / "analysis"
STATUS = "<status>"  # a BA status in a code, as the docs write it

_FALLBACK = {rows.REFUSED_NOTE, rows.LOST_NOTE}
# (file, the argument's source) -> the codes that variable can hold
VARIABLE_SITES: dict[tuple[str, str], set[str]] = {
    ("early_or_standard.py", "note"): {
        early_or_standard.STANDARD_NOTE,
        early_or_standard.AMBIGUOUS_NOTE,
        early_or_standard.CUT_OFF_NOTE,
        early_or_standard.MALFORMED_NOTE,
    },
    ("metrics.py", "missing"): set(),  # _unanswered's argument: collected at its calls
    ("metrics.py", "f'{rejected}_rejected_{e.status}'"): set(),  # likewise
    ("observable.py", "code"): {observable.reason(None)}
    | {observable.reason(role) for role in observable.UNOBSERVABLE if role != "mn"},
    ("owd.py", "note"): {owd.CLOCK_UNRELIABLE}
    | {
        f"owd_{leg}_{how}"
        for leg in owd.OWD_COLUMNS.values()
        for how in ("unobserved", "one_direction")
    },
    ("rows.py", "note"): _FALLBACK,
    ("__init__.py", "note"): _FALLBACK,
}


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _strings(node: ast.AST, module) -> set[str] | None:
    """The strings ``node`` can be: a literal, a module-level name, either branch of a
    conditional expression; None when it is something else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.Name) and isinstance(getattr(module, node.id, None), str):
        return {getattr(module, node.id)}
    if isinstance(node, ast.IfExp):
        body, orelse = _strings(node.body, module), _strings(node.orelse, module)
        return body | orelse if body is not None and orelse is not None else None
    return None


def _collected() -> tuple[set[str], set[tuple[str, str]]]:
    """(the codes found, the variable call sites found)."""
    codes: set[str] = set()
    sites: set[tuple[str, str]] = set()
    for path in sorted(ANALYSIS.glob("*.py")):
        name = "ebutool.analysis" + ("" if path.stem == "__init__" else f".{path.stem}")
        module = importlib.import_module(name)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            f, args = node.func, node.args
            if _name(f) == "_unanswered" and len(args) >= 3:
                codes |= _strings(args[1], module) or set()
                rejected = _strings(args[3], module) if len(args) > 3 else None
                codes |= {f"{r}_rejected_{STATUS}" for r in rejected or ()}
                continue
            if (
                isinstance(f, ast.Attribute)
                and f.attr == "add"
                and _name(f.value).endswith("notes")
            ):
                arg = args[0]
            elif _name(f) == "with_added" and len(args) == 2 and _name(args[0]).endswith("notes"):
                arg = args[1]
            else:
                continue
            found = _strings(arg, module)
            if found is None:
                sites.add((path.name, ast.unparse(arg)))
            else:
                codes |= found
    for site in sites & VARIABLE_SITES.keys():
        codes |= VARIABLE_SITES[site]
    return codes, sites


def _documented() -> set[str]:
    text = (ROOT / "docs" / "analysis.md").read_text(encoding="utf-8")
    table = text.split("Episode notes (`diagnosis` column):", 1)[1].split("\nWarnings on", 1)[0]
    codes: set[str] = set()
    for line in table.splitlines():
        if line.startswith("| `"):
            codes |= set(re.findall(r"`([a-z][a-z0-9_<>]*)`", line.split(" | ", 1)[0]))
    return codes


def test_the_scan_finds_the_codes():
    codes, _ = _collected()
    assert len(codes) > 40  # the syntax-tree scan still finds the calls
    assert {"bu_unanswered", "ba_rejected_<status>", "state_evicted", "no_final_bu"} <= codes


def test_every_variable_call_site_is_listed():
    _, sites = _collected()
    assert sites == set(VARIABLE_SITES), "list the codes of a new variable site here"


def test_documented_diagnosis_codes_are_exactly_those_the_code_emits():
    emitted, _ = _collected()
    documented = _documented()
    assert not emitted - documented, f"codes without a docs/analysis.md row: {emitted - documented}"
    assert not documented - emitted, f"documented codes never emitted: {documented - emitted}"


def _outcome_table(heading: str) -> set[str]:
    text = (ROOT / "docs" / "analysis.md").read_text(encoding="utf-8")
    section = text.split(f"\n### {heading}\n", 1)[1].split("\n#", 1)[0]
    return {
        m.group(1)
        for line in section.splitlines()
        if (m := re.match(r"\| `([a-z_]+)` \|", line)) is not None
    }


def test_documented_kinds_and_modes_are_exactly_the_outcome_codes():
    assert _outcome_table("kind") == set(classify.KINDS)
    assert _outcome_table("mode") == set(classify.MODES)
