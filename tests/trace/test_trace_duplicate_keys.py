"""A trace line naming a key twice (RFC 8259 4: the names SHOULD be unique; which value a
reader keeps is unpredictable) is a malformed line: counted as ``bad_trace_json``
naming the key and skipped, never read last-wins."""

from __future__ import annotations

import io

import pytest

from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import InputError
from ebutool.records.from_packet import StreamStats
from ebutool.trace.jsonl import read_trace_records

HEADER = '{"type":"header","format":"ebutool-trace","version":1}'
# A data packet, written by hand (the format of docs/trace-format.md).
DATA = (
    '{"type":"packet","time_ns":%s,"frame":%d,"msg":"data","src":"2001:db8:a::100",'
    '"dst":"2001:db8:c1::1","hoa":"2001:db8:1::100","proto":17,"ip_len":92}'
)
T = 1_700_000_000 * 10**9
EBU = (
    '{"type":"packet","time":1700000000.5,"src":"2001:db8:4::100","dst":"2001:db8:2::2",'
    '"hoa":"2001:db8:1::100","msg":"EBU","mh":{"mh_type":5,"sequence":7,%s"flags":"A",'
    '"lifetime_s":420,"options":[{"type":"NonceIndices","home_index":1,"careof_index":0}]}}'
)


def _read(*lines: str):
    diag, stats = Diagnostics(), StreamStats()
    text = "".join(line + "\n" for line in lines).encode()
    return list(read_trace_records(io.BytesIO(text), diag, stats, "t.jsonl")), diag, stats


@pytest.mark.parametrize(
    "line, key",
    [
        (DATA.replace('"time_ns":%s', '"time_ns":%s,"time_ns":%s') % (T, T + 3600, 2), "time_ns"),
        (EBU % '"sequence":8,', "sequence"),  # inside the mh object
        (DATA % (T, 2), None),  # the control: no key twice
        (EBU % "", None),
    ],
)
def test_duplicate_key_is_a_counted_malformed_line(line, key):
    recs, diag, stats = _read(HEADER, DATA % (T, 1), line, DATA % (T + 1, 3))
    if key is None:
        assert len(recs) == 3 and diag.total == 0
        return
    assert [r.frame for r in recs] == [1, 3]  # the line alone is skipped (not last-wins)
    assert diag.counts == {"bad_trace_json": 1}
    (d,) = diag.kept
    assert d.frame == 3 and d.message == f'line 3: duplicate key "{key}" in a JSON object'
    assert stats.skipped["bad_trace_json"] == 1


def test_duplicate_key_on_the_first_line_is_not_a_trace():
    with pytest.raises(InputError, match='duplicate key "type"'):
        _read('{"type":"header","type":"packet","format":"ebutool-trace","version":1}')
