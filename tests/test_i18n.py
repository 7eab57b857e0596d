"""Chinese and English: the message catalogs, every page in both languages, Accept-Language,
the visible fallback to English, locale formats; and the base maps (tiles=osm|carto-light|gaode)
with the GCJ-02 display shift that must never reach the data, the API or the exports."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
import yaml
from babel.messages.checkers import python_format
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from conftest import GEODATA, REPO
from geomap import atlas as atlas_mod, i18n, payload, tiles
from geomap.geocode.datum import distance_m, gcj02_to_wgs84, wgs84_to_gcj02
from geomap.options import Options, OptionsError, parse
from geomap.payload import KIND_LABELS, PROVINCE_LABELS, SECTOR_LABELS, TYPE_LABELS, UI
from geomap.select import select
from geomap.web import create_app

CATALOGS = REPO / "geomap" / "translations"
POT = CATALOGS / "messages.pot"
PO = CATALOGS / "zh" / "LC_MESSAGES" / "messages.po"
MO = CATALOGS / "zh" / "LC_MESSAGES" / "messages.mo"


def read_catalog(path: Path, locale: str | None = "zh"):
    with open(path, "rb") as fh:
        return read_po(fh, locale=locale)


def extracted() -> dict:
    """Every message the code and templates mark, extracted as `make messages` does (babel.cfg)."""
    with open(REPO / "babel.cfg", encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, str(REPO / "babel.cfg"))
    found = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
            str(REPO), method_map, options_map, keywords=DEFAULT_KEYWORDS):
        key = message if isinstance(message, str) else tuple(message)
        found.setdefault(key, filename)
    return found


def msg_key(message):
    return message.id if isinstance(message.id, str) else tuple(message.id)


# -- the catalogs ---------------------------------------------------------------------------------

def test_the_catalog_sits_where_i18n_loads_it():
    t = i18n.translations("zh")
    assert t.gettext("Legend") == "图例"
    assert t.ngettext("%(num)s agreement", "%(num)s agreements", 3) == "%(num)s项协议"
    assert i18n.translations("en").gettext("Legend") == "Legend"


def test_the_pot_lists_exactly_what_the_code_and_templates_mark():
    """A string added to the code without `make messages` fails here."""
    in_code = extracted()
    in_pot = {msg_key(m) for m in read_catalog(POT, None) if m.id}
    assert set(in_code) - in_pot == set(), "run `make messages`: new strings are not in the .pot"
    assert in_pot - set(in_code) == set(), "run `make messages`: the .pot has strings no longer used"
    # The labels the payload and pages translate at run time are marked, so extracted.
    for table in (TYPE_LABELS, SECTOR_LABELS, KIND_LABELS, PROVINCE_LABELS, UI):
        assert set(table.values()) <= in_pot


def test_every_message_has_a_chinese_translation():
    po = read_catalog(PO)
    by_id = {msg_key(m): m for m in po if m.id}
    missing, fuzzy = [], []
    for key in extracted():
        m = by_id.get(key)
        strings = [] if m is None else ([m.string] if isinstance(m.string, str) else list(m.string))
        if m is None or not all(s and s.strip() for s in strings):
            missing.append(key)
        elif m.fuzzy:
            fuzzy.append(key)
    assert missing == [], f"untranslated in {PO.relative_to(REPO)}"
    assert fuzzy == [], "fuzzy entries are not compiled: review them and drop the fuzzy flag"
    assert po.plural_forms == "nplurals=1; plural=0;"


def test_translations_keep_the_placeholders():
    po = read_catalog(PO)
    for m in po:
        if m.id and m.python_format:
            python_format(po, m)  # raises TranslationError on a lost or extra placeholder
    # Chinese text, not a copy of the English.
    same = [m.id for m in po if m.id and isinstance(m.id, str) and m.string == m.id]
    assert same == []


def test_the_committed_mo_is_compiled_from_the_committed_po():
    """Edit the .po and forget `make messages` (pybabel compile): this fails."""
    po = read_catalog(PO)
    compiled = io.BytesIO()
    write_mo(compiled, po)
    compiled.seek(0)
    fresh = read_mo(compiled)
    with open(MO, "rb") as fh:
        committed = read_mo(fh)

    def entries(cat):
        return {msg_key(m): m.string if isinstance(m.string, str) else tuple(m.string)
                for m in cat if m.id}

    assert entries(committed) == entries(fresh)


def test_the_makefile_target_runs_the_babel_tools():
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    target = makefile[makefile.index("\nmessages:"):]
    assert "pybabel extract -F babel.cfg -k N_ -o geomap/translations/messages.pot ." in target
    assert "pybabel update" in target and "pybabel compile" in target


# -- every page in both languages -----------------------------------------------------------------

# path -> (a string the English page shows, what the Chinese page shows instead)
PAGES = {
    "/": ("Shanghai partnership map", "上海合作伙伴地图"),
    "/?type=project&year_from=2020": ("Download the data", "下载数据"),
    "/partners/shaoxing": ("Back to the map", "返回地图"),
    "/partners/ningbo": ("13.7 billion yuan", "137亿元"),
    "/embed?partner=shaoxing": ("Shanghai partnership map", "上海合作伙伴地图"),
    "/embed/code": ("Embed the map", "嵌入地图"),
}
# The snippet builder's own language is `ui`: its `lang` is the embed's, part of the snippet.
LANG_PARAM = {"/embed/code": "ui"}
ERRORS = {
    "/?year_from=19x": (400, "is not a year", "不是有效的年份"),
    "/?tiles=google": (400, "is not a base map", "不是可用的底图"),
    "/no-such-page": (404, "There is no page at this address", "此地址没有页面"),
    "/partners/atlantis": (404, "No partner place has the id", "没有 ID 为"),
}


def html_lang(html: str) -> str:
    return re.search(r"<html lang=\"([^\"]+)\"", html).group(1)


def tojson(value) -> str:
    """As Jinja's tojson writes a string into a page (folium's templates use it)."""
    return (json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026").replace("'", "\\u0027"))


def needs_route(app, path: str):
    adapter = app.url_map.bind("localhost")
    try:
        adapter.match(path.split("?")[0])
    except Exception:
        pytest.skip(f"{path} is not served yet")


def joiner(path: str) -> str:
    return "&" if "?" in path else "?"


@pytest.mark.parametrize("path", PAGES)
def test_every_page_in_both_languages(client, app, path):
    needs_route(app, path)
    en_text, zh_text = PAGES[path]
    param = LANG_PARAM.get(path, "lang")
    en = client.get(path + joiner(path) + param + "=en")
    zh = client.get(path + joiner(path) + param + "=zh")
    assert en.status_code == zh.status_code == 200
    en_html, zh_html = en.get_data(as_text=True), zh.get_data(as_text=True)
    assert html_lang(en_html) == "en"
    assert html_lang(zh_html) == "zh-Hans"
    assert en_text in en_html and zh_text not in en_html
    assert zh_text in zh_html and en_text not in zh_html


@pytest.mark.parametrize("path", ERRORS)
def test_error_pages_in_both_languages(client, path):
    status, en_text, zh_text = ERRORS[path]
    en = client.get(path + joiner(path) + "lang=en")
    zh = client.get(path + joiner(path) + "lang=zh")
    assert en.status_code == zh.status_code == status
    en_html, zh_html = en.get_data(as_text=True), zh.get_data(as_text=True)
    assert html_lang(en_html) == "en" and html_lang(zh_html) == "zh-Hans"
    assert en_text in en_html and zh_text in zh_html
    assert "Back to the map" in en_html and "返回地图" in zh_html
    title = {400: ("Bad Request", "请求有误"), 404: ("Not Found", "未找到")}[status]
    assert f"<h1>{status} {title[0]}</h1>" in en_html and f"<h1>{status} {title[1]}</h1>" in zh_html
    # A switch to the other language keeps the rest of the address.
    assert 'href="' + path.split("?")[0] in zh_html


def test_an_unknown_lang_gets_a_400_in_the_browsers_language(client):
    r = client.get("/?lang=fr", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert html_lang(html) == "zh-Hans"
    assert "lang=&#39;fr&#39; 不是可用的语言" in html
    assert "Accept-Language" in r.headers.get("Vary", "")


def test_option_errors_stay_english_for_scripts_and_the_command_line(client):
    r = client.get("/api/partners.geojson?year_from=19x&lang=zh")
    assert r.status_code == 400
    assert r.get_json()["error"]["message"] == "year_from='19x' is not a year; use four digits between 1949 and 2100"
    with pytest.raises(OptionsError) as exc:
        parse({"tiles": "google"})
    assert str(exc.value) == "tiles='google' is not a base map; use one of osm, carto-light, gaode"
    assert exc.value.message.translate("zh") == "tiles='google' 不是可用的底图；请使用以下之一：osm, carto-light, gaode"


def test_the_chinese_page_has_no_english_ui_left(client, atlas):
    """Every label of the panel, the list, the legend and the popups is in Chinese."""
    html = client.get("/?lang=zh").get_data(as_text=True)
    panel = html[html.index("<aside"):html.index("</aside>")]
    for english in ("Search", "From year", "Type", "All sectors", "Province", "Base map", "Apply",
                    "Clear", "agreements", "partners", "Partner page", "Download the data", "Zhejiang"):
        assert re.search(rf">[^<]*\b{english}\b", panel) is None, english
    shown = re.sub(r"<[^>]*>", "", panel)  # the text a visitor reads (<time datetime> keeps ISO)
    assert "2019年7月23日" in shown and "2019-07-23" not in shown
    data = drawn(atlas, lang="zh")
    labels = data["labels"]
    assert labels["legend"] == "图例" and labels["fallback"] == "仅有英文"
    assert [f["label"] for f in labels["families"]] == ["分中心", "协议", "项目", "论坛或活动"]
    shaoxing = next(p for p in data["partners"] if p["id"] == "shaoxing")
    assert shaoxing["name"] == "绍兴市" and shaoxing["kind"] == "地级市"
    fenhu = next(a for a in data["agreements"] if a["id"] == "fenhu-branch-center-framework")
    assert fenhu["title"].startswith("共建国家技术转移东部中心汾湖分中心") and fenhu["type"] == "分中心"
    assert fenhu["date"] == "2019年7月23日"
    assert "江苏省" in panel and "浙江省" in panel


def test_partner_page_shows_the_province_and_kind_in_chinese(client):
    html = client.get("/partners/wujiang?lang=zh").get_data(as_text=True)
    assert "市辖区 · 江苏省" in html
    assert "District · Jiangsu" in client.get("/partners/wujiang?lang=en").get_data(as_text=True)


# -- Accept-Language ---------------------------------------------------------------------------------

@pytest.mark.parametrize("header, lang", [
    ("zh-CN,zh;q=0.9", "zh"),
    ("zh-TW,zh;q=0.8,en;q=0.5", "zh"),
    ("zh", "zh"),
    ("en-US,en;q=0.9", "en"),
    ("en-US", "en"),
    ("fr", "en"),
    ("fr-FR,fr;q=0.9,zh-CN;q=0.5", "zh"),
    ("de-DE,en;q=0.8,zh;q=0.5", "en"),
    (None, "en"),
])
def test_accept_language_chooses_when_the_url_does_not(client, header, lang):
    headers = {"Accept-Language": header} if header else {}
    r = client.get("/", headers=headers)
    assert r.status_code == 200
    assert html_lang(r.get_data(as_text=True)) == ("zh-Hans" if lang == "zh" else "en")
    assert "Accept-Language" in r.headers.get("Vary", "")


def test_the_url_wins_over_accept_language_and_does_not_vary(client):
    r = client.get("/partners/shaoxing?lang=en", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert html_lang(r.get_data(as_text=True)) == "en"
    assert "Accept-Language" not in r.headers.get("Vary", "")
    r = client.get("/partners/shaoxing", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert html_lang(r.get_data(as_text=True)) == "zh-Hans"
    assert "Accept-Language" in r.headers.get("Vary", "")


def test_the_language_switch_keeps_the_choice_and_the_filters_in_the_url(client):
    html = client.get("/?type=project&year_from=2020", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    switch = html[html.index('<nav class="gm-lang"'):]
    switch = switch[:switch.index("</nav>")]
    links = dict(re.findall(r'href="([^"]+)" hreflang="(\w+)"', switch))
    by_lang = {v: k.replace("&amp;", "&") for k, v in links.items()}
    for code in ("en", "zh"):
        assert f"lang={code}" in by_lang[code]
        assert "type=project" in by_lang[code] and "year_from=2020" in by_lang[code]
    # Once chosen, the language stays in the form and the links.
    html = client.get("/?lang=zh").get_data(as_text=True)
    assert '<input type="hidden" name="lang" value="zh">' in html
    assert 'href="/partners/shaoxing?lang=zh"' in html


# -- data: Chinese fields and the visible fallback ------------------------------------------------

def payload_of(html: str) -> dict:
    """The map's data as a page carries it (its exact shape is geomap.js's business)."""
    m = re.search(r'<script type="application/json" id="[^"]+-data">(.*?)</script>', html, re.S)
    return json.loads(m.group(1))


def drawn(atlas, *, lang: str, tiles_key: str = "osm", **opts) -> dict:
    """Everything the map shows for these options, in full: payload.build's dict."""
    options = Options(**opts)
    return payload.build(atlas, select(atlas, options, partner_filters=False), options,
                         lang=lang, gcj02=tiles.get(tiles_key).gcj02)


