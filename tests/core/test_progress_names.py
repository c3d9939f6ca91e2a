"""The progress bar names the file it reads as every message does (ebutool.core.names)
and as plain text: a name with rich markup in it ("[red]r.pcap") was drawn as markup
(a red "r.pcap": not the file's name), and a name with ESC or a newline wrote them to
the terminal (a second line under the bar)."""

from __future__ import annotations

import io
import re

import pytest

from ebutool.core.progress import Progress

SGR = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # rich's own colour and cursor sequences


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("/caps/[red]r.pcap", "[red]r.pcap"),
        ("run[link=mailto:a@b]1.pcap", "run[link=mailto:a@b]1.pcap"),
        ("e\x1b]0;title\x07x\nq.pcap", "e\\x1b]0;title\\x07x\\x0aq.pcap"),
    ],
)
def test_the_bar_shows_the_name_as_text(name, shown):
    drawn = _drawn(name)
    assert shown in drawn
    assert "\x07" not in drawn and "\x1b" not in SGR.sub("", drawn)
    # as many line ends as the bar of a plain name as long draws (the name adds none)
    assert drawn.count("\n") == _drawn("p" * len(shown)).count("\n")


def _drawn(name: str) -> str:
    out = io.StringIO()
    bar = Progress(name, 100, out, delay=0.0)
    bar.update(1, 10)
    bar.close()
    return SGR.sub("", out.getvalue())
