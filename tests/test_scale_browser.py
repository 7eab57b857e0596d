"""The map at 10,000 synthetic agreements, in Debian's Chromium: it loads, a marker can be clicked
and shows its popup, the filters still work. No timings here: figures belong in bench/run.py."""
from __future__ import annotations

import sys
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import REPO, screenshot
from geomap.options import Options
from geomap.select import select
from geomap.web import create_app

sys.path.insert(0, str(REPO / "bench"))
import generate  # noqa: E402

pytestmark = pytest.mark.browser

N = 10_000


@pytest.fixture(scope="module")
def big(tmp_path_factory, serve):
    """(base URL, app) serving N synthetic agreements (bench/generate.py, seed 1)."""
    data_dir = generate.generate(tmp_path_factory.mktemp("scale") / "geodata", agreements=N, seed=1)
    app = create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(data_dir)})
    return serve(app), app


def atlas_of(app):
    return app.extensions["geomap.atlas"]


def open_big_map(page_for, base: str, query: str = ""):
    page, watch = page_for(base)
    page.goto(f"{base}/{query}")
    page.wait_for_function("() => window.geomapView && window.geomapView.markers.length > 0", timeout=60_000)
    page.wait_for_selector(".gm-marker, .marker-cluster", state="visible")
    return page, watch


def data_requests(watch) -> list[dict]:
    return [parse_qs(urlsplit(u).query) for u in watch.requests if urlsplit(u).path == "/api/map.json"]


def test_the_page_loads_with_every_partner_and_a_small_html(page_for, big):
    base, app = big
    atlas = atlas_of(app)
    page, watch = open_big_map(page_for, base, "?lang=en")
    assert watch.errors == []
    # The page carries settings; the drawing data came from the cached API, once.
    assert len(data_requests(watch)) == 1
    assert page.evaluate("() => window.geomapView.markers.length") == len(atlas.partners)
    assert page.evaluate("() => window.geomapView.data.agreements.length") == N
    assert f"{N} agreements" in page.inner_text("#gm-count").replace(",", "")
    # Clustered at this zoom: far fewer elements than markers.
    shown = page.evaluate("() => document.querySelectorAll('.gm-marker, .marker-cluster').length")
    assert 0 < shown < len(atlas.partners)
    assert watch.foreign_requests() == []
    screenshot(page, "scale-index")


def _clickable_partner(page, atlas, candidates):
    """Zoom to a partner's marker until it is unclustered and on top at its centre; its id."""
    for pid in candidates:
        found = page.evaluate(
            """(pid) => new Promise((resolve) => {
                const v = window.geomapView;
                const i = v.data.partners.findIndex(p => p.id === pid);
                const marker = v.markers[i];
                v.map.closePopup();
                v.map.setView(marker.getLatLng(), 14, {animate: false});
                let tries = 0;
                (function check() {  // the cluster layer shows the marker, then it must be on top
                  const node = marker.getElement();
                  if (node && node.isConnected && getComputedStyle(node).opacity === "1") {
                    const r = node.getBoundingClientRect();
                    const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
                    return resolve(node === top || node.contains(top));
                  }
                  if (++tries > 50) return resolve(false);
                  setTimeout(check, 100);
                })();
            })""", pid)
        if found:
            return pid
    raise AssertionError("no partner marker could be brought on top of the others")


def test_a_marker_clicked_with_the_mouse_shows_its_agreements(page_for, big):
    base, app = big
    atlas = atlas_of(app)
    page, watch = open_big_map(page_for, base, "?lang=en")
    few = atlas.partners[atlas.partners["agreement_count"] <= 2].index[:40]
    pid = _clickable_partner(page, atlas, few)
    page.locator(f'.gm-marker[data-partner="{pid}"]').click()  # the mouse, at the marker's centre
    popup = page.locator(f'.leaflet-popup-content .gm-popup[data-partner="{pid}"]')
    popup.wait_for()
    # The agreements arrive from /api/map/<partner>.json and are drawn as text.
    popup.locator(".gm-agreement .gm-title, .gm-error").first.wait_for()
    assert popup.locator(".gm-error").count() == 0, (popup.inner_html(), watch.requests[-5:])
    text = popup.inner_text()
    mine = atlas.agreements[atlas.agreements["place_id"] == pid]
    for title in mine["title_en"]:
        assert title in text, (pid, text, watch.errors)
    assert popup.locator(".gm-agreement").count() == len(mine), (pid, text)
    assert any(urlsplit(u).path == f"/api/map/{pid}.json" for u in watch.requests)
    assert watch.errors == []
    screenshot(page, "scale-popup")

    # Opened again: from what was fetched, no second request.
    page.evaluate("() => window.geomapView.map.closePopup()")
    before = len(watch.requests)
    page.evaluate("(pid) => window.geomapView.focusPartner(pid, true)", pid)
    popup.locator(".gm-agreement .gm-title, .gm-error").first.wait_for()
    assert popup.locator(".gm-agreement").count() == len(mine), popup.inner_html()
    assert not any(urlsplit(u).path.startswith("/api/map/") for u in watch.requests[before:])


def test_a_list_row_opens_its_partners_popup_through_the_clusters(page_for, big):
    base, app = big
    page, _ = open_big_map(page_for, base, "?lang=en")
    row = page.locator("#gm-list .gm-locate").first
    pid = row.get_attribute("data-partner")
    row.click()
    popup = page.locator(f'.leaflet-popup-content .gm-popup[data-partner="{pid}"]')
    popup.wait_for(timeout=30_000)
    title = page.locator("#gm-list .gm-a-title").first.inner_text()
    popup.locator(".gm-agreement .gm-title").first.wait_for()
    assert title in popup.inner_text()


