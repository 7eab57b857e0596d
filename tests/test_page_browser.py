"""The page around the map, as visitors use it in Debian's Chromium: on phones the map first and
the panel as a bottom sheet, on desktops the side panel; the skip link; the list in the map's
order; screenshots of every page type at both sizes, in both languages."""
from __future__ import annotations

import pytest

from conftest import DESKTOP, PHONES, screenshot

pytestmark = pytest.mark.browser

MAP_PAGES = ["/", "/?lang=zh", "/partners/shaoxing", "/partners/ningbo?lang=zh", "/embed", "/embed?lang=zh"]

VISIBLE_SHARE = """(sel) => {
  const r = document.querySelector(sel).getBoundingClientRect();
  const w = Math.max(0, Math.min(r.right, innerWidth) - Math.max(r.left, 0));
  const h = Math.max(0, Math.min(r.bottom, innerHeight) - Math.max(r.top, 0));
  return (w * h) / (innerWidth * innerHeight);
}"""

MARKERS_ON_SCREEN = """() => {
  const box = document.querySelector(".leaflet-container").getBoundingClientRect();
  return [...document.querySelectorAll(".gm-marker")].filter(m => {
    const r = m.getBoundingClientRect(), x = r.x + r.width / 2, y = r.y + r.height / 2;
    return x >= Math.max(0, box.left) && x <= Math.min(innerWidth, box.right)
        && y >= Math.max(0, box.top) && y <= Math.min(innerHeight, box.bottom);
  }).length;
}"""


def open_page(page_for, base, path, viewport=DESKTOP, mobile=False, markers=True):
    page, watch = page_for(base, viewport=viewport, mobile=mobile)
    page.goto(f"{base}{path}")
    if markers:
        page.wait_for_selector(".gm-marker", state="attached")
    else:
        page.wait_for_function("() => window.geomapView && window.geomapView.data")
    page.wait_for_timeout(300)  # Leaflet's first frame
    return page, watch


def slug(path: str) -> str:
    return path.strip("/").replace("/", "-").replace("?", "-").replace("=", "-").replace("&", "-") or "index"


def tap(page, selector: str):
    box = page.locator(selector).bounding_box()
    assert box, f"{selector} has no box"
    page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


# -- phones: the map first ------------------------------------------------------------------------

@pytest.mark.parametrize("viewport", PHONES, ids=lambda v: f"{v[0]}x{v[1]}")
@pytest.mark.parametrize("path", MAP_PAGES)
def test_on_a_phone_the_map_takes_most_of_the_first_screen(page_for, live_url, viewport, path):
    page, watch = open_page(page_for, live_url, path, viewport, mobile=True)
    share = page.evaluate(VISIBLE_SHARE, ".leaflet-container")
    assert share >= 0.5, f"the map covers {share:.0%} of the first screen of {path}"
    assert page.evaluate(MARKERS_ON_SCREEN) >= 1, "no partner is on the first screen"
    # One viewport meta, and it lets the visitor pinch-zoom.
    metas = page.eval_on_selector_all('meta[name="viewport"]', "els => els.map(e => e.content)")
    assert len(metas) == 1 and "user-scalable=no" not in metas[0] and "maximum-scale" not in metas[0], metas
    # Nothing wider than the screen.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport[0]
    assert watch.errors == []
    screenshot(page, f"page-phone-{viewport[0]}-{slug(path)}")


