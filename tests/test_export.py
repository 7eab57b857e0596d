"""The open data: /api/<layer>.geojson, /export/<layer>.<format> and `geomap export`.

Expected values come from geodata/ read here with yaml and csv, not from the Atlas, so a bug
in the atlas, the selection or the writers shows up as a difference.
"""
from __future__ import annotations

import csv
import datetime as dt
import decimal
import errno
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import geopandas as gpd
import pyogrio
import pytest
import shapely
import yaml
from click.testing import CliRunner

from conftest import GEODATA
from geomap.cli import main
from geomap.web import create_app

LAYERS = ("partners", "agreements", "links")
FORMATS = ("geojson", "csv", "gpkg", "kml", "parquet", "fgb")
MEDIA = {
    "geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
    "gpkg": "application/geopackage+sqlite3",
    "kml": "application/vnd.google-earth.kml+xml; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
    "fgb": "application/flatgeobuf",
}
SHAOXING = (120.58, 30.03)  # lon, lat, roughly: east of 120 E, north of 30 N


# -- the data, read independently ---------------------------------------------------------------

class Raw:
    def __init__(self, data_dir: Path):
        self.agreements = yaml.safe_load((data_dir / "agreements.yaml").read_text(encoding="utf-8"))
        with open(data_dir / "places.csv", encoding="utf-8-sig", newline="") as fh:
            self.places = {row["id"]: row for row in csv.DictReader(fh)}

    def pairs(self, keep=lambda a, pid: True) -> list[tuple[dict, str]]:
        return [(a, pid) for a in self.agreements for pid in a["partners"] if keep(a, pid)]

    def ids(self, keep=lambda a, pid: True) -> list[str]:
        return [f"{a['id']}@{pid}" for a, pid in self.pairs(keep)]

    def link_ids(self, keep=lambda a, pid: True) -> list[str]:
        return [f"{a['id']}@{pid}@{site}" for a, pid in self.pairs(keep) for site in sites(a)]

    def partner_ids(self, keep=lambda a, pid: True) -> set[str]:
        return {pid for _, pid in self.pairs(keep)}

    def lonlat(self, pid: str) -> tuple[float, float]:
        row = self.places[pid]
        return float(row["lon"]), float(row["lat"])

    def text(self, a: dict, pid: str) -> str:
        """What a text search looks in: titles, summaries, names and parties (spec section 6)."""
        place = self.places[pid]
        bits = [a["id"], pid, a["title_en"], a.get("title_zh") or "", a["summary_en"],
                a.get("summary_zh") or "", place["name_en"], place["name_zh"]]
        bits += [self.places[s]["name_en"] for s in sites(a)]
        bits += [p["name"] for p in a.get("parties") or []] + [p.get("name_zh") or "" for p in a.get("parties") or []]
        return "\n".join(bits).casefold()


def sites(a: dict) -> list[str]:
    """An agreement's Shanghai-side sites: shanghai_site is one id or a list of them."""
    site = a["shanghai_site"]
    return [site] if isinstance(site, str) else list(site)


def years(a: dict) -> tuple[int, int]:
    """The first and last year an agreement covers (date, and date_end for a period)."""
    first = int(str(a["date"])[:4])
    return first, int(str(a["date_end"])[:4]) if a.get("date_end") else first


@pytest.fixture(scope="module")
def raw() -> Raw:
    return Raw(GEODATA)


def expected_ids(raw: Raw, layer: str, keep=lambda a, pid: True) -> list[str]:
    if layer == "partners":
        return sorted(raw.partner_ids(keep))
    return raw.link_ids(keep) if layer == "links" else raw.ids(keep)


def expected_coords(raw: Raw, layer: str, fid: str) -> list[tuple[float, float]]:
    if layer == "partners":
        return [raw.lonlat(fid)]
    if layer == "agreements":
        aid, pid = fid.split("@")
        return [raw.lonlat(pid)]
    aid, pid, site = fid.split("@")
    return [raw.lonlat(site), raw.lonlat(pid)]


# -- helpers ------------------------------------------------------------------------------------

