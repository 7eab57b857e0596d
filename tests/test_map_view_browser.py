"""The map itself in Debian's Chromium: names on the map, the first view, close places spread
out, details that fit a phone, the keyboard path, the states over the map, and the view API the
page and the timeline use (setData keeps the view, setYearRange masks years)."""
from __future__ import annotations

import pytest

from conftest import DESKTOP, PHONES, screenshot

pytestmark = pytest.mark.browser

NAMED_LABELS = """() => [...document.querySelectorAll('.gm-label')]
    .filter(l => l.style.visibility !== 'hidden' && l.parentElement.style.display !== 'none')
    .map(l => { const r = l.getBoundingClientRect();
                return {name: l.dataset.name, x: r.x, y: r.y, w: r.width, h: r.height}; })"""


def settle(page):
    """Leaflet.markercluster's regrouping animation over, and the names laid out after it."""
    page.wait_for_function("() => !document.querySelector('.leaflet-cluster-anim')")
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def open_map(page_for, base, path="/?lang=en", viewport=DESKTOP, mobile=False):
    page, watch = page_for(base, viewport=viewport, mobile=mobile)
    page.goto(f"{base}{path}")
    page.wait_for_function("() => window.geomapView && window.geomapView.data")
    settle(page)
    return page, watch


def name_of(atlas, pid, lang):
    row = atlas.places.loc[pid]
    return row["name_zh"] if lang == "zh" and isinstance(row["name_zh"], str) and row["name_zh"] else row["name_en"]


def overlaps(a, b, tolerance=0.5):
    a, b = (dict(r, w=r.get("w", r.get("width")), h=r.get("h", r.get("height"))) for r in (a, b))
    return (a["x"] + tolerance < b["x"] + b["w"] and b["x"] + tolerance < a["x"] + a["w"]
            and a["y"] + tolerance < b["y"] + b["h"] and b["y"] + tolerance < a["y"] + a["h"])


def symbol_boxes(page):
    """Every symbol's drawn disc or square (not its larger hit area), with what it stands for."""
    return page.evaluate("""() => [...document.querySelectorAll('.leaflet-marker-icon.gm-sym')].map(e => {
        const r = e.getBoundingClientRect(), cs = getComputedStyle(e, '::before');
        const w = parseFloat(cs.width), h = parseFloat(cs.height);
        return {x: r.x + (r.width - w) / 2, y: r.y + (r.height - h) / 2, w: w, h: h,
                name: e.gmLayer && e.gmLayer.gm ? e.gmLayer.gm.name : null}; })""")


# -- names on the map --------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "zh"])
def test_partners_and_shanghai_are_named_where_they_fit_without_overlapping(page_for, live_url, atlas, lang):
    page, watch = open_map(page_for, live_url, f"/?lang={lang}")
    labels = page.evaluate(NAMED_LABELS)
    names = {label["name"] for label in labels}
    partners = list(atlas.partners.index)
    named = [pid for pid in partners if name_of(atlas, pid, lang) in names]
    assert len(named) * 2 >= len(partners), (named, names)
    assert name_of(atlas, "shanghai", lang) in names  # the hub
    # No two names overlap, and no name covers another place's symbol.
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            assert not overlaps(a, b), (a, b)
        for s in symbol_boxes(page):
            if s["name"] != a["name"]:
                assert not overlaps(a, s), (a, s)
    # All inside the map.
    box = page.locator(".folium-map").bounding_box()
    assert all(box["x"] <= label["x"] and label["x"] + label["w"] <= box["x"] + box["width"] for label in labels)
    assert watch.errors == []
    screenshot(page, f"map-names-{lang}")

    # Zoomed in on Ningbo, the places stacked at the first view are each named.
    page.evaluate("() => window.geomapView.map.setView([29.87, 121.6], 12, {animate: false})")
    settle(page)
    page.wait_for_function("() => document.querySelector('.gm-marker[data-partner=\"ningbo-hitech-zone\"]')")
    settle(page)
    names = {label["name"] for label in page.evaluate(NAMED_LABELS)}
    for pid in ("ningbo", "ningbo-hitech-zone", "haishu", "yinzhou"):
        assert name_of(atlas, pid, lang) in names, (pid, names)


