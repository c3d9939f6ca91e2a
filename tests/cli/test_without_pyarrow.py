"""The README's first command (`pip install . && ebutool analyze samples/...`) installs
no extra: `analyze` of a capture must run without pyarrow (the ebutool[store] and
[parquet] extras); only a record store or Parquet output needs it.  Before stop 31 the
analysis of one capture imported ebutool.store.merged, and so pyarrow, first."""

from __future__ import annotations

import subprocess
import sys

from tests.support.cli import SAMPLES

BLOCK = "import sys; sys.modules['pyarrow'] = None\n"  # (import pyarrow: ImportError)


def _ebutool(*args: str, block: bool = True) -> subprocess.CompletedProcess:
    code = (BLOCK if block else "import sys\n") + (
        f"sys.argv = ['ebutool', *{list(args)!r}]\nfrom ebutool.cli import main\nmain()\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_analyze_of_a_capture_runs_without_pyarrow():
    args = ("analyze", str(SAMPLES / "early-conservative.pcap"), "-f", "csv")
    proc = _ebutool(*args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == _ebutool(*args, block=False).stdout  # the table with pyarrow there
    assert proc.stdout.count("\n") == 4  # (the header and the sample's three episodes)
    # (the block is real: what needs pyarrow says so)
    assert _ebutool("analyze", str(SAMPLES / "early-conservative.pcap"), "-f", "parquet",
                    "-o", "/dev/null").returncode != 0  # fmt: skip
