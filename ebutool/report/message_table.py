"""``decode``: one row per Mobility Header message, every field (library side)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pandas as pd

from ebutool.core import constants as C
from ebutool.core.exact_time import EXACT_NS, exact_map
from ebutool.core.units import seconds
from ebutool.records.naming import MessageNamer
from ebutool.records.record import Record
from ebutool.wire.mh import messages as M
from ebutool.wire.mh import mobility_options as O

# Column -> meaning (README "decode columns").  Units are suffixes.
DECODE_COLUMNS = {
    "frame": "1-based frame number, as Wireshark counts",
    "time": "capture time, epoch seconds",
    "src": "IPv6 source (inner header if tunnelled)",
    "dst": "IPv6 destination (inner header if tunnelled)",
    "home_address": "Home Address option, else type 2 routing header address",
    "care_of_address": "the MN's care-of address: from the MN, Alternate CoA option, else "
    "source of a packet with a HAO / CoTI, else tunnel source; to the MN, destination of a "
    "packet with a type 2 routing header / CoT, else tunnel destination (a HoT tunnelled by "
    "the HA)",
    "tunnel_src": "outer source of an IPv6-in-IPv6 tunnel",
    "tunnel_dst": "outer destination of an IPv6-in-IPv6 tunnel",
    "msg": "HoTI, CoTI, HoT, CoT, BU, EBU, BA, EBA (a BA answering an EBU), BE, BRR or "
    "other; a BU with care-of nonce index 0 after a CoT with index 0 is a BU",
    "mh_type": "Mobility Header type number",
    "deregistration": "BU with lifetime 0 or care-of address == home address",
    "rfc4866": "(E)BU carrying a Care-of Test Init option",
    "sequence": "BU/BA sequence number",
    "flags": "BU/BA flags as letters",
    "lifetime_s": "BU/BA lifetime in seconds (wire value x 4)",
    "status": "BA/BE status",
    "init_cookie": "HoTI/CoTI/HoT/CoT init cookie, hex",
    "nonce_index": "HoT/CoT nonce index",
    "keygen_token": "HoT/CoT keygen token, hex",
    "home_nonce_index": "Nonce Indices option, home index",
    "careof_nonce_index": "Nonce Indices option, care-of index",
    "careof_keygen_token": "Care-of Test option (RFC 4866) token, hex",
    "alt_coa": "Alternate Care-of Address option",
    "refresh_s": "Binding Refresh Advice interval in seconds",
    "be_home_address": "BE home address field",
    "authenticator": "Binding Authorization Data, hex",
    "unknown_options": "types of options kept raw",
    "checksum": "MH checksum field, hex",
    "checksum_ok": "MH checksum verifies with RFC 6275's pseudo-header rule "
    "(empty: message truncated)",
    "truncated": "the capture ends inside this message: options past the cut are missing",
}


def message_row(rec: Record, name: str | None = None) -> dict[str, object]:
    """All decoded fields of one MH record, as a flat dict of DECODE_COLUMNS; ``name``
    (from :class:`~ebutool.records.naming.MessageNamer`) overrides the record's label."""
    m = rec.mh
    if m is None:
        raise ValueError(f"frame {rec.frame}: not a Mobility Header message")
    row = dict.fromkeys(DECODE_COLUMNS)
    row.update(
        frame=rec.frame,
        time=seconds(rec.ts_ns),
        src=rec.src,
        dst=rec.dst,
        home_address=rec.home_address,
        care_of_address=rec.care_of_address,
        tunnel_src=rec.tunnel_src,
        tunnel_dst=rec.tunnel_dst,
        msg=name or rec.msg,
        mh_type=m.mh_type,
        deregistration=rec.deregistration,
        rfc4866=rec.rfc4866,
        checksum=None if m.checksum is None else f"{m.checksum:04x}",
        checksum_ok=rec.checksum_ok,
        truncated=m.truncated,
    )
    if isinstance(m, M.BindingUpdate):
        row.update(
            sequence=m.sequence,
            flags=M.flag_letters(m.flags, M.BU_FLAGS),
            lifetime_s=m.lifetime * C.LIFETIME_UNIT_S,
        )
    elif isinstance(m, M.BindingAcknowledgement):
        row.update(
            sequence=m.sequence,
            flags=M.flag_letters(m.flags, M.BA_FLAGS),
            lifetime_s=m.lifetime * C.LIFETIME_UNIT_S,
            status=m.status,
        )
    elif isinstance(m, M.BindingError):
        row.update(status=m.status, be_home_address=m.home_address)
    elif isinstance(m, M.HomeTest):  # HoT and CoT
        row.update(
            nonce_index=m.nonce_index,
            init_cookie=m.init_cookie.hex(),
            keygen_token=m.keygen_token.hex(),
        )
    elif isinstance(m, M.HomeTestInit):  # HoTI and CoTI
        row.update(init_cookie=m.init_cookie.hex())
    unknown: list[str] = []
    for o in m.options:
        if isinstance(o, O.NonceIndices):
            row.update(home_nonce_index=o.home_index, careof_nonce_index=o.careof_index)
        elif isinstance(o, O.BindingAuthorizationData):
            row["authenticator"] = o.authenticator.hex()
        elif isinstance(o, O.CareOfTestOption):
            row["careof_keygen_token"] = o.keygen_token.hex()
        elif isinstance(o, O.AlternateCareOfAddress):
            row["alt_coa"] = o.address
        elif isinstance(o, O.BindingRefreshAdvice):
            row["refresh_s"] = o.interval * C.BRA_UNIT_S
        elif isinstance(o, O.UnknownOption):
            unknown.append(str(o.type))
    row["unknown_options"] = ",".join(unknown) or None
    return row