@pytest.fixture()
def missing_zh_client(data_copy):
    """The shipped data with the Chinese title, summary and name of Fenhu taken out."""
    path = data_copy / "agreements.yaml"
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    for a in items:
        if a["id"] == "fenhu-branch-center-framework":
            a.pop("title_zh")
            a.pop("summary_zh")
    path.write_text(yaml.safe_dump(items, allow_unicode=True, sort_keys=False), encoding="utf-8")
    places = data_copy / "places.csv"
    text = places.read_text(encoding="utf-8")
    places.write_text(text.replace(",汾湖高新技术产业开发区,", ",,"), encoding="utf-8")
    return create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(data_copy)}).test_client()


def test_missing_chinese_falls_back_to_english_with_a_visible_mark(missing_zh_client, data_copy):
    html = missing_zh_client.get("/?lang=zh").get_data(as_text=True)
    data = drawn(atlas_mod.build(data_copy), lang="zh")
    a = next(a for a in data["agreements"] if a["id"] == "fenhu-branch-center-framework")
    assert a["title"].startswith("Cooperation Framework Agreement") and a["tfb"] is True
    assert a["summary"].startswith("Signed at the regional") and a["sfb"] is True
    p = next(p for p in data["partners"] if p["id"] == "fenhu-hitech-zone")
    assert p["name"] == "Fenhu Hi-Tech Industrial Development Zone" and p["fb"] is True
    # Records that have their Chinese are not marked.
    other = next(a for a in data["agreements"] if a["id"] == "shaoxing-tech-transfer-sub-center")
    assert other["tfb"] is False and other["sfb"] is False
    # The list marks the English title.
    row = html[html.index('data-partner="fenhu-hitech-zone"'):]
    row = row[:row.index("</li>")]
    assert '<span lang="en">Cooperation Framework Agreement' in row
    assert '<span class="gm-fallback">仅有英文</span>' in row

    page = missing_zh_client.get("/partners/fenhu-hitech-zone?lang=zh").get_data(as_text=True)
    assert '<h1><span lang="en">Fenhu Hi-Tech Industrial Development Zone</span><span class="gm-fallback">仅有英文</span></h1>' in page
    for english in ("Cooperation Framework Agreement for the Establishment", "Signed at the regional"):
        at = page.index(f'<span lang="en">{english}')
        assert page[at:].split("</span>", 1)[1].startswith('<span class="gm-fallback">仅有英文</span>'), english
    # Every English text the page shows is inside lang="en" and followed by the mark.
    assert page.count('<span class="gm-fallback">仅有英文</span>') >= 3
    # English pages have nothing to mark.
    assert "gm-fallback\">" not in missing_zh_client.get("/partners/fenhu-hitech-zone?lang=en").get_data(as_text=True)


