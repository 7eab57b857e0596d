"""Embedding, without a browser: framing headers of every route, the content security policy,
/embed and its options, oEmbed (fields, errors, discovery), the snippet builder, and
`geomap build`'s standalone file."""
from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
from click.testing import CliRunner

from conftest import GEODATA
from geomap import assets
from geomap.cli import main as cli
from geomap.i18n import gettext
from geomap.options import TILES
from geomap.tiles import get as get_tiles
from geomap.web import create_app
from geomap.web.security import parse_frame_ancestors

ALLOWED = ("https://www.partner.example", "https://*.zj.example", "http://localhost:8080")


@pytest.fixture(scope="module")
def allow_app():
    return create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(GEODATA),
                       "GEOMAP_FRAME_ANCESTORS": f"{ALLOWED[0]}, {ALLOWED[1]}  {ALLOWED[2]}/"})


class Tags(HTMLParser):
    """Every start tag, as (name, attrs dict)."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def find(self, tag: str, **attrs) -> list[dict]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def csp(resp) -> dict[str, str]:
    value = resp.headers.get("Content-Security-Policy", "")
    out = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            out[words[0]] = " ".join(words[1:])
    return out


# -- framing headers of every route --------------------------------------------------------------

# One concrete request per route of the app; a route added later without an entry fails below.
ROUTE_SAMPLES = {
    "/": ["/", "/?lang=zh&partner=shaoxing", "/?year_from=abc"],
    "/healthz": ["/healthz"],
    "/partners/<partner_id>": ["/partners/shaoxing", "/partners/nowhere"],
    "/sites/<site_id>": ["/sites/qingpu", "/sites/nowhere"],
    "/api/<layer>.<fmt>": ["/api/partners.geojson", "/api/partners.csv"],
    "/api/map.json": ["/api/map.json?lang=en", "/api/map.json?type=nothing"],
    "/api/map/<partner_id>.json": ["/api/map/shaoxing.json?lang=zh", "/api/map/nowhere.json"],
    "/export/<layer>.<fmt>": ["/export/agreements.csv"],
    "/assets/<path:name>": ["/assets/leaflet/leaflet.js", "/assets/geomap/embed-resize.js", "/assets/nothing.js"],
    "/embed": ["/embed", "/embed?partner=shaoxing&lang=zh", "/embed?partner=nowhere"],
    "/embed/code": ["/embed/code", "/embed/code?height=1"],
    "/oembed": ["/oembed?url=http%3A%2F%2Flocalhost%2F&format=json", "/oembed"],
    "/ogc": ["/ogc", "/ogc?f=html"],
    "/ogc/conformance": ["/ogc/conformance"],
    "/ogc/collections": ["/ogc/collections?f=html&lang=zh"],
    "/ogc/collections/<collection_id>": ["/ogc/collections/links", "/ogc/collections/nothing"],
    "/ogc/collections/<collection_id>/items": ["/ogc/collections/agreements/items?limit=2&f=html",
                                               "/ogc/collections/agreements/items?limit=0"],
    "/ogc/collections/<collection_id>/items/<feature_id>": ["/ogc/collections/partners/items/shaoxing"],
    "/openapi.json": ["/openapi.json"],
    "/openapi.html": ["/openapi.html"],
}
EMBEDDABLE = ("/embed", "/assets/<path:name>")


def test_every_route_has_a_framing_sample(app):
    rules = {r.rule for r in app.url_map.iter_rules() if "GET" in r.methods}
    assert rules == set(ROUTE_SAMPLES), "add the new route to ROUTE_SAMPLES with its framing rule"


@pytest.mark.parametrize("rule,url", [(r, u) for r, urls in ROUTE_SAMPLES.items() for u in urls])
def test_framing_headers(client, rule, url):
    resp = client.get(url)
    assert resp.status_code < 500, resp.get_data(as_text=True)[:300]
    policy = csp(resp)
    if rule in EMBEDDABLE:
        # Any site may frame it (errors too, so a partner sees why a snippet fails).
        assert "X-Frame-Options" not in resp.headers
        assert "frame-ancestors" not in policy
    else:
        assert resp.headers["X-Frame-Options"] == "SAMEORIGIN"
        assert policy["frame-ancestors"] == "'self'"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_unknown_path_and_conditional_requests_carry_framing_headers(client):
    resp = client.get("/no/such/page")
    assert resp.status_code == 404
    assert resp.headers["X-Frame-Options"] == "SAMEORIGIN"
    first = client.get("/embed?lang=en")
    again = client.get("/embed?lang=en", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert "X-Frame-Options" not in again.headers
    page = client.get("/?lang=en")
    again = client.get("/?lang=en", headers={"If-None-Match": page.headers["ETag"]})
    assert again.status_code == 304 and again.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_allowlist_narrows_embed_framing_only(allow_app):
    client = allow_app.test_client()
    for url in ("/embed?partner=shaoxing", "/embed?partner=nowhere", "/assets/leaflet/leaflet.js"):
        resp = client.get(url)
        assert csp(resp)["frame-ancestors"] == "'self' " + " ".join(ALLOWED), url
        assert "X-Frame-Options" not in resp.headers
    for url in ("/", "/embed/code", "/partners/shaoxing"):
        resp = client.get(url)
        assert csp(resp)["frame-ancestors"] == "'self'"
        assert resp.headers["X-Frame-Options"] == "SAMEORIGIN"
    # The snippet page tells the webmaster which sites may show the map.
    assert "https://www.partner.example" in client.get("/embed/code").get_data(as_text=True)


@pytest.mark.parametrize("value,expected", [
    (None, None), ("", None), ("   ", None), ("*", None),
    ("https://a.example", ("https://a.example",)),
    ("HTTPS://A.Example:8443/", ("https://a.example:8443",)),
    ("https://a.example,https://b.example https://a.example", ("https://a.example", "https://b.example")),
    ("'self' https://*.gov.example", ("https://*.gov.example",)),
    ("http://127.0.0.1:5000 http://[::1]:8000", ("http://127.0.0.1:5000", "http://[::1]:8000")),
    (["https://a.example", "https://b.example"], ("https://a.example", "https://b.example")),
])
def test_frame_ancestors_setting_syntax(value, expected):
    assert parse_frame_ancestors(value) == expected


@pytest.mark.parametrize("value", [
    "a.example", "https://a.example/maps", "https://a.example?x=1", "ftp://a.example",
    "https://a.example:99999", "javascript:alert(1)", "'unsafe-inline'", "https://a.example;script-src",
    "https://a.example; script-src *", "https://*", "https://a.example *", "data:", "https://a_b.example",
])
def test_malformed_frame_ancestors_are_refused(value):
    with pytest.raises(ValueError) as err:
        parse_frame_ancestors(value)
    assert "GEOMAP_FRAME_ANCESTORS" in str(err.value)


def test_app_with_malformed_allowlist_fails_at_start_up():
    with pytest.raises(ValueError, match=r"GEOMAP_FRAME_ANCESTORS: 'partner\.example' is not an origin"):
        create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(GEODATA),
                    "GEOMAP_FRAME_ANCESTORS": "https://ok.example partner.example"})


def test_pages_get_a_content_security_policy_that_allows_only_this_site_and_tiles(client):
    for url in ("/", "/embed", "/embed/code", "/partners/shaoxing", "/no/such/page"):
        policy = csp(client.get(url))
        assert policy["default-src"] == "'self'"
        # Inline scripts by their hashes only (tests/test_csp.py checks them against the page).
        assert policy["script-src"].split()[0] == "'self'" and "unsafe" not in policy["script-src"]
        assert "unsafe" not in policy["style-src"]
        assert policy["connect-src"] == "'self'"
        assert policy["object-src"] == "'none'"
        assert policy["base-uri"] == "'self'"
        img = policy["img-src"].split()
        for key in TILES:
            for host in get_tiles(key).hosts:
                assert f"https://{host}" in img
        assert set(img) - {"'self'", "data:"} == {f"https://{h}" for k in TILES for h in get_tiles(k).hosts}
    # Data and scripts are not documents: frame-ancestors only.
    assert set(csp(client.get("/api/partners.geojson"))) == {"frame-ancestors"}


# -- /embed ----------------------------------------------------------------------------------------

def map_data(text: str) -> dict:
    m = re.search(r'<script type="application/json" id="[^"]*-data">(.*?)</script>', text, re.S)
    return json.loads(m.group(1))


def map_settings(text: str) -> dict:
    m = re.search(r'<script type="application/json" id="gm-map-settings">(.*?)</script>', text, re.S)
    return json.loads(m.group(1))


def test_embed_is_the_map_alone_with_gesture_handling(client, atlas):
    resp = client.get("/embed?lang=en")
    assert resp.status_code == 200
    text = resp.get_data(as_text=True)
    assert '"gestureHandling": true' in text
    assert assets.url("gesture/leaflet-gesture-handling.min.js") in text
    assert 'class="gm-embed"' in text
    assert '<base target="_blank">' in text
    assert 'class="gm-panel"' not in text and "gm-list" not in text
    assert len(map_data(text)["partners"]) == len(atlas.partners)
    # Everything it loads is ours.
    tags = Tags(text)
    srcs = [a["src"] for a in tags.find("script") if "src" in a] + [a["href"] for a in tags.find("link") if a.get("rel") == "stylesheet"]
    assert srcs and all(s.startswith("/assets/") for s in srcs)


def test_embed_options_focus_language_controls_legend_height(client, atlas):
    text = client.get("/embed?partner=shaoxing&lang=zh&controls=0&legend=0&height=420&popup=1").get_data(as_text=True)
    data = map_data(text)
    assert data["partners"][data["focus"]]["id"] == "shaoxing"
    assert data["popup"] is True and data["lang"] == "zh"
    assert data["partners"][data["focus"]]["name"] == atlas.partners.loc["shaoxing", "name_zh"]
    assert '<html lang="zh-Hans" data-gm-post-height>' in text  # embed.js posts the height to the host
    assert '"zoomControl": false' in text and "L.control.scale()" not in text
    assert map_settings(text)["legend"] is False
    assert "height: 420.0px" in text or "height: 420px" in text
    assert assets.url("geomap/embed.js") in text  # the height, and the gesture hint in the page's language
    assert not Tags(text).find("a", **{"class": "gm-embed-full"})  # no controls: no "open the full map" link either

    full = client.get("/embed?partner=shaoxing&lang=en&type=project").get_data(as_text=True)
    assert "data-gm-post-height" not in full  # fills its frame: nothing to tell the host
    link = Tags(full).find("a", **{"class": "gm-embed-full"})[0]["href"]
    assert parse_qs(urlsplit(link).query) == {"partner": ["shaoxing"], "lang": ["en"], "type": ["project"]}
    assert urlsplit(link).path == "/"


def test_embed_filters_and_tiles(client, atlas):
    data = map_data(client.get("/embed?type=sub-center&lang=en").get_data(as_text=True))
    expected = set(atlas.agreements.loc[atlas.agreements["type"] == "sub-center", "place_id"])
    assert {p["id"] for p in data["partners"]} == expected
    text = client.get("/embed?tiles=carto-light").get_data(as_text=True)
    assert "basemaps.cartocdn.com" in text


@pytest.mark.parametrize("query", ["partner=nowhere", "lang=fr", "height=20", "controls=maybe", "colour=red",
                                   "year_from=2030&year_to=2020"])
def test_embed_bad_options_are_a_400_with_a_message(client, query):
    resp = client.get(f"/embed?{query}")
    assert resp.status_code == 400
    assert "error-message" in resp.get_data(as_text=True)


# -- oEmbed ----------------------------------------------------------------------------------------

def oembed(client, url: str, **params):
    from urllib.parse import urlencode

    return client.get("/oembed?" + urlencode({"url": url, **params}))


def iframe_of(snippet_html: str) -> dict:
    frames = Tags(snippet_html).find("iframe")
    assert len(frames) == 1
    return frames[0]


@pytest.mark.parametrize("page,expected", [
    ("http://localhost/", {}),
    ("http://localhost/?lang=zh&type=project", {"lang": ["zh"], "type": ["project"]}),
    ("http://localhost/embed?partner=ningbo&lang=en", {"partner": ["ningbo"], "lang": ["en"]}),
    ("http://localhost/partners/shaoxing", {"partner": ["shaoxing"]}),
    ("http://localhost/partners/shaoxing?lang=zh", {"partner": ["shaoxing"], "lang": ["zh"]}),
    ("https://localhost/partners/shaoxing?lang=zh#top", {"partner": ["shaoxing"], "lang": ["zh"]}),
])
def test_oembed_rich_response(client, page, expected):
    resp = oembed(client, page, format="json")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert body["version"] == "1.0" and body["type"] == "rich"
    assert isinstance(body["width"], int) and isinstance(body["height"], int)
    assert body["provider_url"] == "http://localhost/"
    assert body["provider_name"] and body["title"]
    frame = iframe_of(body["html"])
    src = urlsplit(frame["src"])
    assert (src.scheme, src.netloc, src.path) == ("http", "localhost", "/embed")
    assert parse_qs(src.query) == expected
    assert frame["width"] == str(body["width"]) and frame["height"] == str(body["height"])
    assert frame["title"] == body["title"]
    assert "allow-scripts" in frame["sandbox"] and "allow-top-navigation" not in frame["sandbox"]


def test_oembed_title_in_the_page_language(client):
    zh = oembed(client, "http://localhost/partners/shaoxing?lang=zh").get_json()
    assert zh["title"].startswith("绍兴")
    en = oembed(client, "http://localhost/partners/shaoxing?lang=en").get_json()
    assert en["title"].startswith("Shaoxing")


def test_oembed_honours_maxwidth_and_maxheight(client):
    default = oembed(client, "http://localhost/partners/shaoxing", format="json").get_json()
    small = oembed(client, "http://localhost/partners/shaoxing", format="json", maxwidth=300, maxheight=200).get_json()
    assert small["width"] <= 300 and small["height"] <= 200
    assert small["width"] < default["width"] and small["height"] < default["height"]
    frame = iframe_of(small["html"])
    assert frame["width"] == str(small["width"]) and frame["height"] == str(small["height"])
    assert "max-width:100%" in frame["style"]
    # A page asking for a tall map, held to maxheight: the embed's own height follows.
    tall = oembed(client, "http://localhost/embed?height=900", maxheight=600).get_json()
    assert tall["height"] == 600
    assert parse_qs(urlsplit(iframe_of(tall["html"])["src"]).query) == {"height": ["600"]}
    big = oembed(client, "http://localhost/embed?height=700", maxwidth=5000, maxheight=5000).get_json()
    assert big["height"] == 700 and big["width"] == default["width"]


@pytest.mark.parametrize("page", [
    "http://elsewhere.example/", "http://localhost.evil.example/", "http://localhost:81/",
    "ftp://localhost/", "javascript:alert(1)", "/partners/shaoxing", "localhost/partners/shaoxing",
    "http://localhost/partners/nowhere", "http://localhost/embed/code", "http://localhost/api/partners.geojson",
    "http://localhost/healthz", "http://localhost/oembed", "http://localhost/assets/leaflet/leaflet.js",
    "http://localhost/no/such/page", "http://[::1/", "http://localhost:notaport/",
])
def test_oembed_url_not_a_map_page_is_404(client, page):
    resp = oembed(client, page, format="json")
    assert resp.status_code == 404
    assert resp.mimetype == "application/json"
    assert resp.get_json()["error"]["status"] == 404


@pytest.mark.parametrize("query,status,words", [
    ("url=http%3A%2F%2Flocalhost%2F&format=xml", 501, "JSON"),
    ("url=http%3A%2F%2Flocalhost%2F&format=XML", 501, "JSON"),
    ("url=http%3A%2F%2Flocalhost%2F&format=yaml", 400, "format"),
    ("format=json", 400, "url is missing"),
    ("url=&format=json", 400, "url is missing"),
    ("url=http%3A%2F%2Flocalhost%2F&url=http%3A%2F%2Flocalhost%2Fembed", 400, "once"),
    ("url=http%3A%2F%2Flocalhost%2F&maxwidth=wide", 400, "maxwidth"),
    ("url=http%3A%2F%2Flocalhost%2F&maxwidth=0", 400, "maxwidth"),
    ("url=http%3A%2F%2Flocalhost%2F&maxheight=-5", 400, "maxheight"),
    ("url=http%3A%2F%2Flocalhost%2F&maxheight=1e3", 400, "maxheight"),
    ("url=http%3A%2F%2Flocalhost%2F%3Flang%3Dfr", 400, "lang"),
    ("url=http%3A%2F%2Flocalhost%2Fembed%3Fheight%3D9", 400, "height"),
])
def test_oembed_errors_are_json_with_a_message(client, query, status, words):
    resp = client.get(f"/oembed?{query}")
    assert resp.status_code == status
    err = resp.get_json()["error"]
    assert err["status"] == status and words in err["message"]


def test_oembed_ignores_parameters_consumers_add(client):
    # WordPress sends dnt=1 and others their own: oEmbed lets providers ignore them.
    resp = client.get("/oembed?url=http%3A%2F%2Flocalhost%2F&format=json&dnt=1&discover=0")
    assert resp.status_code == 200


def test_oembed_may_be_read_by_other_sites_scripts(client):
    resp = oembed(client, "http://localhost/")
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", ["/", "/?lang=zh&sector=finance", "/partners/ningbo?lang=en", "/embed?partner=cixi"])
def test_map_pages_carry_oembed_discovery(client, path):
    text = client.get(path).get_data(as_text=True)
    links = Tags(text).find("link", rel="alternate", type="application/json+oembed")
    assert len(links) == 1
    href = urlsplit(links[0]["href"])
    assert (href.scheme, href.netloc, href.path) == ("http", "localhost", "/oembed")
    params = dict(parse_qsl(href.query))
    assert params["format"] == "json"
    page = urlsplit(params["url"])
    assert (page.netloc, page.path) == ("localhost", urlsplit(path).path)
    assert dict(parse_qsl(page.query)) == dict(parse_qsl(urlsplit(path).query))
    # The link works.
    resp = client.get(f"{href.path}?{href.query}")
    assert resp.status_code == 200 and resp.get_json()["type"] == "rich"


# -- the snippet builder ---------------------------------------------------------------------------

def snippet_of(text: str) -> str:
    m = re.search(r'<textarea id="gm-snippet"[^>]*>(.*?)</textarea>', text, re.S)
    return html.unescape(m.group(1))


def test_snippet_page_defaults(client, atlas):
    resp = client.get("/embed/code?ui=en")
    assert resp.status_code == 200
    text = resp.get_data(as_text=True)
    code = snippet_of(text)
    frame = iframe_of(code)
    src = urlsplit(frame["src"])
    assert (src.scheme, src.netloc, src.path) == ("http", "localhost", "/embed")
    assert parse_qs(src.query) == {"height": ["480"]}
    assert frame["height"] == "480" and "width:100%" in frame["style"] and "border:0" in frame["style"]
    assert frame["loading"] == "lazy" and "data-geomap-embed" in frame
    assert "allow-popups" in frame["sandbox"] and "allow-top-navigation" not in frame["sandbox"]
    assert "<script" not in code
    tags = Tags(text)
    # Partners to choose from, every one; a live preview; a copy button; all scripts ours.
    ids = {a["value"] for t, a in tags.tags if t == "option"} & set(atlas.partners.index)
    assert ids == set(atlas.partners.index)
    assert tags.find("iframe", id="gm-preview")[0]["src"] == "/embed?height=480"
    assert tags.find("button", id="gm-copy")
    assert tags.find("textarea", id="gm-snippet")[0].keys() >= {"readonly"}
    assert all(a["src"].startswith("/assets/") for a in tags.find("script") if "src" in a)
    for name in ("partner", "lang", "tiles", "year_from", "year_to", "type", "sector", "province", "q",
                 "height", "controls", "legend", "popup", "resize"):
        assert any(a.get("name") == name for t, a in tags.tags if t in ("input", "select")), name


def test_snippet_page_with_options(client):
    text = client.get("/embed/code?partner=shaoxing&lang=zh&tiles=gaode&height=360&controls=0"
                      "&type=project&q=%20%20Ningbo%20%20%20port%20&resize=1&ui=en").get_data(as_text=True)
    code = snippet_of(text)
    frame = iframe_of(code)
    assert parse_qsl(urlsplit(frame["src"]).query) == [
        ("lang", "zh"), ("partner", "shaoxing"), ("type", "project"), ("q", "Ningbo port"),
        ("tiles", "gaode"), ("controls", "0"), ("height", "360")]
    assert frame["height"] == "360"
    assert frame["title"] == gettext("zh", "Shanghai partnership map")
    scripts = Tags(code).find("script")
    assert len(scripts) == 1
    resize = urlsplit(scripts[0]["src"])
    assert (resize.netloc, resize.path) == ("localhost", "/assets/geomap/embed-resize.js")
    # The chosen values stay selected in the form.
    tags = Tags(text)
    assert tags.find("option", value="shaoxing")[0].keys() >= {"selected"}
    assert tags.find("input", id="gm-controls")[0].keys() >= {"checked"}
    assert tags.find("input", id="gm-resize")[0].keys() >= {"checked"}
    # The snippet's URL opens the same embed the preview shows.
    preview = tags.find("iframe", id="gm-preview")[0]["src"]
    assert parse_qsl(urlsplit(preview).query) == parse_qsl(urlsplit(frame["src"]).query)


def test_snippet_page_in_chinese(client):
    text = client.get("/embed/code?ui=zh").get_data(as_text=True)
    assert '<html lang="zh-Hans">' in text
    tags = Tags(text)
    names = [t for t in tags.tags if t[0] == "option" and t[1].get("value") == "shaoxing"]
    assert names
    assert "绍兴" in text


@pytest.mark.parametrize("query", ["partner=nowhere", "height=abc", "ui=fr", "resize=maybe", "lang=de", "bogus=1"])
def test_snippet_page_bad_values_are_a_400(client, query):
    resp = client.get(f"/embed/code?{query}")
    assert resp.status_code == 400
    assert "error-message" in resp.get_data(as_text=True)


def test_embed_resize_script_is_served(client):
    resp = client.get("/assets/geomap/embed-resize.js")
    assert resp.status_code == 200
    assert resp.mimetype == "text/javascript"
    text = resp.get_data(as_text=True)
    assert "event.origin" in text and "isFinite" in text and "geomap:height" in text


# -- geomap build ----------------------------------------------------------------------------------

def test_build_writes_a_self_contained_file(tmp_path, atlas):
    out = tmp_path / "map.html"
    result = CliRunner().invoke(cli, ["build", "--output", str(out), "--partner", "shaoxing", "--lang", "zh",
                                      "--no-legend", "--popup"])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    tags = Tags(text)
    assert not [a for a in tags.find("script") if "src" in a]
    assert not [a for t, a in tags.tags if t == "link" and a.get("rel") == "stylesheet"]
    assert "/assets/" not in text and "geomap-asset:" not in text and "sourceMappingURL" not in text
    assert "url(images/" not in text and "data:image/png;base64," in text
    # The policy of the file: inline code, data: images and the tile server, nothing else.
    meta = tags.find("meta", **{"http-equiv": "Content-Security-Policy"})[0]["content"]
    assert "default-src 'none'" in meta and "tile.openstreetmap.org" in meta
    data = map_data(text)
    assert data["partners"][data["focus"]]["id"] == "shaoxing" and data["popup"] is True
    assert data["lang"] == "zh" and map_settings(text)["legend"] is False
    assert all(p["url"] == "" for p in data["partners"])  # no site to link to
    assert '<html lang="zh-Hans">' in text


def test_build_links_to_the_site_when_given_its_address(tmp_path):
    out = tmp_path / "map.html"
    result = CliRunner().invoke(cli, ["build", "--output", str(out), "--base-url", "https://geomap.example.org/",
                                      "--type", "project", "--tiles", "gaode", "--height", "500"])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    data = map_data(text)
    assert {p["url"] for p in data["partners"]} == {f"https://geomap.example.org/partners/{p['id']}" for p in data["partners"]}
    assert "webrd0" in text and "height: 500" in text


@pytest.mark.parametrize("args,words", [
    (["--partner", "nowhere"], "partner"),
    (["--lang", "fr"], "lang"),
    (["--tiles", "google"], "tiles"),
    (["--height", "12"], "height"),
    (["--popup"], "--partner"),
    (["--base-url", "geomap.example.org"], "--base-url"),
])
def test_build_bad_options_are_one_line(tmp_path, args, words):
    out = tmp_path / "map.html"
    result = CliRunner().invoke(cli, ["build", "--output", str(out), *args])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in result.output
    assert not out.exists()


def test_build_into_a_missing_directory_is_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["build", "--output", str(tmp_path / "no" / "map.html")])
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1 and "map.html" in result.output