def read_back(data: bytes, fmt: str, folder: Path, name: str = "layer") -> gpd.GeoDataFrame:
    path = folder / f"{name}.{fmt}"
    path.write_bytes(data)
    if fmt == "csv":  # points as lon/lat columns, lines as WKT
        return gpd.read_file(path, engine="pyogrio", X_POSSIBLE_NAMES="lon", Y_POSSIBLE_NAMES="lat",
                             GEOM_POSSIBLE_NAMES="wkt", KEEP_GEOM_COLUMNS="NO")
    if fmt == "parquet":  # pyarrow's reader (pyogrio's GDAL has no Parquet driver)
        return gpd.read_parquet(path)
    return gpd.read_file(path, engine="pyogrio")


def check_layer(raw: Raw, layer: str, fmt: str, data: bytes, folder: Path, keep=lambda a, pid: True):
    """Same feature count, same ids, coordinates equal to 6 decimals."""
    gdf = read_back(data, fmt, folder)
    want = expected_ids(raw, layer, keep)
    got = [str(i) for i in gdf["id"]]
    assert len(gdf) == len(want)
    if layer == "partners" or fmt == "fgb":  # FlatGeobuf orders features along its R-tree
        assert sorted(got) == sorted(want)
    else:
        assert got == want  # in the order of agreements.yaml
    if fmt != "csv":
        assert gdf.crs is not None and gdf.crs.to_epsg() == 4326
    kind = "Point" if layer != "links" else "LineString"
    for fid, geom in zip(got, gdf.geometry):
        assert geom.geom_type == kind, (fid, geom.geom_type)
        coords = [tuple(c) for c in shapely.get_coordinates(geom).tolist()]
        assert coords == [pytest.approx(c, abs=5e-7) for c in expected_coords(raw, layer, fid)], fid
    return gdf


def cli(*args: str, data_dir: Path = GEODATA):
    return CliRunner().invoke(main, ["export", *args], env={"GEOMAP_DATA_DIR": str(data_dir)})


def error_message(resp) -> str:
    assert resp.is_json, resp.data[:200]
    body = resp.get_json()
    assert body["error"]["status"] == resp.status_code
    return body["error"]["message"]


def numbers_as_decimals(body: bytes):
    return json.loads(body, parse_float=decimal.Decimal, parse_int=decimal.Decimal)


