"""Fixtures shared by the test folders.

- ``cli``: run the command line in-process (tests.support.cli.run_cli):
  ``cli("decode", path, "-f", "csv")`` -> Result (exit_code, stdout, stderr);
- ``no_matplotlib``: every ``import matplotlib...`` fails, as on an install without
  ebutool[plot].

Helpers that build inputs live in tests/support (capbuild: captures byte by byte,
scenarios: handovers packet by packet, rr: RFC-text crypto, strategies: hypothesis).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest
from click.testing import Result

from tests.support.cli import run_cli


@pytest.fixture
def cli() -> Callable[..., Result]:
    return run_cli


@pytest.fixture
def no_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every `import matplotlib...` fail, as on an install without ebutool[plot]."""
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
