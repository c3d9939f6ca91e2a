"""The package's structure (issue 10): no import cycles, no private names imported across
packages, no function longer than 100 lines, no module name used for two roles, and
docs/architecture.md's module map current.

The import graph is built here from the source with ``ast`` (module-level and function-
level ``from ebutool... import`` and ``import ebutool...``), independently of any tool.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "ebutool"
MAX_FUNCTION_LINES = 100


def _modules() -> dict[str, Path]:
    mods = {}
    for p in sorted(PKG.rglob("*.py")):
        parts = list(p.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        mods[".".join(parts)] = p
    return mods


def _imports(name: str, path: Path, mods: dict[str, Path]) -> list[tuple[str, str]]:
    """(imported module, imported name) for every ebutool import in ``path``."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ebutool"):
            assert node.level == 0, f"{name}: relative import"
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                out.append((full if full in mods else node.module, alias.name))
        elif isinstance(node, ast.Import):
            out.extend((a.name, "") for a in node.names if a.name.startswith("ebutool"))
    return out


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in mods.items():
        for target, _ in _imports(name, path, mods):
            if target in mods and target != name:
                graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        found.append(sorted(comp))
    return found


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    assert _cycles(_graph()) == []


def test_no_private_names_imported_across_packages():
    mods = _modules()
    bad = []
    for name, path in mods.items():
        for target, imported in _imports(name, path, mods):
            private = imported.startswith("_") and not imported.startswith("__")
            if private and target.split(".")[:2] != name.split(".")[:2]:
                bad.append(f"{name} <- {target}.{imported}")
    assert bad == []


def test_no_function_longer_than_the_limit():
    long = []
    for path in _modules().values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.name} {n} lines")
    assert long == []


def test_no_module_name_used_for_two_roles():
    seen: dict[str, list[str]] = defaultdict(list)
    for name in _modules():
        leaf = name.rsplit(".", 1)[-1]
        # a command module is named after its feature (cli/commands/analyze.py)
        if leaf not in ("__main__", "ebutool") and ".commands." not in name:
            seen[leaf].append(name)
    twice = {k: v for k, v in seen.items() if len(v) > 1}
    assert twice == {}


def test_architecture_module_map_is_current():
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "architecture_map.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
