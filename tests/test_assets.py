"""Scripts and styles as the app serves them: gzip-compressed once, with validators per encoding."""
from __future__ import annotations

import gzip

from geomap import assets

JS = "leaflet/leaflet.js"
PNG = next(name for name in assets.FILES if name.endswith(".png"))


def test_scripts_and_styles_go_gzipped_to_clients_that_accept_it(client):
    for name in (JS, "geomap/geomap.css"):
        url = assets.url(name)
        r = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
        assert r.status_code == 200
        assert r.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in r.headers["Vary"]
        assert r.headers["ETag"] == f'"{assets.digest(name)}-gzip"'
        body = r.get_data()
        assert gzip.decompress(body) == assets.path(name).read_bytes()
        assert len(body) < len(assets.path(name).read_bytes()) / 2.5

        plain = client.get(url, headers={"Accept-Encoding": "identity"})
        assert "Content-Encoding" not in plain.headers
        assert plain.get_data() == assets.path(name).read_bytes()
        assert plain.headers["ETag"] == f'"{assets.digest(name)}"'
        assert "Accept-Encoding" in plain.headers["Vary"]


def test_each_encoding_revalidates_with_its_own_etag(client):
    url = assets.url(JS)
    gz_tag = client.get(url, headers={"Accept-Encoding": "gzip"}).headers["ETag"]
    plain_tag = client.get(url).headers["ETag"]
    assert gz_tag != plain_tag
    assert client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": gz_tag}).status_code == 304
    # A proxy that recompressed marks the tag weak: still the same representation.
    assert client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": "W/" + gz_tag}).status_code == 304
    # The plain body's tag does not validate the compressed representation, nor the reverse.
    assert client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": plain_tag}).status_code == 200
    assert client.get(url, headers={"If-None-Match": gz_tag}).status_code == 200
    assert client.get(url, headers={"If-None-Match": plain_tag}).status_code == 304


def test_a_file_is_compressed_once_not_per_request(client, monkeypatch):
    calls = []
    real = gzip.compress
    monkeypatch.setattr(assets.gzip, "compress", lambda *a, **k: calls.append(1) or real(*a, **k))
    assets.gzipped.cache_clear()
    url = assets.url("geomap/geomap.css")
    bodies = {client.get(url, headers={"Accept-Encoding": "gzip"}).get_data() for _ in range(3)}
    assert len(calls) == 1 and len(bodies) == 1


def test_images_are_sent_as_they_are(client):
    r = client.get(assets.url(PNG), headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and "Content-Encoding" not in r.headers
    assert r.get_data() == assets.path(PNG).read_bytes()
    assert "Accept-Encoding" not in r.headers.get("Vary", "")
