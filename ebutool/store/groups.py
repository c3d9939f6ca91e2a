"""A record store's records split into groups of mobile nodes whose state does not cross.

Every record is tied to the addresses that name its mobile node the way the analysis
ties it (ebutool.analysis.addressing): the home address and care-of address of a
packet with a Home Address option, a type 2 routing header or a tunnel; the care-of
address of a CoTI/CoT; the home address a Binding Error names; the source of a BU
sent from home.  The store's binding facts (care-of -> home address) and these ties
are joined (connected components): one group per connected set of addresses, so a
care-of address used by two mobile nodes puts both in one group.  Where a record cannot
be tied in advance (a tunnelled data packet whose direction depends on which end the
run knows as a home agent), all its addresses go into one group: a group too large is
only slower, never wrong.  The split is checked afterwards (ebutool.store.grouped:
no mobile node or care-of address in two groups).

:func:`split_table` also gives what the groups must be told of each other
(:class:`RunFacts`): the Mobility Header messages the oracle sees, for its schedule
(ebutool.oracle.scheduled), and the first record that makes each address a home agent
(checked afterwards too, ebutool.analysis.by_group).

It works on the table's columns, not per record: each address is a number (one Arrow
dictionary over the six address columns) and the ties are NumPy arrays; of the Mobility
Header messages only the few fixed fields it needs are read (whether the message
decodes at all, :func:`ebutool.wire.mh.codec.mh_class`; a BU's H flag; a HoT/CoT's nonce
index); BAs and BEs, whose options or address it needs, are decoded.  The groups decode
every message again when they analyse it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ebutool.core.constants import MH_FIXED_LEN, MOPT_AUTH_DATA, MOPT_PAD1
from ebutool.store.arrow_numpy import arrow_of, filled, numpy_of, valid
from ebutool.store.order import ADDRESS_COLUMNS as ADDRESSES
from ebutool.wire.mh.codec import decode_mh
from ebutool.wire.mh.messages import (
    BU_FLAG_H,
    MESSAGE_CLASSES,
    BindingAcknowledgement,
    BindingError,
    BindingUpdate,
    HomeTest,
    MobilityMessage,
)
from ebutool.wire.mh.mobility_options import known_length

ACCEPTED_MAX_STATUS = 127  # a BA status 0-127 accepts (RFC 6275 6.1.8)
HOME_SENT = ("BU", "EBU", "HoTI")  # without HAO or tunnel: sent from home
TO_MN = ("CoT", "BRR", "BA", "HoT")
NOT_MH = ("data", "handover")  # rows whose Mobility Header octets are not read
ANCHORS = 4  # the most addresses one record is tied by
_U16 = struct.Struct("!H")


def _field_at(cls: type[MobilityMessage], name: str) -> int:
    """The octet offset of a fixed field of ``cls`` in its message."""
    formats = [fmt for n, fmt, _ in cls.BODY]
    names = [n for n, _, _ in cls.BODY]
    return 6 + struct.calcsize("!" + "".join(formats[: names.index(name)]))


BU_FLAGS_AT = _field_at(BindingUpdate, "flags")
NONCE_INDEX_AT = _field_at(HomeTest, "nonce_index")
BA_STATUS_AT = _field_at(BindingAcknowledgement, "status")


@dataclass
class RunFacts:
    """What the split learnt about the whole run (module doc)."""

    group: list[int] = field(default_factory=list)  # per row (run order): its group
    n_groups: int = 0
    # the Mobility Header messages the oracle sees, as columns (run order): each one's
    # position, and of a HoT/CoT its CN (else None) and nonce index (else -1)
    oracle_pos: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    oracle_cn: list[str | None] = field(default_factory=list)
    oracle_index: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    ha_seeds: list[tuple[int, str]] = field(default_factory=list)  # (position, HA)

    @property
    def oracle_messages(self) -> list[tuple[int, int, str | None, int | None]]:
        """(position, group, CN, nonce index) of each message the oracle sees; CN and
        index None but for a HoT/CoT."""
        return [
            (p, self.group[p], cn, i if i >= 0 else None)
            for p, cn, i in zip(
                self.oracle_pos.tolist(), self.oracle_cn, self.oracle_index.tolist(), strict=True
            )
        ]


def _dictionary_chunks(col: pa.ChunkedArray) -> list[pa.DictionaryArray]:
    """``col``'s chunks dictionary-encoded (ebutool.store.order reads them so), each with
    its own dictionary: not unified into one (``combine_chunks`` of the 8 parts' columns
    did, ~0.045 s of a cold pre-pass), since every dictionary is numbered below anyway."""
    chunks = col.chunks or [pa.array([], col.type)]
    return [c if pa.types.is_dictionary(c.type) else c.dictionary_encode() for c in chunks]


def distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` of a 1-D integer array, by a sort: np.unique without
    ``return_index`` asks whether the array is masked, which imports numpy.ma (~12 ms
    of a fresh process, once)."""
    s = np.sort(values)
    return s[np.concatenate(([True], s[1:] != s[:-1]))] if len(s) else s