def test_shipped_records_without_chinese_are_marked(client, atlas):
    """Beilun's project has no established Chinese title: it shows in English, marked."""
    no_title = set(atlas.agreements.loc[atlas.agreements["title_zh"].isna(), "agreement_id"])
    data = drawn(atlas, lang="zh")
    for a in data["agreements"]:
        assert a["tfb"] is (a["id"] in no_title)
    no_name = set(atlas.partners.index[atlas.partners["name_zh"].isna()])
    for p in data["partners"]:
        assert p["fb"] is (p["id"] in no_name)
        assert isinstance(p["name"], str) and p["name"]
    if no_name:
        pid = sorted(no_name)[0]
        html = client.get(f"/partners/{pid}?lang=zh").get_data(as_text=True)
        assert "仅有英文" in html


def test_shipped_chinese_text_is_simplified_and_complete_where_known():
    places = (GEODATA / "places.csv").read_text(encoding="utf-8")
    items = yaml.safe_load((GEODATA / "agreements.yaml").read_text(encoding="utf-8"))
    # A few traditional characters that must not appear in simplified text.
    traditional = set("與區會東發區開協議項資産業醫藥濱灣蘇紹寧閩後為")
    text = places + "".join(str(a.get(k) or "") for a in items for k in ("title_zh", "summary_zh"))
    assert not (set(text) & traditional)
    assert all(a.get("summary_zh") for a in items)
    known = {"shaoxing": "绍兴市", "ningbo": "宁波市", "wujiang": "吴江区", "jiashan": "嘉善县",
             "shanghai-stock-exchange": "上海证券交易所"}
    for pid, name in known.items():
        assert f"{pid}," in places and f",{name}," in places