def test_markers_are_buttons_named_with_kind_and_count(page_for, live_url, atlas):
    page, _ = open_map(page_for, live_url, "/?lang=en")
    assert page.get_attribute('.gm-marker[data-partner="shaoxing"]', "aria-label") == \
        "Shaoxing, prefecture-level city, 7 agreements"
    assert page.get_attribute('.gm-marker[data-partner="shaoxing"]', "role") == "button"
    page2, _ = open_map(page_for, live_url, "/?lang=zh")
    assert page2.get_attribute('.gm-marker[data-partner="shaoxing"]', "aria-label") == "绍兴市，地级市，7项协议"
    # Every symbol a visitor can choose is a named button at least 24 px square.
    for p in (page, page2):
        targets = p.evaluate("""() => [...document.querySelectorAll('.leaflet-marker-icon[tabindex="0"]')].map(e => {
            const r = e.getBoundingClientRect(); return [e.getAttribute('role'), e.getAttribute('aria-label'), r.width, r.height]; })""")
        assert targets and all(role == "button" and name and w >= 24 and h >= 24 for role, name, w, h in targets), targets
    # Shanghai is the strongest symbol: larger than any partner's disc at the first view.
    hub = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('.leaflet-marker-icon.gm-hub'), '::before').width)")
    discs = page.evaluate("() => [...document.querySelectorAll('.leaflet-marker-icon.gm-marker')]"
                          ".map(e => parseFloat(getComputedStyle(e, '::before').width))")
    assert hub > max(discs)


def tab_order(page):
    """The partners in the order Tab reaches their symbols (a stack by its members), and the list's."""
    return page.evaluate("""() => ({
        tab: [...document.querySelectorAll('.leaflet-marker-pane .gm-sym[tabindex="0"]')].map(e => {
            const l = e.gmLayer;
            const members = l.getAllChildMarkers ? l.getAllChildMarkers() : [l];
            return members.map(m => window.geomapView.data.partners[m.gm.index].id).sort(); }),
        list: [...document.querySelectorAll('.gm-item[data-partner]')].map(e => e.dataset.partner)})""")


@pytest.mark.parametrize("path", ["/?lang=en", "/?lang=zh&year_to=2020"])
def test_tab_reaches_the_places_in_the_order_of_the_list(page_for, live_url, path):
    page, _ = open_map(page_for, live_url, path)
    for step in range(2):
        order = tab_order(page)
        assert len(order["tab"]) > 3
        # Each symbol's first place in the list comes after the previous symbol's.
        firsts = [min(order["list"].index(pid) for pid in members) for members in order["tab"]]
        assert firsts == sorted(firsts), order
        page.evaluate("() => window.geomapView.map.setZoom(window.geomapView.map.getZoom() + 2, {animate: false})")
        settle(page)


COVERED = """() => {
    const box = document.querySelector('.leaflet-container').getBoundingClientRect();
    const rect = (e) => e.getBoundingClientRect();
    const hit = (a, b) => a.left < b.right && a.right > b.left && a.top < b.bottom && a.bottom > b.top;
    const controls = [...document.querySelectorAll('.leaflet-control, [data-gm-over-map]')].map(rect).filter(r => r.width);
    return [...document.querySelectorAll('.leaflet-marker-icon.gm-sym[tabindex="0"]')]
        .filter(e => hit(rect(e), box) && controls.some(c => hit(rect(e), c)))
        .map(e => e.getAttribute('aria-label')); }"""


@pytest.mark.parametrize("path, pid, viewport, mobile", [
    ("/partners/ningbo?lang=zh", None, DESKTOP, False), ("/partners/shaoxing?lang=en", None, PHONES[0], True),
    ("/?lang=en", "shaoxing", DESKTOP, False), ("/partners/shaoxing?lang=en", "shaoxing", DESKTOP, False),
    ("/embed?lang=en", "fenhu-hitech-zone", PHONES[0], True), ("/embed?lang=zh&partner=shaoxing", None, DESKTOP, False),
])
def test_no_symbol_is_left_under_a_control(page_for, live_url, path, pid, viewport, mobile):
    """The views the map frames by itself (the first view, a focused partner, details opened)
    leave no symbol half under the zoom buttons, the attribution or the embed's link, where it
    could not be hit."""
    page, _ = open_map(page_for, live_url, path, viewport, mobile)
    if pid:
        page.evaluate("(pid) => window.geomapView.focusPartner(pid, true)", pid)
        page.wait_for_selector(".leaflet-popup, .gm-sheet", state="visible")
    page.wait_for_timeout(700)  # the popup's auto-pan, the groups' regrouping and the clearing pan
    settle(page)
    assert page.evaluate(COVERED) == []


# -- framing and close places ------------------------------------------------------------------

@pytest.mark.parametrize("path, viewport, mobile", [
    ("/?lang=en", DESKTOP, False), ("/embed?lang=zh", PHONES[0], True), ("/embed?lang=en", PHONES[1], True)])
