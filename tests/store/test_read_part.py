"""ebutool.store.order.read_part: a part read as one Parquet file is the table the dataset
reader (``pq.read_table`` with READ_SCHEMA) gives, also for a part written before the ESP
columns (those then null), and the ordered table of a rotated capture is not reordered."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from ebutool.core.diagnostics import Diagnostics
from ebutool.store import extract
from ebutool.store.order import READ_SCHEMA, ordered_table, read_part
from ebutool.store.parts import store_parts
from ebutool.store.schema import ESP_COLUMNS, PART
from tests.support.cli import SAMPLES


def _store(tmp_path):
    store = tmp_path / "store"
    extract([SAMPLES / "mixed.pcap", SAMPLES / "standard.pcap"], store, 1)
    return str(store)


def test_a_part_read_as_a_file_is_the_dataset_readers_table(tmp_path):
    for part in store_parts(_store(tmp_path)):
        mine = read_part(part.file)
        assert mine.num_rows > 0 and mine.schema.metadata is None
        assert mine.schema.equals(READ_SCHEMA)
        assert mine.equals(pq.read_table(part.file, schema=READ_SCHEMA))


def test_a_part_written_before_the_esp_columns(tmp_path):
    part = store_parts(_store(tmp_path))[0]
    old = pq.read_table(part.file)
    old = old.select(old.column_names[:-ESP_COLUMNS])  # as written before them
    path = tmp_path / "old.parquet"
    pq.write_table(old, path)
    mine = read_part(str(path))
    assert mine.schema.equals(READ_SCHEMA)
    for name in READ_SCHEMA.names[-ESP_COLUMNS:]:
        assert mine.column(name).null_count == mine.num_rows
    assert mine.equals(pq.read_table(path, schema=READ_SCHEMA))


def test_rotated_parts_keep_their_order(tmp_path):
    from benchmarks.scale_out import split_pcap

    files = split_pcap(SAMPLES / "mixed.pcap", tmp_path / "rot", 4)
    extract([tmp_path / "rot"], tmp_path / "store", 1)
    table, _ = ordered_table(str(tmp_path / "store"), Diagnostics())
    assert table.num_rows > 0 and len(files) == 4
    parts = table.column(PART).to_numpy()
    assert (parts[1:] >= parts[:-1]).all()  # each part's records, one part after another
    ts = table.column("ts_ns").to_numpy()
    assert (ts[1:] >= ts[:-1]).all()
    whole = pa.concat_tables(read_part(p.file) for p in store_parts(str(tmp_path / "store")))
    assert table.drop_columns([PART]).equals(whole)
