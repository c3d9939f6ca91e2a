"""Records of the hostile input of issue 12 (benchmarks/gen_hostile.py's shape), built
here rather than decoded: one BU per distinct home address, 1 ms apart, none answered."""

from __future__ import annotations

from collections.abc import Iterator

from ebutool.records.record import Record
from ebutool.wire.mh.messages import BindingUpdate

CN = "2001:db8:3::1"


def one_bu_per_mn(n: int, cn: str = CN) -> Iterator[Record]:
    """``n`` BUs, the i-th from home address 2001:db8:1::i via care-of 2001:db8:2::i to
    ``cn`` (a generator: nothing held)."""
    for i in range(1, n + 1):
        yield Record(
            frame=i,
            ts_ns=i * 1_000_000,
            src=f"2001:db8:2::{i:x}",
            dst=cn,
            msg="BU",
            hoa=f"2001:db8:1::{i:x}",
            mh=BindingUpdate(sequence=i & 0xFFFF, lifetime=100),
        )
