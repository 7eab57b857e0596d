"""Trusted origins (issue 11, finding 1): a forged Host gets a 400 on every route and appears in no
body; GEOMAP_PUBLIC_URL is the only source of absolute URLs; forwarded headers are believed only
with GEOMAP_PROXY_FIX; what the request names never reaches a cache key unchecked."""
from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urlsplit

import pytest

from conftest import GEODATA
from geomap import ConfigError
from geomap.web import create_app
from geomap.web.origins import parse_proxy_fix, parse_public_url, parse_trusted_hosts, split_host
from test_embed import ROUTE_SAMPLES, Tags, iframe_of, snippet_of

PUBLIC = "https://maps.example.org/geomap"
FORGED = ("evil.example", "evil.example:8000", "localhost.evil.example", "127.0.0.1.evil.example",
          "EVIL.example", "xn--80ak6aa92e.com")
MALFORMED = ("a b", "local\thost", "localhost:99999", "localhost:port", "[::1", "evil.example/x",
             "user@localhost", "", "localhost:", "-x-.example", "a" * 300)


def all_samples() -> list[str]:
    return [u for urls in ROUTE_SAMPLES.values() for u in urls] + [
        "/no/such/page", "/embed/code?resize=1&partner=ningbo",
        "/oembed?url=http%3A%2F%2Flocalhost%2Fpartners%2Fshaoxing&format=json"]


def make_app(**config):
    return create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(GEODATA), **config})


@pytest.fixture(scope="module")
def public_app():
    return make_app(GEOMAP_PUBLIC_URL=PUBLIC + "/")


def body(resp) -> str:
    return resp.get_data(as_text=True)


# -- a forged Host is refused everywhere ------------------------------------------------------------

@pytest.mark.parametrize("host", FORGED + MALFORMED)
def test_a_forged_or_malformed_host_is_a_400_on_every_route_and_never_echoed(app, host):
    client = app.test_client()
    cache = app.extensions["geomap.cache"]
    before = len(cache)
    for url in all_samples():
        for accept in ("text/html", "application/json"):
            resp = client.get(url, headers={"Host": host, "Accept": accept, "Accept-Encoding": "identity"})
            text = body(resp)
            assert resp.status_code == 400, (url, host, resp.status_code)
            if len(host) > 3:
                assert host.lower() not in text.lower(), (url, host)
            assert "Traceback" not in text and "evil" not in text.lower()
    assert len(cache) == before  # nothing built or cached for a host the site does not serve


def test_the_400_says_what_was_wrong_in_the_visitors_language(client):
    resp = client.get("/?lang=zh", headers={"Host": "evil.example"})
    assert resp.status_code == 400 and "evil" not in body(resp)
    assert "GEOMAP_TRUSTED_HOSTS" in body(resp) and 'lang="zh-Hans"' in body(resp)
    resp = client.get("/oembed?url=x", headers={"Host": "a b"})
    assert resp.status_code == 400
    assert resp.get_json()["error"]["message"] == "The request's Host header is not a valid host name."


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST", "localhost:8000", "localhost.", "127.0.0.1",
                                  "127.0.0.1:5000", "[::1]", "[::1]:8000", "[0:0::1]:1"])
def test_loopback_hosts_are_served_by_default(app, host):
    resp = app.test_client().get("/healthz", headers={"Host": host})
    assert resp.status_code == 200


def test_trusted_hosts_are_served_and_link_to_their_own_name():
    app = make_app(GEOMAP_TRUSTED_HOSTS="maps.example.org, geomap.example.cn")
    client = app.test_client()
    one = body(client.get("/?lang=en", base_url="http://maps.example.org"))
    two = body(client.get("/?lang=en", base_url="http://geomap.example.cn:8080"))
    assert "http://maps.example.org/oembed" in one and "geomap.example.cn" not in one
    assert "http://geomap.example.cn:8080/oembed" in two and "maps.example.org" not in two
    assert client.get("/", base_url="http://other.example.org").status_code == 400


# -- GEOMAP_PUBLIC_URL: the only source of absolute URLs --------------------------------------------

@pytest.mark.parametrize("host", ["localhost:5000", "127.0.0.1:8123", "[::1]:9999", "maps.example.org:8443"])
def test_with_a_public_url_no_body_names_the_requests_host(public_app, host):
    client = public_app.test_client()
    for url in all_samples():
        resp = client.get(url, headers={"Host": host, "Accept-Encoding": "identity"})
        assert resp.status_code < 500, url
        text = body(resp) if resp.mimetype.startswith(("text/", "application/")) else ""
        assert host not in text, url
        for absolute in re.findall(r"https?://maps\.example\.org[^\s\"'<>\\]*", text):
            assert absolute.startswith(PUBLIC + "/"), (url, absolute)
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400


def test_public_url_in_oembed_discovery_and_snippets(public_app):
    client = public_app.test_client()
    page = body(client.get("/partners/shaoxing?lang=zh", base_url="http://127.0.0.1:8000"))
    href = Tags(page).find("link", rel="alternate", type="application/json+oembed")[0]["href"]
    assert href.startswith(PUBLIC + "/oembed?")
    target = dict(parse_qsl(urlsplit(href).query))["url"]
    assert target == PUBLIC + "/partners/shaoxing?lang=zh"
    # The discovery link works, and oEmbed answers for the public URLs only.
    resp = client.get(f"/oembed?url={PUBLIC}/partners/shaoxing%3Flang%3Dzh&format=json",
                      base_url="http://127.0.0.1:8000")
    answer = resp.get_json()
    assert resp.status_code == 200 and answer["provider_url"] == PUBLIC + "/"
    assert iframe_of(answer["html"])["src"] == PUBLIC + "/embed?lang=zh&partner=shaoxing"
    assert client.get("/oembed?url=http://127.0.0.1:8000/&format=json",
                      base_url="http://127.0.0.1:8000").status_code == 404
    assert client.get(f"/oembed?url=https://maps.example.org/partners/shaoxing&format=json").status_code == 404
    code = snippet_of(body(client.get("/embed/code?partner=ningbo&resize=1", base_url="http://localhost:1")))
    assert iframe_of(code)["src"].startswith(PUBLIC + "/embed?")
    assert f'<script src="{PUBLIC}/assets/geomap/embed-resize.js?v=' in code
    template = json.loads(re.search(r'<script type="application/json" id="gm-code-template">(.*?)</script>',
                                    body(client.get("/embed/code")), re.S).group(1))
    assert template["embed"] == PUBLIC + "/embed" and PUBLIC + "/assets/" in template["script"]