CHUNK_ROWS = 10_000  # rows per table of decode_chunks (docs/outputs.md "Streaming")

# With ESP SAs (decode --esp-sa): how each message was protected, after the other columns.
ESP_COLUMNS = ("esp_spi", "esp_seq", "esp_algorithm")


def decode_frame(records: Iterable[Record], esp: bool = False) -> pd.DataFrame:
    """The decode table of every MH message in ``records`` (typed, possibly empty); with
    ``esp`` the columns ESP_COLUMNS at the end (empty for a message sent in clear)."""
    namer = MessageNamer()
    kept = [r for r in records if isinstance(r, Record) and r.mh is not None]
    return _table(kept, namer, esp)


def decode_chunks(
    records: Iterable[Record], esp: bool = False, rows: int = CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """The decode table of ``records`` as consecutive tables of at most ``rows`` rows
    (the first possibly empty, the others not), in capture order: what
    :func:`decode_frame` gives, streamed (one message namer over the whole stream)."""
    namer = MessageNamer()
    kept: list[Record] = []
    first = True
    for r in records:
        if isinstance(r, Record) and r.mh is not None:
            kept.append(r)
            if len(kept) >= rows:
                yield _table(kept, namer, esp)
                kept, first = [], False
    if kept or first:
        yield _table(kept, namer, esp)


def _table(kept: list[Record], namer: MessageNamer, esp: bool) -> pd.DataFrame:
    rows = [message_row(r, namer.name(r)) for r in kept]
    df = pd.DataFrame(rows, columns=list(DECODE_COLUMNS))
    df.attrs[EXACT_NS] = exact_map(r.ts_ns for r in kept)  # the times' exact ns
    if esp:
        df["esp_spi"] = pd.Series(
            [None if r.esp_spi is None else f"0x{r.esp_spi:08x}" for r in kept],
            index=df.index,
            dtype="object",
        )
        df["esp_seq"] = pd.Series([r.esp_seq for r in kept], index=df.index, dtype="object")
        df["esp_seq"] = df["esp_seq"].astype("Int64")
        df["esp_algorithm"] = pd.Series(
            [r.esp_algorithm for r in kept], index=df.index, dtype="object"
        )
    for c in (
        "sequence",
        "lifetime_s",
        "status",
        "nonce_index",
        "home_nonce_index",
        "careof_nonce_index",
        "refresh_s",
        "mh_type",
    ):
        df[c] = df[c].astype("Int64")
    return df
