"""Fixtures of the several-inputs tests."""

from __future__ import annotations

import pytest

from ebutool.runner.files_streamed import Spilled


@pytest.fixture
def spilled(monkeypatch) -> list[str]:
    """The roots of every ``Spilled.into`` call (each table of each file spilled): the
    command took the streamed path, not the whole table's."""
    made: list[str] = []
    real = Spilled.into.__func__

    def into(cls, root, pieces):
        made.append(root)
        return real(cls, root, pieces)

    monkeypatch.setattr(Spilled, "into", classmethod(into))
    return made
