"""The provenance's ``command_line``: its words were escaped as text only (an octet that
is not UTF-8 as ``\\xNN``, a backslash kept single), so the file ``b"a\\xffb c.pcap"`` and
the file literally named ``back\\xffslash.pcap`` both showed ``\\xff``, where ``inputs``
(ebutool.core.names: a backslash doubled) told them apart; and the HTML report joined
the words with spaces, so ``a\\xffb c.pcap`` read as two words.  Now each word is
written as the inputs' names are, and the report's line is ``shlex.join`` of them."""

from __future__ import annotations

import html
import json
import os
import re
import shlex

from ebutool.report.html.sections import record_section
from tests.support.cli import SAMPLES, run_cli

OCTET_NAME = b"a\xffb c.pcap"  # one octet that is not UTF-8, a space
BACKSLASH_NAME = b"back\\xffslash.pcap"  # a backslash, then the letters x f f
# as names are shown: \xNN an octet, \\ a backslash (written out by hand)
SHOWN = {OCTET_NAME: "a\\xffb c.pcap", BACKSLASH_NAME: "back\\\\xffslash.pcap"}


def _inputs(tmp_path) -> list[str]:
    names = []
    for raw in (OCTET_NAME, BACKSLASH_NAME):
        path = os.path.join(os.fsencode(tmp_path), raw)
        with open(path, "wb") as fh:
            fh.write((SAMPLES / "standard.pcap").read_bytes())
        names.append(os.fsdecode(path))  # the argument as Python receives it (PEP 383)
    return names


def _record(tmp_path) -> dict:
    args = _inputs(tmp_path)
    made = tmp_path / "p.json"
    res = run_cli("analyze", *args, "-q", "-o", tmp_path / "out.csv", "--provenance", made)
    assert res.exit_code == 0, res.stderr
    return json.loads(made.read_text())


def test_command_line_words_are_exact_as_the_inputs_names(tmp_path):
    record = _record(tmp_path)
    prefix = os.fsdecode(os.fsencode(tmp_path)) + "/"
    shown = [w for w in record["command_line"] if w.endswith(".pcap")]
    assert shown == [prefix + SHOWN[OCTET_NAME], prefix + SHOWN[BACKSLASH_NAME]]
    assert shown == [i["name"] for i in record["inputs"]]  # as the inputs list has them


def test_the_pages_command_line_splits_back_into_the_words(tmp_path):
    """The HTML page's "How the numbers were made" (a report made by the library with
    the command line given, ebutool.report.html.settings; here the analyze record)."""
    record = _record(tmp_path)
    page = record_section(record)
    line = html.unescape(re.search(r"command line: (.*?)\.</p>", page).group(1))
    words = record["command_line"]
    assert shlex.split(line) == words
    assert sum(w.endswith("b c.pcap") for w in words) == 1  # the name with a space: one word