def test_the_first_view_fits_every_partner_and_shanghai_with_room(page_for, live_url, path, viewport, mobile):
    page, _ = open_map(page_for, live_url, path, viewport, mobile)
    points = page.evaluate("""() => { const v = window.geomapView, m = v.map;
        return v.data.partners.map(p => p.ll).concat([v.data.hub.ll]).map(ll => m.latLngToContainerPoint(ll)); }""")
    size = page.evaluate("() => window.geomapView.map.getSize()")
    xs = [p["x"] for p in points]
    ys = [p["y"] for p in points]
    assert min(xs) >= 16 and min(ys) >= 16 and max(xs) <= size["x"] - 16 and max(ys) <= size["y"] - 16, (points, size)
    # ...and fill the view in at least one direction (it is fitted, not centred on Shanghai).
    assert (max(xs) - min(xs)) / size["x"] >= 0.5 or (max(ys) - min(ys)) / size["y"] >= 0.6, (points, size)


@pytest.mark.parametrize("viewport, mobile", [(DESKTOP, False), (PHONES[0], True)])
def test_close_markers_spread_out_so_each_can_be_chosen(page_for, live_url, viewport, mobile):
    page, watch = open_map(page_for, live_url, "/?lang=en" if not mobile else "/embed?lang=en", viewport, mobile)
    # Ningbo and its High-tech Zone are 2 km apart: one stack at the first view.
    stack = page.evaluate("() => { const e = window.geomapView.elementFor('ningbo');"
                          " return e === window.geomapView.elementFor('ningbo-hitech-zone') && e.classList.contains('gm-stack'); }")
    assert stack

    def choose(selector):
        box = page.locator(selector).bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        if mobile:
            page.touchscreen.tap(x, y)
        else:
            page.mouse.click(x, y)

    page.evaluate("() => window.geomapView.elementFor('ningbo').setAttribute('data-test-stack', '1')")
    choose("[data-test-stack]")
    for pid in ("ningbo", "ningbo-hitech-zone"):
        page.locator(f'.gm-marker[data-partner="{pid}"]').wait_for()
    settle(page)
    assert page.get_attribute("[data-test-stack]", "aria-expanded") == "true"
    a = page.locator('.gm-marker[data-partner="ningbo"]').bounding_box()
    b = page.locator('.gm-marker[data-partner="ningbo-hitech-zone"]').bounding_box()
    assert not overlaps(a, b, 0)  # each its own target now
    for pid in ("ningbo-hitech-zone", "ningbo"):
        choose(f'.gm-marker[data-partner="{pid}"]')
        page.locator(f'.gm-popup[data-partner="{pid}"]').wait_for()
        page.keyboard.press("Escape")
        page.locator(f'.gm-popup[data-partner="{pid}"]').wait_for(state="detached")
    assert watch.errors == []
    screenshot(page, f"map-spread-{'phone' if mobile else 'desktop'}")


# -- details -----------------------------------------------------------------------------------

@pytest.mark.parametrize("viewport", PHONES, ids=["390x844", "360x740"])
@pytest.mark.parametrize("path", ["/?lang=zh", "/embed?lang=en", "/embed?lang=zh&partner=shaoxing", "/partners/ningbo?lang=en"])
def test_a_tap_on_a_phone_shows_details_that_fit_with_the_close_control_on_screen(page_for, live_url, path, viewport):
    page, watch = open_map(page_for, live_url, path, viewport, mobile=True)
    pid = "ningbo" if "ningbo" in path else "shaoxing"
    page.evaluate("(pid) => window.geomapView.focusPartner(pid, false)", pid)
    settle(page)

    def tap(locator):
        locator.scroll_into_view_if_needed()
        box = locator.bounding_box()
        page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    # In a stack of close places (Ningbo's districts on its page's small map): spread it first.
    if page.evaluate("(pid) => window.geomapView.elementFor(pid).classList.contains('gm-stack')", pid):
        page.evaluate("(pid) => window.geomapView.elementFor(pid).setAttribute('data-test-stack', '1')", pid)
        tap(page.locator("[data-test-stack]"))
        settle(page)
    marker = page.locator(f'.gm-marker[data-partner="{pid}"]')
    marker.wait_for()
    tap(marker)
    sheet = page.locator(".gm-sheet")
    sheet.wait_for()
    details = sheet.locator(f'[role="dialog"][data-partner="{pid}"]')
    assert details.count() == 1
    width, height = viewport
    s = sheet.bounding_box()
    assert s["x"] >= 0 and s["x"] + s["width"] <= width and s["y"] >= 0 and s["y"] + s["height"] <= height + 1
    close = sheet.locator(".gm-close")
    c = close.bounding_box()
    assert c["width"] >= 44 and c["height"] >= 44
    assert 0 <= c["y"] and c["y"] + c["height"] <= height and c["x"] + c["width"] <= width
    # Seven agreements scroll inside the sheet; the close control stays on screen.
    if pid == "shaoxing":
        assert sheet.evaluate("el => el.scrollHeight > el.clientHeight")
        sheet.evaluate("el => el.scrollTop = el.scrollHeight")
        c = close.bounding_box()
        assert 0 <= c["y"] and c["y"] + c["height"] <= height
    # Nothing is wider than the screen.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    screenshot(page, f"map-sheet-{width}{path.replace('/', '_').replace('?', '_').replace('=', '-')}")
    page.touchscreen.tap(c["x"] + c["width"] / 2, c["y"] + c["height"] / 2)
    sheet.wait_for(state="detached")
    assert watch.errors == []