# -- numbers and dates -----------------------------------------------------------------------------

@pytest.mark.parametrize("iso, precision, en, zh", [
    ("2019-07-23", "day", "23 July 2019", "2019年7月23日"),
    ("2019-01-19", "day", "19 January 2019", "2019年1月19日"),
    ("2020-12-09", "day", "9 December 2020", "2020年12月9日"),
    ("2019-07-01", "month", "July 2019", "2019年7月"),
    ("2019-01-01", "year", "2019", "2019年"),
])
def test_dates_follow_the_locale_and_their_precision(iso, precision, en, zh):
    assert i18n.format_agreement_date(iso, precision, "en") == en
    assert i18n.format_agreement_date(iso, precision, "zh") == zh


@pytest.mark.parametrize("value, en, zh", [
    (13_700_000_000, "13.7 billion yuan", "137亿元"),
    (2_000_000_000, "2 billion yuan", "20亿元"),
    (350_000_000, "350 million yuan", "3.5亿元"),
    (50_000_000, "50 million yuan", "5000万元"),
    (120_000, "120 thousand yuan", "12万元"),
    (8_000, "8,000 yuan", "8,000元"),
])
def test_amounts_follow_the_locale(value, en, zh):
    assert i18n.format_amount(value, "en") == en
    assert i18n.format_amount(value, "zh") == zh


