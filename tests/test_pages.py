"""The visitor's pages through Flask's test client: routes, 400s and 404s, caching."""
from __future__ import annotations

import re

import pytest

from geomap import maps
from geomap.options import Options


def test_healthz_reports_the_data_version(client, atlas):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json == {"status": "ok", "data_version": atlas.version,
                      "agreements": len(atlas.records.agreements)}


def test_index_lists_every_agreement_and_carries_the_map(client, atlas):
    r = client.get("/?lang=en")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    for a in atlas.records.agreements:
        assert a.title_en.replace("'", "&#39;").replace('"', "&#34;") in html
    assert '<script type="application/json" id="gm-map-data">' in html and "geomap.start(" in html
    assert f"{len(atlas.records.agreements)} agreements" in html


def test_index_filters_the_list(client, atlas):
    html = client.get("/?lang=en&type=sub-center").get_data(as_text=True)
    subcenters = [a for a in atlas.records.agreements if a.type == "sub-center"]
    others = [a for a in atlas.records.agreements if a.type != "sub-center"]
    assert f"{len(subcenters)} agreements" in html
    for a in subcenters:
        assert a.title_en in html
    listed = re.search(r'<ol class="gm-list".*?</ol>', html, re.S).group(0)
    for a in others:
        assert a.title_en not in listed


def test_filter_state_is_kept_in_the_form(client):
    html = client.get("/?lang=en&type=project&q=Ningbo&year_from=2020").get_data(as_text=True)
    assert '<option value="project" selected>' in html
    assert 'value="Ningbo"' in html
    assert 'value="2020"' in html


@pytest.mark.parametrize("query, needle", [
    ("year_from=abc", "year_from"),
    ("year_from=2024&year_to=2019", "after year_to"),
    ("type=treaty", "type='treaty'"),
    ("sector=mining", "sector='mining'"),
    ("province=Atlantis", "province='Atlantis'"),
    ("lang=fr", "lang='fr'"),
    ("tiles=google", "tiles='google'"),
    ("partner=paris", "partner='paris'"),
    ("height=tall", "height='tall'"),
    ("controls=maybe", "controls='maybe'"),
    ("colour=red", "unknown parameter 'colour'"),
    ("q=" + "x" * 300, "at most 200"),
])
def test_malformed_options_get_a_400_that_says_what_was_wrong(client, query, needle):
    for path in ("/", "/partners/shaoxing"):
        r = client.get(f"{path}?{query}")
        assert r.status_code == 400, (path, query)
        body = r.get_data(as_text=True)
        assert needle.replace("'", "&#39;") in body
        assert "Traceback" not in body


def test_partner_page_shows_every_agreement_with_sources(client, atlas):
    r = client.get("/partners/shaoxing?lang=en")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    mine = [a for a in atlas.records.agreements if "shaoxing" in a.partners]
    assert len(mine) == 7
    for a in mine:
        assert f'id="{a.id}"' in html
        for s in a.sources:
            assert s.title.replace("'", "&#39;") in html
    assert "E. China&#39;s Shaoxing signs 12 co-operative projects with Shanghai" in html
    assert "geomap.start(" in html and 'id="gm-map-data">{' in html  # the small map, its data inline


def test_unknown_partner_is_a_404(client):
    r = client.get("/partners/atlantis")
    assert r.status_code == 404
    assert "atlantis" in r.get_data(as_text=True)


def test_unknown_route_is_a_404_page(client):
    r = client.get("/no/such/page")
    assert r.status_code == 404
    assert "<html" in r.get_data(as_text=True)


def test_pages_carry_strong_etags_and_answer_304(client):
    r = client.get("/?lang=en&type=project")
    etag = r.headers["ETag"]
    assert etag and not etag.startswith("W/")
    again = client.get("/?lang=en&type=project", headers={"If-None-Match": etag})
    assert again.status_code == 304
    weak = client.get("/?lang=en&type=project", headers={"If-None-Match": "W/" + etag})
    assert weak.status_code == 304
    other = client.get("/?lang=en&type=forum")
    assert other.headers["ETag"] != etag
    assert "max-age" in r.headers["Cache-Control"]


def test_etag_changes_only_with_the_data(data_copy):
    from geomap.web import create_app

    a = create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(data_copy)}).test_client()
    b = create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(data_copy)}).test_client()
    assert a.get("/?lang=en").headers["ETag"] == b.get("/?lang=en").headers["ETag"]
    path = data_copy / "agreements.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("Shangyu Week forum in Shanghai", "Shangyu Week forum"), encoding="utf-8")
    c = create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(data_copy)}).test_client()
    assert c.get("/?lang=en").headers["ETag"] != a.get("/?lang=en").headers["ETag"]


def test_same_data_and_options_give_byte_identical_maps(atlas):
    opts = Options(type=("project",))
    one = maps.build_map(atlas, opts, lang="en")
    two = maps.build_map(atlas, opts, lang="en")
    assert one.header + one.html + one.script == two.header + two.html + two.script
    # ...and a page rendered twice has one tile layer, not two.
    assert one.script.count("L.tileLayer(") == 1


def test_pages_reference_only_local_assets(client):
    html = client.get("/?lang=en").get_data(as_text=True)
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    # Absolute URLs of this very site (the oEmbed discovery link must be absolute) are local.
    external = [u for u in urls if u.startswith(("http:", "https:", "//"))
                and not u.startswith("http://localhost/")]
    assert external == []
    for u in urls:
        if u.startswith("/assets/"):
            assert client.get(u).status_code == 200, u


def test_assets_are_served_with_long_caching(client):
    html = client.get("/?lang=en").get_data(as_text=True)
    js = re.search(r'src="(/assets/leaflet/leaflet\.js\?v=[0-9a-f]+)"', html).group(1)
    r = client.get(js)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/javascript")
    assert "immutable" in r.headers["Cache-Control"]
    assert client.get("/assets/nope.js").status_code == 404
    assert client.get("/assets/../geomap/cli.py").status_code == 404