@pytest.mark.parametrize("viewport", PHONES, ids=lambda v: f"{v[0]}x{v[1]}")
def test_the_phone_panel_opens_over_the_map_and_closes(page_for, live_url, viewport):
    page, watch = open_page(page_for, live_url, "/?lang=en", viewport, mobile=True)
    toggle = page.locator("#gm-sheet-toggle")
    panel = page.locator("#gm-panel")

    def closed():
        assert toggle.get_attribute("aria-expanded") == "false"
        assert not panel.is_visible()
        # Closed, it covers nothing: the middle of the map is the map.
        assert page.evaluate("""() => {
          const r = document.querySelector(".leaflet-container").getBoundingClientRect();
          const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
          return !!hit.closest("#gm-map");
        }""")

    def opened():
        page.wait_for_function("() => getComputedStyle(document.getElementById('gm-panel')).transform === 'none'")
        assert toggle.get_attribute("aria-expanded") == "true"
        assert panel.is_visible()
        box = panel.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= viewport[1] + 1
        assert page.evaluate("() => document.getElementById('gm-panel').contains(document.activeElement)")
        assert page.locator("#gm-q").is_visible() and page.locator("#gm-list .gm-item").first.is_visible()
        # The page behind is out of reach while the sheet is open.
        assert page.evaluate("() => document.getElementById('gm-map').inert")

    closed()
    tbox = toggle.bounding_box()
    assert tbox["height"] >= 44 and tbox["y"] + tbox["height"] <= viewport[1] + 1
    assert "agreements" in toggle.inner_text()

    tap(page, "#gm-sheet-toggle")
    opened()
    screenshot(page, f"page-phone-{viewport[0]}-panel-open")
    tap(page, "#gm-sheet-close")
    page.wait_for_function("() => !getComputedStyle(document.getElementById('gm-panel')).visibility.startsWith('v')")
    closed()
    assert page.evaluate("() => document.activeElement.id") == "gm-sheet-toggle"

    tap(page, "#gm-sheet-toggle")
    opened()
    page.keyboard.press("Escape")
    page.wait_for_function("() => getComputedStyle(document.getElementById('gm-panel')).visibility === 'hidden'")
    closed()

    tap(page, "#gm-sheet-toggle")
    opened()
    page.touchscreen.tap(viewport[0] / 2, 30)  # the dimmed map above the sheet
    page.wait_for_function("() => getComputedStyle(document.getElementById('gm-panel')).visibility === 'hidden'")
    closed()
    assert watch.errors == []


def details_shown_for(page, pid: str) -> None:
    """The partner's details opened: the map's event, or its popup."""
    page.wait_for_function(
        """(pid) => (window.__details || []).some(d => d.open && d.id === pid)
             || !!document.querySelector(`.gm-popup[data-partner="${pid}"]`)""", arg=pid)


def record_details(page):
    page.evaluate("""() => { window.__details = [];
      document.addEventListener("geomap:details", e => window.__details.push(e.detail)); }""")


@pytest.mark.parametrize("viewport", PHONES[:1], ids=lambda v: f"{v[0]}x{v[1]}")
def test_a_list_row_on_a_phone_closes_the_sheet_and_shows_its_partner(page_for, live_url, viewport):
    page, watch = open_page(page_for, live_url, "/?lang=en", viewport, mobile=True)
    record_details(page)
    tap(page, "#gm-sheet-toggle")
    page.wait_for_function("() => getComputedStyle(document.getElementById('gm-panel')).transform === 'none'")
    button = '#gm-list .gm-locate[data-partner="cixi"]'
    page.locator(button).scroll_into_view_if_needed()
    tap(page, button)
    details_shown_for(page, "cixi")
    assert page.locator("#gm-sheet-toggle").get_attribute("aria-expanded") == "false"
    assert not page.evaluate("() => document.getElementById('gm-panel').contains(document.activeElement)")
    assert watch.errors == []


# -- desktop: the side panel ----------------------------------------------------------------------

def test_the_desktop_keeps_its_side_panel(page_for, live_url):
    page, watch = open_page(page_for, live_url, "/?lang=en")
    panel = page.locator("#gm-panel").bounding_box()
    mapbox = page.locator(".leaflet-container").bounding_box()
    assert panel["x"] == 0 and 320 <= panel["width"] <= 420
    region = page.locator("#gm-map").bounding_box()  # the map, and the timeline under it
    assert mapbox["x"] >= panel["width"] - 1 and mapbox["width"] >= 850
    assert region["height"] >= 790 and mapbox["height"] >= 0.75 * region["height"]
    assert not page.locator("#gm-sheet-toggle").is_visible()
    # The list's "Map" button shows its partner.
    record_details(page)
    page.click('#gm-list .gm-locate[data-partner="ningbo"]')
    details_shown_for(page, "ningbo")
    assert watch.errors == []


def test_list_rows_are_one_link_and_one_map_button_each(page_for, live_url, atlas):
    page, _ = open_page(page_for, live_url, "/?lang=en")
    items = page.locator("#gm-list > .gm-item")
    assert items.count() == len(atlas.partners)
    first = items.first
    pid = first.get_attribute("data-partner")
    assert first.locator("a").first.get_attribute("href") == f"/partners/{pid}?lang=en"
    assert first.locator(".gm-locate").get_attribute("aria-label").startswith("Show ")
    assert "Partner page" not in page.inner_text("#gm-panel")
    # A row shows a hover state.
    before = first.evaluate("e => getComputedStyle(e).backgroundColor")
    first.hover()
    page.wait_for_timeout(200)
    assert first.evaluate("e => getComputedStyle(e).backgroundColor") != before