def test_no_amount_is_no_text():
    assert i18n.format_amount(None, "zh") is None
    assert i18n.format_amount(float("nan"), "en") is None


def test_pages_show_locale_dates_and_amounts(client):
    zh = client.get("/partners/ningbo?lang=zh").get_data(as_text=True)
    en = client.get("/partners/ningbo?lang=en").get_data(as_text=True)
    assert "<dd>137亿元</dd>" in zh and "<dd>13.7 billion yuan</dd>" in en
    assert '<time datetime="2020-05-17">2020年5月17日</time>' in zh
    assert '<time datetime="2020-05-17">17 May 2020</time>' in en
    # A source's date too.
    zh = client.get("/partners/shangyu?lang=zh").get_data(as_text=True)
    assert '<time datetime="2023-03-21">2023年3月21日</time>' in zh


# -- base maps ---------------------------------------------------------------------------------------

def test_each_base_map_comes_from_xyzservices_with_its_attribution():
    import xyzservices.providers as xyz

    osm, carto, gaode = (tiles.get(k) for k in ("osm", "carto-light", "gaode"))
    assert osm.url == xyz.OpenStreetMap.Mapnik["url"] and "OpenStreetMap" in osm.attribution
    assert "CARTO" in carto.attribution and "OpenStreetMap" in carto.attribution
    assert "basemaps.cartocdn.com/light_all" in carto.url
    assert "Gaode" in gaode.attribution and gaode.gcj02 and not osm.gcj02 and not carto.gcj02
    assert set(gaode.hosts) == {f"webrd0{i}.is.autonavi.com" for i in range(1, 5)}
    assert gaode.url.startswith("https://webrd0{s}.is.autonavi.com/appmaptile?")