class _Addresses:
    """Every address of the table as a number; ``none`` stands for a missing one."""

    def __init__(self, table: pa.Table) -> None:
        cols = {c: _dictionary_chunks(table.column(c)) for c in ADDRESSES}
        dictionaries = [chunk.dictionary for chunks in cols.values() for chunk in chunks]
        enc = pa.concat_arrays(dictionaries).dictionary_encode()
        self.names: list[str | None] = enc.dictionary.to_pylist()
        self.none = len(self.names)
        self.names.append(None)
        renumber = np.append(numpy_of(enc.indices), self.none)  # (-1: a null cell)
        self.codes, at = {}, 0
        for name, chunks in cols.items():
            parts = []
            for chunk in chunks:
                mine = np.append(renumber[at : at + len(chunk.dictionary)], self.none)
                parts.append(mine[filled(chunk.indices, -1)].astype(np.int64))
                at += len(chunk.dictionary)
            self.codes[name] = np.concatenate(parts)
        self._index: dict[str | None, int] | None = None

    def code(self, address: str | None) -> int:
        """The number of ``address``, a new one for an address no row holds."""
        if self._index is None:
            self._index = {a: i for i, a in enumerate(self.names)}
        if address not in self._index:
            self._index[address] = len(self.names)
            self.names.append(address)
        return self._index[address]

    def __len__(self) -> int:
        return len(self.names)


@dataclass
class _Messages:
    """What the split reads of the Mobility Header messages, per row (module doc)."""

    decodes: np.ndarray  # rows whose message decodes (the oracle sees them)
    nonce: np.ndarray  # a HoT/CoT's nonce index, else -1
    bu_home: np.ndarray  # a BU with the H flag
    ba_home: np.ndarray  # an accepting BA without Binding Authorization Data
    be_home: np.ndarray  # a Binding Error's home address (its number), else -1


def _by_type(test) -> np.ndarray:
    """Per MH type number: whether its class passes ``test`` (False for unknown types)."""
    return np.array([t in MESSAGE_CLASSES and test(MESSAGE_CLASSES[t]) for t in range(256)])


# per MH type number: where its options begin (its fixed fields' length); -1: unknown type
_OPTIONS_AT = np.array([getattr(MESSAGE_CLASSES.get(t), "OPTIONS_AT", -1) for t in range(256)])
_TEST = _by_type(lambda c: issubclass(c, HomeTest))
_BU = _by_type(lambda c: issubclass(c, BindingUpdate))
_BA = _by_type(lambda c: issubclass(c, BindingAcknowledgement))
_BE = _by_type(lambda c: issubclass(c, BindingError))


