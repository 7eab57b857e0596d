"""GeoParquet and FlatGeobuf downloads: read back by other people's readers, lists kept as lists.

Expected values come from geodata/ read with yaml (test_export.Raw), not from the Atlas.
"""
from __future__ import annotations

import datetime as dt
import json
import re

import geopandas as gpd
import geoparquet_validator as gpv
import pyarrow.parquet as pq
import pyogrio
import pytest

from test_export import LAYERS, Raw, expected_ids, raw  # noqa: F401  (raw is a fixture)


def _parquet(client, url: str, tmp_path, name: str = "layer.parquet"):
    resp = client.get(url)
    assert resp.status_code == 200, resp.data[:300]
    path = tmp_path / name
    path.write_bytes(resp.data)
    return resp, path


@pytest.mark.parametrize("layer", LAYERS)
def test_geoparquet_passes_the_validator(client, layer, tmp_path):
    """geoparquet-validator runs the OGC abstract tests for GeoParquet 1.1 on the file."""
    resp, path = _parquet(client, f"/export/{layer}.parquet", tmp_path)
    report = gpv.check(str(path))
    assert gpv.failed(report) == [], report["outcomes"]
    assert report["version"] == "1.1.0"
    passed = {o["id"] for o in report["outcomes"] if o["status"] == "pass"}
    # the metadata, the WKB column, the CRS as PROJJSON in lon/lat order, and the bbox covering
    assert {"/conf/core/geo-metadata", "/conf/core/wkb", "/conf/core/crs-projjson", "/conf/core/axis-order",
            "/conf/core/bbox-extent", "/conf/covering/bbox-column-structure"} <= passed, passed


def test_geoparquet_metadata_is_version_1_1_with_the_crs(client, tmp_path):
    _, path = _parquet(client, "/export/links.parquet", tmp_path)
    geo = json.loads(pq.read_schema(path).metadata[b"geo"])
    assert geo["version"] == "1.1.0"
    assert geo["primary_column"] == "geometry"
    column = geo["columns"]["geometry"]
    assert column["encoding"] == "WKB"
    assert column["geometry_types"] == ["LineString"]
    assert column["crs"]["id"] == {"authority": "EPSG", "code": 4326}
    assert column["covering"]["bbox"]["xmin"] == ["bbox", "xmin"]
    gdf = gpd.read_parquet(path)
    assert gdf.crs.to_epsg() == 4326


def test_geoparquet_keeps_lists_and_dates(client, raw, tmp_path):  # noqa: F811
    _, path = _parquet(client, "/export/agreements.parquet", tmp_path)
    gdf = gpd.read_parquet(path)
    assert list(gdf["id"]) == expected_ids(raw, "agreements")
    schema = pq.read_schema(path)
    assert str(schema.field("sectors").type) == "large_list<item: large_string>" or \
        str(schema.field("sectors").type).startswith("list<")
    assert str(schema.field("date").type) == "date32[day]"
    assert str(schema.field("value_cny").type) == "int64"
    rows = {r["id"]: r for r in gdf.to_dict("records")}
    for a, pid in raw.pairs():
        row = rows[f"{a['id']}@{pid}"]
        assert list(row["sectors"]) == a["sectors"]
        assert [dict(p) for p in row["parties"]] == [
            {"name": p["name"], "role": p.get("role") or None, "name_zh": p.get("name_zh"),
             "role_zh": p.get("role_zh")} for p in a["parties"]]
        assert row["date"] == a["date"] and isinstance(row["date"], dt.date)
        value = row["value_cny"]
        assert (None if value is None or value != value else int(value)) == a.get("value_cny")
    partners = gpd.read_parquet(_parquet(client, "/export/partners.parquet", tmp_path, "p.parquet")[1])
    shaoxing = partners.set_index("id").loc["shaoxing"]
    mine = [a for a, p in raw.pairs() if p == "shaoxing"]
    assert list(shaoxing["agreement_ids"]) == [a["id"] for a in mine]
    assert set(shaoxing["sectors"]) == {s for a in mine for s in a["sectors"]}
    assert shaoxing["first_date"] == min(a["date"] for a in mine)


def test_flat_formats_still_join_the_lists(client, tmp_path):
    path = tmp_path / "agreements.fgb"
    path.write_bytes(client.get("/export/agreements.fgb").data)
    gdf = pyogrio.read_dataframe(path)
    row = gdf.set_index("id").loc["shaoxing-tech-transfer-sub-center@shaoxing"]
    assert row["sectors"] == "technology-transfer; advanced-manufacturing"
    assert row["parties"].startswith("Shaoxing Municipal People's Government (signatory); ")


@pytest.mark.parametrize("layer", LAYERS)
def test_flatgeobuf_reads_back_with_pyogrio_crs_and_index(client, raw, layer, tmp_path):  # noqa: F811
    path = tmp_path / f"{layer}.fgb"
    path.write_bytes(client.get(f"/export/{layer}.fgb").data)
    info = pyogrio.read_info(path)
    assert info["crs"] == "EPSG:4326"
    assert info["features"] == len(expected_ids(raw, layer))
    assert info["geometry_type"] == ("LineString" if layer == "links" else "Point")
    # The packed R-tree lets GDAL answer a bounding box without reading every feature.
    assert info["capabilities"]["fast_spatial_filter"]
    near_shaoxing = pyogrio.read_dataframe(path, bbox=(120.4, 29.9, 120.7, 30.2))
    assert len(near_shaoxing) > 0
    assert len(near_shaoxing) < info["features"] or layer == "partners" and info["features"] == 1


def test_columnar_downloads_have_names_etags_and_filters(client, raw, tmp_path):  # noqa: F811
    for fmt in ("parquet", "fgb"):
        url = f"/export/agreements.{fmt}?province=Jiangsu"
        resp = client.get(url)
        assert re.search(rf'filename="geomap-agreements-\d{{4}}-\d\d-\d\d-province-Jiangsu\.{fmt}"',
                         resp.headers["Content-Disposition"])
        etag = resp.headers["ETag"]
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
        assert client.get(f"/export/agreements.{fmt}").headers["ETag"] != etag
        assert "Content-Encoding" not in client.get(url, headers={"Accept-Encoding": "gzip"}).headers
        path = tmp_path / f"jiangsu.{fmt}"
        path.write_bytes(resp.data)
        gdf = gpd.read_parquet(path) if fmt == "parquet" else gpd.read_file(path)
        want = expected_ids(raw, "agreements", lambda a, pid: raw.places[pid]["province"] == "Jiangsu")
        assert sorted(gdf["id"]) == sorted(want) and want
