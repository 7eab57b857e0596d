"""OGC API – Features at /ogc: exact JSON and HTML, paging, bbox, datetime, filters, errors.

Expected values come from geodata/ read with yaml and csv (test_export.Raw), and shapely for
the geometry tests, not from the Atlas.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
import shapely

from conftest import GEODATA  # noqa: F401
from test_export import FILTER_CASES, Raw, edit, expected_ids, raw  # noqa: F401

COLLECTIONS = ("partners", "agreements", "links")
CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"


def vary(resp) -> set[str]:
    return {v.strip() for v in resp.headers.get("Vary", "").split(",") if v.strip()}


def get_json(client, url: str, status: int = 200, **kw):
    resp = client.get(url, **kw)
    assert resp.status_code == status, (url, resp.data[:400])
    return resp, json.loads(resp.data)


def links_by_rel(doc) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for link in doc["links"]:
        out.setdefault(link["rel"], []).append(link)
    return out


def local(href: str) -> str:
    """A link's path and query, to follow it with the test client."""
    parts = urlsplit(href)
    assert parts.scheme == "http" and parts.netloc == "localhost", href  # the checked host, absolute
    return parts.path + ("?" + parts.query if parts.query else "")


def ids(doc) -> list[str]:
    return [f["id"] for f in doc["features"]]


def points(raw: Raw, layer: str, fid: str) -> list[tuple[float, float]]:
    if layer == "partners":
        return [raw.lonlat(fid)]
    if layer == "agreements":
        aid, pid = fid.split("@")
        return [raw.lonlat(pid)]
    aid, pid, site = fid.split("@")  # links: <agreement>@<partner>@<Shanghai-side site>
    return [raw.lonlat(site), raw.lonlat(pid)]


# -- landing page, conformance, collections -------------------------------------------------------