class _Wires:
    """A binary column's octets as NumPy: each row's start and length in ``data``."""

    def __init__(self, col: pa.ChunkedArray) -> None:
        arr = col.combine_chunks()
        bufs = arr.buffers()
        offsets = np.frombuffer(bufs[1], np.int32)[arr.offset : arr.offset + len(arr) + 1]
        self.start, self.length = offsets[:-1].astype(np.int64), np.diff(offsets)
        data = bufs[2] if bufs[2] is not None else b""
        self.data = np.frombuffer(data, np.uint8)

    def octet(self, rows: np.ndarray, at: int) -> np.ndarray:
        """Octet ``at`` of each of ``rows`` (which must be that long)."""
        return self.data[self.start[rows] + at].astype(np.int64)

    def u16(self, rows: np.ndarray, at: int) -> np.ndarray:
        return self.octet(rows, at) << 8 | self.octet(rows, at + 1)

    def holds(self, rows: np.ndarray, at: int, otype: int) -> np.ndarray:
        """Per row of ``rows``: whether ebutool.wire.mh.mobility_options.decode_options
        finds an option of type ``otype`` of its known length in the row's option area
        (from octet ``at`` to its Header Len's end, cut at the row's end), by the same
        walk without making the options, all rows at once (a BA per row: ~9,600 a run)."""
        want = known_length(otype)
        base = self.start[rows]
        end = base + np.minimum((self.octet(rows, 1) + 1) * 8, self.length[rows])
        i, found = base + at, np.zeros(len(rows), bool)
        live = np.flatnonzero(i < end)
        while live.size:
            p, e = i[live], end[live]
            t = self.data[p]
            pad = t == MOPT_PAD1
            padded = live[pad]
            i[padded] += 1
            live, p, e, t = live[~pad], p[~pad], e[~pad], t[~pad]
            size = np.zeros(len(p), np.int64)
            whole = p + 2 <= e
            size[whole] = self.data[p[whole] + 1]
            whole &= p + 2 + size <= e  # cut short: the walk ends there
            hit = whole & (t == otype) & (True if want is None else size == want)
            found[live[hit]] = True
            step = whole & ~hit
            i[live[step]] += 2 + size[step]
            live = np.concatenate((live[step], padded))
            live = live[i[live] < end[live]]
        return found


def _messages(table: pa.Table, not_mh: np.ndarray, book: _Addresses) -> _Messages:
    n = table.num_rows
    out = _Messages(
        np.zeros(n, bool), np.full(n, -1, np.int64), np.zeros(n, bool), np.zeros(n, bool),
        np.full(n, -1, np.int64),
    )  # fmt: skip
    col = table.column("mh_wire")
    w = _Wires(col)
    rows = np.flatnonzero(valid(col) & ~not_mh & (w.length >= MH_FIXED_LEN))
    size, total = w.length[rows], (w.octet(rows, 1) + 1) * 8
    mtype = w.octet(rows, 2)
    at = _OPTIONS_AT[mtype]  # decode_mh's length checks (ebutool.wire.mh.codec)
    rows = rows[(at < 0) | ((total >= at) & ~((total > size) & (size < at)))]
    out.decodes[rows] = True
    mtype = w.octet(rows, 2)
    test, bu = rows[_TEST[mtype]], rows[_BU[mtype]]
    out.nonce[test] = w.u16(test, NONCE_INDEX_AT)
    out.bu_home[bu] = (w.u16(bu, BU_FLAGS_AT) & BU_FLAG_H) != 0
    ba = rows[_BA[mtype]]
    ba = ba[w.octet(ba, BA_STATUS_AT) <= ACCEPTED_MAX_STATUS]
    out.ba_home[ba] = ~w.holds(ba, BindingAcknowledgement.OPTIONS_AT, MOPT_AUTH_DATA)
    be = rows[_BE[mtype]]
    for pos, wire in zip(be.tolist(), col.take(arrow_of(be)).to_pylist(), strict=True):
        out.be_home[pos] = book.code(getattr(decode_mh(wire, []), "home_address", None))
    return out