def walk_keys(value):
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from walk_keys(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk_keys(v)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


FENHU_TITLE = "Cooperation Framework Agreement for the Establishment of the National Technology Transfer Eastern Center Fenhu Branch Center"


# -- each layer and format, from the route and from the CLI -------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("layer", LAYERS)
def test_route_layer_reads_back(client, raw, layer, fmt, tmp_path):
    resp = client.get(f"/export/{layer}.{fmt}")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == MEDIA[fmt]
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    check_layer(raw, layer, fmt, resp.data, tmp_path)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("layer", LAYERS)
def test_cli_gives_the_routes_bytes(client, raw, layer, fmt, tmp_path):
    route = client.get(f"/export/{layer}.{fmt}").data
    out = tmp_path / f"out.{fmt}"
    result = cli("--layer", layer, "--format", fmt, "--output", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == route
    check_layer(raw, layer, fmt, out.read_bytes(), tmp_path)
    # No --output: the same bytes on standard output, binary formats included.
    result = cli("--layer", layer, "--format", fmt)
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == route


@pytest.mark.parametrize("layer", LAYERS)
def test_api_is_the_geojson_export(client, layer):
    api = client.get(f"/api/{layer}.geojson")
    export = client.get(f"/export/{layer}.geojson")
    assert api.status_code == export.status_code == 200
    assert api.data == export.data
    assert api.headers["ETag"] == export.headers["ETag"]
    assert "Content-Disposition" not in api.headers  # the API is read in place


def test_cli_as_a_subprocess_reads_geomap_data_dir(data_copy, raw, tmp_path):
    """The installed program, in its own process, on another data directory: the route's bytes."""
    edit(data_copy / "agreements.yaml", FENHU_TITLE, "Fenhu branch centre (renamed in a test)")
    env = dict(os.environ, GEOMAP_DATA_DIR=str(data_copy))
    env.pop("GEOMAP_DEBUG", None)
    proc = subprocess.run(
        [sys.executable, "-m", "geomap.cli", "export", "--layer", "links", "--format", "gpkg",
         "--year-to", "2019"],
        env=env, cwd=tmp_path, capture_output=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    app = create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(data_copy)})
    route = app.test_client().get("/export/links.gpkg?year_to=2019")
    assert route.status_code == 200
    assert proc.stdout == route.data
    keep = lambda a, pid: a["date"].year <= 2019  # noqa: E731
    gdf = check_layer(raw, "links", "gpkg", proc.stdout, tmp_path, keep)
    assert "Fenhu branch centre (renamed in a test)" in set(gdf["title_en"])
    assert FENHU_TITLE not in set(gdf["title_en"])


# -- a failed write leaves no file --------------------------------------------------------------

def test_failed_cli_write_leaves_no_file(tmp_path, monkeypatch):
    def disk_full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    out = tmp_path / "agreements.gpkg"
    result = cli("--layer", "agreements", "--format", "gpkg", "--output", str(out))
    assert result.exit_code != 0
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind either
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "No space left" in lines[0]
    assert lines[0].endswith(str(out))  # names the file asked for, not a temporary one
    assert "Traceback" not in result.output


def test_failed_cli_write_keeps_the_previous_file(tmp_path, monkeypatch):
    out = tmp_path / "links.csv"
    out.write_bytes(b"previous export\n")

    def refuse(src, dst):
        raise OSError(errno.EACCES, os.strerror(errno.EACCES), str(dst))

    monkeypatch.setattr(os, "replace", refuse)
    result = cli("--layer", "links", "--format", "csv", "--output", str(out))
    assert result.exit_code != 0
    assert out.read_bytes() == b"previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["links.csv"]


def test_cli_write_to_a_missing_directory_fails_cleanly(tmp_path):
    out = tmp_path / "no" / "such" / "dir" / "partners.kml"
    result = cli("--layer", "partners", "--format", "kml", "--output", str(out))
    assert result.exit_code != 0
    assert not (tmp_path / "no").exists()
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith(str(out))


def test_cli_output_gets_ordinary_permissions(tmp_path):
    """Not mkstemp's private 0600: a web server or a colleague must be able to read the export."""
    out = tmp_path / "agreements.csv"
    old = os.umask(0o022)
    try:
        assert cli("--layer", "agreements", "--format", "csv", "--output", str(out)).exit_code == 0
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o644
    out.chmod(0o640)  # replacing a file keeps its permissions
    assert cli("--layer", "agreements", "--format", "csv", "--output", str(out)).exit_code == 0
    assert out.stat().st_mode & 0o777 == 0o640


# -- RFC 7946 -----------------------------------------------------------------------------------

@pytest.mark.parametrize("layer", LAYERS)
def test_geojson_follows_rfc_7946(client, raw, layer):
    resp = client.get(f"/api/{layer}.geojson")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/geo+json"
    body = resp.data
    assert not body.startswith(b"\xef\xbb\xbf")
    doc = numbers_as_decimals(body)
    assert doc["type"] == "FeatureCollection"
    assert "crs" not in set(walk_keys(doc))
    seen = set()
    kind = "Point" if layer != "links" else "LineString"
    for feature in doc["features"]:
        assert feature["type"] == "Feature"
        fid = feature["id"]
        assert isinstance(fid, str) and fid and fid not in seen
        seen.add(fid)
        assert feature["properties"]["id"] == fid
        geom = feature["geometry"]
        assert geom["type"] == kind
        positions = [geom["coordinates"]] if kind == "Point" else geom["coordinates"]
        assert len(positions) == (1 if kind == "Point" else 2)
        for position in positions:
            assert len(position) == 2  # no altitude
            lon, lat = position
            assert -180 <= lon <= 180 and -90 <= lat <= 90
            assert 118 < lon < 123 and 28 < lat < 33  # [lon, lat] in the Yangtze River Delta
            for n in position:
                assert -n.as_tuple().exponent <= 6, (fid, n)  # at most 6 decimals
        expected = expected_coords(raw, layer, fid)
        assert [[float(x) for x in p] for p in positions] == [pytest.approx(list(c), abs=5e-7) for c in expected]
        for key, value in feature["properties"].items():
            assert not isinstance(value, (dict, list)), (fid, key)  # flat
    assert sorted(seen) == sorted(expected_ids(raw, layer))


def test_lon_lat_order_on_a_known_place(client):
    for layer in ("partners", "agreements"):
        doc = json.loads(client.get(f"/api/{layer}.geojson").data)
        shaoxing = [f for f in doc["features"] if f["properties"].get("place_id", f["id"]) == "shaoxing"]
        assert shaoxing
        for f in shaoxing:
            lon, lat = f["geometry"]["coordinates"]
            assert lon == pytest.approx(SHAOXING[0], abs=0.01)
            assert lat == pytest.approx(SHAOXING[1], abs=0.01)
    links = json.loads(client.get("/api/links.geojson").data)["features"]
    line = next(f for f in links if f["id"] == "shaoxing-tech-transfer-sub-center@shaoxing@shanghai-international-convention-center")
    start, end = line["geometry"]["coordinates"]
    assert end == [pytest.approx(SHAOXING[0], abs=0.01), pytest.approx(SHAOXING[1], abs=0.01)]
    assert start[0] > end[0] and start[1] > end[1]  # from Shanghai, north-east of Shaoxing


def test_agreement_properties_are_the_data_flattened(client, raw):
    doc = json.loads(client.get("/api/agreements.geojson").data)
    by_id = {f["id"]: f["properties"] for f in doc["features"]}
    for a, pid in raw.pairs():
        p = by_id[f"{a['id']}@{pid}"]
        place = raw.places[pid]
        assert p["agreement_id"] == a["id"] and p["place_id"] == pid
        assert (p["place_name_en"], p["place_name_zh"]) == (place["name_en"], place["name_zh"] or None)
        assert (p["title_en"], p["title_zh"]) == (a["title_en"], a.get("title_zh"))
        assert p["date"] == a["date"].isoformat() and p["date_precision"] == a["date_precision"]
        assert p["type"] == a["type"]
        assert p["sectors"] == "; ".join(a["sectors"])
        assert p["value_cny"] == a.get("value_cny")
        for party in a["parties"]:
            assert party["name"] in p["parties"]
        assert p["parties"].count("; ") >= len(a["parties"]) - 1
        assert p["source_title"] == a["sources"][0]["title"]
        assert p["source_url"] == a["sources"][0].get("url")
        assert p["geocode_precision"] == int(place["precision"])
        assert p["geocode_source"] == place["source"]
        assert p["shanghai_site"] == a["shanghai_site"]
    assert by_id["ningbo-seven-projects-signing@ningbo"]["value_cny"] == 13_700_000_000
    assert b'"value_cny":13700000000,' in client.get("/api/agreements.geojson").data


def test_partner_properties_aggregate_their_agreements(client, raw):
    doc = json.loads(client.get("/api/partners.geojson").data)
    by_id = {f["id"]: f["properties"] for f in doc["features"]}
    for pid in raw.partner_ids():
        mine = [a for a, p in raw.pairs() if p == pid]
        props = by_id[pid]
        assert props["agreement_count"] == len(mine)
        assert props["agreement_ids"].split("; ") == [a["id"] for a in mine]
        assert props["first_date"] == min(a["date"] for a in mine).isoformat()
        assert props["last_date"] == max(a["date"] for a in mine).isoformat()
        assert set(props["types"].split("; ")) == {a["type"] for a in mine}
        assert set(props["sectors"].split("; ")) == {s for a in mine for s in a["sectors"]}
        assert props["name_zh"] == (raw.places[pid]["name_zh"] or None)
        assert props["geocode_precision"] == int(raw.places[pid]["precision"])


# -- Chinese as is ------------------------------------------------------------------------------

def test_chinese_text_is_raw_utf8(client):
    shaoxing = "绍兴市".encode("utf-8")
    body = client.get("/api/agreements.geojson").data
    assert shaoxing in body and "共建国家技术转移东部中心绍兴分中心战略合作协议".encode() in body
    assert b"\\u" not in body  # no \u escapes
    csv_body = client.get("/export/agreements.csv").data
    assert csv_body.startswith(b"\xef\xbb\xbf")  # the BOM, for Excel
    assert shaoxing in csv_body
    kml = client.get("/export/agreements.kml").data
    assert shaoxing in kml and b"&#" not in kml


def test_csv_is_excel_friendly_and_flat(client, raw):
    for layer in LAYERS:
        text = client.get(f"/export/{layer}.csv").data.decode("utf-8-sig")
        rows = list(csv.DictReader(text.splitlines()))
        assert len(rows) == len(expected_ids(raw, layer))
        if layer == "links":
            assert rows[0]["wkt"].startswith("LINESTRING (")
        else:
            assert {"lon", "lat"} <= set(rows[0])
    rows = list(csv.DictReader(client.get("/export/agreements.csv").data.decode("utf-8-sig").splitlines()))
    ningbo = next(r for r in rows if r["id"] == "ningbo-seven-projects-signing@ningbo")
    assert ningbo["value_cny"] == "13700000000"  # not 13700000000.0
    shaoxing = next(r for r in rows if r["id"] == "shaoxing-tech-transfer-sub-center@shaoxing")
    assert (float(shaoxing["lon"]), float(shaoxing["lat"])) == raw.lonlat("shaoxing")


def test_gpkg_and_kml_layers_are_named_after_the_layer(client, tmp_path):
    for fmt in ("gpkg", "kml"):
        for layer in LAYERS:
            path = tmp_path / f"{layer}.{fmt}"
            path.write_bytes(client.get(f"/export/{layer}.{fmt}").data)
            assert [name for name, _ in pyogrio.list_layers(path)] == [layer]


def test_kml_placemarks_carry_the_stable_ids(client, raw):
    kml = client.get("/export/agreements.kml").data.decode("utf-8")
    assert re.findall(r'<Placemark id="([^"]*)"', kml) == raw.ids()


# -- filters ------------------------------------------------------------------------------------

def _province(raw):
    return lambda a, pid: raw.places[pid]["province"] == "Jiangsu"


FILTER_CASES = {
    # A period (date to date_end) is kept in every year it overlaps.
    "year_from=2020": lambda raw: lambda a, pid: years(a)[1] >= 2020,
    "year_to=2019": lambda raw: lambda a, pid: years(a)[0] <= 2019,
    "year_from=2020&year_to=2020": lambda raw: lambda a, pid: years(a)[0] <= 2020 <= years(a)[1],
    "status=intention": lambda raw: lambda a, pid: a.get("status", "signed") == "intention",
    "status=signed,announced": lambda raw: lambda a, pid: a.get("status", "signed") in ("signed", "announced"),
    "type=project": lambda raw: lambda a, pid: a["type"] == "project",
    "type=sub-center,forum": lambda raw: lambda a, pid: a["type"] in ("sub-center", "forum"),
    "type=sub-center&type=forum": lambda raw: lambda a, pid: a["type"] in ("sub-center", "forum"),
    "sector=finance": lambda raw: lambda a, pid: "finance" in a["sectors"],
    "sector=ecology,healthcare": lambda raw: lambda a, pid: bool({"ecology", "healthcare"} & set(a["sectors"])),
    "province=Jiangsu": _province,
    "province=jiangsu": _province,
    "partner=shaoxing": lambda raw: lambda a, pid: pid == "shaoxing",
    "q=Fenhu": lambda raw: lambda a, pid: "fenhu" in raw.text(a, pid),
    "q=绍兴": lambda raw: lambda a, pid: "绍兴" in raw.text(a, pid),
    "q=cell therapy": lambda raw: lambda a, pid: "cell therapy" in raw.text(a, pid),
    "type=project&province=Zhejiang&year_from=2020&sector=biomedicine":
        lambda raw: lambda a, pid: (a["type"] == "project" and years(a)[1] >= 2020
                                    and raw.places[pid]["province"] == "Zhejiang"
                                    and "biomedicine" in a["sectors"]),
    "q=no-such-thing-anywhere": lambda raw: lambda a, pid: False,
}


@pytest.mark.parametrize("query", list(FILTER_CASES))
def test_each_filter_on_the_api(client, raw, query):
    keep = FILTER_CASES[query](raw)
    want = raw.ids(keep)
    if query != "q=no-such-thing-anywhere":
        assert 0 < len(want) < len(raw.ids()), "the case must keep some rows and drop others"
    for layer in LAYERS:
        resp = client.get(f"/api/{layer}.geojson?{query}")
        assert resp.status_code == 200, resp.data[:300]
        got = [f["id"] for f in json.loads(resp.data)["features"]]
        if layer == "partners":
            assert sorted(got) == sorted(raw.partner_ids(keep))
        elif layer == "links":
            assert got == raw.link_ids(keep)
        else:
            assert got == want


def test_partner_counts_follow_the_filters(client, raw):
    keep = lambda a, pid: a["type"] == "project"  # noqa: E731
    doc = json.loads(client.get("/api/partners.geojson?type=project").data)
    counts = {f["id"]: f["properties"]["agreement_count"] for f in doc["features"]}
    assert counts == {pid: sum(1 for _, p in raw.pairs(keep) if p == pid) for pid in raw.partner_ids(keep)}


@pytest.mark.parametrize("fmt", FORMATS)
def test_filters_in_every_format(client, raw, fmt, tmp_path):
    keep = FILTER_CASES["year_from=2020"](raw)
    resp = client.get(f"/export/agreements.{fmt}?year_from=2020&lang=zh")
    assert resp.status_code == 200
    check_layer(raw, "agreements", fmt, resp.data, tmp_path, keep)


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_empty_selection_is_a_valid_empty_file(client, fmt, tmp_path):
    resp = client.get(f"/export/links.{fmt}?q=no-such-thing-anywhere")
    assert resp.status_code == 200
    assert len(read_back(resp.data, fmt, tmp_path)) == 0
    if fmt == "geojson":
        assert json.loads(resp.data) == {"type": "FeatureCollection", "features": []}


CLI_FLAGS = {
    "year_from=2020": ["--year-from", "2020"],
    "year_to=2019": ["--year-to", "2019"],
    "type=sub-center,forum": ["--type", "sub-center", "--type", "forum"],
    "sector=finance": ["--sector", "finance"],
    "province=Jiangsu": ["--province", "Jiangsu"],
    "partner=shaoxing": ["--partner", "shaoxing"],
    "q=绍兴": ["--q", "绍兴"],
    "type=project&province=Zhejiang&year_from=2020&sector=biomedicine":
        ["--type", "project", "--province", "Zhejiang", "--year-from", "2020", "--sector", "biomedicine"],
}


@pytest.mark.parametrize("query", list(CLI_FLAGS))
def test_cli_filters_give_the_routes_bytes(client, raw, query):
    for layer, fmt in (("agreements", "geojson"), ("partners", "csv")):
        route = client.get(f"/export/{layer}.{fmt}?{query}")
        assert route.status_code == 200
        result = cli("--layer", layer, "--format", fmt, *CLI_FLAGS[query])
        assert result.exit_code == 0, result.output
        assert result.stdout_bytes == route.data
    doc = json.loads(client.get(f"/api/agreements.geojson?{query}").data)
    assert [f["id"] for f in doc["features"]] == raw.ids(FILTER_CASES[query](raw))


MALFORMED = {
    "year_from=abc": "year_from",
    "year_from=19": "year_from",
    "year_to=2101": "year_to",
    "year_from=2021&year_to=2019": "year_from",
    "year_from=2019&year_from=2020": "year_from",
    "type=treaty": "type",
    "type=project,treaty": "type",
    "sector=fishing": "sector",
    "province=Atlantis": "province",
    "partner=atlantis": "partner",
    "partner=shanghai": "partner",  # a Shanghai-side site, not a partner place
    "q=" + "x" * 201: "q",
    "colour=red": "colour",
}


@pytest.mark.parametrize("query", list(MALFORMED))
def test_malformed_filters_get_a_json_400(client, query):
    for url in (f"/api/agreements.geojson?{query}", f"/export/links.csv?{query}"):
        resp = client.get(url)
        assert resp.status_code == 400, url
        assert MALFORMED[query] in error_message(resp)
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
        assert "ETag" not in resp.headers


CLI_MALFORMED = [
    ["--year-from", "abc"],
    ["--year-from", "2021", "--year-to", "2019"],
    ["--type", "treaty"],
    ["--sector", "fishing"],
    ["--province", "Atlantis"],
    ["--partner", "atlantis"],
    ["--q", "x" * 201],
]


@pytest.mark.parametrize("flags", CLI_MALFORMED, ids=lambda f: " ".join(f)[:30])
def test_malformed_filters_on_the_cli(flags, tmp_path):
    out = tmp_path / "out.geojson"
    result = cli("--layer", "agreements", "--output", str(out), *flags)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("geomap: error:")
    assert flags[0].lstrip("-").replace("-", "_") in lines[0]
    assert not out.exists()


@pytest.mark.parametrize("url", [
    "/api/treaties.geojson", "/export/treaties.csv", "/export/agreements.xlsx", "/api/agreements.csv",
])
def test_unknown_layer_or_format_is_a_json_404_naming_the_valid_ones(client, url):
    resp = client.get(url)
    assert resp.status_code == 404
    message = error_message(resp)
    if "treaties" in url:
        assert all(layer in message for layer in LAYERS)
    else:
        assert all(fmt in message for fmt in FORMATS)
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


# -- caching ------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/api/links.geojson?type=project", "/export/partners.gpkg?year_from=2020"])
def test_strong_etag_and_304(client, url):
    first = client.get(url)
    etag = first.headers["ETag"]
    assert re.fullmatch(r'"[^"]+"', etag)  # strong: no W/
    assert "max-age=" in first.headers["Cache-Control"] and "public" in first.headers["Cache-Control"]
    again = client.get(url)
    assert again.headers["ETag"] == etag and again.data == first.data
    revalidated = client.get(url, headers={"If-None-Match": etag})
    assert revalidated.status_code == 304
    assert revalidated.data == b""
    assert revalidated.headers["ETag"] == etag
    assert revalidated.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age=" in revalidated.headers["Cache-Control"]
    stale = client.get(url, headers={"If-None-Match": '"not-the-etag"'})
    assert stale.status_code == 200 and stale.data == first.data


def test_etag_follows_the_filters_not_the_map_options(client):
    base = client.get("/export/agreements.csv").headers["ETag"]
    assert client.get("/export/agreements.csv?type=project").headers["ETag"] != base
    assert client.get("/export/agreements.kml").headers["ETag"] != base
    assert client.get("/export/links.csv").headers["ETag"] != base
    # lang, tiles, height... are map options: the same data, so the same ETag
    assert client.get("/export/agreements.csv?lang=zh&tiles=osm&height=300").headers["ETag"] == base


def test_etag_changes_only_with_the_data(client, data_copy):
    url = "/api/agreements.geojson"
    shipped = client.get(url)
    same = create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(data_copy)}).test_client().get(url)
    assert same.headers["ETag"] == shipped.headers["ETag"]  # a copy of the same data
    edit(data_copy / "agreements.yaml", FENHU_TITLE, "Fenhu branch centre (renamed in a test)")
    changed_client = create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(data_copy)}).test_client()
    changed = changed_client.get(url)
    assert changed.headers["ETag"] != shipped.headers["ETag"]
    assert "renamed in a test".encode() in changed.data
    stale = changed_client.get(url, headers={"If-None-Match": shipped.headers["ETag"]})
    assert stale.status_code == 200


