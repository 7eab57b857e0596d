"""Regression tests for issue 11's input findings: no 500 from any input (4), empty data (7), the 404
page's language links (9), framing settings that fail closed (5) and CSV formula injection (6)."""
from __future__ import annotations

import csv
import io
import shutil
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from conftest import GEODATA
from geomap import ConfigError
from geomap.options import OptionsError, ascii_int, parse
from geomap.web import create_app

UNICODE_DIGITS = ("²", "①", "١٢٣", "２０１９", "໒໐໑໙", "2019²", "𝟚𝟘𝟙𝟡")


class Links(HTMLParser):
    def __init__(self, text: str):
        super().__init__()
        self.hrefs: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href") or "")


# -- numbers are ASCII digits -----------------------------------------------------------------------

@pytest.mark.parametrize("text", UNICODE_DIGITS)
def test_ascii_int_refuses_other_digits(text):
    assert ascii_int(text) is None
    for name in ("year_from", "year_to", "height"):
        with pytest.raises(OptionsError, match=name):
            parse({name: text})


def test_ascii_int_reads_ascii_digits():
    assert ascii_int("2019") == 2019 and ascii_int("0480") == 480
    assert ascii_int("") is None and ascii_int("-1") is None and ascii_int(" 1") is None


@pytest.mark.parametrize("url", [
    "/?year_from=%C2%B2", "/?year_to=%E2%91%A0", "/embed?height=%E2%91%A0", "/embed?height=%E2%91%A0px",
    "/api/agreements.geojson?year_from=%EF%BC%92%EF%BC%90%EF%BC%91%EF%BC%99",
    "/export/agreements.csv?year_to=%D9%A1%D9%A2", "/embed/code?height=%C2%B2",
    "/oembed?url=http%3A%2F%2Flocalhost%2F&maxwidth=%C2%B2",
    "/oembed?url=http%3A%2F%2Flocalhost%2F&maxheight=%E2%91%A0",
    "/oembed?url=http%3A%2F%2Flocalhost%2Fembed%3Fheight%3D%25E2%2591%25A0",
    "/api/map.json?year_from=%C2%B2", "/api/map/shaoxing.json?year_to=%C2%B2",
])
def test_unicode_digits_in_a_query_are_a_400_with_a_message(client, url):
    resp = client.get(url)
    assert resp.status_code == 400, resp.get_data(as_text=True)[:300]
    assert "Traceback" not in resp.get_data(as_text=True)


def test_cli_refuses_unicode_digits_in_one_line(tmp_path):
    from click.testing import CliRunner

    from geomap.cli import main

    result = CliRunner().invoke(main, ["export", "--layer", "partners", "--year-from", "²"])
    assert result.exit_code == 2 and "year_from" in result.output and "Traceback" not in result.output


# -- a filtered partner page with nothing left says so -------------------------------------------------

@pytest.mark.parametrize("lang,words", [("en", "No agreement with this partner matches these filters."),
                                        ("zh", "该合作地没有符合这些筛选条件的协议。")])
def test_a_filtered_partner_page_with_no_match_says_so(client, lang, words):
    resp = client.get(f"/partners/shaoxing?type=forum&lang={lang}")
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and words in text
    assert f'href="/partners/shaoxing?lang={lang}"' in text  # the way back to all of them
    assert client.get(f"/partners/shaoxing?year_from=2099&lang={lang}").status_code == 200


# -- empty data ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def empty_app(tmp_path_factory):
    """A valid data directory with no agreement and no place at all."""
    data = tmp_path_factory.mktemp("empty") / "geodata"
    shutil.copytree(GEODATA, data)
    (data / "agreements.yaml").write_text("[]\n", encoding="utf-8")
    header = (GEODATA / "places.csv").read_text(encoding="utf-8").splitlines()[0]
    (data / "places.csv").write_text(header + "\n", encoding="utf-8")
    return create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(data)})


@pytest.mark.parametrize("url,words", [
    ("/?lang=en", "There are no agreements in the data yet."),
    ("/?lang=zh", "数据中尚无合作协议。"),
    ("/embed?lang=en", "There are no agreements in the data yet."),
    ("/embed?lang=zh&height=300", "数据中尚无合作协议。"),
])
def test_empty_data_gives_an_empty_map_with_a_message(empty_app, url, words):
    resp = empty_app.test_client().get(url)
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and words in text
    assert 'class="folium-map"' in text  # the map is there, empty


@pytest.mark.parametrize("url", ["/api/partners.geojson", "/api/agreements.geojson", "/api/links.geojson",
                                 "/api/map.json?lang=en", "/export/agreements.csv", "/export/links.gpkg",
                                 "/export/partners.kml", "/embed/code", "/healthz",
                                 "/oembed?url=http%3A%2F%2Flocalhost%2Fembed&format=json"])
def test_empty_data_answers_every_data_route(empty_app, url):
    resp = empty_app.test_client().get(url)
    assert resp.status_code == 200
    if url.endswith(".geojson"):
        assert resp.get_json() == {"type": "FeatureCollection", "features": []}


# -- the 404 page's language links stay on the site --------------------------------------------------------

@pytest.mark.parametrize("path", ["/%5Cevil.example", "/%2F%2Fevil.example", "/%5C%5Cevil.example/x",
                                  "/%09/evil.example", "/%5C/evil.example?a=1"])
def test_404_language_links_never_leave_the_site(client, path):
    check_links_stay(client.get(path))


@pytest.mark.parametrize("path_info", ["//evil.example", "///evil.example", "/\\evil.example", "/\t//evil.example"])
def test_404_language_links_never_leave_the_site_whatever_the_server_passes(client, path_info):
    check_links_stay(client.get("/", environ_overrides={"PATH_INFO": path_info}))


def check_links_stay(resp):
    assert resp.status_code == 404
    for href in Links(resp.get_data(as_text=True)).hrefs:
        parts = urlsplit(href)
        assert not parts.scheme and not parts.netloc, href
        assert href.startswith("/") and not href.startswith(("//", "/\\")) and "\\" not in href, href


def test_404_language_links_keep_the_path_and_query(client):
    hrefs = Links(client.get("/no/such/页面?x=1&lang=en").get_data(as_text=True)).hrefs
    assert "/no/such/%E9%A1%B5%E9%9D%A2?x=1&lang=zh" in hrefs


# -- framing settings fail closed ---------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["self", "'self'", "SELF", "none", "'none'", "self,", " 'self' "])
def test_frame_ancestors_self_or_none_allow_only_this_site(value):
    app = create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(GEODATA), "GEOMAP_FRAME_ANCESTORS": value})
    client = app.test_client()
    for url in ("/embed", "/embed?partner=nowhere", "/assets/leaflet/leaflet.js"):
        policy = client.get(url).headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'self'" in policy, (value, url, policy)
        assert not any(p.strip().startswith("frame-ancestors") and p.strip() != "frame-ancestors 'self'"
                       for p in policy.split(";"))
    text = client.get("/embed/code?ui=en").get_data(as_text=True)
    assert "This map may be shown only on this site." in text and "Any web site may show" not in text


@pytest.mark.parametrize("value", ["'none' https://a.example", "none, self, https://a.example", "selfish",
                                   "'unsafe-inline'", "*, https://a.example", "https://a.example:²"])
def test_frame_ancestors_it_cannot_read_stop_start_up(value):
    with pytest.raises(ConfigError, match="GEOMAP_FRAME_ANCESTORS"):
        create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(GEODATA), "GEOMAP_FRAME_ANCESTORS": value})
