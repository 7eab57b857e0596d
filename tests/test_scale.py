"""What makes the map scale, checked for correctness (timings belong in bench/run.py): the fast YAML
path, the GeoJSON writer's shared row texts, large maps' loaded data and popups, gzip."""
from __future__ import annotations

import gzip
import json
import re
import sys

import pytest
import yaml

from conftest import GEODATA, REPO
from geomap import atlas as atlas_mod, layers, maps, payload
from geomap.load import _Loader, parse_yaml
from geomap.options import Options
from geomap.select import select
from geomap.web import create_app

sys.path.insert(0, str(REPO / "bench"))
import generate  # noqa: E402

N = 1_200  # above maps.INLINE_MAX: pages load their data


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return generate.generate(tmp_path_factory.mktemp("scale") / "geodata", agreements=N, seed=7)


@pytest.fixture(scope="module")
def big_app(data_dir):
    return create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(data_dir)})


@pytest.fixture()
def big_client(big_app):
    big_app.extensions["geomap.cache"].clear()
    return big_app.test_client()


def big_atlas(app):
    return app.extensions["geomap.atlas"]


# -- the generator ---------------------------------------------------------------------------

def test_generator_repeats_and_validates(tmp_path, data_dir):
    again = generate.generate(tmp_path / "again", agreements=N, seed=7)
    for name in ("places.csv", "agreements.yaml"):
        assert (again / name).read_bytes() == (data_dir / name).read_bytes()
    atlas = atlas_mod.build(again)  # raises DataError on any problem
    assert len(atlas.records.agreements) == N
    assert set(atlas.partners["province"]) <= {"Jiangsu", "Zhejiang", "Anhui"}


# -- YAML from libyaml's events --------------------------------------------------------------

# Plain YAML: parse_yaml gives what PyYAML's own safe loader gives (dates left as text).
PLAIN_YAML = [
    "", "---\n", "a: 1\n", "key: [a, {b: c, d: [e]}]\n",
    "- a: |\n    text\n  b: >-\n    folded\n", "- !!str 12\n", "- !!int '7'\n",
    "- [1, 2.5, .inf, 0x1F, 0o17, 1_000, 1:30, yes, No, ~, null, '', 2019-01-01, \"x\", 'y', 0b101, +12, 1e3]\n",
    "a:\nb: \n", "\ufeffa: 1\n", "a: b\r\nc: d\r\n",
]
# What geomap refuses, each with a named issue (and never an exception).
REFUSED_YAML = [
    "- &x {a: 1}\n- *x\n", "- {a: 1, a: 2}\n", "a: 1\n---\nb: 2\n", "{? [a]: b}\n", "- x\n- !foo y\n",
    "- {<<: *m, b: 2}\n", "- !!int abc\n", "- !!set {a, b}\n",
]


@pytest.mark.parametrize("text", PLAIN_YAML)
def test_yaml_from_events_is_pyyaml_safe_load(text):
    root, issues = parse_yaml(text.encode("utf-8"))
    assert issues == []
    assert root == yaml.load(text.encode("utf-8"), Loader=_Loader)


def test_yaml_keys_and_odd_plain_scalars_stay_the_text_written():
    # Keys are what a maintainer reads (1: x has the key "1"); "=" and "<<" are plain text,
    # never YAML's value and merge types (merging needs aliases, which are refused).
    assert parse_yaml(b"1: x\n") == ({"1": "x"}, [])
    assert parse_yaml(b"- =\n- {<<: 1, b: 2}\n") == (["=", {"<<": 1, "b": 2}], [])


@pytest.mark.parametrize("text", REFUSED_YAML)
def test_yaml_features_geomap_refuses_are_named(text):
    root, issues = parse_yaml(text.encode("utf-8"))
    assert issues and all(i.message and i.line >= 1 for i in issues)


@pytest.mark.parametrize("text", ["- [unclosed\n", "a: b: c\n"])
def test_text_that_is_not_yaml_raises_yaml_error(text):
    with pytest.raises(yaml.YAMLError):
        parse_yaml(text.encode("utf-8"))


def test_yaml_from_events_on_real_and_synthetic_files(data_dir):
    for path in (GEODATA / "agreements.yaml", data_dir / "agreements.yaml"):
        data = path.read_bytes()
        root, issues = parse_yaml(data)
        assert issues == []
        assert root == yaml.load(data, Loader=_Loader)