# -- access from other sites --------------------------------------------------------------------

def test_any_origin_may_fetch_the_open_data(client):
    for url in ("/api/partners.geojson", "/export/partners.kml", "/api/partners.geojson?type=nope",
                "/api/nothing.geojson"):
        resp = client.get(url, headers={"Origin": "https://example.org"})
        assert resp.headers["Access-Control-Allow-Origin"] == "*", url
        assert "ETag" in resp.headers["Access-Control-Expose-Headers"]
    preflight = client.options("/export/agreements.csv", headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "if-none-match"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "if-none-match" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "Access-Control-Allow-Origin" not in client.get("/healthz").headers


# -- Content-Disposition ------------------------------------------------------------------------

def disposition(resp) -> dict[str, str]:
    value = resp.headers["Content-Disposition"]
    assert value.split(";")[0] == "attachment"
    out = {}
    for m in re.finditer(r';\s*(filename\*?)=("([^"]*)"|[^;]*)', value):
        out[m.group(1)] = m.group(3) if m.group(3) is not None else m.group(2)
    return out


def utc_today_window(fn):
    before = dt.datetime.now(dt.timezone.utc).date().isoformat()
    result = fn()
    after = dt.datetime.now(dt.timezone.utc).date().isoformat()
    return result, {before, after}


def test_filename_says_layer_date_and_filters(client):
    resp, days = utc_today_window(lambda: client.get("/export/agreements.csv?year_from=2019&type=project"))
    names = disposition(resp)
    assert "filename*" not in names  # plain ASCII needs no RFC 5987 form
    assert names["filename"] in {f"geomap-agreements-{d}-type-project-year_from-2019.csv" for d in days}
    resp, days = utc_today_window(lambda: client.get("/export/links.gpkg"))
    assert disposition(resp)["filename"] in {f"geomap-links-{d}.gpkg" for d in days}
    resp = client.get("/export/partners.kml?type=sub-center,forum&province=Zhejiang&partner=shaoxing")
    name = disposition(resp)["filename"]
    assert name.startswith("geomap-partners-") and name.endswith(
        "-partner-shaoxing-province-Zhejiang-type-sub-center+forum.kml")


def test_filename_with_chinese_search_uses_rfc_5987(client):
    resp, days = utc_today_window(lambda: client.get("/export/agreements.geojson?q=绍兴"))
    names = disposition(resp)
    assert names["filename"].isascii()
    assert names["filename"] in {f"geomap-agreements-{d}-q.geojson" for d in days}
    assert names["filename*"].startswith("UTF-8''")
    assert unquote(names["filename*"][len("UTF-8''"):]) in {f"geomap-agreements-{d}-q-绍兴.geojson" for d in days}


@pytest.mark.parametrize("q", ['../../etc/passwd', 'a"b\\c;d=e', 'x/y\\z', ".hidden", "<script>", "%00 %0d%0a", "a\x00b\r\nc\td"])
def test_filename_from_a_search_is_sanitised(client, q):
    resp = client.get("/export/agreements.csv", query_string={"q": q})
    assert resp.status_code == 200
    value = resp.headers["Content-Disposition"]
    names = disposition(resp)
    for name in (names["filename"], unquote(names.get("filename*", "UTF-8''")[len("UTF-8''"):])):
        assert re.fullmatch(r"[\w.+-]*", name), name
        assert not name.startswith(".") and "/" not in name and ".." not in name
    assert value.count('"') == 2 and "\r" not in value and "\n" not in value


def test_filename_stays_short(client):
    query = "sector=" + ",".join(["technology-transfer", "advanced-manufacturing", "finance", "biomedicine",
                                  "new-materials", "new-energy", "port-logistics", "digital-economy",
                                  "culture-tourism", "talent", "urban-renewal", "healthcare"])
    resp = client.get(f"/export/agreements.geojson?{query}&q=" + "长" * 200)
    assert resp.status_code == 200
    names = disposition(resp)
    full = unquote(names["filename*"][len("UTF-8''"):])
    assert len(full.encode("utf-8")) < 255 and full.endswith(".geojson")
    assert len(names["filename"]) < 255
