"""The rating page in a real headless Chromium against `liveband listen`: a whole session ends in a
stored, valid response; a reload resumes on the same page; the clip order follows the seed;
no served file names a condition; the console stays clean.

Needs /usr/bin/chromedriver (Debian: apt-get install chromium chromium-driver); skipped only
when it is absent. Screenshots go to $LIVEBAND_SCREENSHOT_DIR (e.g. docs/) or the test's tmp dir.
"""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import pytest

from companion_page_checks import CHROMEDRIVER, open_browser
from liveband.listening.schema import CONDITIONS, KIT_SCHEMA, RESPONSE_SCHEMA, validate_response

SCORES = {"ground_truth": 5, "liveband": 4, "smg": 3, "anchor": 1}
TEXTS = {  # readable instructions and questions, so the screenshots show a real page
    "quality": "Each clip is one instrument on its own. Rate how good it sounds.",
    "quality.quality": "How good is the audio quality of this clip?",
    "quality.quality_consistency": "How consistent is the quality over the whole clip?",
    "adherence": "Each clip is an instrument played with a band. Rate how well it fits the band.",
    "adherence.adherence": "How well does the instrument fit the rest of the band?",
    "adherence.adherence_consistency": "How consistently does it fit over the whole clip?",
}


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    if not CHROMEDRIVER.exists():
        pytest.skip(f"{CHROMEDRIVER} is absent (Debian: apt-get install chromium chromium-driver)")
    drv = open_browser(tmp_path_factory.mktemp("chromium-profile"), window=(900, 1100), load_timeout=30)
    yield drv
    drv.quit()


@pytest.fixture
def page(driver, kit, kit_folder, kit_server, tmp_path):
    """(driver, base URL, responses dir, config, key, screenshot dir) on a fresh tiny kit."""
    config, key = kit
    for test in config["tests"]:
        test["instructions"] = TEXTS[test["id"]]
        for d in test["dimensions"]:
            d["question"] = TEXTS[f"{test['id']}.{d['id']}"]
    config["headphone_check"].update(question="How many tones did you hear?", options=["one", "two"])
    kit_dir = kit_folder(config)
    _, url = kit_server(kit_dir)
    shots = Path(os.environ.get("LIVEBAND_SCREENSHOT_DIR") or tmp_path)
    driver.get_log("browser")  # drop what earlier tests logged
    yield driver, url, kit_dir.parent / "responses", config, key, shots
    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == [], severe


def wait(driver, condition, timeout: float = 10):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda d: condition(d))


def css(driver, selector):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def step(driver) -> str:
    return wait(driver, lambda d: d.execute_script("return window.lbTest && window.lbTest.step()"))


def click_next(driver) -> None:
    before = driver.execute_script("return window.lbTest.state().step")
    button = css(driver, "#next")[0]
    assert button.is_enabled()
    button.click()
    wait(driver, lambda d: d.execute_script("return window.lbTest.state().step") == before + 1)


def rating_inputs_enabled(driver) -> list[bool]:
    """Whether each rating radio button of the page is enabled (`:disabled` counts the fieldset)."""
    return driver.execute_script(
        "return [...document.querySelectorAll('fieldset[data-dimension] input')].map(i => !i.matches(':disabled'))")


def rate(driver, clip, dimension: str, value: int) -> None:
    clip.find_element("css selector", f"fieldset[data-dimension='{dimension}'] input[value='{value - 1}']").click()


def rate_page(driver, config, key, only_first: bool = False) -> None:
    """Rate the clips of an item page: each condition its SCORES value; the instructed clip as asked."""
    instructed = config["attention"]["instructed"]
    clips = css(driver, "section.clip")
    for clip in clips[:1] if only_first else clips:
        token = clip.get_attribute("data-stimulus")
        for fs in clip.find_elements("css selector", "fieldset[data-dimension]"):
            dim = fs.get_attribute("data-dimension")
            value = instructed["expected"] if token == instructed["stimulus"] else SCORES[key[token][2]]
            rate(driver, clip, dim, value)


def item_page_view(driver) -> tuple[str, list[str], list[str]]:
    """(progress text, clip tokens in shown order, checked rating inputs) of the current page."""
    tokens = [c.get_attribute("data-stimulus") for c in css(driver, "section.clip")]
    checked = [f"{i.get_attribute('name')}={i.get_attribute('value')}" for i in css(driver, "input:checked")]
    return css(driver, "#progress")[0].text, tokens, checked