# -- GeoJSON from shared row texts -----------------------------------------------------------

@pytest.mark.parametrize("options", [Options(), Options(type=("forum",)), Options(q="fund", year_from=2018),
                                     Options(province=("Anhui",))], ids=repr)
def test_geojson_from_row_texts_is_the_plain_writers(big_app, options):
    atlas = big_atlas(big_app)
    sel = select(atlas, options)
    for layer in layers.LAYERS:
        fast = layers.render(atlas, sel, layer, "geojson")
        plain = layers.to_geojson(layers.table(atlas, sel, layer), layer)
        assert fast == plain
        reference = json.loads(layers.table(atlas, sel, layer).to_json(drop_id=True))
        doc = json.loads(fast)
        assert len(doc["features"]) == len(reference["features"])


# -- a large map: the page carries settings, the script loads the data -------------------------

def settings_of(html) -> dict:
    """The map's settings, from a page or a maps.MapParts (its JSON element)."""
    html = getattr(html, "html", html)
    return json.loads(re.search(r'id="gm-map-settings">(.*?)</script>', html, re.S).group(1))


def test_a_large_page_carries_no_data_and_preloads_it(big_client, big_app):
    html = big_client.get("/?lang=en").get_data(as_text=True)
    assert re.search(r'<script type="application/json" id="[^"]+-data">null</script>', html)
    settings = settings_of(html)
    atlas = big_atlas(big_app)
    assert settings["dataUrl"].startswith(f"/api/map.json?v={atlas.version}&lang=en")
    assert f'<link rel="preload" href="{settings["dataUrl"].replace("&", "&amp;")}" as="fetch" crossorigin="anonymous">' in html
    assert "{id}" in settings["popupUrl"]
    # The list still shows the map's first partners with their newest agreements, in detail,
    # and says it stops there.
    first = re.search(r'<li class="gm-item" data-partner="([^"]+)"', html).group(1)
    assert first == atlas.partners.index[0]
    mine = atlas.agreements[atlas.agreements["place_id"] == first].sort_values("date", ascending=False, kind="stable")
    assert mine.iloc[0]["title_en"].replace("&", "&amp;") in html
    assert html.count('class="gm-item"') < len(atlas.partners)
    assert f"of {len(atlas.partners):,} partners" in html or f"of {len(atlas.partners)} partners" in html


def test_small_maps_stay_inline(client):
    html = client.get("/?lang=en").get_data(as_text=True)
    assert "dataUrl" not in html and '"agreements":[{' in html


def test_map_data_is_what_the_page_would_inline(big_client, big_app):
    atlas = big_atlas(big_app)
    settings = settings_of(big_client.get("/?lang=zh&year_from=2014").get_data(as_text=True))
    resp = big_client.get(settings["dataUrl"])
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    data = resp.get_json()
    full = payload.build(atlas, select(atlas, Options(year_from=2014), partner_filters=False), Options(),
                         lang="zh", gcj02=False)
    p = data["partners"]
    assert p["id"] == [x["id"] for x in full["partners"]]
    assert p["name"] == [x["name"] for x in full["partners"]]
    assert [[a, b] for a, b in zip(p["lat"], p["lon"])] == [x["ll"] for x in full["partners"]]
    assert [data["kinds"][k] for k in p["kind"]] == [x["kind"] for x in full["partners"]]
    assert data["sites"] == full["sites"]
    # Agreements newest first: [family, [sites], first year, last year, status, partners...]
    by_date = sorted(full["agreements"], key=lambda a: a["iso"], reverse=True)
    assert data["format"] == "compact-2"
    assert data["agreements"] == [[data["fams"].index(a["fam"]), a["s"], *a["years"],
                                   data["statuses"].index(a["status"]), *a["p"]] for a in by_date]
    assert all(isinstance(row[1], list) for row in data["agreements"])
    # Built cold, the same bytes as the page's own copy.
    big_app.extensions["geomap.cache"].clear()
    assert big_client.get(settings["dataUrl"]).data == resp.data
    # An old version's URL still answers, but may not be kept for good.
    old = big_client.get(settings["dataUrl"].replace(atlas.version, "0" * 16))
    assert old.status_code == 200 and old.headers["Cache-Control"] == "public, max-age=300"


