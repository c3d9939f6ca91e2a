"""``ebutool report``: the command line around ebutool.report.html."""

from __future__ import annotations

import csv
import io

import pytest

from tests.report.html.reading import page_data, rows
from tests.support.cli import SAMPLES


def test_writes_one_page(cli, tmp_path, two_episodes):
    out = tmp_path / "r.html"
    r = cli("report", two_episodes, "-o", out)
    assert r.exit_code == 0, r.output
    page = out.read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert len(rows(page_data(page))) == 2
    assert "2 episode(s) from 1 input(s)" in r.stderr
    assert not list(tmp_path.glob(".*.part"))  # the temporary file went into place


def test_stdout(cli, two_episodes):
    r = cli("report", two_episodes, "-o", "-", "-q")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("<!DOCTYPE html>") and r.stderr == ""


def test_directory_gives_analyze_rows(cli, tmp_path):
    """``report samples`` holds the episodes ``analyze samples`` lists, with their kinds."""
    out = tmp_path / "samples.html"
    r = cli("report", SAMPLES, "-o", out, "-q")
    assert r.exit_code == 0, r.output
    got = sorted((x["source"], x["episode"], x["kind"]) for x in rows(page_data(out.read_text())))
    a = cli("analyze", SAMPLES, "-f", "csv", "-c", "source,episode,kind", "-q")
    want = sorted((s, int(e), k) for s, e, k in list(csv.reader(io.StringIO(a.stdout)))[1:])
    assert got == want and len(got) > 4
    assert "Compared by file" in out.read_text()  # several inputs: compare's grouping


def test_options_apply(cli, tmp_path, sixty_episodes):
    out = tmp_path / "mn.html"
    r = cli("report", sixty_episodes, "--mn", "2001:db8:100:0::2", "--by", "kind", "-o", out)
    assert r.exit_code == 0, r.output
    page = out.read_text()
    got = rows(page_data(page))
    assert len(got) == 30 and {x["kind"] for x in got} == {"early"}
    assert "Compared by kind" in page


def test_failure_keeps_the_old_file(cli, tmp_path):
    out = tmp_path / "r.html"
    out.write_text("old")
    r = cli("report", tmp_path / "missing.pcap", "-o", out)
    assert r.exit_code != 0
    assert "Traceback" not in r.output and r.stderr.count("\n") == 1
    assert out.read_text() == "old"


def test_help_has_an_example(cli):
    r = cli("report", "--help")
    assert r.exit_code == 0 and "Example: ebutool report samples -o report.html" in r.stdout


def test_without_matplotlib(cli, tmp_path, two_episodes, no_matplotlib):
    out = tmp_path / "r.html"
    r = cli("report", two_episodes, "-o", out)
    assert r.exit_code == 0, r.output
    assert "pip install" in r.stderr and "pip install" in out.read_text()
    assert len(rows(page_data(out.read_text()))) == 2


@pytest.mark.parametrize("value", ["--min-claim-samples=1", "--bootstrap-seed=7"])
def test_claim_options_reach_the_page(cli, tmp_path, sixty_episodes, value):
    out = tmp_path / "r.html"
    r = cli("report", sixty_episodes, value, "-o", out, "-q")
    assert r.exit_code == 0, r.output
    name, number = value.lstrip("-").split("=")
    key = {"min-claim-samples": "min_samples", "bootstrap-seed": "seed"}[name]
    assert f"<tr><td>{key}</td><td>{number}</td></tr>" in out.read_text()


@pytest.mark.parametrize(
    "name,content,needle",
    [
        ("empty.pcap", b"", "empty"),
        ("garbage.bin", bytes(range(256)) * 4, "not a pcap or pcapng capture"),
        ("missing.pcap", None, "no such file"),
    ],
)
def test_unreadable_input_exits_3_with_one_line(cli, tmp_path, name, content, needle):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    out = tmp_path / "r.html"
    r = cli("report", path, "-o", out)
    assert r.exit_code == 3, r.output
    assert needle in r.stderr and r.stderr.count("\n") == 1 and "Traceback" not in r.output
    assert not out.exists()


def test_cut_capture_is_a_counted_warning_in_the_page(cli, tmp_path, two_episodes):
    data = two_episodes.read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[: len(data) - 10])  # the last record ends early
    out = tmp_path / "r.html"
    r = cli("report", cut, "-o", out)
    assert r.exit_code == 0, r.output
    assert "truncated_record" in r.stderr
    page = out.read_text()
    diagnostics = page.split('<section id="diagnostics">')[1].split("</section>")[0]
    assert "<td>truncated_record</td><td>1</td>" in diagnostics


def test_stdin_has_no_ladders_and_says_so(cli, two_episodes):
    r = cli("report", "-", "-o", "-", input=two_episodes.read_bytes())
    assert r.exit_code == 0, r.output
    data = page_data(r.stdout)
    assert len(rows(data)) == 2 and data["ladders"] == {}
    assert "standard input cannot be read twice" in r.stderr
    assert "standard input cannot be read twice" in r.stdout


def test_an_unreadable_input_of_several_is_named_and_the_rest_reported(cli, tmp_path):
    """As analyze: the readable inputs' rows are written, the other is an
    unreadable_input warning, the status 3 (README, exit status).  The page was not
    written at all: the ladders' second reading stopped on the unreadable input."""
    bad = tmp_path / "garbage.pcap"
    bad.write_bytes(b"garbage, not a capture\n")
    good = SAMPLES / "standard.pcap"
    out = tmp_path / "r.html"
    r = cli("report", good, bad, "-o", out)
    assert r.exit_code == 3, r.output
    assert "unreadable_input" in r.stderr and "garbage.pcap" in r.stderr
    got = {x["source"] for x in rows(page_data(out.read_text("utf-8")))}
    assert got == {"standard.pcap"}
    a = cli("analyze", good, bad, "-f", "csv", "-c", "episode", "-q")
    assert a.exit_code == 3
    assert len(rows(page_data(out.read_text("utf-8")))) == len(a.stdout.splitlines()) - 1