class _Rows:
    """The table's columns as arrays: addresses as numbers, message names as masks."""

    def __init__(self, table: pa.Table) -> None:
        self.n = table.num_rows
        self.book = _Addresses(table)
        self.empty = self.book.code("")  # (a new number when no row holds "")
        names = pc.cast(table.column("msg"), pa.string()).combine_chunks().dictionary_encode()
        self.kinds = {k: i for i, k in enumerate(names.dictionary.to_pylist())}
        self.msg = filled(names.indices, -1)
        self._of: dict[tuple[str, ...], np.ndarray] = {}
        c = self.book.codes
        self.src, self.dst, self.hoa = c["src"], c["dst"], c["hoa"]
        self.rh2, self.tsrc, self.tdst = c["rh2"], c["tunnel_src"], c["tunnel_dst"]
        none = self.book.none
        self.has_hoa, self.has_rh2, self.tunnel = (
            self.hoa != none,
            self.rh2 != none,
            (self.tsrc != none),
        )
        self.mh = _messages(table, self.of(*NOT_MH), self.book)

    def of(self, *kinds: str) -> np.ndarray:
        """The rows whose message is one of ``kinds``."""
        if kinds not in self._of:
            codes = [self.kinds[k] for k in kinds if k in self.kinds]
            self._of[kinds] = np.isin(self.msg, codes)
        return self._of[kinds]


def _roles(r: _Rows) -> tuple[np.ndarray, np.ndarray]:
    """(addresses that name a mobile node, addresses that may be a home agent), each a
    mask over the address numbers."""
    mns, has = np.zeros(len(r.book), bool), np.zeros(len(r.book), bool)
    hoti, hot, plain = r.tunnel & r.of("HoTI"), r.tunnel & r.of("HoT"), ~r.tunnel
    mns[r.hoa[r.has_hoa]] = True
    mns[r.rh2[r.has_rh2 & ~r.of("handover")]] = True
    mns[r.src[hoti]] = True
    mns[r.dst[hot]] = True
    mns[r.src[plain & ~r.has_hoa & r.of(*HOME_SENT)]] = True
    be = r.mh.be_home >= 0
    mns[r.mh.be_home[be & plain & ~r.has_hoa & ~r.has_rh2]] = True
    has[r.tdst[hoti]] = True
    has[r.tsrc[hot]] = True
    has[r.dst[r.mh.bu_home]] = True
    has[r.src[r.mh.ba_home]] = True
    other = r.tunnel & ~r.of("HoTI", "HoT")  # what a resolved tunnel teaches
    has[r.tdst[other & mns[r.src]]] = True
    has[r.tsrc[other & mns[r.dst]]] = True
    return mns, has


def _anchors(r: _Rows, mns: np.ndarray, has: np.ndarray) -> np.ndarray:
    """The addresses that tie each record to its mobile node (module doc): a row of
    up to :data:`ANCHORS` address numbers, -1 beyond."""
    out = np.full((r.n, ANCHORS), -1, np.int64)
    done = r.of("handover")
    empty = r.empty  # a handover names what it has; "" and None are not names
    for pos in np.flatnonzero(done).tolist():
        named = [a for a in (r.hoa[pos], r.src[pos], r.rh2[pos]) if a not in (empty, r.book.none)]
        out[pos, : len(named)] = named or [r.book.none]

    def put(mask: np.ndarray, *cols: np.ndarray) -> None:
        nonlocal done
        m = mask & ~done
        for k, col in enumerate(cols):
            out[m, k] = col[m]
        done = done | m

    tdst_named = (r.tdst != r.book.none) & (r.tdst != empty)
    put(r.has_hoa, r.hoa, r.src)
    put(r.has_rh2, r.rh2, np.where(tdst_named, r.tdst, r.dst))
    up = mns[r.src] | has[r.tdst]
    down = mns[r.dst] | has[r.tsrc]
    put(r.tunnel & r.of("HoTI"), r.src, r.tsrc)
    put(r.tunnel & r.of("HoT"), r.dst, r.tdst)
    put(r.tunnel & up & ~down, r.src, r.tsrc)
    put(r.tunnel & down & ~up, r.dst, r.tdst)
    put(r.tunnel, r.src, r.tsrc, r.dst, r.tdst)
    put(r.mh.be_home >= 0, r.mh.be_home, r.dst)
    put(r.of(*TO_MN), r.dst)
    put(np.ones(r.n, bool), r.src)
    return out


