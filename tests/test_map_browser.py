"""The map as a visitor uses it, in Debian's Chromium: markers, clicks, popups, filters, search,
no foreign requests, and hostile data that must stay text."""
from __future__ import annotations

import csv
import io

import pytest
import yaml

from conftest import screenshot
from geomap.web import create_app

pytestmark = pytest.mark.browser


def open_map(page_for, base: str, query: str = ""):
    page, watch = page_for(base)
    page.goto(f"{base}/{query}")
    page.wait_for_selector(".gm-marker", state="attached")
    return page, watch


def click_partner(page, pid: str):
    """Close any details, zoom in on the partner's marker until no other is within a fingertip,
    and click it with the mouse."""
    page.evaluate("() => window.geomapView.closeDetails()")
    settle(page)
    page.evaluate(
        "(pid) => { const v = window.geomapView; const i = v.data.partners.findIndex(p => p.id === pid);"
        " v.map.setView(v.markers[i].getLatLng(), 14, {animate: false}); }", pid)
    settle(page)
    page.locator(f'.gm-marker[data-partner="{pid}"]').wait_for()
    page.locator(f'.gm-marker[data-partner="{pid}"]').click()
    popup = page.locator(".leaflet-popup-content .gm-popup")
    popup.wait_for()
    return popup


def settle(page):
    """Wait for Leaflet.markercluster's regrouping animation: a move made during it is ignored."""
    page.wait_for_function("() => !document.querySelector('.leaflet-cluster-anim')")


def partner_ids(atlas) -> set[str]:
    return set(atlas.partners.index)


def shown_partners(page) -> list[str]:
    """The partners on the map: each stands for itself, or is in a stack of close ones."""
    return page.evaluate("() => window.geomapView.data.partners.map(p => p.id)"
                         ".filter(id => window.geomapView.elementFor(id))")


def test_one_marker_per_partner(page_for, live_url, atlas):
    page, watch = open_map(page_for, live_url)
    assert sorted(shown_partners(page)) == sorted(partner_ids(atlas))
    # Markers that stand alone are named buttons; the others are in a named stack.
    alone = page.eval_on_selector_all(".gm-marker[data-partner]", "els => els.map(e => e.dataset.partner)")
    stacks = page.eval_on_selector_all(".leaflet-marker-icon.gm-stack", "els => els.map(e => e.getAttribute('aria-label'))")
    assert alone and all(stacks)
    # The Shanghai-side sites are drawn too, as their own markers, each zoomed to.
    sites = set(page.evaluate("() => window.geomapView.data.sites.map(s => s.id)"))
    assert sites == set(atlas.links["shanghai_site"])
    for sid in sites:
        settle(page)
        page.evaluate("(sid) => { const v = window.geomapView; const s = v.data.sites.find(x => x.id === sid);"
                      " v.map.setView(s.ll, 16, {animate: false}); }", sid)
        page.locator(f'.leaflet-marker-icon[data-site="{sid}"]').wait_for(state="attached")
    assert watch.errors == []
    page.evaluate("() => window.geomapView.setData(window.geomapView.data)")
    screenshot(page, "map-index")


def test_mouse_click_on_marker_opens_popup_with_agreement_details(page_for, live_url, atlas):
    page, watch = open_map(page_for, live_url)
    marker = page.locator('.gm-marker[data-partner="fenhu-hitech-zone"]')
    marker.click()  # a real mouse click at the marker's centre, not a JS call
    popup = page.locator(".leaflet-popup-content .gm-popup")
    popup.wait_for()
    text = popup.inner_text()
    record = next(a for a in atlas.records.agreements if a.id == "fenhu-branch-center-framework")
    assert record.title_en in text
    assert "23 July 2019" in text
    for party in record.parties:
        assert party.name in text
    assert "Sub-center" in text
    # Keep the picture once Leaflet's fade-in and auto-pan have finished.
    page.wait_for_function("() => getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'")
    page.wait_for_timeout(400)
    screenshot(page, "map-popup-fenhu")


