"""Headless Chromium for the pages this project ships (the companion page results/index.html and
the listening page), and the companion page's checks: shared by tests/companion/, the ci pipeline
test and tests/listening/test_page_browser.py (not a test module itself)."""

from __future__ import annotations

from pathlib import Path

from liveband.companion import markdown

CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")
HAVE_METADATA = 1


def open_browser(profile_dir: Path, window: tuple[int, int] = (1100, 1300), load_timeout: float = 60):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in (*FLAGS, f"--window-size={window[0]},{window[1]}", f"--user-data-dir={profile_dir}"):
        options.add_argument(flag)
    options.binary_location = str(CHROMIUM)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    drv.set_page_load_timeout(load_timeout)
    return drv


def check_page(driver, results: Path, screenshot: Path, min_seconds: float) -> int:
    """Open results/index.html from file:// and check it (see below); -> the number of <audio>.
    Every <audio> reaches HAVE_METADATA without error and lasts > ``min_seconds``; every <img>
    decodes; the claims table has exactly the rows of results/claims.md, its verdict cells
    coloured by verdict; no console error. Saves a screenshot."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get((results / "index.html").as_uri())
    n_audio = driver.execute_script("return document.querySelectorAll('audio').length")
    WebDriverWait(driver, 120, poll_frequency=0.1).until(lambda d: d.execute_script(
        "return [...document.querySelectorAll('audio')].every(a => a.readyState >= arguments[0])", HAVE_METADATA))
    bad = driver.execute_script("return [...document.querySelectorAll('audio')]"
                                ".filter(a => a.error || !(a.duration > arguments[0])).map(a => a.src)", min_seconds)
    assert bad == [], bad
    images = driver.execute_script("return [...document.querySelectorAll('img')]"
                                   ".map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0])")
    assert images and [s for s, ok in images if not ok] == []
    shown = driver.execute_script(
        "return [...document.querySelectorAll('#claims tbody tr')].map(r => [...r.cells].map(c => c.textContent))")
    header, rows = markdown.table_rows(results / "claims.md")
    assert shown == rows
    verdicts = driver.execute_script(
        "return [...document.querySelectorAll('#claims td.verdict')].map(c => [c.className, c.textContent])")
    column = header.index("Verdict")
    assert [t for _, t in verdicts] == [r[column] for r in rows]
    assert all(c == "verdict " + t.split(" ")[0] for c, t in verdicts)
    driver.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 0
    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == [], severe
    return n_audio
