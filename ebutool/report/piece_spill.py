"""Pieces of one table kept on disk until they are read back once, in order (issue 12).

A writer whose output depends on every row (the padded text formats and Zeek's types:
ebutool.report.spilled; Parquet's schema: ebutool.report.parquet_writer) learns what it
needs from each piece as it comes, keeps the piece in a temporary file (``$TMPDIR``,
removed at the end) and writes the pieces once the last one is in: memory holds one
piece, not the table.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


class PieceSpill:
    """Consecutive pieces of one table in temporary files: :meth:`keep` each, then
    :meth:`read` them back once (each file removed as it is read), :meth:`cleanup`."""

    def __init__(self, prefix: str) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix=prefix)
        self._files: list[Path] = []

    def __len__(self) -> int:
        return len(self._files)

    def keep(self, df: pd.DataFrame) -> None:
        path = Path(self._dir.name) / f"{len(self._files):08d}.pickle"
        dump_piece(df, path)
        self._files.append(path)

    def read(self) -> Iterator[pd.DataFrame]:
        for path in self._files:
            with path.open("rb") as f:
                df = pickle.load(f)
            path.unlink()
            yield df

    def whole(self, empty: pd.DataFrame | None) -> pd.DataFrame:
        """The pieces put together (``empty``, the table's form, when none was kept)."""
        import pandas as pd

        parts = list(self.read())
        if not parts:
            return empty if empty is not None else pd.DataFrame()
        if len(parts) == 1:
            return parts[0]
        from ebutool.core.exact_time import merged_attrs

        out = pd.concat(parts, ignore_index=True)
        out.attrs.update(merged_attrs(parts))  # concat drops the pieces' differing exact ns
        return out

    def cleanup(self) -> None:
        self._dir.cleanup()


def dump_piece(df: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """``df`` pickled to ``path``: the disk of $TMPDIR full or failing is an output error
    (one line, exit 5: ebutool.core.errors.OutputError), not an internal one."""
    from ebutool.core.errors import OutputError

    try:
        with open(path, "wb") as f:
            pickle.dump(df, f, protocol=pickle.HIGHEST_PROTOCOL)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        folder = os.path.dirname(os.fspath(path))
        raise OutputError(f"temporary pieces in {folder}: {reason}") from None
