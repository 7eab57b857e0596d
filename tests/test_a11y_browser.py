"""WCAG 2.2 AA as axe-core checks it, in Debian's Chromium, on every page type: the map page in
both languages, a partner's page, the embed, the snippet builder, an error page, a page where
nothing matches, and a page with a partner's details open, at 1280×800 and on a 390×844 phone,
with details (and on the phone the panel) open and closed.

axe-core comes from the axe-playwright-python package (the test extra), which ships its script.
"""
from __future__ import annotations

import re

import pytest

from conftest import DESKTOP, PHONES, screenshot

pytestmark = pytest.mark.browser

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SIZES = [pytest.param(DESKTOP, False, id="desktop"), pytest.param(PHONES[0], True, id="phone")]


@pytest.fixture(scope="session")
def axe():
    """axe(page) -> the violations of the WCAG 2.0-2.2 A and AA rules, as a readable report."""
    from axe_playwright_python.sync_playwright import Axe

    checker = Axe()

    def run(page) -> tuple[int, str]:
        results = checker.run(page, options={"runOnly": {"type": "tag", "values": TAGS},
                                             "resultTypes": ["violations"]})
        report = "\n".join(
            f"{v['id']} ({v['impact']}): {v['help']}\n" + "\n".join(
                f"    {', '.join(map(str, n['target']))}: {n.get('failureSummary', '').splitlines()[-1:]}"
                for n in v["nodes"])
            for v in results.response["violations"])
        return results.violations_count, report

    return run


def check(page, axe, name: str) -> None:
    count, report = axe(page)
    screenshot(page, "a11y-" + re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-"))
    assert count == 0, f"axe-core found {count} kinds of violation on {name}:\n{report}"


def load(page_for, base, path, viewport, mobile, map_page=True):
    page, watch = page_for(base, viewport=viewport, mobile=mobile)
    page.goto(f"{base}{path}")
    if map_page:  # drawn (with or without partners: a page where nothing matches has none)
        page.wait_for_function("() => window.geomapView && window.geomapView.data")
    page.wait_for_load_state("load")
    page.wait_for_timeout(600)  # Leaflet's fades and the names' placement
    return page, watch


def open_details(page, pid: str) -> None:
    page.evaluate("(pid) => window.geomapView.focusPartner(pid, true)", pid)
    page.wait_for_selector(".leaflet-popup, .gm-sheet", state="visible")
    page.wait_for_timeout(500)


DESK, PHONE = SIZES[0].values, SIZES[1].values
MAP_PAGES = [
    ("/?lang=en", DESK), ("/?lang=en", PHONE), ("/?lang=zh", DESK), ("/?lang=zh", PHONE),
    ("/partners/shaoxing?lang=en", DESK), ("/partners/shaoxing?lang=en", PHONE),
    ("/partners/ningbo?lang=zh", DESK), ("/partners/ningbo?lang=zh", PHONE),  # a place at the fitted view's edge
    ("/embed?lang=en", DESK), ("/embed?lang=en", PHONE),
    ("/embed?lang=zh&partner=shaoxing", DESK), ("/embed?lang=zh&partner=shaoxing", PHONE),
    ("/?lang=en&q=nothing-matches-this", DESK), ("/?lang=en&q=nothing-matches-this", PHONE),  # zero results
]
DETAILS = [
    # A desktop popup auto-pans the map: no symbol may be left under the zoom buttons or the attribution.
    ("/?lang=en", "shaoxing", DESK), ("/partners/shaoxing?lang=en", "shaoxing", DESK),
    ("/?lang=en", "shaoxing", PHONE), ("/?lang=zh", "ningbo", DESK), ("/?lang=zh", "ningbo", PHONE),
    ("/embed?lang=en", "fenhu-hitech-zone", DESK), ("/embed?lang=en", "fenhu-hitech-zone", PHONE),
    ("/partners/shaoxing?lang=en", "shaoxing", PHONE), ("/partners/ningbo?lang=zh", "ningbo", DESK),
]


def size_id(size) -> str:
    return "phone" if size[1] else "desktop"


@pytest.mark.parametrize("path, size", MAP_PAGES, ids=[f"{p}-{size_id(s)}" for p, s in MAP_PAGES])
def test_map_pages_have_no_violations(page_for, live_url, axe, path, size):
    viewport, mobile = size
    page, watch = load(page_for, live_url, path, viewport, mobile)
    check(page, axe, f"{size_id(size)}-{path}")
    assert watch.errors == []


@pytest.mark.parametrize("path, pid, size", DETAILS, ids=[f"{p}-{i}-{size_id(s)}" for p, i, s in DETAILS])
def test_pages_with_details_open_have_no_violations(page_for, live_url, axe, path, pid, size):
    viewport, mobile = size
    page, watch = load(page_for, live_url, path, viewport, mobile)
    open_details(page, pid)
    check(page, axe, f"{size_id(size)}-details-{path}")
    assert watch.errors == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_phone_panel_open_has_no_violations(page_for, live_url, axe, lang):
    page, watch = load(page_for, live_url, f"/?lang={lang}", PHONES[0], True)
    page.click("#gm-sheet-toggle")
    page.wait_for_function("() => getComputedStyle(document.getElementById('gm-panel')).transform === 'none'")
    check(page, axe, f"phone-panel-open-{lang}")
    assert watch.errors == []


@pytest.mark.parametrize("viewport, mobile", SIZES)
@pytest.mark.parametrize("path", ["/embed/code", "/embed/code?ui=zh&partner=shaoxing&resize=1", "/partners/nowhere",
                                  "/?lang=zh&year_from=abc"])
def test_other_pages_have_no_violations(page_for, live_url, axe, path, viewport, mobile):
    page, watch = load(page_for, live_url, path, viewport, mobile, map_page=False)
    check(page, axe, f"{'phone' if mobile else 'desktop'}-{path}")
    assert watch.errors == []
