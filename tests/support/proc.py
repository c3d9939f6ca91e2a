"""Running ``python -m ebutool`` as a real process (file descriptors, limits, signals),
for the tests that a CliRunner inside the test process cannot show."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from tests.support.cli import ROOT


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def fsize_limit(octets: int) -> Callable[[], None]:
    """A preexec_fn: files of the child cannot grow past ``octets`` (EFBIG, as a full
    disk gives ENOSPC) and SIGXFSZ does not kill it."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (octets, octets))

    return apply


def run(*args: Any, **kw: Any) -> subprocess.CompletedProcess:
    kw.setdefault("capture_output", True)
    kw.setdefault("timeout", 120)
    return subprocess.run([sys.executable, "-m", "ebutool", *map(str, args)], env=env(), **kw)