def test_every_partner_marker_is_clickable_despite_the_lines(page_for, live_url, atlas):
    """Lines end at markers; a click there must reach the marker, for every partner."""
    page, watch = open_map(page_for, live_url)
    # Lines take no pointer events at all (folium's PolyLine would drop this option): one
    # path per family, a segment per (agreement, site, partner).
    segments = page.evaluate("() => window.geomapView.lines.reduce((n, l) => n + l.getLatLngs().length, 0)")
    assert segments == len(atlas.agreements)
    assert page.evaluate("() => window.geomapView.lines.every(l => l.options.interactive === false)")
    for pid in sorted(partner_ids(atlas)):
        popup = click_partner(page, pid)
        assert popup.get_attribute("data-partner") == pid
    assert watch.errors == []


def test_popup_shows_amount_readably_and_lists_many_agreements_compactly(page_for, live_url):
    page, _ = open_map(page_for, live_url)
    popup = click_partner(page, "ningbo")
    assert "13.7 billion yuan" in popup.inner_text()
    page.keyboard.press("Escape")
    page.locator(".gm-popup").wait_for(state="detached")  # after Leaflet's fade-out
    shaoxing = click_partner(page, "shaoxing")
    # Seven agreements: the details scroll inside themselves and stay inside the map, the
    # heading and the close button in view at the top.
    scroller = page.locator(".leaflet-popup-content")
    assert scroller.evaluate("el => el.scrollHeight > el.clientHeight")
    page.wait_for_timeout(400)  # Leaflet's auto-pan
    box = page.locator(".leaflet-popup").bounding_box()
    mapbox = page.locator(".folium-map").bounding_box()
    assert box["x"] >= mapbox["x"] and box["y"] >= mapbox["y"] - 1
    assert box["x"] + box["width"] <= mapbox["x"] + mapbox["width"] + 1
    assert box["y"] + box["height"] <= mapbox["y"] + mapbox["height"] + 1
    scroller.evaluate("el => el.scrollTop = el.scrollHeight")
    close = shaoxing.locator(".gm-close").bounding_box()
    assert close["y"] >= box["y"] and close["width"] >= 24 and close["height"] >= 24
    assert shaoxing.locator("a.gm-more").get_attribute("href") == "/partners/shaoxing"


def test_list_row_focuses_marker_and_opens_popup(page_for, live_url):
    page, _ = open_map(page_for, live_url)
    page.locator('#gm-list .gm-locate[data-partner="cixi"]').click()
    popup = page.locator(".leaflet-popup-content .gm-popup")
    popup.wait_for()
    assert popup.get_attribute("data-partner") == "cixi"


def test_filters_and_search_change_what_is_shown(page_for, live_url, atlas):
    page, _ = open_map(page_for, live_url)
    page.select_option("#gm-type", "sub-center")  # applies as it changes
    page.wait_for_url("**type=sub-center**")
    page.wait_for_selector(".gm-marker", state="attached")
    shown = set(shown_partners(page))
    expected = set(atlas.agreements.loc[atlas.agreements["type"] == "sub-center", "place_id"])
    assert shown == expected

    page.goto(f"{live_url}/")
    page.fill("#gm-q", "Cixi")
    page.press("#gm-q", "Enter")
    page.wait_for_url("**q=Cixi**")
    page.wait_for_selector(".gm-marker", state="attached")
    shown = set(shown_partners(page))
    assert shown == {"cixi"}
    assert "1 agreement" in page.inner_text("#gm-count")

    page.goto(f"{live_url}/?year_from=2023")
    page.wait_for_selector(".gm-marker", state="attached")
    shown = set(shown_partners(page))
    expected = set(atlas.agreements.loc[atlas.agreements["year"] >= 2023, "place_id"])
    assert shown == expected and "shangyu" in shown and "shaoxing" not in shown


def test_page_requests_nothing_from_other_hosts(page_for, live_url):
    page, watch = open_map(page_for, live_url)
    page.locator('.gm-marker[data-partner="shaoxing"]').click()
    page.wait_for_selector(".leaflet-popup-content")
    page.wait_for_load_state("networkidle")
    assert watch.foreign_requests() == []
    assert watch.tile_requests, "the base map asked for no tiles"
    page2, watch2 = page_for(live_url)
    page2.goto(f"{live_url}/partners/shaoxing")
    page2.wait_for_load_state("networkidle")
    assert watch2.foreign_requests() == []


