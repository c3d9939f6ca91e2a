"""A progress bar for long reads: rich, on stderr, only when stderr is a terminal.

    from ebutool.progress import reading_progress
    with reading_progress(path, quiet=quiet) as prog:
        for rec in read_records(path, diag, stats, progress=prog):
            ...

The readers call ``prog.update(frames=..., octets=...)`` about once per MiB; nothing
is drawn until a read has lasted ``delay`` seconds (default 1 s), so short runs stay
silent even on a terminal.  The bar shows octets read of the file size (when known),
packets read, and packets/s and octets/s.  With ``quiet`` or when the stream is not a
terminal (a pipe, a file, CI, a worker process), :func:`reading_progress` returns a
:class:`NullProgress` whose ``update`` does nothing.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING, Any, Self, TextIO

from ebutool.core.names import readable_name

if TYPE_CHECKING:  # rich is imported only when a bar is drawn (importing it takes ~60 ms)
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID


class NullProgress:
    """The silent progress object (same interface as :class:`Progress`)."""

    enabled = False

    def update(self, frames: int = 0, octets: int | None = None) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _rate(value: float) -> str:
    for unit in ("", "k", "M", "G"):
        if value < 1000:
            return f"{value:.0f}{unit}" if unit == "" else f"{value:.1f}{unit}"
        value /= 1000
    return f"{value:.1f}T"


class Progress:
    """A rich progress bar for reading one input (packets and octets, with rates)."""

    enabled = True

    def __init__(
        self,
        name: str,
        total_octets: int | None = None,
        stream: TextIO | None = None,
        delay: float = 1.0,
    ) -> None:
        self.name = name
        self.total = total_octets
        self.stream = stream if stream is not None else sys.stderr
        self.delay = delay
        self.t0 = time.monotonic()
        self.frames = 0
        self.octets = 0
        self._bar: tuple[RichProgress, TaskID] | None = None  # the bar and its one task

    def _start(self) -> tuple[RichProgress, TaskID]:
        from rich.console import Console
        from rich.markup import escape as markup_escape
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            TextColumn,
            TimeElapsedColumn,
            TransferSpeedColumn,
        )
        from rich.progress import (
            Progress as RichProgress,
        )

        console = Console(file=self.stream, force_terminal=True, stderr=self.stream is sys.stderr)
        bar = RichProgress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TextColumn("{task.fields[packets]} packets, {task.fields[pps]} packets/s"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        bar.start()
        # the name as every message shows it (ebutool.core.names: no control character
        # reaches the terminal), and as text, not rich markup ("[red]a.pcap" is a name)
        shown = markup_escape(readable_name(os.path.basename(self.name) or self.name))
        task = bar.add_task(shown, total=self.total, packets=0, pps="0")
        self._bar = bar, task
        return self._bar

    def update(self, frames: int = 0, octets: int | None = None) -> None:
        self.frames = frames
        if octets is not None:
            self.octets = octets
        elapsed = time.monotonic() - self.t0
        started = self._bar
        if started is None:
            if elapsed < self.delay:
                return
            started = self._start()
        bar, task = started
        bar.update(
            task,
            completed=self.octets,
            packets=f"{frames:,}",
            pps=_rate(frames / elapsed if elapsed > 0 else 0.0),
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar[0].stop()
            self._bar = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def reading_progress(
    source: str | os.PathLike[str] | int,
    quiet: bool = False,
    stream: TextIO | None = None,
    delay: float = 1.0,
) -> Progress | NullProgress:
    """The progress object for reading ``source`` (a path or "-"): a :class:`Progress`
    when not ``quiet`` and ``stream`` (default stderr) is a terminal, else silent."""
    stream = stream if stream is not None else sys.stderr
    if quiet or not is_terminal(stream):
        return NullProgress()
    name = os.fspath(source) if not isinstance(source, int) else str(source)
    total = None
    if name != "-":
        try:
            st = os.stat(name)
            total = st.st_size if os.path.isfile(name) else None
        except OSError:
            total = None
    return Progress("<stdin>" if name == "-" else name, total, stream, delay)
