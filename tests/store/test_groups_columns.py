"""The split by mobile node on the table's columns (ebutool.store.groups.split_table)
against the record-by-record split it replaced (tests/support/split_reference.py), and
its reading of the Mobility Header octets against the decoder (decode_mh)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ebutool.core.constants import MOPT_AUTH_DATA
from ebutool.core.diagnostics import Diagnostics
from ebutool.store import extract
from ebutool.store import groups as groups_mod
from ebutool.store.grouped import _facts
from ebutool.store.order import ordered_table
from ebutool.wire.mh.codec import decode_mh
from ebutool.wire.mh.messages import (
    BindingAcknowledgement,
    BindingError,
    BindingUpdate,
    HomeTest,
)
from ebutool.wire.mh.mobility_options import BindingAuthorizationData, decode_options
from tests.support import split_reference
from tests.support.cli import SAMPLES
from tests.support.splitcap import split_pcap

COLS = ("msg", "src", "dst", "hoa", "rh2", "tunnel_src", "tunnel_dst")


def _both(store: str):
    table, _ = ordered_table(store, Diagnostics())
    facts = _facts(store)
    rows = list(zip(*(table.column(c).to_pylist() for c in COLS), strict=True))
    old = split_reference.split(rows, table.column("mh_wire").to_pylist(), facts)
    return groups_mod.split_table(table, facts), old


@pytest.mark.parametrize("name", ["mixed.pcap", "mixed.jsonl", "early-optimistic.pcap"])
def test_the_columns_give_the_record_by_record_split(tmp_path, name):
    extract([SAMPLES / name], tmp_path / "s")
    new, old = _both(str(tmp_path / "s"))
    assert (new.group, new.n_groups) == (old.group, old.n_groups)
    assert new.oracle_messages == old.oracle_messages
    assert new.ha_seeds == old.ha_seeds
    assert new.n_groups >= 1 and old.oracle_messages


def test_rotated_pieces_with_binding_errors(tmp_path):
    folder = split_pcap(SAMPLES / "mixed.pcap", tmp_path / "rot", 8)[0].parent
    extract([folder], tmp_path / "s")
    table, _ = ordered_table(str(tmp_path / "s"), Diagnostics())
    assert "BE" in table.column("msg").to_pylist()  # the legacy CN's Binding Errors
    new, old = _both(str(tmp_path / "s"))
    assert (new.group, new.oracle_messages, new.ha_seeds) == (
        old.group,
        old.oracle_messages,
        old.ha_seeds,
    )


_MSG = {1: "HoTI", 2: "CoTI", 3: "HoT", 4: "CoT", 5: "BU", 6: "BA", 7: "BE", 0: "BRR"}
_wire = st.builds(
    lambda head, mtype, hlen, body: bytes([head, hlen, mtype]) + body,
    st.integers(0, 255),
    st.sampled_from([0, 1, 2, 3, 4, 5, 6, 7, 8, 200]),
    st.integers(0, 6),
    st.binary(max_size=60),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_wire, min_size=1, max_size=12))
def test_the_octets_read_as_the_decoder_reads_them(wires):
    n = len(wires)
    table = pa.table(
        {
            "msg": [_MSG.get(w[2], "other") if len(w) > 2 else "BU" for w in wires],
            **{c: [f"2001:db8::{i}" for i in range(n)] for c in ("src", "dst")},
            **{c: pa.array([None] * n, pa.string()) for c in COLS[3:]},
            "mh_wire": wires,
        }
    )
    rows = groups_mod._Rows(table)
    for pos, w in enumerate(wires):
        m = decode_mh(w, [])
        assert rows.mh.decodes[pos] == (m is not None)
        want = m.nonce_index if isinstance(m, HomeTest) else -1
        assert rows.mh.nonce[pos] == want
        assert rows.mh.bu_home[pos] == (isinstance(m, BindingUpdate) and bool(m.flags & 0x4000))
        ba = isinstance(m, BindingAcknowledgement) and m.status <= 127
        assert rows.mh.ba_home[pos] == (ba and m.option(BindingAuthorizationData) is None)
        be = rows.book.names[rows.mh.be_home[pos]] if rows.mh.be_home[pos] >= 0 else None
        assert be == (m.home_address if isinstance(m, BindingError) else None)


_option = st.builds(
    lambda t, n, data: bytes([t]) if t == 0 else bytes([t, n]) + data,
    st.sampled_from([0, 1, 2, MOPT_AUTH_DATA, 9]),
    st.sampled_from([0, 2, 4, 11, 12, 13, 30]),
    st.binary(min_size=0, max_size=14),
)  # Pad1, PadN, ..., Binding Authorization Data of its length (12) and not; cut short


_ba_wire = st.builds(
    lambda area, pad, hlen_shift, status: (
        lambda body: bytes([59, max(0, (len(body) + 7) // 8 - 1 + hlen_shift), 6, 0, 0, 0]) + body
    )(bytes([status, 0, 0, 1, 0, 10]) + area + bytes(pad)),
    st.lists(_option, max_size=5).map(b"".join) | st.binary(max_size=40),
    st.integers(0, 7),
    st.sampled_from([0, 0, -1, 1, 3]),  # Header Len right, short, beyond the octets
    st.sampled_from([0, 1, 127, 128]),
)  # a BA: the fixed fields, an option area (Header Len's end may cut it or pass it)


@settings(max_examples=500, deadline=None)
@given(st.lists(_ba_wire, min_size=1, max_size=8))
def test_the_option_walk_over_all_rows_is_the_decoders(wires):
    w = groups_mod._Wires(pa.chunked_array([pa.array(wires, pa.binary())]))
    rows = np.arange(len(wires))
    at = BindingAcknowledgement.OPTIONS_AT
    got = w.holds(rows, at, MOPT_AUTH_DATA).tolist()
    want = [
        any(isinstance(o, BindingAuthorizationData) for o in decode_options(area, []))
        for area in (x[at : (x[1] + 1) * 8] for x in wires)
    ]
    assert got == want
    for x, found in zip(wires, got, strict=True):  # and as the decoder reads the message
        m = decode_mh(x, [])
        if isinstance(m, BindingAcknowledgement):
            assert found == (m.option(BindingAuthorizationData) is not None)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-5, 2**40), max_size=50))
def test_distinct_is_numpys_unique(values):
    a = np.array(values, np.int64)
    got = groups_mod.distinct(a)
    assert got.tolist() == np.unique(a).tolist()


def test_handovers_naming_no_address_are_one_group():
    """A handover event whose fields are all empty (a trace may write one) ties to no
    address: such rows share one group, in the columns and in the reference alike."""
    rows = [
        ("handover", None, None, None, None, None, None),
        ("data", "2001:db8::a", "2001:db8::c", "2001:db8::1", None, None, None),
        ("handover", "", None, "", "", None, None),
        ("handover", "2001:db8::b", None, "2001:db8::1", None, None, None),
    ]
    table = pa.table(
        {
            **{c: pa.array([r[i] for r in rows], pa.string()) for i, c in enumerate(COLS)},
            "mh_wire": pa.array([None] * len(rows), pa.binary()),
        }
    )
    new = groups_mod.split_table(table, [])
    old = split_reference.split(rows, [None] * len(rows), [])
    assert (new.group, new.n_groups) == (old.group, old.n_groups)
    assert new.group[0] == new.group[2] != new.group[1] == new.group[3]