def _components(n_nodes: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Each node's component (its smallest node number) for the edges ``a``-``b``:
    minimum labels hooked along the edges, then paths halved, until nothing moves."""
    label = np.arange(n_nodes, dtype=np.int64)
    edges = distinct(np.minimum(a, b) * n_nodes + np.maximum(a, b))
    a, b = edges // n_nodes, edges % n_nodes
    while True:
        la, lb = label[a], label[b]
        if np.array_equal(la, lb):
            return label
        low = np.minimum(la, lb)
        np.minimum.at(label, la, low)
        np.minimum.at(label, lb, low)
        while True:
            up = label[label]
            if np.array_equal(up, label):
                break
            label = up


def _groups(rows: np.ndarray) -> tuple[np.ndarray, int]:
    """Components renumbered in the order of their first row."""
    uniq, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
    rank = np.empty(len(uniq), np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(uniq))
    return rank[inverse], len(uniq)


def _ha_seeds(r: _Rows, mns: np.ndarray) -> list[tuple[int, str]]:
    """(position, HA): the first record that most likely makes each address a home
    agent (a guess: the groups report where they learnt each HA, and are run again when
    the guess was wrong): a tunnelled home test or data packet of a known MN, a BU to a
    home agent, an HA's accepting BA."""
    seed = np.full(r.n, -1, np.int64)
    hoti, hot = r.of("HoTI"), r.of("HoT")
    out_ = r.tunnel & (hoti | (~hot & mns[r.src]))
    in_ = r.tunnel & ~out_ & (hot | mns[r.dst])
    seed[out_] = r.tdst[out_]
    seed[in_] = r.tsrc[in_]
    bu, ba = ~r.tunnel & r.mh.bu_home, ~r.tunnel & ~r.mh.bu_home & r.mh.ba_home
    seed[bu] = r.dst[bu]
    seed[ba] = r.src[ba]
    seed[seed == r.book.none] = -1
    pos = np.flatnonzero(seed >= 0)
    has, first = np.unique(seed[pos], return_index=True)
    order = np.argsort(pos[first], kind="stable")
    return [(int(pos[first[i]]), r.book.names[has[i]]) for i in order]


def split_table(table: pa.Table, facts: list[tuple[str, str]]) -> RunFacts:
    """Group every row of ``table`` (run order; the columns msg, the six addresses and
    mh_wire) with the binding ``facts`` (coa, hoa) (module doc)."""
    r = _Rows(table)
    mns, has = _roles(r)
    anchors = _anchors(r, mns, has)
    fa = np.array([r.book.code(h) for _, h in facts], np.int64)
    fb = np.array([r.book.code(c) for c, _ in facts], np.int64)
    a, b = [fa], [fb]
    for k in range(1, ANCHORS):
        tied = anchors[:, k] >= 0
        a.append(anchors[tied, 0])
        b.append(anchors[tied, k])
    label = _components(len(r.book), np.concatenate(a), np.concatenate(b))
    group, n_groups = _groups(label[anchors[:, 0]])
    out = RunFacts(group.tolist(), n_groups)
    out.oracle_pos = np.flatnonzero(r.mh.decodes)
    out.oracle_index = r.mh.nonce[out.oracle_pos]
    cn = np.where(out.oracle_index >= 0, r.src[out.oracle_pos], r.book.none)  # a HoT/CoT's
    out.oracle_cn = list(map(r.book.names.__getitem__, cn.tolist()))  # (none: None)
    out.ha_seeds = _ha_seeds(r, mns)
    return out