HOSTILE = [
    '<img src=x onerror="window.__pwned=1">',
    "<script>window.__pwned=2</script>",
    "`${window.__pwned=3}`",
    "{{7*7}}{% raw %}",
    '</script><script>window.__pwned=4</script>',
    "\"'><svg onload=window.__pwned=5>",
    "\u2028${alert(1)}\u2029",
]


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory, serve):
    """The shipped data with hostile text in every text field of every record."""
    import shutil

    from conftest import GEODATA

    root = tmp_path_factory.mktemp("hostile") / "geodata"
    shutil.copytree(GEODATA, root)
    rows = list(csv.DictReader(io.StringIO((root / "places.csv").read_text(encoding="utf-8"))))
    for i, row in enumerate(rows):
        evil = HOSTILE[i % len(HOSTILE)]
        row["name_en"] = f"{row['name_en']} {evil}"
        row["name_zh"] = f"{row['name_zh']}{evil}"
        row["prefecture"] = row["prefecture"]
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    (root / "places.csv").write_text(out.getvalue(), encoding="utf-8")

    items = yaml.safe_load((root / "agreements.yaml").read_text(encoding="utf-8"))
    for i, a in enumerate(items):
        evil = HOSTILE[i % len(HOSTILE)]
        for key in ("title_en", "title_zh", "summary_en", "summary_zh", "date_note", "date_note_zh"):
            a[key] = f"{a.get(key) or ''} {evil}"
        a["parties"] = [{"name": f"{p['name']} {evil}", "role": evil, "name_zh": f"{p.get('name_zh') or ''}{evil}",
                         "role_zh": evil} for p in a["parties"]] or [{"name": evil, "role": evil}]
        a["sources"] = [dict(s, title=f"{s['title']} {evil}", title_zh=f"{s.get('title_zh') or ''}{evil}", publisher=evil)
                        for s in a["sources"]]
    (root / "agreements.yaml").write_text(yaml.safe_dump(items, allow_unicode=True), encoding="utf-8")
    app = create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(root)})
    return serve(app)


@pytest.mark.parametrize("path", ["/", "/?lang=zh", "/partners/shaoxing", "/partners/ningbo?lang=zh",
                                  "/sites/qingpu", "/sites/shanghai?lang=zh", "/embed?timeline=1&lang=zh"])
def test_hostile_data_never_runs_and_map_still_renders(page_for, hostile_url, path):
    page, watch = page_for(hostile_url)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{hostile_url}{path}")
    page.wait_for_selector(".gm-marker", state="attached")
    assert watch.errors == []
    pids = page.evaluate("() => window.geomapView.data.partners.map(p => p.id)")
    # The names on the map are text too: the hostile strings show as characters.
    labels = page.eval_on_selector_all(".gm-label", "els => els.map(e => e.textContent)")
    assert any(evil.strip() in text for text in labels for evil in HOSTILE), labels
    for pid in pids[:6]:
        text = click_partner(page, pid).inner_text()
        # The hostile text is shown as the literal characters it is.
        assert any(evil.strip() in text for evil in HOSTILE), text
    assert page.evaluate("() => window.__pwned") is None
    assert dialogs == []
    # Tooltips (a name where the map has no room for its label) are text too.
    page.evaluate("() => window.geomapView.closeDetails()")
    page.evaluate("() => window.geomapView.map.setZoom(6, {animate: false})")
    page.wait_for_timeout(300)
    page.mouse.move(0, 0)
    unnamed = page.evaluate("""() => { const named = new Set([...document.querySelectorAll('.gm-label')]
        .filter(l => l.style.visibility !== 'hidden').map(l => l.dataset.name));
        const m = [...document.querySelectorAll('.gm-sym[aria-label]')].find(e => e.gmLayer && e.gmLayer.gm && !named.has(e.gmLayer.gm.name));
        if (m) m.setAttribute('data-unnamed', '1'); return !!m; }""")
    if unnamed:
        page.locator("[data-unnamed]").first.hover()
        page.wait_for_selector(".leaflet-tooltip")
    assert page.evaluate("() => document.querySelectorAll('.leaflet-tooltip img, .leaflet-tooltip svg, .leaflet-popup img, .leaflet-popup svg, .gm-label img, .gm-label svg').length") == 0
    assert page.evaluate("() => window.__pwned") is None
    screenshot(page, "map-hostile" + path.replace("/", "_").replace("?", "_").replace("=", "-"))