@pytest.mark.parametrize("key", ["osm", "carto-light", "gaode"])
def test_the_page_draws_the_chosen_base_map_with_its_attribution(client, key):
    t = tiles.get(key)
    html = client.get(f"/?lang=en&tiles={key}").get_data(as_text=True)
    assert tojson(t.url) in html
    assert tojson(t.attribution) in html
    # The switch shows the choice.
    assert f'<option value="{key}" selected>' in html


def test_gaode_shifts_every_point_shown_to_gcj02_and_osm_does_not(client, atlas):
    osm, gaode = drawn(atlas, lang="en", tiles_key="osm"), drawn(atlas, lang="en", tiles_key="gaode")
    for group in ("partners", "sites"):
        for a, b in zip(osm[group], gaode[group]):
            place = atlas.places.loc[a["id"]]
            assert a["ll"] == [round(place["lat"], 6), round(place["lon"], 6)]
            glon, glat = wgs84_to_gcj02(place["lon"], place["lat"])
            assert b["ll"] == [round(glat, 6), round(glon, 6)]
            assert 300 < distance_m(a["ll"][1], a["ll"][0], b["ll"][1], b["ll"][0]) < 700
    shift = distance_m(*reversed(osm["center"]), *reversed(gaode["center"]))
    assert 300 < shift < 700
    # The pages draw what the options say.
    for key, data in (("osm", osm), ("gaode", gaode)):
        page = payload_of(client.get(f"/?lang=en&tiles={key}").get_data(as_text=True))
        assert page["center"] == data["center"]


@pytest.mark.parametrize("path", [
    "/api/partners.geojson", "/api/agreements.geojson", "/api/links.geojson",
    "/export/agreements.csv", "/export/links.kml",
])
def test_the_api_and_exports_stay_wgs84_whatever_the_base_map(client, path):
    plain = client.get(path)
    for key in ("gaode", "carto-light", "osm"):
        other = client.get(f"{path}?tiles={key}")
        assert other.status_code == 200
        assert other.data == plain.data
        assert other.headers["ETag"] == plain.headers["ETag"]