def test_landing_page_links_what_qgis_needs(client):
    resp, doc = get_json(client, "/ogc")
    assert resp.headers["Content-Type"] == "application/json"
    rels = links_by_rel(doc)
    assert {"self", "alternate", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"][0]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert local(rels["service-desc"][0]["href"]) == "/openapi.json"
    assert rels["service-doc"][0]["type"] == "text/html"
    assert local(rels["conformance"][0]["href"]) == "/ogc/conformance"
    assert local(rels["data"][0]["href"]) == "/ogc/collections"
    assert rels["alternate"][0]["type"] == "text/html"
    assert doc["title"] == "Shanghai partnership map"
    # every link the landing page gives answers
    for link in doc["links"]:
        assert client.get(local(link["href"])).status_code == 200, link


def test_conformance_declares_core_geojson_html_and_openapi(client):
    _, doc = get_json(client, "/ogc/conformance")
    assert set(doc["conformsTo"]) == {
        CORE, *(CORE.replace("/core", f"/{c}") for c in ("geojson", "html", "oas30"))}


def test_collections_have_titles_extents_and_item_links(client, raw):
    _, doc = get_json(client, "/ogc/collections")
    assert [c["id"] for c in doc["collections"]] == list(COLLECTIONS)
    lons = [float(p["lon"]) for p in raw.places.values() if p["lon"]]
    dates = [a["date"] for a in raw.agreements]
    for c in doc["collections"]:
        assert c["title"] and c["description"] and c["itemType"] == "feature"
        west, south, east, north = c["extent"]["spatial"]["bbox"][0]
        assert c["extent"]["spatial"]["crs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
        coords = [xy for fid in expected_ids(raw, c["id"]) for xy in points(raw, c["id"], fid)]
        assert west == pytest.approx(min(x for x, _ in coords), abs=1e-6) and west <= min(x for x, _ in coords)
        assert north == pytest.approx(max(y for _, y in coords), abs=1e-6) and north >= max(y for _, y in coords)
        assert min(lons) <= west <= east <= max(lons) and south < north
        assert c["extent"]["temporal"]["interval"] == [[f"{min(dates)}T00:00:00+08:00", f"{max(dates)}T23:59:59+08:00"]]
        rels = links_by_rel(c)
        items = {link["type"]: link for link in rels["items"]}
        assert set(items) == {"application/geo+json", "text/html"}
        assert urlsplit(items["application/geo+json"]["href"]).path == f"/ogc/collections/{c['id']}/items"
        _, one = get_json(client, f"/ogc/collections/{c['id']}")
        assert {k: v for k, v in one.items() if k != "links"} == {k: v for k, v in c.items() if k != "links"}


@pytest.mark.parametrize("how", ["lang", "accept-language"])
def test_collection_titles_in_the_requests_language(client, how):
    kw = {"headers": {"Accept-Language": "zh-CN,zh;q=0.9"}} if how == "accept-language" else {}
    url = "/ogc/collections" + ("?lang=zh" if how == "lang" else "")
    resp, doc = get_json(client, url, **kw)
    titles = {c["id"]: c["title"] for c in doc["collections"]}
    assert titles == {"partners": "合作地点", "agreements": "各合作地点的协议", "links": "连线"}
    assert all(re.search(r"[\u4e00-\u9fff]", c["description"]) for c in doc["collections"])
    assert ("Accept-Language" in vary(resp)) == (how == "accept-language")
    _, en = get_json(client, "/ogc/collections?lang=en", headers={"Accept-Language": "zh"})
    assert [c["title"] for c in en["collections"]] == ["Partner places", "Agreements by partner place", "Links"]


# -- items: paging -------------------------------------------------------------------------------

@pytest.mark.parametrize("layer", COLLECTIONS)
def test_items_default_page_holds_every_feature_with_counts(client, raw, layer):
    resp, doc = get_json(client, f"/ogc/collections/{layer}/items")
    assert resp.headers["Content-Type"] == "application/geo+json"
    want = expected_ids(raw, layer)
    assert sorted(ids(doc)) == sorted(want) if layer == "partners" else ids(doc) == want
    assert doc["numberMatched"] == doc["numberReturned"] == len(want)
    stamp = dt.datetime.fromisoformat(doc["timeStamp"].replace("Z", "+00:00"))
    assert abs((dt.datetime.now(dt.timezone.utc) - stamp).total_seconds()) < 600
    assert "next" not in links_by_rel(doc) and "prev" not in links_by_rel(doc)
    for f in doc["features"]:
        assert f["geometry"]["type"] == ("LineString" if layer == "links" else "Point")
        got = [tuple(c) for c in (f["geometry"]["coordinates"] if layer == "links" else [f["geometry"]["coordinates"]])]
        assert got == [pytest.approx(c, abs=5e-7) for c in points(raw, layer, f["id"])]


@pytest.mark.parametrize("layer", COLLECTIONS)
def test_the_features_are_the_geojson_apis(client, layer):
    api = json.loads(client.get(f"/api/{layer}.geojson?type=project").data)
    _, ogc = get_json(client, f"/ogc/collections/{layer}/items?type=project")
    assert ogc["features"] == api["features"]


def test_limit_is_honoured_exactly(client, raw):
    total = len(raw.ids())
    for limit in range(1, total + 2):
        _, doc = get_json(client, f"/ogc/collections/agreements/items?limit={limit}")
        assert doc["numberReturned"] == len(doc["features"]) == min(limit, total), limit
        assert doc["numberMatched"] == total
    # above the maximum the maximum applies (OGC Core), it is not an error
    _, doc = get_json(client, "/ogc/collections/agreements/items?limit=1000000")
    assert doc["numberReturned"] == total


@pytest.mark.parametrize("limit", [1, 4, 7])
def test_next_links_walk_every_feature_once_and_prev_walks_back(client, raw, limit):
    want = raw.ids()
    url, seen, pages = f"/ogc/collections/agreements/items?limit={limit}&lang=en", [], []
    while url:
        _, doc = get_json(client, url)
        pages.append(doc)
        seen += ids(doc)
        nxt = links_by_rel(doc).get("next")
        url = local(nxt[0]["href"]) if nxt else None
        if url:
            assert dict(parse_qsl(urlsplit(url).query))["lang"] == "en"  # the request's own parameters stay
    assert seen == want
    assert len(pages) == -(-len(want) // limit)
    back = []
    doc = pages[-1]
    while True:
        back = ids(doc) + back
        prev = links_by_rel(doc).get("prev")
        if not prev:
            break
        _, doc = get_json(client, local(prev[0]["href"]))
    assert back == want


def test_an_offset_past_the_end_is_an_empty_page(client, raw):
    _, doc = get_json(client, "/ogc/collections/agreements/items?offset=1000&limit=5")
    assert doc["features"] == [] and doc["numberReturned"] == 0
    assert doc["numberMatched"] == len(raw.ids())
    assert "prev" in links_by_rel(doc) and "next" not in links_by_rel(doc)


# -- items: bbox, datetime, geomap's filters ------------------------------------------------------

BOXES = {
    "near Shaoxing": (120.4, 29.9, 120.7, 30.2),
    "Jiaxing and Shanghai": (120.6, 30.6, 121.6, 31.4),
    "Ningbo": (121.2, 29.6, 122.0, 30.0),
    "the sea": (123.0, 25.0, 124.0, 26.0),
}


@pytest.mark.parametrize("box", list(BOXES))
@pytest.mark.parametrize("layer", COLLECTIONS)
def test_bbox_keeps_what_meets_the_box(client, raw, layer, box):
    west, south, east, north = BOXES[box]
    shape = shapely.box(west, south, east, north)
    want = [fid for fid in expected_ids(raw, layer)
            if shape.intersects(shapely.LineString(points(raw, layer, fid)) if layer == "links"
                                else shapely.Point(points(raw, layer, fid)[0]))]
    _, doc = get_json(client, f"/ogc/collections/{layer}/items?bbox={west},{south},{east},{north}")
    assert sorted(ids(doc)) == sorted(want)
    assert doc["numberMatched"] == len(want)
    if box != "the sea" and layer == "agreements":
        assert 0 < len(want) < len(expected_ids(raw, layer))


def test_bbox_with_heights_and_across_the_antimeridian(client, raw):
    _, flat = get_json(client, "/ogc/collections/agreements/items?bbox=120.4,29.9,120.7,30.2")
    _, tall = get_json(client, "/ogc/collections/agreements/items?bbox=120.4,29.9,-100,120.7,30.2,9000")
    assert ids(tall) == ids(flat) and ids(flat)
    _, around = get_json(client, "/ogc/collections/agreements/items?bbox=170,0,125,50")  # 170E..180, -180..125E
    assert ids(around) == raw.ids()
    _, pacific = get_json(client, "/ogc/collections/agreements/items?bbox=170,0,-170,50")
    assert ids(pacific) == []


DATETIMES = {
    "2020-05-17": lambda a: a["date"] == dt.date(2020, 5, 17),
    "2020-05-16T20:00:00Z": lambda a: a["date"] == dt.date(2020, 5, 17),  # 04:00 on the 17th in Shanghai
    "2020-05-17T23:30:00+08:00": lambda a: a["date"] == dt.date(2020, 5, 17),
    "2019-01-01/2019-12-31": lambda a: a["date"].year == 2019,
    "2019-07-23T00:00:00Z/2020-05-17T00:00:00Z": lambda a: dt.date(2019, 7, 23) <= a["date"] <= dt.date(2020, 5, 17),
    "../2019-12-31": lambda a: a["date"].year <= 2019,
    "2020-06-01/..": lambda a: a["date"] >= dt.date(2020, 6, 1),
    "2020-01-01T/2020-12-31T": lambda a: a["date"].year == 2020,  # GDAL's form for a date field
}


@pytest.mark.parametrize("value", list(DATETIMES))
def test_datetime_instants_and_intervals(client, raw, value):
    want = raw.link_ids(lambda a, pid: DATETIMES[value](a))
    assert want, "the case must keep something"
    from urllib.parse import quote
    _, doc = get_json(client, f"/ogc/collections/links/items?datetime={quote(value)}")
    assert ids(doc) == want
    _, partners = get_json(client, f"/ogc/collections/partners/items?datetime={quote(value)}")
    assert sorted(ids(partners)) == sorted(raw.partner_ids(lambda a, pid: DATETIMES[value](a)))


@pytest.mark.parametrize("query", ["type=project", "province=Jiangsu", "q=绍兴",
                                   "type=project&province=Zhejiang&year_from=2020&sector=biomedicine"])
def test_geomaps_filters_are_the_same_as_everywhere(client, raw, query):
    keep = FILTER_CASES[query](raw)
    _, doc = get_json(client, f"/ogc/collections/agreements/items?{query}&limit=3")
    assert doc["numberMatched"] == len(raw.ids(keep))
    assert ids(doc) == raw.ids(keep)[:3]


def test_filters_bbox_and_datetime_combine(client, raw):
    west, south, east, north = BOXES["Ningbo"]
    shape = shapely.box(west, south, east, north)
    keep = lambda a, pid: (a["type"] == "project" and a["date"].year == 2020  # noqa: E731
                           and shape.intersects(shapely.Point(raw.lonlat(pid))))
    _, doc = get_json(client, f"/ogc/collections/agreements/items?type=project&datetime=2020-01-01/2020-12-31"
                              f"&bbox={west},{south},{east},{north}&limit=2")
    assert doc["numberMatched"] == len(raw.ids(keep)) > 2
    assert ids(doc) == raw.ids(keep)[:2]
    nxt = links_by_rel(doc)["next"][0]["href"]
    assert dict(parse_qsl(urlsplit(nxt).query)) == {
        "type": "project", "datetime": "2020-01-01/2020-12-31", "bbox": f"{west},{south},{east},{north}",
        "limit": "2", "offset": "2", "f": "json"}


# -- one feature ---------------------------------------------------------------------------------

@pytest.mark.parametrize("layer", COLLECTIONS)
def test_one_feature_by_its_stable_id(client, raw, layer):
    api = {f["id"]: f for f in json.loads(client.get(f"/api/{layer}.geojson").data)["features"]}
    fid = expected_ids(raw, layer)[-1]
    resp, doc = get_json(client, f"/ogc/collections/{layer}/items/{fid}")
    assert resp.headers["Content-Type"] == "application/geo+json"
    assert {k: v for k, v in doc.items() if k != "links"} == api[fid]
    rels = links_by_rel(doc)
    assert local(rels["collection"][0]["href"]) == f"/ogc/collections/{layer}"
    assert rels["alternate"][0]["type"] == "text/html"


# -- errors --------------------------------------------------------------------------------------

BAD = {
    "unknown parameter": ("/ogc/collections/agreements/items?colour=red", "colour"),
    "limit=0": ("/ogc/collections/agreements/items?limit=0", "limit"),
    "limit=abc": ("/ogc/collections/agreements/items?limit=abc", "limit"),
    "limit=-5": ("/ogc/collections/agreements/items?limit=-5", "limit"),
    "limit twice": ("/ogc/collections/agreements/items?limit=1&limit=2", "limit"),
    "bbox of 3": ("/ogc/collections/agreements/items?bbox=120,30,121", "bbox"),
    "bbox of words": ("/ogc/collections/agreements/items?bbox=a,b,c,d", "bbox"),
    "bbox upside down": ("/ogc/collections/agreements/items?bbox=120,31,121,30", "bbox"),
    "bbox off the globe": ("/ogc/collections/agreements/items?bbox=120,30,121,95", "bbox"),
    "datetime=yesterday": ("/ogc/collections/agreements/items?datetime=yesterday", "datetime"),
    "datetime without an offset": ("/ogc/collections/agreements/items?datetime=2020-05-17T10:00:00", "datetime"),
    "datetime backwards": ("/ogc/collections/agreements/items?datetime=2021-01-01/2020-01-01", "datetime"),
    "datetime open both ends": ("/ogc/collections/agreements/items?datetime=../..", "datetime"),
    "a bad filter value": ("/ogc/collections/agreements/items?type=treaty", "type"),
    "a map option": ("/ogc/collections/agreements/items?tiles=osm", "tiles"),
    "f=xml": ("/ogc/collections?f=xml", "f"),
    "a parameter the landing page lacks": ("/ogc?limit=5", "limit"),
    "a filter on one feature": ("/ogc/collections/partners/items/shaoxing?type=project", "type"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_parameters_are_ogc_400s(client, case):
    url, name = BAD[case]
    resp = client.get(url)
    assert resp.status_code == 400, resp.data[:300]
    assert resp.headers["Content-Type"] == "application/json"
    body = resp.get_json()
    assert body["code"] == "InvalidParameterValue"
    assert name in body["description"]
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("url", ["/ogc/collections/treaties", "/ogc/collections/treaties/items",
                                 "/ogc/collections/agreements/items/no-such-feature",
                                 "/ogc/collections/partners/items/shaoxing-tech-transfer-sub-center@shaoxing",
                                 "/ogc/elsewhere"])
def test_unknown_collections_and_features_are_ogc_404s(client, url):
    resp = client.get(url)
    assert resp.status_code == 404
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.get_json()["code"] == "NotFound"


def test_errors_as_html_for_browsers(client):
    resp = client.get("/ogc/collections/treaties?f=html&lang=zh")
    assert resp.status_code == 404 and resp.mimetype == "text/html"
    assert "treaties" in resp.get_data(as_text=True)
    browser = client.get("/ogc/collections/agreements/items?limit=0",
                         headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.status_code == 400 and browser.mimetype == "text/html"


# -- HTML ----------------------------------------------------------------------------------------

def test_json_or_html_by_f_or_accept(client):
    assert client.get("/ogc/collections").mimetype == "application/json"
    html = client.get("/ogc/collections", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert html.mimetype == "text/html" and "Accept" in vary(html)
    gdal = client.get("/ogc/collections/links/items", headers={"Accept": "application/geo+json, application/json"})
    assert gdal.mimetype == "application/geo+json"
    named = client.get("/ogc/collections?f=html", headers={"Accept": "application/json"})
    assert named.mimetype == "text/html" and "Accept" not in vary(named)


def test_html_pages_browse_from_landing_to_a_feature(client, raw):
    page = client.get("/ogc?f=html&lang=en").get_data(as_text=True)
    assert 'href="http://localhost/ogc/collections?lang=en&amp;f=html"' in page
    coll = client.get("/ogc/collections?f=html&lang=en").get_data(as_text=True)
    for layer in COLLECTIONS:
        assert f'href="http://localhost/ogc/collections/{layer}/items?lang=en&amp;f=html"' in coll
    items = client.get("/ogc/collections/agreements/items?f=html&lang=en&limit=5").get_data(as_text=True)
    rows = re.findall(r'<a href="http://localhost/ogc/collections/agreements/items/([^"?]+)\?lang=en&amp;f=html"', items)
    assert rows == raw.ids()[:5]
    assert f"Features 1 to 5 of {len(raw.ids())}" in items
    assert 'rel="next" ' in items.replace('rel="next">', 'rel="next" >')
    one = client.get(f"/ogc/collections/agreements/items/{rows[0]}?f=html&lang=en").get_data(as_text=True)
    assert raw.agreements[0]["title_en"] in one
    assert 'href="http://localhost/partners/shaoxing?lang=en"' in one


def test_html_pages_in_chinese(client, raw):
    coll = client.get("/ogc/collections?f=html&lang=zh").get_data(as_text=True)
    assert '<html lang="zh-Hans">' in coll and "合作地点" in coll
    items = client.get("/ogc/collections/agreements/items?f=html&lang=zh&limit=2").get_data(as_text=True)
    assert raw.agreements[0]["title_zh"] in items and f"第 1 至 2 项，共 {len(raw.ids())} 项" in items


def test_html_escapes_the_data(data_copy, tmp_path):
    from geomap.web import create_app

    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    edit(data_copy / "agreements.yaml", "title_zh: 共建国家技术转移东部中心绍兴分中心战略合作协议",
         f"title_zh: '{hostile}'")
    client = create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(data_copy)}).test_client()
    for url in ("/ogc/collections/agreements/items?f=html&lang=zh",
                "/ogc/collections/agreements/items/shaoxing-tech-transfer-sub-center@shaoxing?f=html&lang=zh"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# -- caching and CORS ----------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/ogc", "/ogc/collections?lang=zh", "/ogc/collections/links/items?limit=3&bbox=120,29,122,31",
                                 "/ogc/collections/partners/items/shaoxing?f=html"])
def test_etags_304_and_cors(client, url):
    first = client.get(url)
    etag = first.headers["ETag"]
    assert re.fullmatch(r'"[^"]+"', etag)
    assert first.headers["Cache-Control"] == "public, max-age=300"
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag
    other = client.get(url.replace("f=html", "f=json") if "f=html" in url else url + ("&" if "?" in url else "?") + "f=html")
    assert other.status_code == 200
    assert other.headers["ETag"] != etag
