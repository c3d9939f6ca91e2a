"""The HTML report as a library (ebutool.report.html): what the page holds, checked
against the scenario's delays (tests/report/html/conftest.py) and against the inputs."""

from __future__ import annotations

import hashlib
import json
import re
import shutil

import pytest

from ebutool.core.constants import ProtocolConfig
from ebutool.report.html import ReportOptions, build_report
from ebutool.report.html.page import document, script_json
from tests.report.html.conftest import HOA_EARLY, HOA_STD, NEAR
from tests.report.html.reading import ladder_steps, page_data, rows

pytest.importorskip("matplotlib")

GAP = 0.01  # tests.support.scenarios: messages sent "in parallel" are this far apart


@pytest.fixture(scope="module")
def page(two_episodes) -> str:
    return build_report([str(two_episodes)])


def test_rows_are_the_episodes(page):
    got = sorted((r["mn"], r["kind"], r["mode"], r["quality"]) for r in rows(page_data(page)))
    assert got == [
        (HOA_STD, "standard", "conservative", "ok"),
        (HOA_EARLY, "early", "optimistic", "ok"),
    ]


def test_standard_ladder_follows_the_delays(page):
    data = page_data(page)
    std = next(r for r in rows(data) if r["mn"] == HOA_STD)
    steps = ladder_steps(data["ladders"][str(std["episode"])])
    signalling = [(m, s, r, v) for _, _, m, s, r, v in steps if m != "data"]
    assert signalling == [
        ("BU", "MN", "HA", False),
        ("HoTI", "MN", "CN", True),  # through the tunnel: drawn via the HA lane
        ("CoTI", "MN", "CN", False),
        ("BA", "HA", "MN", False),
        ("CoT", "CN", "MN", False),
        ("HoT", "CN", "MN", True),
        ("BU", "MN", "CN", False),
        ("BA", "CN", "MN", False),
    ]
    times = {(m, s, r): t for t, _, m, s, r, _ in steps}
    assert times[("BU", "MN", "HA")] == pytest.approx(0.0, abs=0.002)
    assert times[("BA", "HA", "MN")] == pytest.approx(NEAR.rtt_ha, abs=0.002)
    assert times[("CoT", "CN", "MN")] == pytest.approx(2 * GAP + NEAR.rtt_ro, abs=0.002)
    assert times[("HoT", "CN", "MN")] == pytest.approx(GAP + NEAR.rtt_bt, abs=0.002)
    bu = GAP + NEAR.rtt_bt + GAP  # when the BA from the HA, the HoT and the CoT are in
    assert times[("BU", "MN", "CN")] == pytest.approx(bu, abs=0.002)
    assert times[("BA", "CN", "MN")] == pytest.approx(bu + NEAR.rtt_ro, abs=0.002)
    frames = [f for _, f, *_ in steps]
    assert frames == sorted(frames) and len(set(frames)) == len(frames)


def test_early_ladder_has_the_ebu_and_eba(page):
    data = page_data(page)
    early = next(r for r in rows(data) if r["mn"] == HOA_EARLY)
    steps = ladder_steps(data["ladders"][str(early["episode"])])
    msgs = [(m, s, r) for _, _, m, s, r, _ in steps]
    assert ("EBU", "MN", "CN") in msgs and ("EBA", "CN", "MN") in msgs
    # the home test ran from the previous address, before the handover
    hoti = next(t for t, _, m, *_ in steps if m == "HoTI")
    assert hoti < 0
    assert data["ladders"][str(early["episode"])][0] == 1  # t0 known: a handover marker


def test_sections_and_claim(page):
    for anchor in ("claim", "figures", "episodes", "summary", "diagnostics", "record"):
        assert f'<section id="{anchor}">' in page
    assert "The draft&#x27;s statement &quot;half or less of the latency&quot;" in page
    assert "too few samples" in page  # one episode per side: below the minimum


def test_self_contained(page):
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page, re.I)
    assert "<link" not in page and "@import" not in page
    assert "default-src 'none'" in page  # the browser may fetch nothing


def test_figures_keep_text_and_no_date(page, two_episodes):
    svgs = re.findall(r"<svg.*?</svg>", page, re.S)
    assert len(svgs) >= 3
    assert all("<text" in s for s in svgs)  # svg.fonttype none: text stays text
    assert "latency after handover (ms)" in page
    assert "dc:date" not in page
    assert build_report([str(two_episodes)]) == page  # the same input gives the same bytes
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))  # several SVGs in one page: no id clash


def test_record_of_inputs_and_constants(two_episodes):
    config = ProtocolConfig().with_(max_nonce_lifetime=123.0)
    page = build_report([str(two_episodes)], ReportOptions(config=config))
    digest = hashlib.sha256(two_episodes.read_bytes()).hexdigest()
    assert digest in page
    assert f"<td>{two_episodes.stat().st_size}</td>" in page
    assert "<td>--max-nonce-lifetime</td><td>123</td><td>240</td><td>s</td><td>yes</td>" in page
    record = json.loads(re.search(r'id="ebutool-provenance"[^>]*>(.*?)</script>', page).group(1))
    assert record["inputs"][0]["sha256"] == digest
    assert record["statistics"]["episodes"] == 2


def test_names_are_escaped(tmp_path, two_episodes):
    # the path (in the title) holds "</script>", the name an element and quotes
    evil = tmp_path / "x<" / "script>\"'<img src=x onerror=alert(1)>.pcap"
    evil.parent.mkdir()
    shutil.copy(two_episodes, evil)
    page = build_report([str(evil)])
    assert "<img src=x" not in page and "</script><img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    data = page_data(page)  # the name inside the JSON reads back exactly
    assert evil.name in data["strings"]


def test_script_json_is_inert():
    value = {"a": "</script><!-- & \u2028", "b": [1, None, 2.5]}
    text = script_json(value)
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == value


def test_markers_replaced_once():
    page = document("t", ["<p>&lt;!--EBUTOOL:DATA--&gt;</p>", "<!--EBUTOOL:JS-->"], {"rows": []})
    assert page.count('<script id="ebutool-data"') == 1
    assert "<!--EBUTOOL:JS-->" in page  # inside a section: left as it is


def test_several_inputs_are_compared(two_episodes, sixty_episodes):
    page = build_report([str(two_episodes), str(sixty_episodes)])
    assert "Compared by file" in page and "(all)" in page
    data = page_data(page)
    got = rows(data)
    assert len(got) == 62
    assert {r["source"] for r in got} == {two_episodes.name, sixty_episodes.name}
    assert set(data["ladders"]) == {str(r["episode"]) for r in got}


def test_ten_thousand_episodes_stay_under_5_mb(sixty_episodes):
    from ebutool.report.html import collect, render
    from ebutool.report.html.settings import ReportOptions
    from tests.report.html.conftest import scaled

    data = scaled(collect([str(sixty_episodes)], ReportOptions()), 10_000)
    page = render(data)
    assert len(page.encode("utf-8")) < 5_000_000
    got = page_data(page)
    assert len(got["rows"]) == 10_000 and len(got["ladders"]) == 10_000
    assert "(n=5000)" in page  # the figures drew every counted episode
