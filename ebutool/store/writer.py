"""One input file -> one part of the record store (``STORE/parts/NAME.parquet``).

:func:`extract_file` reads a capture or JSON trace through the fast path
(:func:`ebutool.stream.reader.read_records`), so a part holds exactly the message stream
the analysis reads: the Mobility Header messages with their wire octets and the data
packets that carry a Home Address option, a type 2 routing header or a tunnel (what the
latency, data-gap and replay measures use); every other packet is only counted
(``frames``, ``skipped`` in the metadata).  The part's facts (:data:`META_KEY` JSON): the
path, size, mtime and SHA-256 of the input, first/last time, frame counts, messages by
label and the reader's diagnostics (counts and the first ones kept), and what merging it as
a view of one run needs (``view``, :func:`view_facts`: its vantage point, given with
``vantage`` or detected on the evidence of all its records, its footprint and link
type; absent in parts written before, whose reader works them out from the records,
ebutool.store.vantages).  The binding facts
(care-of -> home address, first and last time seen) go to ``STORE/bindings/NAME.parquet``
(:mod:`ebutool.store.facts`).

Every file is written under a temporary name and renamed into place, the bindings first
and the part last: a part that exists is complete, so an interrupted run resumes where
it stopped.  A part whose input has the same size and mtime, or else the same content
hash, is kept as it is ("unchanged").
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from itertools import chain
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from ebutool.analysis.footprint import Footprint
from ebutool.analysis.vantage import Evidence, VantageDecision
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import EbutoolError, OutputError
from ebutool.core.gc_tuning import fewer_collections
from ebutool.core.version import __version__
from ebutool.records.from_packet import StreamStats
from ebutool.store.facts import BindingFacts
from ebutool.store.layout import bindings_path, part_name, part_path
from ebutool.store.leftovers import temp_file
from ebutool.store.schema import META_KEY, RECORD_SCHEMA, SCHEMA_VERSION, to_batch
from ebutool.stream.content_hash import ContentHash, file_sha256
from ebutool.stream.sniff import linktype_of

if TYPE_CHECKING:
    from ebutool.esp.sa import EspSA

BATCH_ROWS = 65536  # records per Arrow batch (and Parquet row group) while writing
COMPRESSION = "zstd"


@dataclass
class PartResult:
    """What :func:`extract_file` did with one input (picklable: sent back by workers)."""

    path: str
    part: str
    status: str  # "extracted", "unchanged" or "failed"
    error: str = ""  # the one-line diagnosis of a failed input
    frames: int = 0
    # pcapng blocks numbered as frames that are no packets (StreamStats.numbered_blocks)
    numbered_blocks: int = 0
    records: int = 0
    octets: int = 0
    seconds: float = 0.0
    warnings: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def file_hash(path: str) -> str:
    """The SHA-256 of the file's content, hex."""
    return file_sha256(path)[0]


def part_meta(path: str) -> dict | None:
    """The facts stored in a part (None when there is none, or it cannot be read)."""
    try:
        kv = pq.read_metadata(path).metadata or {}
        return json.loads(kv[META_KEY])
    except (OSError, KeyError, ValueError, EbutoolError):
        return None
    except Exception:  # noqa: BLE001 - a damaged part is extracted again, not fatal
        return None


def _remove_stale(part: str, facts: str) -> None:
    """A failed input's part and bindings from an earlier run: a part of the file's
    earlier content would no longer say what the file holds (the part first)."""
    for stale in (part, facts):
        if os.path.exists(stale):
            os.unlink(stale)


def _unchanged(
    meta: dict | None, st: os.stat_result, path: str, esp: str | None, role: str | None
) -> bool:
    if meta is None or meta.get("schema_version") != SCHEMA_VERSION:
        return False
    if meta.get("esp_sas_sha256") != esp:  # extracted with other ESP SAs (or none)
        return False
    if (meta.get("view") or {}).get("given_role") != role:  # another --vantage
        return False
    if meta.get("size") == st.st_size and meta.get("mtime_ns") == st.st_mtime_ns:
        return True
    return meta.get("size") == st.st_size and meta.get("sha256") == file_hash(path)


def diagnostics_json(diag: Diagnostics) -> dict:
    return {
        "counts": dict(diag.counts),
        "kept": [[d.frame, d.code, d.message] for d in diag.kept],
    }


def given_role(path: str, vantage: dict[str, str] | None) -> str | None:
    """The role ``vantage`` ({path, absolute path or base name: role}) gives ``path``."""
    from ebutool.analysis.vantage import role_for

    vantage = vantage or {}
    role = role_for(path, vantage)
    if role is None:
        full = os.path.abspath(path)
        role = next((r for k, r in vantage.items() if os.path.abspath(k) == full), None)
    return role


def view_facts(role: str | None, evidence: Evidence, footprint: Footprint, path: str) -> dict:
    """What merging a part as a view of one run needs (module doc), as plain values."""
    decision = (
        VantageDecision(role, "--vantage", given=True) if role is not None else evidence.decide()
    )
    return {
        "role": decision.role,
        "evidence": decision.evidence,
        "given": decision.given,
        "given_role": role,
        "footprint": footprint.as_dict(),
        "linktype": linktype_of(path),
    }