def test_desktop_details_stay_inside_the_map_and_scroll(page_for, live_url):
    page, _ = open_map(page_for, live_url, "/embed?lang=zh&height=420", (900, 420))
    page.locator('.gm-marker[data-partner="shaoxing"]').click()
    page.locator('.leaflet-popup .gm-popup[data-partner="shaoxing"]').wait_for()
    page.wait_for_timeout(400)  # Leaflet's auto-pan
    box = page.locator(".leaflet-popup").bounding_box()
    mapbox = page.locator(".folium-map").bounding_box()
    assert box["y"] >= mapbox["y"] - 1 and box["y"] + box["height"] <= mapbox["y"] + mapbox["height"] + 1
    assert box["x"] >= mapbox["x"] - 1 and box["x"] + box["width"] <= mapbox["x"] + mapbox["width"] + 1
    assert page.evaluate("() => { const c = document.querySelector('.leaflet-popup-content'); return c.scrollHeight > c.clientHeight; }")
    screenshot(page, "map-popup-short-map-zh")


@pytest.mark.parametrize("key", ["Enter", " "])
def test_the_keyboard_opens_details_moves_focus_in_and_escape_returns_it(page_for, live_url, key):
    page, _ = open_map(page_for, live_url, "/?lang=en")
    page.focus(".folium-map")
    # Tab to a named marker.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.matches('.gm-marker[data-partner]')"):
            break
    focused = page.evaluate("() => [document.activeElement.dataset.partner, document.activeElement.getAttribute('aria-label')]")
    pid, name = focused
    assert pid and name.startswith(page.evaluate("(pid) => window.geomapView.data.partners.find(p => p.id === pid).name", pid))
    page.keyboard.press(key)
    dialog = page.locator(f'[role="dialog"][data-partner="{pid}"]')
    dialog.wait_for()
    # Focus is inside the details: a dialog named by its heading.
    assert page.evaluate("() => !!document.activeElement.closest('[role=dialog]')")
    heading = page.evaluate("() => { const d = document.querySelector('[role=dialog]');"
                            " return document.getElementById(d.getAttribute('aria-labelledby')).textContent; }")
    assert heading and heading in name
    assert page.get_attribute(f'.gm-marker[data-partner="{pid}"]', "aria-expanded") == "true"
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")
    assert page.evaluate("() => document.activeElement.dataset.partner") == pid

    # The close button from the keyboard: focus back on the marker too.
    page.keyboard.press("Enter")
    dialog.wait_for()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.classList.contains('gm-close')")
    page.keyboard.press("Enter")
    dialog.wait_for(state="detached")
    assert page.evaluate("() => document.activeElement.dataset.partner") == pid
    assert page.get_attribute(f'.gm-marker[data-partner="{pid}"]', "aria-expanded") == "false"


def test_a_shanghai_side_site_has_a_name_and_lists_its_partners(page_for, live_url, atlas):
    page, _ = open_map(page_for, live_url, "/?lang=en")
    page.evaluate("() => window.geomapView.map.setView([31.15, 121.12], 11, {animate: false})")
    settle(page)
    site = page.locator('.leaflet-marker-icon[data-site="qingpu"]')
    assert site.get_attribute("aria-label") == "Qingpu District, shanghai-side site, 2 agreements"
    site.click()
    dialog = page.locator('[role="dialog"][data-site="qingpu"]')
    dialog.wait_for()
    buttons = dialog.locator(".gm-partner-button").all_inner_texts()
    assert any("Wujiang" in b for b in buttons) and any("Fenhu" in b for b in buttons)
    # ...and leads to the site's own page.
    assert dialog.locator("a.gm-more").get_attribute("href") == "/sites/qingpu"
    dialog.locator(".gm-partner-button", has_text="Fenhu").click()
    page.locator('[role="dialog"][data-partner="fenhu-hitech-zone"]').wait_for()


