"""Chinese and English, and the base maps, as a visitor sees them in Debian's Chromium: Chinese
popups with Chinese dates and amounts, the visible English-only mark, the language switch,
Accept-Language, and markers drawn where each base map needs them (GCJ-02 on Gaode)."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import yaml

from conftest import CHROMIUM_ARGS, PageWatch, screenshot  # noqa: F401
from geomap.geocode.datum import distance_m
from geomap.web import create_app

pytestmark = pytest.mark.browser

MARKER_LATLNG = """(pid) => {
  const m = window.geomapView.markers.find(x => x.getElement() && x.getElement().dataset.partner === pid);
  const ll = m.getLatLng();
  return [ll.lat, ll.lng];
}"""
LINES_TO = """(pid) => {
  // Every drawn link segment touching the partner's marker (a polyline may hold many segments).
  const v = window.geomapView;
  const target = v.markers.find(x => x.getElement() && x.getElement().dataset.partner === pid).getLatLng();
  const segments = [];
  v.lines.forEach(l => {
    const lls = l.getLatLngs();
    (Array.isArray(lls[0]) ? lls : [lls]).forEach(seg => segments.push(seg));
  });
  return segments.filter(seg => seg.some(ll => ll.equals(target, 1e-9)))
    .map(seg => seg.map(ll => [ll.lat, ll.lng]));
}"""


def open_map(page_for, base: str, path: str = "/"):
    page, watch = page_for(base)
    page.goto(f"{base}{path}")
    page.wait_for_selector(".gm-marker", state="attached")
    return page, watch


def open_popup(page, pid: str):
    page.evaluate("() => window.geomapView.closeDetails()")
    # Out of a stack of close places if it is in one, then its details.
    page.evaluate("(pid) => window.geomapView.focusPartner(pid, true)", pid)
    popup = page.locator(f'.leaflet-popup-content .gm-popup[data-partner="{pid}"]')
    popup.wait_for()
    page.wait_for_timeout(400)  # Leaflet fades popups in: let screenshots show it whole
    return popup


def record(atlas, agreement_id: str):
    return next(a for a in atlas.records.agreements if a.id == agreement_id)


# -- Chinese -----------------------------------------------------------------------------------------

def test_a_chinese_popup_shows_chinese_titles_dates_and_labels(page_for, live_url, atlas):
    page, watch = open_map(page_for, live_url, "/?lang=zh")
    assert page.get_attribute("html", "lang") == "zh-Hans"
    popup = open_popup(page, "shaoxing")
    text = popup.inner_text()
    sub_center = record(atlas, "shaoxing-tech-transfer-sub-center")
    assert sub_center.title_zh in text and sub_center.title_en not in text
    assert "2019年1月19日" in text and "2020年12月19日" in text
    assert "绍兴市" in text and "地级市" in text and "7项协议" in text
    for label in ("参与方", "领域", "上海方所在地", "来源", "全部协议及来源", "技术转移", "分中心"):
        assert label in text, label
    assert "January" not in text and "Parties" not in text
    # Chinese punctuation between items and after labels, and Leaflet's buttons in Chinese.
    assert "先进制造业；金融；生物医药；新材料" in text and "来源：" in text
    assert page.get_attribute(".leaflet-control-zoom-in", "title") == "放大"
    assert page.get_attribute(".leaflet-control-zoom-out", "title") == "缩小"
    # The legend too.
    legend = page.inner_text(".gm-legend")
    assert "图例" in legend and "论坛或活动" in legend and "上海方所在地" in legend
    assert watch.errors == []
    shot = screenshot(page, "i18n-zh-popup-shaoxing")
    assert shot.stat().st_size > 10_000


def test_a_chinese_popup_shows_the_amount_in_yi_yuan(page_for, live_url):
    page, _ = open_map(page_for, live_url, "/?lang=zh")
    text = open_popup(page, "ningbo").inner_text()
    assert "137亿元" in text and "2020年5月17日" in text and "billion" not in text
    screenshot(page, "i18n-zh-popup-ningbo")
    page.goto(f"{live_url}/?lang=en")
    page.wait_for_selector(".gm-marker", state="attached")
    text = open_popup(page, "ningbo").inner_text()
    assert "13.7 billion yuan" in text and "17 May 2020" in text
    assert page.get_attribute(".leaflet-control-zoom-in", "title") == "Zoom in"


@pytest.fixture(scope="module")
def missing_zh_url(tmp_path_factory, serve):
    """The shipped data without Fenhu's Chinese title, summary and name."""
    import shutil

    from conftest import GEODATA

    root = tmp_path_factory.mktemp("missing-zh") / "geodata"
    shutil.copytree(GEODATA, root)
    path = root / "agreements.yaml"
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    for a in items:
        if a["id"] == "fenhu-branch-center-framework":
            a.pop("title_zh")
            a.pop("summary_zh")
    path.write_text(yaml.safe_dump(items, allow_unicode=True, sort_keys=False), encoding="utf-8")
    places = root / "places.csv"
    places.write_text(places.read_text(encoding="utf-8").replace(",汾湖高新技术产业开发区,", ",,"),
                      encoding="utf-8")
    return serve(create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(root)}))


