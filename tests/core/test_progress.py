"""The progress bar: silent unless stderr is a terminal and -q is off; updates from reads."""

from __future__ import annotations

import io

from benchmarks import gen_capture
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.progress import NullProgress, Progress, reading_progress
from ebutool.records.from_packet import StreamStats
from ebutool.stream.reader import read_records


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def _read_with(path, prog) -> int:
    n = 0
    with prog:
        for _ in read_records(str(path), Diagnostics(), StreamStats(), progress=prog):
            n += 1
    return n


def _capture(tmp_path):
    return gen_capture.generate(8000, 4, tmp_path, ("pcap",))["pcap"]


def test_silent_when_not_a_terminal(tmp_path):
    path = _capture(tmp_path)
    out = io.StringIO()  # isatty() is False
    prog = reading_progress(path, quiet=False, stream=out, delay=0)
    assert isinstance(prog, NullProgress)
    assert _read_with(path, prog) > 0
    assert out.getvalue() == ""


def test_silent_with_quiet_even_on_a_terminal(tmp_path):
    path = _capture(tmp_path)
    out = FakeTTY()
    prog = reading_progress(path, quiet=True, stream=out, delay=0)
    assert isinstance(prog, NullProgress)
    _read_with(path, prog)
    assert out.getvalue() == ""


def test_draws_on_a_terminal_with_packets_and_rates(tmp_path):
    path = _capture(tmp_path)
    out = FakeTTY()
    prog = reading_progress(path, quiet=False, stream=out, delay=0)
    assert isinstance(prog, Progress) and prog.total == path.stat().st_size
    _read_with(path, prog)
    text = out.getvalue()
    assert "packets/s" in text and "8,000 packets" in text
    assert prog.frames == 8000 and prog.octets == path.stat().st_size


def test_short_reads_draw_nothing_before_the_delay(tmp_path):
    path = _capture(tmp_path)
    out = FakeTTY()
    prog = reading_progress(path, stream=out, delay=3600)
    _read_with(path, prog)
    assert out.getvalue() == "" and prog.frames == 8000


def test_stdin_has_no_total():
    prog = reading_progress("-", stream=FakeTTY())
    assert isinstance(prog, Progress) and prog.total is None and prog.name == "<stdin>"