# -- states and the view API -------------------------------------------------------------------

@pytest.mark.parametrize("lang, message, clear", [("en", "No agreement matches these filters.", "Clear the filters"),
                                                  ("zh", "没有符合筛选条件的协议。", "清除筛选条件")])
def test_no_results_say_so_over_the_map_with_a_way_back(page_for, live_url, lang, message, clear):
    page, watch = open_map(page_for, live_url, f"/?lang={lang}&q=no-such-agreement-anywhere")
    state = page.locator(".gm-state-empty")
    assert state.inner_text().splitlines()[0] == message
    assert page.locator(".gm-legend").count() == 0
    link = state.locator("a.gm-clear")
    assert link.inner_text() == clear
    link.click()
    page.wait_for_function("() => window.geomapView && window.geomapView.data && window.geomapView.data.partners.length > 0")
    assert page.locator(".gm-state").count() == 0
    assert watch.errors == []


def test_set_data_keeps_the_view_and_the_year_range_masks_in_place(page_for, live_url, atlas):
    page, watch = open_map(page_for, live_url, "/?lang=en")
    page.evaluate("() => window.geomapView.map.setView([30.2, 121.1], 9, {animate: false})")
    settle(page)
    before = page.evaluate("() => [window.geomapView.map.getCenter(), window.geomapView.map.getZoom()]")
    # What the page's in-place filtering does: the map's JSON from a fetched page.
    count = page.evaluate("""async () => {
        const html = await (await fetch('/?lang=en&type=project')).text();
        const doc = new DOMParser().parseFromString(html, 'text/html');
        const read = (id) => JSON.parse(doc.getElementById(id).textContent);
        const ready = new Promise(r => document.addEventListener('geomap:ready', e => r(e.detail), {once: true}));
        await window.geomapView.setData(read('gm-map-data'), read('gm-map-settings'));
        return (await ready).partners; }""")
    projects = set(atlas.agreements.loc[atlas.agreements["type"] == "project", "place_id"])
    assert count == len(projects)
    settle(page)
    assert page.evaluate("() => [window.geomapView.map.getCenter(), window.geomapView.map.getZoom()]") == before
    shown = page.evaluate("() => window.geomapView.data.partners.map(p => p.id).filter(id => window.geomapView.elementFor(id))")
    assert set(shown) == projects

    # The years mask: markers and lines of other years go, without a request.
    n_requests = len(watch.requests)
    page.evaluate("() => window.geomapView.setYearRange(2023, 2023)")
    settle(page)
    in_2023 = set(atlas.agreements.loc[(atlas.agreements["type"] == "project") & (atlas.agreements["year"] == 2023), "place_id"])
    shown = page.evaluate("() => window.geomapView.data.partners.map(p => p.id).filter(id => window.geomapView.elementFor(id))")
    assert set(shown) == in_2023
    segments = page.evaluate("() => window.geomapView.lines.reduce((n, l) => n + l.getLatLngs().length, 0)")
    assert segments == len(atlas.agreements[(atlas.agreements["type"] == "project") & (atlas.agreements["year"] == 2023)])
    page.evaluate("() => window.geomapView.setYearRange(null, null)")
    settle(page)
    shown = page.evaluate("() => window.geomapView.data.partners.map(p => p.id).filter(id => window.geomapView.elementFor(id))")
    assert set(shown) == projects
    assert len(watch.requests) == n_requests
    assert watch.errors == []


def test_a_stack_opens_from_the_keyboard_with_focus_on_its_first_place(page_for, live_url):
    page, _ = open_map(page_for, live_url, "/?lang=en")
    page.focus(".folium-map")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.matches('.gm-stack')"):
            break
    label = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
    assert "more place" in label and page.evaluate("() => document.activeElement.getAttribute('aria-expanded')") == "false"
    members = page.evaluate("() => document.activeElement.gmLayer.getAllChildMarkers().map(m => m.gm.name)")
    assert len(members) >= 2
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.matches('.gm-marker[data-partner], .gm-site, .gm-hub')")
    settle(page)
    assert page.evaluate("() => document.activeElement.gmLayer.gm.name") in members
    assert page.evaluate("() => document.activeElement.getAttribute('aria-label')")
    page.keyboard.press("Enter")
    page.wait_for_function("() => !!document.activeElement.closest('[role=dialog]')")