def test_missing_chinese_shows_english_with_a_visible_mark(page_for, missing_zh_url, atlas):
    page, watch = open_map(page_for, missing_zh_url, "/?lang=zh")
    popup = open_popup(page, "fenhu-hitech-zone")
    fenhu = record(atlas, "fenhu-branch-center-framework")
    marks = popup.locator(".gm-fallback")
    # The name, the title, the summary, and each source whose title the source gives in English only.
    expected = 3 + sum(1 for s in fenhu.sources if not s.title_zh)
    assert marks.count() == expected
    for i in range(expected):
        assert marks.nth(i).is_visible() and marks.nth(i).inner_text() == "仅有英文"
    text = popup.inner_text()
    assert fenhu.title_en in text and "Fenhu Hi-Tech Industrial Development Zone" in text
    assert "2019年7月23日" in text  # the rest stays Chinese
    # Marked in the list beside the map too.
    row = page.locator('#gm-list .gm-item[data-partner="fenhu-hitech-zone"]')
    row_marks = row.locator(".gm-fallback")  # the partner's name and the agreement's title
    assert row_marks.count() == 2 and all(row_marks.nth(i).is_visible() for i in range(2))
    screenshot(page, "i18n-zh-fallback")
    assert watch.errors == []


def test_the_language_switch_changes_the_page_and_keeps_the_filters(page_for, live_url):
    page, _ = open_map(page_for, live_url, "/?type=project&lang=en")
    assert page.inner_text(".gm-head h1") == "Shanghai partnership map"
    page.click('.gm-lang a[hreflang="zh"]')
    page.wait_for_url(re.compile(r".*lang=zh.*"))
    page.wait_for_selector(".gm-marker", state="attached")
    assert "type=project" in page.url
    assert page.get_attribute("html", "lang") == "zh-Hans"
    assert page.inner_text(".gm-head h1") == "上海合作伙伴地图"
    assert page.input_value("#gm-type") == "project"
    assert "项协议" in page.inner_text("#gm-count")
    # Filtering from the Chinese page stays Chinese.
    page.select_option("#gm-sector", "finance")  # applies as it changes
    page.wait_for_url(re.compile(r".*sector=finance.*"))
    assert "lang=zh" in page.url and page.get_attribute("html", "lang") == "zh-Hans"


def test_accept_language_picks_chinese_without_a_lang_in_the_url(browser, live_url):
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    try:
        page = ctx.new_page()
        watch = PageWatch(page, {urlsplit(live_url).netloc})
        page.goto(f"{live_url}/")
        page.wait_for_selector(".gm-marker", state="attached")
        assert page.get_attribute("html", "lang") == "zh-Hans"
        assert page.inner_text(".gm-legend-toggle") == "图例"
        assert watch.errors == []
    finally:
        ctx.close()
    ctx = browser.new_context(locale="en-US")
    try:
        page = ctx.new_page()
        PageWatch(page, {urlsplit(live_url).netloc})
        page.goto(f"{live_url}/")
        assert page.get_attribute("html", "lang") == "en"
    finally:
        ctx.close()


def test_a_chinese_embed_and_partner_page(page_for, live_url, app):
    page, watch = page_for(live_url)
    page.goto(f"{live_url}/partners/ningbo?lang=zh")
    page.wait_for_selector(".gm-marker", state="attached")
    assert page.get_attribute("html", "lang") == "zh-Hans"
    body = page.inner_text("body")
    assert "宁波市" in body and "浙江省" in body and "137亿元" in body and "返回地图" in body
    if "embed.embed" in app.view_functions:
        page.goto(f"{live_url}/embed?partner=shaoxing&popup=1&lang=zh")
        popup = page.locator(".leaflet-popup-content .gm-popup")
        popup.wait_for()
        assert "2019年1月19日" in popup.inner_text()
        assert page.get_attribute("html", "lang") == "zh-Hans"
    assert watch.errors == []


# -- base maps ---------------------------------------------------------------------------------------

TILE_HOSTS = {
    "osm": re.compile(r"^tile\.openstreetmap\.org$"),
    "carto-light": re.compile(r"^[abcd]\.basemaps\.cartocdn\.com$"),
    "gaode": re.compile(r"^webrd0[1-4]\.is\.autonavi\.com$"),
}
ATTRIBUTION = {"osm": "OpenStreetMap contributors", "carto-light": "CARTO", "gaode": "Gaode.com"}


