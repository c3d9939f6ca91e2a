"""A report of a huge input embeds at most ReportOptions.max_rows episodes (rows and
ladders) and says how many it leaves out, on the page (issue 12): what the page holds
stays the same when the episodes double."""

from __future__ import annotations

from ebutool.report.html import ReportOptions, collect, render
from tests.report.html.conftest import many_handovers
from tests.report.html.reading import page_data

MAX_ROWS = 5


def _page(tmp_path, n_each: int) -> tuple[dict, str]:
    path = tmp_path / f"h{n_each}.pcap"
    many_handovers(n_each).write(path)
    page = render(collect([str(path)], ReportOptions(max_rows=MAX_ROWS)))
    return page_data(page), page


def test_embedded_rows_stay_flat_when_episodes_double(tmp_path):
    for n_each in (6, 12):
        data, page = _page(tmp_path, n_each)
        total = 2 * n_each  # many_handovers: two episodes per step
        assert len(data["rows"]) == MAX_ROWS
        assert len(data["ladders"]) <= MAX_ROWS
        assert f"first {MAX_ROWS:,} of {total:,} episodes" in page
        assert f"({total - MAX_ROWS:,} not embedded" in page
