"""The HTML report in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver``, which .ci/run installs) driven by Selenium, nothing downloaded
at run time (the driver's path is given, so Selenium Manager never runs; SE_OFFLINE
too).  A screenshot of each page is kept under test-artifacts/ (git-ignored)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ebutool.report.html import build_report
from tests.report.html.conftest import HOA_EARLY

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"

pytest.importorskip("matplotlib")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium (the test extra)")
if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
    pytest.skip(
        f"headless Chromium is not installed ({CHROMIUM}, {CHROMEDRIVER}: Debian packages "
        "chromium and chromium-driver, as .ci/run installs them)",
        allow_module_level=True,
    )

from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not fetch anything
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.add_argument("--window-size=1400,1000")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def _open(driver, tmp_path: Path, inputs: list[Path], name: str) -> None:
    page = tmp_path / f"{name}.html"
    page.write_text(build_report([str(p) for p in inputs]), "utf-8")
    driver.get(page.as_uri())


def _errors(driver) -> list:
    return [e for e in driver.get_log("browser") if e.get("level") in ("SEVERE", "ERROR")]


def _shown_rows(driver) -> list:
    return driver.find_elements(By.CSS_SELECTOR, "#episode-table tbody tr")


def _column(driver, name: str) -> list[str]:
    heads = [
        th.text.split(" ")[0] for th in driver.find_elements(By.CSS_SELECTOR, "#episode-table th")
    ]
    i = heads.index(name)
    return [tr.find_elements(By.TAG_NAME, "td")[i].text for tr in _shown_rows(driver)]


def _screenshot(driver, tmp_path: Path, name: str) -> None:
    shot = tmp_path / f"{name}.png"
    assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(shot, ARTIFACTS / shot.name)


def test_table_filter_sort_ladder_figures(browser, tmp_path, sixty_episodes):
    _open(browser, tmp_path, [sixty_episodes], "sixty")
    assert _errors(browser) == []
    # 60 episodes, 50 to a page
    assert len(_shown_rows(browser)) == 50
    assert browser.find_element(By.ID, "count").text.startswith("60 of 60 episodes; page 1 of 2")
    browser.find_element(By.ID, "next").click()
    assert len(_shown_rows(browser)) == 10
    # the filter: the early MN's 30 episodes
    Select(browser.find_element(By.ID, "f-kind")).select_by_value("early")
    assert len(_shown_rows(browser)) == 30
    assert set(_column(browser, "mn")) == {HOA_EARLY}
    # the sort: the table is sorted by episode; a click on that column turns it round
    before = _column(browser, "episode")
    assert [int(x) for x in before] == sorted(map(int, before))
    browser.find_element(By.CSS_SELECTOR, '#episode-table th[data-col="episode"]').click()
    after = _column(browser, "episode")
    assert after != before and [int(x) for x in after] == sorted(map(int, before), reverse=True)
    # ... and a click on another column sorts by it, ascending
    browser.find_element(By.CSS_SELECTOR, '#episode-table th[data-col="mode"]').click()
    Select(browser.find_element(By.ID, "f-kind")).select_by_value("")
    modes = _column(browser, "mode")
    assert modes == sorted(modes) and modes[0] == "conservative"
    # a text filter
    browser.find_element(By.ID, "f-mn").send_keys("100::1")
    assert len(_shown_rows(browser)) == 30 and HOA_EARLY not in _column(browser, "mn")
    # a row opens its ladder diagram: one arrow per message
    _shown_rows(browser)[0].click()
    ladder = browser.find_element(By.CSS_SELECTOR, "#ladder svg")
    assert len(ladder.find_elements(By.TAG_NAME, "polyline")) >= 8
    assert "handover (t0)" in ladder.text
    # the figures render with a size
    figures = browser.find_elements(By.CSS_SELECTOR, "#figures figure svg")
    assert len(figures) >= 3
    assert all(f.size["width"] > 100 and f.size["height"] > 100 for f in figures)
    assert _errors(browser) == []
    _screenshot(browser, tmp_path, "report-sixty")


def test_hostile_name_stays_text(browser, tmp_path, two_episodes):
    evil = tmp_path / "x<" / "script>\"'<img src=x onerror=alert(1)>.pcap"
    evil.parent.mkdir()
    shutil.copy(two_episodes, evil)
    _open(browser, tmp_path, [evil], "hostile")
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 - no script ran
    assert browser.find_elements(By.CSS_SELECTOR, "img") == []
    assert "<img src=x onerror=alert(1)>" in browser.title
    assert browser.find_element(By.ID, "f-source").text.count("<img") == 1
    assert len(_shown_rows(browser)) == 2
    assert _errors(browser) == []
    _screenshot(browser, tmp_path, "report-hostile-name")


def test_ten_thousand_episodes_are_usable(browser, tmp_path, sixty_episodes):
    from ebutool.report.html import collect, render
    from ebutool.report.html.settings import ReportOptions
    from tests.report.html.conftest import scaled

    page = tmp_path / "ten-thousand.html"
    page.write_text(render(scaled(collect([str(sixty_episodes)], ReportOptions()), 10_000)))
    browser.get(page.as_uri())
    assert _errors(browser) == []
    assert len(_shown_rows(browser)) == 50  # one page of the table in the document
    assert browser.find_element(By.ID, "count").text.startswith("10000 of 10000 episodes")
    Select(browser.find_element(By.ID, "f-kind")).select_by_value("early")
    assert browser.find_element(By.ID, "count").text.startswith("5000 of 10000 episodes")
    browser.find_element(By.CSS_SELECTOR, '#episode-table th[data-col="episode"]').click()
    assert _column(browser, "episode")[0] == "10000"
    assert browser.find_elements(By.CSS_SELECTOR, "#ladder svg") == []  # drawn on demand
    _shown_rows(browser)[0].click()
    assert len(browser.find_elements(By.CSS_SELECTOR, "#ladder svg polyline")) >= 8
    assert _errors(browser) == []