def extract_file(
    path: str,
    store: str,
    esp_sas: Sequence[EspSA] | None = None,
    vantage: dict[str, str] | None = None,
    named: str | None = None,
) -> PartResult:
    """Write (or keep) the part of ``path`` in ``store`` (module doc).  An input that
    cannot be read is a "failed" result with its one-line diagnosis, never an exception.
    ``esp_sas``: ESP SAs (ebutool.esp) to decrypt with; the part keeps the decrypted
    records with their ESP facts, and a digest of the SAs (never a key) so that a part
    extracted with other SAs is extracted again.  ``vantage``: {path: role} (``extract
    --vantage``, ebutool.analysis.vantage) instead of the detected vantage point.
    ``named``: the input as the user named it, where ``path`` is its absolute path (a
    Dask task, ebutool.runner.cluster): recorded as the part's path and in the result,
    so the store labels its inputs as one process extracting them does."""
    from ebutool.esp.sa import sas_digest

    shown = named or path

    esp = sas_digest(esp_sas or ())
    name = part_name(path)
    out = part_path(store, name)
    start = time.perf_counter()
    facts_out = bindings_path(store, name)
    try:
        st = os.stat(path)
    except OSError as exc:  # (a part of it from an earlier run stays: extract's prune)
        return PartResult(shown, name, "failed", f"{shown}: cannot open ({exc.strerror})")
    role = given_role(path, vantage)
    if os.path.exists(out) and _unchanged(part_meta(out), st, path, esp, role):
        return PartResult(shown, name, "unchanged", octets=0)
    diag, stats = Diagnostics(), StreamStats()
    try:
        # the facts' temporary runs (ebutool.store.facts) beside the bindings: the store's disk
        with BindingFacts(shown, spill_dir=os.path.dirname(facts_out)) as facts:
            try:
                with fewer_collections():  # a Dask worker holds many long-lived objects
                    n = _write_part(
                        (path, shown), out, diag, stats, st, (esp_sas, esp), role, facts
                    )
            except EbutoolError as exc:
                _remove_stale(out, facts_out)
                return PartResult(shown, name, "failed", str(exc))
            _write_atomic(facts_out, facts.batches())
        os.replace(temp_file(out), out)  # the part last: a part that exists is complete
    except OSError as exc:
        # The input's read errors are its diagnostics (ebutool.capture.window): an OSError
        # here is the store's disk (full, read-only, EIO): no part of this file, and the
        # run cannot go on (exit 5, not a failed input and not an internal error).
        _discard(temp_file(out))
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise OutputError(f"{store}: cannot write the part of {path} ({reason})") from None
    return PartResult(
        shown,
        name,
        "extracted",
        frames=stats.frames,
        numbered_blocks=stats.numbered_blocks,
        records=n,
        octets=st.st_size,
        seconds=time.perf_counter() - start,
        warnings=diag.total,
    )


def _discard(tmp: str) -> None:
    # (never raises: it runs while another error is being reported)
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def _write_part(
    paths: tuple[str, str],
    out: str,
    diag: Diagnostics,
    stats: StreamStats,
    st: os.stat_result,
    esp: tuple,
    role: str | None,
    facts: BindingFacts,
) -> int:
    """Stream the records of the input into the temporary part of ``out`` (batch by batch,
    so memory stays flat) and their binding facts into ``facts``; the number of records.
    ``paths``: the input's path to read, and the one recorded (extract_file's ``named``).
    ``esp``: (the SAs, their digest); ``role``: the vantage point given, else None
    (detected)."""
    from itertools import islice

    from ebutool.stream.reader import read_records

    path, shown = paths
    os.makedirs(os.path.dirname(out), exist_ok=True)
    tmp = temp_file(out)
    content = ContentHash()  # the file's SHA-256, taken in the pass that reads it
    items = read_records(path, diag, stats, esp_sas=esp[0], content=content)
    evidence, footprint = Evidence(), Footprint()
    n, first, last = 0, None, None
    try:
        with pq.ParquetWriter(tmp, RECORD_SCHEMA, compression=COMPRESSION) as writer:
            while chunk := list(islice(items, BATCH_ROWS)):
                writer.write_batch(to_batch(chunk), row_group_size=BATCH_ROWS)
                facts.add(chunk)
                for item in chunk:
                    evidence.add(item)
                    footprint.add(item)
                times = [it.ts_ns for it in chunk]
                lo, hi = min(times), max(times)
                first = lo if first is None else min(first, lo)
                last = hi if last is None else max(last, hi)
                n += len(chunk)
                del chunk, times  # before the next batch is read: one batch alive, not two
            meta = {
                "schema_version": SCHEMA_VERSION,
                "ebutool_version": __version__,
                "path": shown,
                "size": st.st_size,
                "mtime_ns": st.st_mtime_ns,
                "sha256": content.hexdigest(),  # (after the last record: the whole file)
                "records": n,
                "first_ts_ns": first,
                "last_ts_ns": last,
                "frames": stats.frames,
                "numbered_blocks": stats.numbered_blocks,
                "ipv6": stats.ipv6,
                "relevant": stats.relevant,
                "skipped": dict(stats.skipped),
                "messages": dict(stats.messages),
                "time_decimals": stats.time_decimals,  # 9: a nanosecond capture (exact_time)
                "diagnostics": diagnostics_json(diag),
                "esp_sas_sha256": esp[1],
                "view": view_facts(role, evidence, footprint, path),
            }
            writer.add_key_value_metadata({META_KEY: json.dumps(meta).encode()})
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    finally:
        content.close()
    return n


def _write_atomic(out: str, tables: Iterator[pa.Table]) -> None:
    """``tables`` (at least one, all of one schema) as the Parquet file ``out``, a row
    group each, under a temporary name renamed into place when complete."""
    os.makedirs(os.path.dirname(out), exist_ok=True)
    tmp = temp_file(out)
    try:
        first = next(tables)
        with pq.ParquetWriter(tmp, first.schema, compression=COMPRESSION) as writer:
            for table in chain([first], tables):
                writer.write_table(table)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
