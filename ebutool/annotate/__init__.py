"""Annotated captures (``ebutool annotate``): a pcapng copy with a comment on every frame
of every episode, naming the MN, the episode number (as ``analyze`` numbers it), the
frame's role and any verdict or diagnosis, so Wireshark selects one handover with
``frame.comment contains "episode=3;"``.

    import ebutool.annotate
    with open("out.pcapng", "wb") as out:
        result = ebutool.annotate.annotate("samples/mixed.pcap", out)

The comments are :mod:`ebutool.annotate.comments`, kept on disk until the copy
(:mod:`ebutool.annotate.spool`: memory does not grow with the episodes), the copy
:mod:`ebutool.annotate.pcapng_copy`; frames not in an episode are copied unchanged.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from ebutool.annotate.comments import frame_comments, spool_comments
from ebutool.annotate.pcapng_copy import copy_pcap, copy_pcapng
from ebutool.annotate.spool import CommentSpool
from ebutool.core.constants import DEFAULT_CONFIG, ProtocolConfig
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.errors import InputError

__all__ = ["annotate", "AnnotateResult", "frame_comments"]

PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"


@dataclass
class AnnotateResult:
    frames: int  # frames copied
    annotated: int  # frames that got comments
    episodes: int  # episodes found
    dropped: int = 0  # pcapng Custom Blocks not to be copied (0x40000BAD), left out


def _capture_stream(path: str, diag: Diagnostics) -> tuple[BinaryIO, str]:
    """The (decompressed) capture stream of ``path``; a trace is an InputError."""
    from ebutool.stream.sniff import open_input

    kind, stream, name = open_input(path, diag)
    if kind != "capture":
        stream.close()
        raise InputError(f"{name}: a JSON Lines trace, not a capture: nothing to annotate")
    return stream, name


def annotate(
    path: str | os.PathLike[str],
    out: Any,
    *,
    config: ProtocolConfig = DEFAULT_CONFIG,
    keys: Any = None,
    oracle: Any = None,
    esp_sas: Sequence[Any] | None = None,
    diag: Diagnostics | None = None,
    vantage: str | None = None,
) -> AnnotateResult:
    """Write to ``out`` (anything with ``write(bytes)``) the pcapng copy of the capture
    ``path`` (pcap or pcapng, maybe compressed; read twice, so not standard input)
    with a comment on every frame of an episode.  ``keys`` feed the CN oracle whose
    verdicts the comments carry (``oracle=False``: none); ``vantage`` as in analyze."""
    from ebutool.analysis import make_oracle
    from ebutool.analysis.episodes import check_order
    from ebutool.stream.reader import read_records

    path = os.fspath(path)
    diag = diag if diag is not None else Diagnostics()
    first, _ = _capture_stream(path, Diagnostics())  # a trace is refused before the work
    first.close()
    if oracle is None:
        oracle = make_oracle(keys, config, diag)
    records = check_order(read_records(path, diag, esp_sas=esp_sas), diag)
    spool = CommentSpool()  # memory flat in the number of episodes (issue 12)
    try:
        comments = spool_comments(records, spool, config, diag, oracle or None, vantage)
        stream, name = _capture_stream(path, Diagnostics())  # its warnings were said above
        try:
            if stream.peek(4)[:4] == PCAPNG_MAGIC:  # type: ignore[attr-defined]
                counts = copy_pcapng(stream, out, comments, Diagnostics(), name)
            else:
                counts = copy_pcap(stream, out, comments, Diagnostics(), name)
        finally:
            stream.close()
    except sqlite3.Error as exc:  # e.g. $TMPDIR full: one line, exit 5
        raise spool.failed(exc) from None
    finally:
        spool.close()
    return AnnotateResult(counts.copied, counts.annotated, spool.episodes, counts.dropped)
