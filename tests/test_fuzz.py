"""No input yields a 5xx (issue 11, finding 4): hypothesis sends a few thousand requests through the
test client to every route of the app, with well-formed, malformed and hostile values for every
option and path part, and hostile headers; no answer is a 5xx, none carries a traceback, and a
forged Host appears in no body. Derandomised: CI sees the same requests every run."""
from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from geomap.options import NAMES, TILES
from geomap.records import AGREEMENT_TYPES, SECTORS

EXAMPLES = 2_000  # two requests each: 4,000 requests

# Values a person, a script or an attacker might send.
NASTY = ["", " ", "0", "-1", "1e3", "99999999999999999999", "²", "①", "２０１９", "١٢", "NaN", "inf",
         "true", "yes", "px", "480px", "%", "%00", "\x00", "\ud7ff", "\u202e", "../../etc/passwd",
         "<script>alert(1)</script>", "\"'><img src=x onerror=alert(1)>", "{{7*7}}", "${7*7}",
         "javascript:alert(1)", "http://evil.example/", "//evil.example", "\\\\evil.example", "a" * 300,
         "zh-Hant", "EN", "ZH", "中文", "上海", ",", ",,,", "project,project", "2019-02-30"]
VALID = {
    "lang": ["en", "zh"], "partner": ["shaoxing", "ningbo", "cixi", "fenhu-hitech-zone"],
    "year_from": ["2018", "2019", "2020", "1949", "2100", "1948"], "year_to": ["2019", "2021", "2101"],
    "type": list(AGREEMENT_TYPES), "sector": list(SECTORS), "province": ["Zhejiang", "Jiangsu", "zhejiang", "Anhui"],
    "q": ["Shaoxing", "绍兴", "technology", "zone"], "tiles": list(TILES),
    "controls": ["0", "1", "off"], "legend": ["0", "1"], "height": ["150", "480", "4000", "149", "4001"],
    "popup": ["1", "0"], "ui": ["en", "zh", "fr"], "resize": ["0", "1", "2"], "format": ["json", "xml", "JSON"],
    "maxwidth": ["1", "300", "100001"], "maxheight": ["1", "600"], "v": ["abc"], "status": ["signed", "intention"],
    # OGC API - Features (/ogc/...)
    "f": ["json", "html", "geojson", "xml"], "limit": ["1", "10", "10000", "0"], "offset": ["0", "5", "999999"],
    "bbox": ["119.5,29.5,122,31.5", "1,2,3", "181,0,0,0", "0,10,1,0", "1,2,3,4,5,6", "nan,1,2,3"],
    "datetime": ["2020-05-17", "2019-01-01/2020-12-31", "../2020-01-01", "2020-01-01/..", "../..", "2019-02-30",
                 "2020-05-17T10:00:00Z", "2020-05-17T25:00:00Z"],
    "url": ["http://localhost/", "http://localhost/embed?partner=shaoxing", "http://localhost/partners/ningbo?lang=zh",
            "http://localhost/partners/nowhere", "https://localhost:443/embed?height=%C2%B2", "http://[::1/",
            "http://localhost:99999/", "http://evil.example/", "ftp://localhost/", "http://localhost/%5Cevil"],
}
PARAMS = sorted(set(NAMES) | set(VALID) | {"unknown", "lang[]", "Lang"})
PATH_VALUES = {
    "partner_id": ["shaoxing", "ningbo", "nowhere", "SHAOXING"], "layer": ["partners", "agreements", "links", "nope"],
    "fmt": ["geojson", "csv", "gpkg", "kml", "parquet", "fgb", "xls"],
    "name": ["leaflet/leaflet.js", "geomap/embed-resize.js", "../geomap/cli.py", "leaflet/images/layers.png"],
    "collection_id": ["partners", "agreements", "links", "nope"],
    "feature_id": ["shaoxing", "shaoxing-tech-transfer-sub-center@shaoxing", "nope"],
}
DEFAULT_PATH_VALUES = ["partners", "agreements", "links", "shaoxing", "nowhere", "1"]
HOSTS = ["localhost", "127.0.0.1:8000", "[::1]", "LOCALHOST.", "evil.example", "evil.example:80",
         "localhost.evil.example", "a b", "", "localhost:99999", "[::1", "\u00e9vil.example"]
FORGED = ("evil.example", "\u00e9vil.example")

text = st.one_of(st.sampled_from(NASTY), st.text(max_size=40))


def value_for(name: str):
    return st.one_of(st.sampled_from(VALID.get(name, ["x"])), text)


def path_part(name: str):
    return st.one_of(st.sampled_from(PATH_VALUES.get(name, DEFAULT_PATH_VALUES)), text.filter(lambda s: "/" not in s))


@st.composite
def requests(draw, rules):
    rule = draw(st.sampled_from(rules))
    path = rule.rule
    for arg in rule.arguments:
        value = draw(path_part(arg))
        path = path.replace(f"<path:{arg}>", value).replace(f"<{arg}>", value)
    names = draw(st.lists(st.sampled_from(PARAMS), max_size=5))
    query = [(n, draw(value_for(n))) for n in names]
    headers = {
        "Host": draw(st.sampled_from(HOSTS[:4] * 3 + HOSTS)),  # mostly served hosts, so views run
        "Accept-Language": draw(st.sampled_from(["en", "zh-CN,zh;q=0.9", "fr", "", "*", "zh;q=x", "\u00e9"])),
        "Accept-Encoding": draw(st.sampled_from(["gzip", "identity", "br", "gzip;q=0", ""])),
    }
    if draw(st.booleans()):
        headers["If-None-Match"] = draw(st.sampled_from(['"x"', "*", 'W/"abc"', "garbage", '""']))
    return path, query, headers


def check(resp, headers, url) -> None:
    # The one 5xx by design: oEmbed 1.0 (2.3.5) has a provider answer 501 Not Implemented to a
    # format it does not offer (format=xml), and consumers rely on it.
    oembed_xml = url.startswith("/oembed") and resp.status_code == 501 and b"JSON only" in resp.get_data()
    assert resp.status_code < 500 or oembed_xml, (url, headers, resp.get_data()[:300])
    body = resp.get_data()
    if resp.headers.get("Content-Encoding") == "gzip":
        import gzip

        body = gzip.decompress(body)
    assert b"Traceback" not in body, url
    host = headers["Host"].encode("utf-8", "ignore").lower()
    if headers["Host"] in FORGED:
        assert resp.status_code == 400, (url, headers)
        if host not in url.lower().encode():  # (the query may name it too, and be echoed)
            assert host not in body.lower(), (url, headers)


@pytest.fixture(scope="module")
def rules(app):
    return [r for r in app.url_map.iter_rules() if "GET" in r.methods]


def test_no_input_gives_a_server_error(app, rules):
    client = app.test_client()
    seen = set()

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(requests(rules))
    def one(req):
        path, query, headers = req
        url = path + ("?" + urlencode(query) if query else "")
        seen.add(path.split("/")[1] if "/" in path[1:] else path)
        check(client.get(url, headers=headers), headers, url)
        # The same request with its values repeated: "given twice" errors too.
        url2 = path + ("?" + urlencode(query + query) if query else "")
        check(client.get(url2, headers=headers), headers, url2)

    one()
    assert len(seen) >= len({r.rule.split("/")[1] for r in rules}) - 1  # every route was reached
