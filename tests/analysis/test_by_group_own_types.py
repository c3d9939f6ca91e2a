"""run_group (one group of a split store) walks the stream in one loop: it must still
read the draft's own MH types as EBU/EBA (retyper), count the vantage evidence of the
messages before they are retyped, and name an unknown type a CN refuses, exactly as the
single run (build_rows over retyped) does."""

from __future__ import annotations

from dataclasses import fields

import pytest

from ebutool.analysis.by_group import merge_groups, run_group
from ebutool.analysis.rows import build_rows
from ebutool.analysis.vantage import Evidence
from ebutool.core.constants import DEFAULT_CONFIG
from ebutool.core.diagnostics import Diagnostics
from ebutool.stream.reader import read_records
from tests.oracle.test_own_mh_types import EBA_T, EBU_T, early_capture
from tests.support import rfc_packets as P

NAMED = DEFAULT_CONFIG.with_(ebu_mh_type=EBU_T, eba_mh_type=EBA_T)


def _records(tmp_path, refuse):
    path = tmp_path / "own-types.pcap"
    path.write_bytes(P.pcap(early_capture(refuse=refuse)))
    return list(read_records(str(path), Diagnostics()))


def _counts(ev: Evidence) -> dict:
    return {f.name: getattr(ev, f.name) for f in fields(Evidence) if not f.name.startswith("_")}


@pytest.mark.parametrize("config", [NAMED, DEFAULT_CONFIG], ids=["named", "plain"])
@pytest.mark.parametrize("refuse", [False, True], ids=["answered", "refused"])
def test_one_group_gives_the_single_runs_rows(tmp_path, config, refuse):
    records = _records(tmp_path, refuse)
    d1 = Diagnostics()
    one = build_rows(records, config, d1).frame(None, None)
    got = run_group(enumerate(records), config, None, None, records[-1].ts_ns, [])
    d2 = Diagnostics()
    split = merge_groups([got], d2).frame(None, None)
    assert split.to_csv(index=False) == one.to_csv(index=False)
    assert d2.counts == d1.counts
    kinds = list(split.loc[split["cn"].notna(), "kind"])
    if config is NAMED and not refuse:
        assert kinds == ["early"]  # the EBU and EBA were read with the BU/BA layouts
    else:
        assert kinds != ["early"]
    refused = d2.counts.get("unknown_mh_type_refused", 0)
    assert refused == (1 if refuse and config is DEFAULT_CONFIG else 0)
    # the evidence counts every message as captured (before retyping): BU/EBU to a CN
    # are only the standard BU and, once named, still not the EBU (a type of its own)
    counts = _counts(got.evidence)
    assert counts["messages"] == sum(1 for r in records if r.mh is not None)
    assert counts["bu_to_cn"] == (0 if refuse else 1)
