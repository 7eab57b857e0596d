"""A strict content security policy (issue 11, finding 8): no 'unsafe-inline' on any page, error pages
included; inline scripts and styles allowed by the sha256 hashes the response layer computes from the
rendered body, whatever template wrote it; the standalone file likewise."""
from __future__ import annotations

import base64
import hashlib
import re

import pytest
from click.testing import CliRunner
from flask import render_template_string

from conftest import GEODATA
from geomap import csp
from geomap.web import create_app
from geomap.cli import main as cli
from geomap.web.caching import cached
from test_embed import ROUTE_SAMPLES, csp as policy_of

# The example of the CSP specification (and MDN): the hash of alert('Hello, world.');
SPEC_SCRIPT = "alert('Hello, world.');"
SPEC_HASH = "'sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng='"


# -- finding the inline scripts ---------------------------------------------------------------------

def test_the_hash_is_the_one_the_specification_gives():
    assert csp.script_hashes(f"<script>{SPEC_SCRIPT}</script>") == (SPEC_HASH,)


def test_only_executable_inline_scripts_are_hashed():
    doc = (
        '<script src="/a.js"></script>'
        '<script type="application/json" id="d">{"a": "<\\/script>"}</script>'
        '<script type="application/ld+json">{}</script>'
        "<SCRIPT type='text/javascript'>one()</SCRIPT >"
        '<script type="module">two()</script>'
        '<script data-x="a>b" type="">three()</script>'
        "<!-- <script>commented()</script> -->"
        "<script>four()\r\nfive()</script/>"
        "<scripty>not()</scripty>"
    )
    assert csp.inline_scripts(doc) == [b"one()", b"two()", b"three()", b"four()\nfive()"]


def test_a_script_inside_a_comment_does_not_swallow_the_next_one():
    doc = "<!-- <script> --><script>real()</script>"
    assert csp.inline_scripts(doc) == [b"real()"]


def test_style_hashes():
    doc = "<style>a{color:red}</style><STYLE media='x'>\r\nb{}</STYLE>"
    expected = tuple("'sha256-" + base64.b64encode(hashlib.sha256(t).digest()).decode() + "'"
                     for t in (b"a{color:red}", b"\nb{}"))
    assert csp.style_hashes(doc) == expected


# -- every page's policy ---------------------------------------------------------------------------------

def html_samples() -> list[str]:
    return [u for urls in ROUTE_SAMPLES.values() for u in urls] + [
        "/?lang=zh", "/embed?height=400&lang=zh", "/embed/code?resize=1", "/partners/shaoxing?type=forum",
        "/no/such/page", "/?year_from=%C2%B2", "/embed?height=1"]


def check_policy(resp) -> None:
    """The response's policy allows exactly the inline scripts and styles its body carries."""
    header = resp.headers.get("Content-Security-Policy", "")
    assert "unsafe-inline" not in header and "unsafe-eval" not in header and "unsafe-hashes" not in header
    policy = policy_of(resp)
    body = resp.get_data()
    scripts = policy["script-src"].split()
    assert scripts[0] == "'self'" and all(s.startswith("'sha256-") for s in scripts[1:])
    assert set(scripts[1:]) == set(csp.script_hashes(body))
    styles = policy["style-src"].split()
    assert styles[0] == "'self'" and set(styles[1:]) == set(csp.style_hashes(body))


@pytest.mark.parametrize("url", html_samples())
def test_every_html_response_allows_its_own_inline_code_by_hash_only(client, url):
    for encoding in ("identity", "gzip"):
        resp = client.get(url, headers={"Accept-Encoding": "identity"})
        if resp.mimetype != "text/html":
            continue
        check_policy(resp)
        if "ETag" in resp.headers:
            again = client.get(url, headers={"If-None-Match": resp.headers["ETag"], "Accept-Encoding": encoding})
            if again.status_code == 304:  # a revalidated page keeps the policy of its body
                assert again.headers["Content-Security-Policy"] == resp.headers["Content-Security-Policy"]


def test_pages_with_inline_scripts_list_their_hashes(client):
    for url in ("/", "/embed?height=300", "/partners/ningbo"):
        resp = client.get(url)
        assert len(policy_of(resp)["script-src"].split()) >= 2, url  # folium's map script at least


def test_the_hashes_do_not_depend_on_the_template():
    """Any HTML a view builds through the render cache, or returns itself, gets its own hashes."""
    app = create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(GEODATA)})
    calls = []
    real = csp.script_hashes

    def counting(body):
        calls.append(1)
        return real(body)

    @app.get("/_test/cached-page")
    def cached_page():
        return cached(("test-page",), lambda: render_template_string(
            "<!doctype html><title>t</title><script>{{ code|safe }}</script><style>p{}</style>", code=SPEC_SCRIPT),
            mimetype="text/html")

    @app.get("/_test/plain-page")
    def plain_page():
        return f"<!doctype html><title>t</title><script>{SPEC_SCRIPT}</script>"

    client = app.test_client()
    csp.script_hashes = counting
    try:
        first = client.get("/_test/cached-page")
        second = client.get("/_test/cached-page", headers={"Accept-Encoding": "gzip"})
        assert SPEC_HASH in policy_of(first)["script-src"] and SPEC_HASH in policy_of(second)["script-src"]
        assert len(calls) == 1  # hashed once, when the body was built and cached
        assert SPEC_HASH in policy_of(client.get("/_test/plain-page"))["script-src"]
    finally:
        csp.script_hashes = real


def test_the_standalone_file_allows_its_inline_code_by_hash_only(tmp_path):
    out = tmp_path / "map.html"
    result = CliRunner().invoke(cli, ["build", "--output", str(out), "--partner", "ningbo", "--popup"])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', text).group(1)
    assert "unsafe" not in meta
    directives = {d.split()[0]: d.split()[1:] for d in meta.replace("&#x27;", "'").split(";") if d.strip()}
    assert set(directives["script-src"]) == set(csp.script_hashes(text))
    assert set(directives["style-src"]) == set(csp.style_hashes(text))
    assert len(directives["script-src"]) >= 3  # Leaflet, geomap.js and the map, inlined
    # The policy comes before any script or style it governs.
    assert text.index("Content-Security-Policy") < min(text.index("<script"), text.index("<style"))
