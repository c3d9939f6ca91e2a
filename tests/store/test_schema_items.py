"""The store reader's rows as Records: made by starmap in Record's field order (a
store of captures) or one by one (rows with HandoverEvents), the same items."""

from __future__ import annotations

from dataclasses import fields

import pytest

from ebutool.core.diagnostics import Diagnostics
from ebutool.records.record import HandoverEvent, Record
from ebutool.store.schema import _items, _mixed_items, from_batch, to_batch
from ebutool.stream.reader import read_records


def _columns(items) -> list[list]:
    batch = to_batch(items)
    return [batch.column(i).to_pylist() for i in range(batch.num_columns)]


@pytest.mark.parametrize("ext", ["pcap", "jsonl"])
@pytest.mark.parametrize("name", ["mixed", "standard"])
def test_items_are_the_rows(name, ext):
    records = list(read_records(f"samples/{name}.{ext}", Diagnostics()))
    cols = _columns(records)
    got = list(_items(cols, iter(["label"] * len(records))))
    want = list(_mixed_items(cols, iter(["label"] * len(records))))
    assert got == want
    assert len(got) == len(records)
    for item, rec in zip(got, records, strict=True):
        assert type(item) is type(rec)
        if isinstance(rec, Record):  # every field where it belongs (the order of starmap)
            for f in fields(Record):
                want_value = "label" if f.name == "source" else getattr(rec, f.name)
                assert getattr(item, f.name) == want_value, f.name


def test_records_are_made_in_field_order():
    rec = Record(
        1, 2, "a", "b", "data", "h", "r", "ts", "td", 17, 99, None, None, True, False, True,
        "", 5, 6, "alg",
    )  # fmt: skip
    (got,) = from_batch(to_batch([rec]), "src")
    assert got == replace_source(rec, "src")


def test_handover_rows_are_events():
    items = [
        HandoverEvent(5, "mn", "coa", "old", 1, ""),
        Record(1, 6, "coa", "cn", hoa="mn"),
    ]
    got = list(from_batch(to_batch(items), "x"))
    assert isinstance(got[0], HandoverEvent) and got[0].coa == "coa" and got[0].source == "x"
    assert isinstance(got[1], Record) and got[1].hoa == "mn" and got[1].source == "x"


def replace_source(rec: Record, source: str) -> Record:
    from dataclasses import replace

    return replace(rec, source=source)