@pytest.mark.parametrize("key", ["osm", "carto-light", "gaode"])
def test_each_base_map_asks_its_own_tiles_and_shows_its_attribution(page_for, live_url, key):
    page, watch = open_map(page_for, live_url, f"/?tiles={key}&lang=zh")
    page.wait_for_load_state("networkidle")
    hosts = {urlsplit(u).hostname for u in watch.tile_requests}
    assert hosts, "no tiles were asked for"
    assert all(TILE_HOSTS[key].match(h) for h in hosts), hosts
    assert watch.foreign_requests() == []
    attribution = page.inner_text(".leaflet-control-attribution")
    assert ATTRIBUTION[key] in attribution
    if key == "gaode":
        assert all(u.startswith("https://") for u in watch.tile_requests)
        assert page.get_attribute(".leaflet-control-attribution a[href*='gaode']", "href").startswith("https://")


def test_gaode_draws_shaoxing_about_half_a_kilometre_from_its_wgs84_position(page_for, live_url, atlas):
    place = atlas.places.loc["shaoxing"]
    page, watch = open_map(page_for, live_url, "/?tiles=gaode&lang=zh")
    lat, lon = page.evaluate(MARKER_LATLNG, "shaoxing")
    shift = distance_m(place["lon"], place["lat"], lon, lat)
    assert 300 <= shift <= 700, shift
    # Its links are shifted with it: each ends on the marker and starts on a shifted site.
    lines = page.evaluate(LINES_TO, "shaoxing")
    assert lines
    for line in lines:
        others = [pt for pt in line if pt != [lat, lon]]
        assert len(others) == len(line) - 1
        for o_lat, o_lon in others:  # the Shanghai-side end is shifted too: no place is under it
            assert min(distance_m(s["lon"], s["lat"], o_lon, o_lat)
                       for _, s in atlas.places.iterrows()) > 300
    # Every Shanghai-side site too.
    for site_id in set(atlas.links["shanghai_site"]):
        s = atlas.places.loc[site_id]
        slat, slon = page.evaluate(
            "(sid) => { const v = window.geomapView; const i = v.data.sites.findIndex(s => s.id === sid);"
            " return v.data.sites[i].ll; }", site_id)
        assert 300 <= distance_m(s["lon"], s["lat"], slon, slat) <= 700
    assert watch.tile_requests and all(TILE_HOSTS["gaode"].match(urlsplit(u).hostname) for u in watch.tile_requests)
    open_popup(page, "shaoxing")
    screenshot(page, "i18n-zh-gaode-shaoxing")
    assert watch.errors == []


def test_osm_draws_shaoxing_exactly_on_its_wgs84_position(page_for, live_url, atlas):
    place = atlas.places.loc["shaoxing"]
    page, watch = open_map(page_for, live_url, "/?tiles=osm")
    lat, lon = page.evaluate(MARKER_LATLNG, "shaoxing")
    assert lat == pytest.approx(place["lat"], abs=1e-6)
    assert lon == pytest.approx(place["lon"], abs=1e-6)
    assert watch.tile_requests and all(TILE_HOSTS["osm"].match(urlsplit(u).hostname) for u in watch.tile_requests)


def test_the_base_map_switch_in_the_panel(page_for, live_url, atlas):
    page, watch = open_map(page_for, live_url, "/?lang=zh")
    before = page.evaluate(MARKER_LATLNG, "shaoxing")
    page.select_option("#gm-tiles", "gaode")  # a new base map loads the page again
    page.wait_for_url(re.compile(r".*tiles=gaode.*"))
    page.wait_for_selector(".gm-marker", state="attached")
    assert "lang=zh" in page.url
    after = page.evaluate(MARKER_LATLNG, "shaoxing")
    assert 300 <= distance_m(before[1], before[0], after[1], after[0]) <= 700
    assert page.input_value("#gm-tiles") == "gaode"
    page.wait_for_load_state("networkidle")
    assert any(TILE_HOSTS["gaode"].match(urlsplit(u).hostname) for u in watch.tile_requests)


def test_a_china_deployment_defaults_to_gaode(page_for, serve, atlas):
    url = serve(create_app({"TESTING": True, "GEOMAP_DEFAULT_TILES": "gaode"}))
    page, watch = open_map(page_for, url, "/?lang=zh")
    place = atlas.places.loc["shaoxing"]
    lat, lon = page.evaluate(MARKER_LATLNG, "shaoxing")
    assert 300 <= distance_m(place["lon"], place["lat"], lon, lat) <= 700
    page.wait_for_load_state("networkidle")
    assert watch.tile_requests and all(TILE_HOSTS["gaode"].match(urlsplit(u).hostname) for u in watch.tile_requests)
