"""WCAG 2.2 AA as axe-core checks it, in Debian's Chromium, on every page type: the map page in
both languages, a partner's page, the embed, the snippet builder, an error page, a page where
nothing matches, and a page with a partner's details open, at 1280×800 and on a 390×844 phone,
with details (and on the phone the panel) open and closed.

axe-core comes from the axe-playwright-python package (the test extra), which ships its script.
"""
from __future__ import annotations

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
    screenshot(page, f"a11y-{name}")
    assert count == 0, f"axe-core found {count} kinds of violation on {name}:\n{report}"


def load(page_for, base, path, viewport, mobile, wait=".gm-marker"):
    page, watch = page_for(base, viewport=viewport, mobile=mobile)
    page.goto(f"{base}{path}")
    if wait:
        page.wait_for_selector(wait, state="attached")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(400)  # Leaflet's fades
    return page, watch


@pytest.mark.parametrize("viewport, mobile", SIZES)
@pytest.mark.parametrize("path", ["/embed/code", "/embed/code?ui=zh&partner=shaoxing&resize=1", "/partners/nowhere",
                                  "/?lang=zh&year_from=abc"])
def test_other_pages_have_no_violations(page_for, live_url, axe, path, viewport, mobile):
    page, watch = load(page_for, live_url, path, viewport, mobile, wait=None)
    check(page, axe, f"{'phone' if mobile else 'desktop'}-{path}")
    assert watch.errors == []