def test_popup_data_follows_the_filters_and_escapes_nothing_it_should_not(big_client, big_app):
    atlas = big_atlas(big_app)
    pid = atlas.partners.index[0]  # the partner with the most agreements
    resp = big_client.get(f"/api/map/{pid}.json?lang=en&type=forum")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    got = resp.get_json()
    rows = atlas.agreements[(atlas.agreements["place_id"] == pid) & (atlas.agreements["type"] == "forum")]
    assert got["partner"] == pid
    assert sorted(a["id"] for a in got["agreements"]) == sorted(rows["agreement_id"])
    isos = [a["iso"] for a in got["agreements"]]
    assert isos == sorted(isos, reverse=True)
    assert all(a["type"] == "Forum" and a["site"] for a in got["agreements"])
    assert big_client.get("/api/map/nowhere.json").status_code == 404
    assert big_client.get(f"/api/map/{pid}.json?type=treaty").status_code == 400


def test_load_mode_threshold_counts_agreements(big_app):
    atlas = big_atlas(big_app)
    source = big_app.extensions["geomap.map_source"]
    with big_app.test_request_context("/"):
        loaded = maps.build_map(atlas, Options(), lang="en", source=source)
        small = maps.build_map(atlas, Options(q="agreement-00000"), lang="en", source=source)  # ten of them
    assert 'id="gm-map-data">null</script>' in loaded.html and "dataUrl" in settings_of(loaded)
    assert '"agreements":[{' in small.html and "dataUrl" not in settings_of(small)
    # Without a source (geomap build, scripts) the data is always inline; and the map never
    # asks Flask for one, even inside a request.
    with big_app.test_request_context("/"):
        standalone = maps.build_map(atlas, Options(), lang="en")
    assert "dataUrl" not in settings_of(standalone) and len(json.loads(re.search(
        r'id="gm-map-data">(.*?)</script>', standalone.html, re.S).group(1))["agreements"]) == N



# -- gzip ------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/?lang=en", "/api/agreements.geojson", "/api/map.json?lang=en",
                                  "/export/links.csv"])
def test_text_is_gzipped_for_clients_that_accept_it(big_client, path):
    plain = big_client.get(path)
    packed = big_client.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == plain.data
    assert len(packed.data) < len(plain.data) / 3
    for resp in (plain, packed):
        assert "Accept-Encoding" in resp.headers["Vary"]
    # Two representations, two ETags; each revalidates as itself.
    assert packed.headers["ETag"] != plain.headers["ETag"]
    again = big_client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304 and again.headers["ETag"] == packed.headers["ETag"]
    other = big_client.get(path, headers={"If-None-Match": packed.headers["ETag"]})
    assert other.status_code == 200 and other.data == plain.data


def test_binary_downloads_are_not_gzipped(big_client):
    resp = big_client.get("/export/partners.gpkg", headers={"Accept-Encoding": "gzip"})
    assert resp.status_code == 200 and "Content-Encoding" not in resp.headers


def test_gzip_is_deterministic(big_client):
    one = big_client.get("/api/partners.geojson", headers={"Accept-Encoding": "gzip"}).data
    big_client.application.extensions["geomap.cache"].clear()
    two = big_client.get("/api/partners.geojson", headers={"Accept-Encoding": "gzip"}).data
    assert one == two


# -- new data in a running worker -----------------------------------------------------------

def test_reloading_app_swaps_in_new_data_and_keeps_serving_through_bad_data(data_copy):
    from geomap.web.reload import ReloadingApp

    app = ReloadingApp(lambda: create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(data_copy)}), interval=3600,
                       settle=0, data_dir=data_copy)
    from werkzeug.test import Client

    client = Client(app)
    first = client.get("/healthz").get_json()
    page = client.get("/?lang=en")
    assert app.check() is False  # nothing changed
    path = data_copy / "agreements.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Shangyu Week forum in Shanghai", "Shangyu Week forum, Shanghai"), encoding="utf-8")
    assert app.check() is True and app.reloads == 1
    second = client.get("/healthz").get_json()
    assert second["data_version"] != first["data_version"]
    again = client.get("/?lang=en", headers={"If-None-Match": page.headers["ETag"]})
    assert again.status_code == 200  # new data, new ETag
    # Broken data: logged, and the last good version stays.
    path.write_text(text.replace("type: forum", "type: treaty", 1), encoding="utf-8")
    assert app.check() is False
    assert client.get("/healthz").get_json()["data_version"] == second["data_version"]
    assert client.get("/?lang=en").status_code == 200
    import gc

    gc.unfreeze()  # the reload froze this process's objects, as in a worker