def test_the_request_host_never_splits_the_cache_with_a_public_url(public_app):
    client = public_app.test_client()
    cache = public_app.extensions["geomap.cache"]
    first = client.get("/embed/code?partner=cixi", base_url="http://localhost:1")
    size = len(cache)
    for base in ("http://localhost:2", "http://127.0.0.1:3", "https://[::1]:4", "http://maps.example.org"):
        again = client.get("/embed/code?partner=cixi", base_url=base)
        assert again.headers["ETag"] == first.headers["ETag"] and again.data == first.data
    assert len(cache) == size


# -- forwarded headers ------------------------------------------------------------------------------

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example",
             "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Prefix": "/evil"}


def test_forwarded_headers_are_ignored_without_proxy_fix(client):
    resp = client.get("/oembed?url=http%3A%2F%2Flocalhost%2F&format=json", headers=FORWARDED)
    assert resp.get_json()["provider_url"] == "http://localhost/"


def test_proxy_fix_believes_proto_and_for_from_the_configured_proxies_only():
    app = make_app(GEOMAP_PROXY_FIX="1")
    client = app.test_client()
    seen = {}

    @app.get("/_test/remote")
    def remote():
        from flask import request
        seen["addr"] = request.remote_addr
        return "ok"

    resp = client.get("/oembed?url=https%3A%2F%2Flocalhost%2F&format=json", headers=FORWARDED)
    answer = resp.get_json()
    assert answer["provider_url"] == "https://localhost/"  # the proxy said https
    assert "evil" not in json.dumps(answer)                 # X-Forwarded-Host/-Prefix never believed
    client.get("/_test/remote", headers={"X-Forwarded-For": "198.51.100.7, 203.0.113.9"})
    assert seen["addr"] == "203.0.113.9"  # the one entry our single proxy added


# -- the settings ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value,expected", [
    ("https://maps.example.org", ("https", "maps.example.org", "")),
    ("https://Maps.Example.org:443/", ("https", "maps.example.org", "")),
    ("http://example.org:8080/geomap/", ("http", "example.org:8080", "/geomap")),
    ("http://[::1]:8000", ("http", "[::1]:8000", "")),
])
def test_public_url_syntax(value, expected):
    public = parse_public_url(value)
    assert (public.scheme, public.netloc, public.path) == expected
    assert public.base == f"{expected[0]}://{expected[1]}{expected[2]}/"


@pytest.mark.parametrize("value", [
    "maps.example.org", "ftp://maps.example.org", "https://", "https://a b.example", "https://x.example/?q=1",
    "https://x.example/#top", "https://user@x.example", "https://x.example:99999", "https://x.example:",
    "javascript:alert(1)", "https://x.example/a b", "https://x.example/<script>",
])
def test_malformed_public_url_stops_start_up(value):
    with pytest.raises(ConfigError, match="GEOMAP_PUBLIC_URL"):
        parse_public_url(value)
    with pytest.raises(ConfigError, match="GEOMAP_PUBLIC_URL"):
        make_app(GEOMAP_PUBLIC_URL=value)


def test_trusted_hosts_syntax():
    assert parse_trusted_hosts(" maps.example.org,GEOMAP.example.cn  10.0.0.5,[::1] ") == (
        "maps.example.org", "geomap.example.cn", "10.0.0.5", "[::1]")
    assert parse_trusted_hosts("") == () and parse_trusted_hosts(None) == ()
    for bad in ("https://maps.example.org", "maps.example.org:8000", "a b/c", "*.example.org", "x/y"):
        with pytest.raises(ConfigError, match="GEOMAP_TRUSTED_HOSTS"):
            parse_trusted_hosts(bad)


def test_proxy_fix_syntax():
    assert parse_proxy_fix(None) == 0 and parse_proxy_fix("") == 0 and parse_proxy_fix(" 2 ") == 2
    for bad in ("yes", "-1", "1.5", "²", "１", "99"):
        with pytest.raises(ConfigError, match="GEOMAP_PROXY_FIX"):
            parse_proxy_fix(bad)
    with pytest.raises(ConfigError, match="GEOMAP_PROXY_FIX"):
        make_app(GEOMAP_PROXY_FIX="true")


@pytest.mark.parametrize("name", ["GEOMAP_CACHE_ENTRIES", "GEOMAP_CACHE_MB"])
@pytest.mark.parametrize("value", ["many", "0", "²", "-5", "1e3"])
def test_malformed_cache_bounds_stop_start_up(name, value):
    with pytest.raises(ConfigError, match=name):
        make_app(**{name: value})


def test_split_host():
    assert split_host("LocalHost.:8000") == ("localhost", 8000)
    assert split_host("[0:0:0:0:0:0:0:1]") == ("[::1]", None)
    for bad in ("a b", "[::g]", "x:0", "x:65536", "x:+1", "x:²"):
        assert split_host(bad) is None