def test_filters_reduce_the_markers_and_the_count(page_for, big):
    base, app = big
    atlas = atlas_of(app)
    page, _ = open_big_map(page_for, base, "?lang=en")
    page.select_option("#gm-type", "forum")  # applies as it changes
    page.wait_for_url("**type=forum**")
    page.wait_for_function("() => window.geomapView && window.geomapView.data.agreements.length > 0", timeout=60_000)
    expected = select(atlas, Options(type=("forum",)), partner_filters=False)
    n_forum = expected.agreements["agreement_id"].nunique()
    assert 0 < n_forum < N
    assert page.evaluate("() => window.geomapView.markers.length") == len(expected.partners)
    assert page.evaluate("() => window.geomapView.data.agreements.length") == n_forum
    assert f"{n_forum} agreements" in page.inner_text("#gm-count").replace(",", "")

    # A search that leaves a handful: a small map, drawn inline, popups included.
    aid = "agreement-000123"
    page2, watch2 = open_big_map(page_for, base, f"?lang=en&q={aid}")
    assert data_requests(watch2) == []
    mine = atlas.agreements[atlas.agreements["agreement_id"] == aid]
    assert sorted(page2.evaluate("() => window.geomapView.data.partners.map(p => p.id)")) == sorted(mine["place_id"])
    assert "1 agreement" in page2.inner_text("#gm-count")


def test_partner_page_and_a_focused_popup_on_the_large_map(page_for, big):
    base, app = big
    atlas = atlas_of(app)
    pid = atlas.partners.index[1]
    mine = atlas.agreements[atlas.agreements["place_id"] == pid]
    page, watch = open_big_map(page_for, base, f"partners/{pid}?lang=en")
    assert page.evaluate("() => window.geomapView.data.partners[window.geomapView.data.focus].id") == pid
    assert page.locator("article.gm-agreement").count() == len(mine)
    assert watch.errors == []

    page2, watch2 = open_big_map(page_for, base, f"?lang=zh&partner={pid}&popup=1")
    popup = page2.locator(f'.leaflet-popup-content .gm-popup[data-partner="{pid}"]')
    popup.wait_for(timeout=30_000)
    popup.locator(".gm-agreement .gm-title").first.wait_for()
    assert popup.locator(".gm-agreement").count() == len(mine)
    titles = [t or e for t, e in zip(mine["title_zh"].fillna(""), mine["title_en"])]
    text = popup.inner_text()
    assert all(t in text for t in titles)
    assert watch2.errors == []


@pytest.fixture(scope="module")
def hostile_big(tmp_path_factory, serve):
    """600 synthetic agreements (a loaded map, above maps.INLINE_MAX) with hostile text everywhere."""
    import csv
    import io

    import yaml

    from test_map_browser import HOSTILE

    root = generate.generate(tmp_path_factory.mktemp("hostile-big") / "geodata", agreements=600, seed=3)
    rows = list(csv.DictReader(io.StringIO((root / "places.csv").read_text(encoding="utf-8"))))
    for i, row in enumerate(rows):
        row["name_en"] = f"{row['name_en']} {HOSTILE[i % len(HOSTILE)]}"
        row["name_zh"] = f"{row['name_zh']}{HOSTILE[(i + 1) % len(HOSTILE)]}"
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    (root / "places.csv").write_text(out.getvalue(), encoding="utf-8")
    items = yaml.safe_load((root / "agreements.yaml").read_text(encoding="utf-8"))
    for i, a in enumerate(items):
        evil = HOSTILE[i % len(HOSTILE)]
        for key in ("title_en", "title_zh", "summary_en", "summary_zh"):
            a[key] = f"{a.get(key) or ''} {evil}"
        a["parties"] = [{"name": f"{p['name']} {evil}", "role": evil} for p in a["parties"]]
        a["sources"] = [dict(s, title=f"{s['title']} {evil}", publisher=evil) for s in a["sources"]]
    (root / "agreements.yaml").write_text(yaml.safe_dump(items, allow_unicode=True), encoding="utf-8")
    app = create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(root)})
    return serve(app), app


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_hostile_text_stays_text_in_a_loaded_map(page_for, hostile_big, lang):
    from test_map_browser import HOSTILE

    base, app = hostile_big
    atlas = atlas_of(app)
    page, watch = page_for(base)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{base}/?lang={lang}")
    page.wait_for_function("() => window.geomapView && window.geomapView.markers.length > 0", timeout=60_000)
    assert len(data_requests(watch)) == 1  # a loaded map, not an inline one
    pid = _clickable_partner(page, atlas, atlas.partners.index[:40])
    page.locator(f'.gm-marker[data-partner="{pid}"]').click()
    popup = page.locator(f'.leaflet-popup-content .gm-popup[data-partner="{pid}"]')
    popup.locator(".gm-agreement .gm-title").first.wait_for()
    text = popup.inner_text()
    assert any(evil.strip() in text for evil in HOSTILE), text
    # The names on the map are text: the hostile strings show as characters.
    page.wait_for_function("() => [...document.querySelectorAll('.gm-label')].some(l => l.style.visibility !== 'hidden')")
    labels = page.eval_on_selector_all(".gm-label", "els => els.map(e => e.textContent)")
    assert any(evil.strip() in text for text in labels for evil in HOSTILE), labels
    assert page.evaluate("() => document.querySelectorAll('.leaflet-popup img, .leaflet-popup svg, .gm-label img, .gm-label svg, #gm-list img, #gm-list svg:not(.gm-icon)').length") == 0
    assert page.evaluate("() => window.__pwned") is None
    assert dialogs == [] and watch.errors == []
