"""``analyze --follow``: episode rows written as the episodes close (wiring only).

The analysis is ebutool.analysis.follow, the row writer ebutool.report.follow_sink;
this module checks the options, opens the one input and the output, and reports on
stderr at the end.  The output is written in place as the rows come (``-o FILE`` is
not replaced atomically at the end, so ``tail -f FILE`` works)."""

from __future__ import annotations

import os
import sys
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from ebutool.core.errors import OutputError, UsageError
from ebutool.core.stdio import descriptor_of, stdout_buffer

if TYPE_CHECKING:
    from ebutool.core.constants import ProtocolConfig
    from ebutool.core.diagnostics import Diagnostics
    from ebutool.records.from_packet import StreamStats
    from ebutool.report import OutputFormat


@dataclass
class FollowRequest:
    """What ``analyze --follow`` was asked for."""

    paths: list[str]
    fmt: OutputFormat
    output: str
    columns: str | None
    mn: str | None
    cn: str | None
    vantage: dict[str, str]


def check_follow(fmt: OutputFormat, summary: bool, merge: bool, jobs: int) -> None:
    """Usage errors for what does not go with --follow (before any input is read)."""
    from ebutool.report.follow_sink import check_follow_format

    check_follow_format(fmt)
    if summary:
        raise UsageError("--summary needs every episode: it does not go with --follow")
    if merge:
        raise UsageError("--follow reads one input as it grows: it does not go with --merge")
    if jobs != 1:
        raise UsageError("--follow reads one input in order: it does not go with -j/--jobs")


def _open_output(path: str) -> BinaryIO:
    if path == "-":
        return stdout_buffer()
    from ebutool.cli.options import claim_file
    from ebutool.core.output_file import OutputFile

    OutputFile(path)  # the checks every output gets (directory, permissions)
    claim_file(path, f"-o {path}", output=True)  # never the input it follows
    fd = descriptor_of(path)  # /dev/stdout, /dev/fd/N: that descriptor, never truncated
    try:
        if fd is not None:
            return os.fdopen(os.dup(fd), "wb")
        return open(path, "wb")  # noqa: SIM115 - closed by run_follow
    except OSError as exc:
        raise OutputError(f"cannot write -o {path}: {exc.strerror or exc}") from None


def run_follow(
    req: FollowRequest,
    config: ProtocolConfig,
    keys,
    esp_sas,
    diag: Diagnostics,
    stats: StreamStats,
) -> Counter:
    """Analyse ``req.paths[0]`` (a file or "-"), writing each row as its episode closes;
    returns the episodes written by kind (for the summary line)."""
    from ebutool.analysis import filter_address, make_oracle, source_labels
    from ebutool.analysis.columns import EPISODE_COLUMNS
    from ebutool.analysis.episodes import check_order
    from ebutool.analysis.follow import follow
    from ebutool.analysis.rows import EpisodeRows
    from ebutool.analysis.vantage import role_for
    from ebutool.core.exact_time import at_resolution
    from ebutool.report.follow_sink import FollowSink
    from ebutool.report.select import check_columns, parse_columns
    from ebutool.store.layout import is_store
    from ebutool.stream.reader import read_records

    if len(req.paths) != 1:
        raise UsageError(f"--follow reads one input (a capture file or '-'), not {len(req.paths)}")
    if is_store(req.paths[0]):  # (complete, nothing to follow: read it like a capture)
        raise UsageError(
            f"--follow reads one capture or trace as it grows: {req.paths[0]} is a record "
            "store (ebutool extract), analyze it without --follow"
        )
    names = parse_columns(req.columns)
    check_columns(names, list(EPISODE_COLUMNS))
    mn, cn = filter_address(req.mn, "--mn"), filter_address(req.cn, "--cn")
    path = req.paths[0]
    stream = _open_output(req.output)
    sink = FollowSink(stream, req.fmt, names, name="ebutool_episodes")
    kinds: Counter = Counter()
    try:
        oracle = make_oracle(keys, config, diag)
        records = check_order(read_records(path, diag, stats, esp_sas=esp_sas), diag)
        label = source_labels([path])[0]
        vantage = role_for(path, req.vantage)
        rows = follow(records, config, diag, oracle or None, vantage, mn=mn, cn=cn, source=label)
        for df in at_resolution(rows, stats):  # 9 decimals for a nanosecond capture
            sink.write(df)
            kinds.update(k if isinstance(k, str) else "kind not observable" for k in df["kind"])
        if not sink.rows:
            sink.write(EpisodeRows().frame())  # the header of an empty table
    finally:
        if sys.stdout is None or stream is not sys.stdout.buffer:
            stream.close()
    return kinds
