"""ebutool.stream.sniff.linktype_of: the link type of an input's first frame, read in
small pieces (the first frame, not a reader's 4 MiB window), for pcap, pcapng (the
first packet's interface, not the first interface), gzip and JSON traces."""

from __future__ import annotations

import gzip
import os

import pytest

from ebutool.stream.sniff import FIRST_FRAME_READ, linktype_of
from tests.support.capbuild import (
    LINKTYPE_ETHERNET,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_RAW,
    pcap_bytes,
    pcapng_bytes,
)
from tests.support.cli import SAMPLES

PACKETS = [(i * 1_000, os.urandom(1_400)) for i in range(6_000)]  # ~8.5 MB


def _octets_read() -> int:
    with open("/proc/self/io") as fh:
        return int(dict(line.split(": ") for line in fh.read().splitlines())["rchar"])


def test_pcap_pcapng_gzip_and_traces(tmp_path):
    pcap = tmp_path / "a.pcap"
    pcap.write_bytes(pcap_bytes(PACKETS[:10], LINKTYPE_LINUX_SLL))
    ng = tmp_path / "b.pcapng"  # the first packet on the second interface
    ng.write_bytes(
        pcapng_bytes(
            [(LINKTYPE_ETHERNET, 9), (LINKTYPE_RAW, 9)], [(1, t, d) for t, d in PACKETS[:10]]
        )
    )
    gz = tmp_path / "c.pcap.gz"
    gz.write_bytes(gzip.compress(pcap.read_bytes()))
    empty = tmp_path / "d.pcap"
    empty.write_bytes(pcap_bytes([], LINKTYPE_RAW))
    assert [linktype_of(str(p)) for p in (pcap, ng, gz, empty)] == [
        LINKTYPE_LINUX_SLL,
        LINKTYPE_RAW,
        LINKTYPE_LINUX_SLL,
        None,
    ]
    assert linktype_of(str(SAMPLES / "mixed.jsonl")) == "jsonl"
    assert linktype_of("-") is None and linktype_of(str(tmp_path / "none.pcap")) is None


@pytest.mark.skipif(not os.path.exists("/proc/self/io"), reason="Linux's per-process I/O counts")
def test_only_the_first_frame_is_read(tmp_path):
    big = tmp_path / "big.pcap"
    big.write_bytes(pcap_bytes(PACKETS, LINKTYPE_ETHERNET))
    linktype_of(str(big))  # (imports)
    before = _octets_read()
    assert linktype_of(str(big)) == LINKTYPE_ETHERNET
    assert _octets_read() - before <= 2 * FIRST_FRAME_READ < big.stat().st_size // 20