# -- keyboard: the skip link first ----------------------------------------------------------------

@pytest.mark.parametrize("path, viewport, mobile, label", [
    ("/?lang=en", DESKTOP, False, "Skip to map"),
    ("/?lang=zh", DESKTOP, False, "跳到地图"),
    ("/?lang=en", PHONES[0], True, "Skip to map"),
    ("/partners/shaoxing?lang=en", DESKTOP, False, "Skip to map"),
])
def test_the_first_tab_stop_is_skip_to_map_and_it_lands_on_the_map(page_for, live_url, path, viewport, mobile, label):
    page, _ = open_page(page_for, live_url, path, viewport, mobile)
    page.keyboard.press("Tab")
    active = page.evaluate("() => [document.activeElement.className, document.activeElement.textContent.trim()]")
    assert active == ["gm-skip", label]
    box = page.locator(".gm-skip").bounding_box()
    assert box["y"] >= 0 and box["x"] >= 0 and page.locator(".gm-skip").is_visible()  # shown when focused
    screenshot(page, f"page-skip-link-{viewport[0]}-{slug(path)}")
    page.keyboard.press("Enter")
    assert page.evaluate("() => !!document.activeElement.closest('.leaflet-container')"), \
        page.evaluate("() => document.activeElement.outerHTML.slice(0, 200)")
    assert "#" not in page.url  # the address stays shareable


def test_the_list_has_the_maps_partners_in_the_maps_order(page_for, live_url):
    """The list is the map in words: the partners of the map's data, in its order."""
    for path in ("/?lang=en", "/?lang=zh&type=project"):
        page, _ = open_page(page_for, live_url, path)
        listed = page.eval_on_selector_all("#gm-list > .gm-item", "els => els.map(e => e.dataset.partner)")
        drawn = page.evaluate("() => window.geomapView.data.partners.map(p => p.id)")
        on_map = page.eval_on_selector_all("#gm-map .gm-marker[data-partner]", "els => els.map(e => e.dataset.partner)")
        assert listed == drawn, path
        # Every partner the map shows by itself is in the list (the others sit in stacks).
        assert on_map and set(on_map) <= set(listed), path
        page.close()


# -- the other pages ------------------------------------------------------------------------------

@pytest.mark.parametrize("viewport, mobile", [(DESKTOP, False), (PHONES[0], True)], ids=["desktop", "phone"])
@pytest.mark.parametrize("path", ["/embed/code", "/embed/code?ui=zh&partner=shaoxing", "/nowhere", "/?year_from=abc&lang=zh"])
def test_other_pages_fit_the_screen(page_for, live_url, path, viewport, mobile):
    page, watch = page_for(live_url, viewport=viewport, mobile=mobile)
    page.goto(f"{live_url}{path}")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport[0]
    assert watch.errors == []
    screenshot(page, f"page-{'phone' if mobile else 'desktop'}-{slug(path)}")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_desktop_screenshots(page_for, live_url, lang):
    for path in (f"/?lang={lang}", f"/partners/shaoxing?lang={lang}", f"/embed?lang={lang}"):
        page, watch = open_page(page_for, live_url, path)
        assert watch.errors == []
        screenshot(page, f"page-desktop-{slug(path)}")
        page.close()


# -- filters --------------------------------------------------------------------------------------

def test_without_javascript_the_form_still_submits(browser, live_url, atlas):
    ctx = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 800})
    try:
        page = ctx.new_page()
        page.goto(f"{live_url}/?lang=en")
        assert page.locator(".gm-apply").is_visible()
        page.select_option("#gm-type", "project")
        page.click(".gm-apply")
        page.wait_for_url("**type=project**")
        n = atlas.agreements.loc[atlas.agreements["type"] == "project", "agreement_id"].nunique()
        assert page.inner_text("#gm-count").startswith(f"{n} agreements")
        hrefs = page.eval_on_selector_all("#gm-downloads a", "els => els.map(e => e.getAttribute('href'))")
        assert len(hrefs) == 4 and all("type=project" in h for h in hrefs)
    finally:
        ctx.close()


def test_a_malformed_filter_gets_the_servers_message_in_place(page_for, live_url):
    page, watch = open_page(page_for, live_url, "/?lang=en")
    page.evaluate("() => { window.__stay = 1; }")
    page.fill("#gm-year-to", "2020")
    page.fill("#gm-year-from", "2023")
    page.keyboard.press("Enter")
    error = page.locator("#gm-form-error")
    error.wait_for(state="visible")
    assert "after year_to" in error.inner_text()
    assert page.evaluate("() => window.__stay") == 1 and "year_from" not in page.url
    page.wait_for_function("() => document.getElementById('gm-status').textContent.includes('after year_to')")
    assert watch.errors == []


