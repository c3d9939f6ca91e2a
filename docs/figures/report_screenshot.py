"""Screenshots of ``ebutool report samples -o report.html`` for the README (called by
make_figures.py; needs selenium and Debian's ``chromium`` and ``chromium-driver``).

    python docs/figures/report_screenshot.py        # from the repository root

``report.png``: the top of the page (the claim's verdicts and the figures);
``report-episodes.png``: the episode table with the ladder of the sample's first
early episode opened.  Nothing is downloaded: the driver's path is given (Selenium
Manager does not run) and the page fetches nothing.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ebutool.report.html import build_report  # noqa: E402
from ebutool.runner.inputs import expand_inputs  # noqa: E402

OUT = Path(__file__).resolve().parent
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
WIDTH = 1280


def available() -> str | None:
    """None when screenshots can be made, else why not."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        return f"{CHROMIUM} and {CHROMEDRIVER} are needed (Debian: chromium chromium-driver)"
    return None


def _driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--hide-scrollbars"):
        options.add_argument(arg)
    options.add_argument(f"--window-size={WIDTH},1400")
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def main() -> list[Path]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    os.chdir(ROOT)  # the page names the inputs as the command line gives them
    page = build_report(expand_inputs(["samples"]))
    shots = [OUT / "report.png", OUT / "report-episodes.png"]
    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "report.html"
        html.write_text(page, "utf-8")
        driver = _driver()
        try:
            driver.get(html.as_uri())
            driver.save_screenshot(str(shots[0]))
            Select(driver.find_element(By.ID, "f-kind")).select_by_value("early")
            driver.find_elements(By.CSS_SELECTOR, "#episode-table tbody tr")[0].click()
            driver.execute_script(
                "document.querySelectorAll('.scroll').forEach(e => { e.scrollLeft = 0; });"
                "document.getElementById('episodes').scrollIntoView();"
            )
            driver.execute_script("window.scrollBy(0, -70)")  # below the sticky header
            driver.save_screenshot(str(shots[1]))
        finally:
            driver.quit()
    return shots


if __name__ == "__main__":
    why = available()
    if why:
        sys.exit(f"report screenshots not made: {why}")
    for p in main():
        print(p.relative_to(ROOT))
