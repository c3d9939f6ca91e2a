"""The report of views of one run (issue 17 with issue 13): the MN, HA and CN captures
of a synthesized run, the CN's clock 0.7 s ahead and the HA's 0.3 s behind, give a
ladder for every row, the MN's own (merged on the corrected clocks, not interleaved on
the files' own clocks), and the page records the vantage points and clock offsets.

Ground truth: the ladders of the report of the MN's capture alone (it lacks no packet
here), and the offsets the views were written with."""

from __future__ import annotations

import pytest

from ebutool.report.html import ReportOptions, build_report
from tests.analysis.test_merged_views import CLOCKS, write_views
from tests.analysis.test_vantage import scenario
from tests.report.html.reading import page_data, rows


@pytest.fixture(scope="module")
def views(tmp_path_factory):
    return write_views(
        scenario("early-conservative", "conservative"),
        tmp_path_factory.mktemp("views"),
        CLOCKS["skewed"],
    )


@pytest.mark.parametrize(
    "options",
    [{"merge": True}, {"vantage": {"ha.pcap": "ha", "cn.pcap": "cn"}}],
    ids=["merge", "vantage"],
)
def test_every_merged_row_has_the_mn_views_ladder(views, options):
    alone = page_data(build_report([str(views["mn"])]))
    page = build_report([str(views[v]) for v in ("mn", "ha", "cn")], ReportOptions(**options))
    data = page_data(page)
    assert len(rows(data)) == len(rows(alone)) > 0
    assert data["ladders"] == alone["ladders"]
    assert "not found when the inputs were read again" not in page
    # the record of how the numbers were made: each view's vantage and clock
    record = page.split('<section id="record">')[1].split("</section>")[0]
    for name, role in (("mn.pcap", "mn"), ("ha.pcap", "ha"), ("cn.pcap", "cn")):
        assert f"<td>{name}</td><td>{role}</td>" in record
    assert "<td>cn.pcap</td><td>cn</td><td>700.0" in record
    assert "<td>ha.pcap</td><td>ha</td><td>-300.0" in record
