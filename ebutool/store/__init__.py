"""The record store: captures extracted once into Parquet, analysed like one capture.

    import ebutool.store
    ebutool.store.extract(["day1/"], "store/")       # one part per input file
    df = ebutool.store.analyze_store("store/")       # = analyze --merge of the captures
    facts = ebutool.store.binding_facts("store/")   # care-of -> home address, from when

Modules: ``schema`` (the Parquet columns), ``layout`` (the directory), ``writer`` (one
input -> one part), ``facts`` (binding facts), ``parts`` (the parts merged by time),
``incremental`` (many inputs, incremental, in processes or through a mapper such as
ebutool.runner.cluster's), ``merged`` (analyze a store).  docs/scale-out.md.
"""

from __future__ import annotations

import importlib
from typing import Any

# Lazy: ``ebutool.store.layout`` (is_store) is imported by the runner for every command,
# and must not import pyarrow (an optional dependency, the ``store`` extra).
_WHERE = {
    "extract": "ebutool.store.incremental",
    "ExtractReport": "ebutool.store.incremental",
    "analyze_store": "ebutool.store.merged",
    "binding_facts": "ebutool.store.facts",
    "is_store": "ebutool.store.layout",
    "store_parts": "ebutool.store.parts",
    "store_records": "ebutool.store.parts",
}

__all__ = list(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'ebutool.store' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