def test_api_coordinates_are_the_gazetteers(client, atlas):
    features = client.get("/api/partners.geojson?tiles=gaode").get_json()["features"]
    for f in features:
        place = atlas.places.loc[f["id"] if f["id"] in atlas.places.index else f["properties"]["id"]]
        assert f["geometry"]["coordinates"] == [place["lon"], place["lat"]]


def test_the_operator_default_base_map_is_honoured_by_the_app_config(monkeypatch):
    monkeypatch.delenv("GEOMAP_DEFAULT_TILES", raising=False)
    default = create_app({"TESTING": True}).test_client().get("/?lang=en").get_data(as_text=True)
    assert "tile.openstreetmap.org" in default and "autonavi" not in default

    china = create_app({"TESTING": True, "GEOMAP_DEFAULT_TILES": "gaode"}).test_client()
    html = china.get("/?lang=zh").get_data(as_text=True)
    assert "webrd0{s}.is.autonavi.com" in html and "openstreetmap.org/{z}" not in html
    assert payload_of(html)["center"] != payload_of(default)["center"]  # shifted with the tiles
    # A visitor may still pick another base map.
    assert "tile.openstreetmap.org" in china.get("/?tiles=osm").get_data(as_text=True)
    # Partner pages follow the same default.
    assert "autonavi" in china.get("/partners/shaoxing").get_data(as_text=True)

    monkeypatch.setenv("GEOMAP_DEFAULT_TILES", "carto-light")
    from_env = create_app({"TESTING": True}).test_client().get("/").get_data(as_text=True)
    assert "basemaps.cartocdn.com" in from_env


def test_an_unknown_default_base_map_fails_at_start_up(monkeypatch):
    monkeypatch.delenv("GEOMAP_DEFAULT_TILES", raising=False)
    with pytest.raises(ValueError, match="GEOMAP_DEFAULT_TILES='google' is not a base map"):
        create_app({"TESTING": True, "GEOMAP_DEFAULT_TILES": "google"})
    assert tiles.default_key() == "osm"
    assert tiles.default_key("Gaode ") == "gaode"


# -- the conversion ------------------------------------------------------------------------------------

def test_reference_point_people_square():
    """WGS-84 (31.2304, 121.4737) is about GCJ-02 (31.22846, 121.47822), some 480 m away."""
    glon, glat = wgs84_to_gcj02(121.4737, 31.2304)
    assert glat == pytest.approx(31.22846, abs=1e-5)
    assert glon == pytest.approx(121.47822, abs=1e-5)
    assert distance_m(121.4737, 31.2304, glon, glat) == pytest.approx(480, abs=25)


def test_inverse_round_trip_under_a_metre_for_every_place(atlas):
    for place in atlas.places.itertuples():
        g = wgs84_to_gcj02(place.lon, place.lat)
        assert distance_m(place.lon, place.lat, *g) > 100
        assert distance_m(place.lon, place.lat, *gcj02_to_wgs84(*g)) < 1.0
    # And over a grid across the Yangtze River Delta.
    for lat10 in range(280, 340, 7):
        for lon10 in range(1150, 1230, 9):
            lon, lat = lon10 / 10, lat10 / 10
            assert distance_m(lon, lat, *gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))) < 1.0


def test_the_snippet_builders_errors_speak_its_ui_language(client, app):
    """/embed/code's own language is `ui`; its `lang` is the embed's."""
    needs_route(app, "/embed/code")
    r = client.get("/embed/code?ui=zh&lang=en&year_from=x")
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and html_lang(html) == "zh-Hans"
    assert "不是有效的年份" in html
    assert 'href="/embed/code?lang=en&amp;year_from=x&amp;ui=en"' in html  # the switch changes ui only
    r = client.get("/embed/code?ui=zh&resize=7")
    assert r.status_code == 400 and "resize=&#39;7&#39; 不是开关值" in r.get_data(as_text=True)
    r = client.get("/embed/code?ui=fr", headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 400 and "ui=&#39;fr&#39; 不是可用的语言" in r.get_data(as_text=True)