def test_whole_session_stored_and_valid(page):
    driver, url, responses, config, key, shots = page
    driver.get(url + "?seed=11&fast=1")
    assert step(driver) == "consent"
    driver.save_screenshot(str(shots / "listening-page-consent.png"))
    assert not css(driver, "#next")[0].is_enabled()
    css(driver, "#consent")[0].click()
    click_next(driver)

    # headphone check, played for real: the answer is enabled only by the "ended" event
    assert step(driver) == "headphone"
    assert not css(driver, "fieldset input")[0].is_enabled()
    css(driver, "button.play")[0].click()
    wait(driver, lambda d: css(d, "fieldset input")[0].is_enabled())
    css(driver, f"input[name='headphone'][value='{config['headphone_check']['answer']}']")[0].click()
    click_next(driver)

    reloaded = False
    while step(driver) != "end":
        kind = step(driver)
        if kind == "training":
            assert not css(driver, "#next")[0].is_enabled()
            driver.execute_script("window.lbTest.finishPlayback()")
            click_next(driver)
            continue
        assert kind == "item"
        assert set(rating_inputs_enabled(driver)) == {False}
        driver.execute_script("window.lbTest.finishPlayback()")
        assert set(rating_inputs_enabled(driver)) == {True}
        index = driver.execute_script("return window.lbTest.state().step")
        if not reloaded and index == 5:  # second item page of the first test: reload midway
            rate_page(driver, config, key, only_first=True)
            driver.save_screenshot(str(shots / "listening-page-item.png"))
            before = item_page_view(driver)
            assert not css(driver, "#next")[0].is_enabled()
            driver.refresh()
            assert step(driver) == "item"
            assert item_page_view(driver) == before  # same page, same clip order, same answers
            assert driver.execute_script("return window.lbTest.state().step") == index
            reloaded = True
        rate_page(driver, config, key)
        click_next(driver)
    assert reloaded

    wait(driver, lambda d: "status-ok" in (css(d, "#send-status")[0].get_attribute("class") or ""))
    driver.save_screenshot(str(shots / "listening-page-end.png"))
    css(driver, "#download")[0].click()  # builds the file in the page (no console error)
    files = list(responses.iterdir())
    assert len(files) == 1
    stored = json.loads(files[0].read_text())
    assert validate_response(stored, config) == []
    assert stored == driver.execute_script("return window.lbTest.response()")
    assert stored["complete"] is True and stored["participant_seed"] == 11
    assert stored["headphone_check"] == {"answer": config["headphone_check"]["answer"], "passed": True}
    ratings = stored["ratings"]
    per_test = config["items_per_test"] * 4 * 2  # items x conditions x dimensions
    assert sum(r["kind"] == "item" for r in ratings) == 2 * per_test
    assert sum(r["kind"] == "repeat" for r in ratings) == 2 * 4 * 2  # the first item again, per test
    instructed = [r for r in ratings if r["kind"] == "instructed"]
    assert {r["dimension"] for r in instructed} == {"quality", "quality_consistency"}
    assert all(r["rating"] == 1 for r in instructed)
    assert all(r["played_to_end"] for r in ratings)
    assert all(r["rating"] == SCORES[key[r["stimulus"]][2]] for r in ratings if r["kind"] != "instructed")
    assert len({r["order"] for r in ratings}) == len(ratings) // 2  # both dimensions share a clip's order


def test_opens_from_a_local_folder(page):
    """From file:// the page asks for config.json once, then runs; clips play from audio/;
    nothing is posted."""
    driver, _, responses, config, _, _ = page
    kit_dir = responses.parent / "kit"
    driver.get((kit_dir / "index.html").as_uri() + "?fast=1")
    wait(driver, lambda d: css(d, "#config-file"))[0].send_keys(str(kit_dir / "config.json"))
    assert step(driver) == "consent"
    css(driver, "#consent")[0].click()
    click_next(driver)
    css(driver, "button.play")[0].click()  # the headphone clip, played for real from the folder
    wait(driver, lambda d: css(d, "fieldset input")[0].is_enabled())
    assert driver.execute_script("return window.lbTest.response()")["session_id"]
    assert not responses.exists()


def shown_orders(driver, url: str, seed: int) -> dict[str, list[str]]:
    """{item: its clips in shown order} of the participant with this seed (first showing)."""
    driver.get(f"{url}?seed={seed}&fast=1")
    step(driver)
    plan = driver.execute_script("return window.lbTest.plan()")
    return {s["item"]: s["stimuli"] for s in plan if s["type"] == "item" and s["kind"] == "item"}


def test_order_follows_the_seed(page):
    driver, url, _, config, _, _ = page
    first = shown_orders(driver, url, 11)
    assert shown_orders(driver, url, 11) == first  # reproducible
    other = shown_orders(driver, url, 12)
    common = sorted(set(first) & set(other))
    assert common, "seeds 11 and 12 should share an item in this tiny pool"
    assert any(first[item] != other[item] for item in common)  # same item, another clip order
    for item in common:
        assert sorted(first[item]) == sorted(other[item])  # the same clips, only reordered
    driver.get(url)  # no ?seed: a random seed, kept across reloads; no test hook by default
    seed = wait(driver, lambda d: d.execute_script(
        "return JSON.parse(localStorage.getItem('lb-listening:' + arguments[0]) || 'null')", config["kit_id"]))["seed"]
    wait(driver, lambda d: css(d, "#consent"))
    assert driver.execute_script("return window.lbTest") is None
    driver.refresh()
    wait(driver, lambda d: css(d, "#consent"))
    assert json.loads(driver.execute_script(
        "return localStorage.getItem('lb-listening:' + arguments[0])", config["kit_id"]))["seed"] == seed


def test_no_condition_name_served(kit, kit_folder, kit_server):
    """Every served file (page, config, manifest, audio) is free of condition names; the
    schema strings are the only place the project's name may occur."""
    config, _ = kit
    kit_dir = kit_folder(config)
    _, url = kit_server(kit_dir)
    files = [p.relative_to(kit_dir).as_posix() for p in kit_dir.rglob("*") if p.is_file()]
    assert {"index.html", "app.js", "style.css", "config.json", "manifest.json"} <= set(files)
    for name in files:
        with urllib.request.urlopen(url + name, timeout=10) as reply:
            body = reply.read().lower()
        for allowed in (KIT_SCHEMA, RESPONSE_SCHEMA):
            body = body.replace(allowed.encode(), b"")
        for condition in CONDITIONS:
            assert condition.encode() not in body, (name, condition)
            assert condition not in name.lower()
