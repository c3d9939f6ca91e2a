"""Coverage-guided fuzzing of ebutool's decoders with atheris (docs/fuzzing.md).

    pip install atheris        # a cp311 wheel exists
    python -m tests.fuzz.atheris_decoders -atheris_runs=200000 -max_len=4096 \\
        -max_total_time=600 tests/fuzz/corpus

One input goes to each decoder: the Mobility Header codec (decode_mh), the IPv6 walk
(decode_ipv6), the capture readers (pcap/pcapng through the fast path, as a stream) and
the JSON Lines trace reader.  Expected failures are ebutool's own (InputError: the file
cannot be read); anything else (IndexError, struct.error, RecursionError, ...) is a
crash atheris reports with the input that caused it, to be kept in
tests/fuzz/regressions/ with a test.
"""

from __future__ import annotations

import io
import sys

import atheris

with atheris.instrument_imports():
    from ebutool.core.diagnostics import Diagnostics
    from ebutool.core.errors import EbutoolError
    from ebutool.fastpath import fast_records
    from ebutool.records.from_packet import StreamStats
    from ebutool.trace.jsonl import read_trace_records
    from ebutool.wire.ipv6 import decode_ipv6
    from ebutool.wire.mh.codec import decode_mh


def one_input(data: bytes) -> None:
    decode_mh(data, [])
    decode_ipv6(data, 0, [])
    for reader in (fast_records, read_trace_records):
        try:
            for _ in reader(io.BufferedReader(io.BytesIO(data)), Diagnostics(), StreamStats()):
                pass
        except EbutoolError:
            pass  # a diagnosis for the user: not a crash


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
