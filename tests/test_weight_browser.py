"""What a visitor's browser downloads for the map page, measured in Debian's Chromium.

The budget is for bytes from our own origin on a cold load (empty cache): the page, its scripts
and styles, and any data they fetch. Map tiles come from the tile server and are not counted
(the tests answer them locally). docs/performance.md has the figures.
"""
from __future__ import annotations

import pytest

from conftest import PHONES

pytestmark = pytest.mark.browser

BUDGET = 120_000  # bytes on the wire, headers included

OWN_TRANSFERS = """() => {
  const own = (e) => e.name.startsWith(location.origin);
  const nav = performance.getEntriesByType("navigation")[0];
  const res = performance.getEntriesByType("resource").filter(own);
  return [nav, ...res].map(e => ({url: e.name.slice(location.origin.length), transfer: e.transferSize,
                                 encoded: e.encodedBodySize, decoded: e.decodedBodySize}));
}"""


def cold_load(page_for, base: str, path: str, **kw) -> list[dict]:
    page, watch = page_for(base, **kw)
    page.goto(f"{base}{path}")
    page.wait_for_selector(".gm-marker", state="attached")
    page.wait_for_load_state("networkidle")
    entries = page.evaluate(OWN_TRANSFERS)
    assert watch.errors == []
    return entries


@pytest.mark.parametrize("path, kw", [
    ("/", {}),
    ("/?lang=zh", {}),
    ("/", {"viewport": PHONES[0], "mobile": True}),
])
def test_a_cold_load_of_the_map_page_stays_within_budget(page_for, live_url, path, kw):
    entries = cold_load(page_for, live_url, path, **kw)
    total = sum(e["transfer"] for e in entries)
    report = "\n".join(f'{e["transfer"]:>8} {e["url"]}' for e in entries)
    assert all(e["transfer"] > 0 for e in entries), "a cold load came from a cache:\n" + report
    assert total <= BUDGET, f"{total} bytes from our origin, over {BUDGET}:\n{report}"
    # Every script and stylesheet came compressed.
    for e in entries:
        if e["url"].startswith("/assets/") and e["url"].split("?")[0].endswith((".js", ".css")) and e["decoded"] > 1000:
            assert e["encoded"] < e["decoded"] / 2, e
