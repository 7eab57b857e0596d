"""A client none of us wrote reads the service: GDAL's OAPIF driver (pyogrio's GDAL) against a
live server.

The server runs in this process, in a thread, and records every request it answers; GDAL runs in
a child process (pyogrio holds the interpreter lock while GDAL waits on the network, so client
and server cannot share a process). Expected values come from geodata/ (test_export.Raw).
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from urllib.parse import parse_qs, urlsplit

import pyogrio
import pytest
import shapely

from test_export import Raw, expected_ids, raw  # noqa: F401  (raw is a fixture)

CLIENT = textwrap.dedent("""
    import json, sys
    import pyogrio
    from pyogrio.raw import read

    url, jobs = sys.argv[1], json.loads(sys.argv[2])
    out = {"layers": [list(map(str, row)) for row in pyogrio.list_layers("OAPIF:" + url)]}
    for name, job in jobs.items():
        meta, _, geometry, fields = read("OAPIF:" + url, layer=job["layer"], columns=["id"],
                                         bbox=tuple(job["bbox"]) if job.get("bbox") else None,
                                         where=job.get("where"), **job.get("open", {}))
        out[name] = {"ids": [str(v) for v in fields[0]], "crs": meta["crs"],
                     "wkb": [g.hex() for g in geometry]}
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def gdal(app, serve):
    """gdal(jobs) -> (results, requests): run the jobs in a GDAL client process."""
    assert "OAPIF" in pyogrio.list_drivers(), "pyogrio's GDAL has no OAPIF driver"
    seen: list[str] = []

    def recording(environ, start_response):
        seen.append(environ.get("PATH_INFO", "") + "?" + environ.get("QUERY_STRING", ""))
        return app(environ, start_response)

    base = serve(recording)

    def run(jobs: dict) -> tuple[dict, list[str]]:
        seen.clear()
        proc = subprocess.run([sys.executable, "-c", CLIENT, base + "/ogc", json.dumps(jobs)],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads(proc.stdout), list(seen)

    return run


def _items_requests(requests: list[str], layer: str) -> list[dict]:
    return [parse_qs(urlsplit(r).query) for r in requests
            if urlsplit(r).path == f"/ogc/collections/{layer}/items"]


def test_gdal_reads_every_collection_and_pages_without_losing_a_feature(gdal, raw):  # noqa: F811
    results, requests = gdal({
        "partners": {"layer": "partners"},
        "agreements": {"layer": "agreements"},
        "links": {"layer": "links"},
        "paged": {"layer": "agreements", "open": {"PAGE_SIZE": "4"}},
    })
    assert results["layers"] == [["partners", "Point"], ["agreements", "Point"], ["links", "LineString"]]
    assert sorted(results["partners"]["ids"]) == expected_ids(raw, "partners")
    assert results["agreements"]["ids"] == raw.ids()
    assert results["links"]["ids"] == raw.link_ids()
    for layer in ("agreements", "partners", "links"):
        assert results[layer]["crs"] == "EPSG:4326"
    # Geometry as GDAL read it: the places of geodata/.
    for fid, wkb in zip(results["agreements"]["ids"], results["agreements"]["wkb"]):
        point = shapely.from_wkb(bytes.fromhex(wkb))
        assert (point.x, point.y) == pytest.approx(raw.lonlat(fid.split("@")[1]), abs=5e-7)
    # PAGE_SIZE=4: the same features, none twice, fetched 4 at a time through our next links.
    paged = results["paged"]["ids"]
    assert paged == raw.ids() and len(set(paged)) == len(paged)
    pages = [q for q in _items_requests(requests, "agreements") if q.get("limit") == ["4"]]
    offsets = sorted({int(q.get("offset", ["0"])[0]) for q in pages})
    assert offsets == list(range(0, len(raw.ids()), 4))


def test_gdal_pushes_a_bbox_down(gdal, raw):  # noqa: F811
    box = (120.4, 29.9, 120.7, 30.2)  # around Shaoxing
    results, requests = gdal({"near": {"layer": "agreements", "bbox": list(box)}})
    shape = shapely.box(*box)
    want = [fid for fid in raw.ids() if shape.intersects(shapely.Point(raw.lonlat(fid.split("@")[1])))]
    assert 0 < len(want) < len(raw.ids())
    assert results["near"]["ids"] == want
    sent = [q["bbox"][0] for q in _items_requests(requests, "agreements") if "bbox" in q]
    assert sent, requests
    assert [float(v) for v in sent[-1].split(",")] == pytest.approx(box)


def test_gdal_reads_a_datetime_interval(gdal, raw):  # noqa: F811
    results, requests = gdal({
        "year2020": {"layer": "agreements", "where": "date >= '2020-01-01' AND date <= '2020-12-31'"},
        "one_day": {"layer": "links", "where": "date = '2020-05-17'"},
    })
    assert results["year2020"]["ids"] == raw.ids(lambda a, pid: a["date"].year == 2020)
    assert results["one_day"]["ids"] == raw.link_ids(lambda a, pid: a["date"].isoformat() == "2020-05-17")
    sent = {q["datetime"][0] for layer in ("agreements", "links")
            for q in _items_requests(requests, layer) if "datetime" in q}
    # GDAL turns the filter on the date field into the datetime parameter: the server filtered.
    assert any(v.startswith("2020-01-01") and "/" in v for v in sent), sent
    assert any(v.startswith("2020-05-17") and "/" not in v for v in sent), sent