COUNT = "() => document.getElementById('gm-count').textContent"
VIEW = "() => { const m = window.geomapView.map, c = m.getCenter(); return [+c.lat.toFixed(5), +c.lng.toFixed(5), m.getZoom()]; }"


def count_of(atlas, mask) -> tuple[int, int]:
    rows = atlas.agreements[mask]
    return rows["agreement_id"].nunique(), rows["place_id"].nunique()


@pytest.mark.parametrize("viewport, mobile", [(DESKTOP, False), (PHONES[0], True)], ids=["desktop", "phone"])
def test_filters_apply_in_place_follow_the_url_and_back_restores(page_for, live_url, atlas, viewport, mobile):
    page, watch = open_page(page_for, live_url, "/?lang=en", viewport, mobile)
    page.evaluate("() => { window.__same_document = true; }")
    page.evaluate("() => window.geomapView.map.setView([30.4, 121.1], 9, {animate: false})")
    view = page.evaluate(VIEW)
    everything = page.evaluate(COUNT)
    if mobile:
        tap(page, "#gm-sheet-toggle")
        page.wait_for_function("() => getComputedStyle(document.getElementById('gm-panel')).transform === 'none'")

    # A type: the map, the list, the counts and the downloads follow; the document stays.
    page.select_option("#gm-type", "project")
    page.wait_for_url("**type=project**")
    n, p = count_of(atlas, atlas.agreements["type"] == "project")
    page.wait_for_function("(n) => document.getElementById('gm-count').textContent.startsWith(n + ' agreements')", arg=n)
    assert page.evaluate("() => window.__same_document") is True
    assert page.evaluate("() => window.geomapView.data.partners.length") == p
    assert page.locator("#gm-list > .gm-item").count() == p
    assert f"{n} agreements" in page.inner_text("#gm-toggle-count")
    hrefs = page.eval_on_selector_all("#gm-downloads a", "els => els.map(e => e.getAttribute('href'))")
    assert len(hrefs) == 4 and all("type=project" in h for h in hrefs)
    page.wait_for_function("(n) => document.getElementById('gm-status').textContent.startsWith(n + ' agreements')", arg=n)
    assert page.evaluate(VIEW) == view  # the map kept its view
    by_type = page.evaluate(COUNT)

    # A search on top, typed: one more history entry.
    page.fill("#gm-q", "Ningbo")
    page.wait_for_url("**q=Ningbo**")
    page.wait_for_function("(t) => document.getElementById('gm-count').textContent !== t", arg=by_type)
    assert "type=project" in page.url
    searched = page.evaluate(COUNT)

    # Back: the type alone again, the search field empty; Back again: everything.
    page.go_back()
    page.wait_for_function("(t) => document.getElementById('gm-count').textContent === t", arg=by_type)
    assert "q=" not in page.url and "type=project" in page.url
    assert page.input_value("#gm-q") == "" and page.input_value("#gm-type") == "project"
    page.go_back()
    page.wait_for_function("(t) => document.getElementById('gm-count').textContent === t", arg=everything)
    assert "type=" not in page.url and page.input_value("#gm-type") == ""
    assert page.evaluate("() => window.geomapView.data.partners.length") == len(atlas.partners)
    # Forward: the search again.
    page.go_forward()
    page.go_forward()
    page.wait_for_function("(t) => document.getElementById('gm-count').textContent === t", arg=searched)
    assert page.input_value("#gm-q") == "Ningbo"
    assert page.evaluate("() => window.__same_document") is True
    assert watch.errors == []


def test_clearing_the_filters_in_place(page_for, live_url, atlas):
    page, watch = open_page(page_for, live_url, "/?lang=en&q=nothing-matches-this", markers=False)
    page.evaluate("() => { window.__same_document = true; }")
    assert page.locator("#gm-list > .gm-item").count() == 0
    page.click("#gm-results .gm-reset")
    page.wait_for_function("(n) => document.querySelectorAll('#gm-list > .gm-item').length === n", arg=len(atlas.partners))
    assert "q=" not in page.url and page.input_value("#gm-q") == ""
    assert page.evaluate("() => window.__same_document") is True
    assert watch.errors == []
