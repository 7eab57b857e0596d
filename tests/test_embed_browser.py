"""Embedding as a partner's web page does it, in Debian's Chromium.

The geomap app runs on http://127.0.0.1:<port>; the partner's page is served by another server
on http://localhost:<port>, another origin. The partner page holds the snippet copied from
/embed/code, exactly as a webmaster would paste it.
"""
from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest

from conftest import GEODATA, screenshot
from geomap.web import create_app

pytestmark = pytest.mark.browser

INTRO = '<h1>Shaoxing technology transfer sub-center</h1>' + '<p style="margin:0 0 12px">Partner news.</p>' * 8
OUTRO = '<div style="height:2400px;background:linear-gradient(#fff,#dde)">More of the partner page.</div>'


class HostSite:
    """A partner's web site: pages by path, on its own origin."""

    def __init__(self):
        self.pages: dict[str, tuple[str, list]] = {}

    def add(self, path: str, body: str, status: str = "200 OK", headers=()):
        self.pages[path] = (status, [("Content-Type", "text/html; charset=utf-8"), *headers], body)

    def page(self, path: str, snippet: str):
        self.add(path, f'<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8"><title>Partner</title></head>'
                       f'<body style="margin:0 auto;max-width:900px;font:16px sans-serif">{INTRO}\n{snippet}\n{OUTRO}</body></html>')

    def __call__(self, environ, start_response):
        status, headers, body = self.pages.get(environ["PATH_INFO"], ("404 Not Found", [("Content-Type", "text/plain")], "no"))
        start_response(status, list(headers))
        return [body.encode("utf-8")]


@pytest.fixture(scope="module")
def host(serve):
    site = HostSite()
    site.url = serve(site, "localhost")
    return site


def snippet_from_builder(page_for, live_url, query: str) -> str:
    """Open /embed/code with these options, press Copy, and return what the clipboard holds."""
    page, watch = page_for(live_url)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_url)
    page.goto(f"{live_url}/embed/code?{query}")
    page.click("#gm-copy")
    page.wait_for_function("() => document.getElementById('gm-copy-status').textContent.length > 0")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.input_value("#gm-snippet")
    assert watch.foreign_requests() == [] and watch.errors == []
    page.close()
    return copied


def embed_frame(page):
    page.frame_locator("iframe[data-geomap-embed]").first.locator(".gm-marker").first.wait_for(state="attached")
    frame = page.locator("iframe[data-geomap-embed]").first.element_handle().content_frame()
    frame.wait_for_function("() => window.geomapView && window.geomapView.map")
    return frame


def over_frame(page, selector="iframe[data-geomap-embed]"):
    box = page.locator(selector).first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_partner_page_embeds_a_focused_map_in_its_language(page_for, live_url, host, atlas):
    code = snippet_from_builder(page_for, live_url, "partner=shaoxing&lang=zh&resize=1&ui=en")
    assert "partner=shaoxing" in code and "lang=zh" in code
    host.page("/news", code)

    page, watch = page_for(live_url, host.url)
    geomap_host = urlsplit(live_url).netloc
    frame_requests = []
    page.on("request", lambda r: frame_requests.append(r.url) if r.frame != page.main_frame else None)
    page.goto(f"{host.url}/news")
    frame = embed_frame(page)
    assert urlsplit(frame.url).netloc == geomap_host and urlsplit(page.url).netloc != geomap_host

    # Focused on Shaoxing, in Chinese.
    data = frame.evaluate("window.geomapView.data")
    assert data["lang"] == "zh" and data["partners"][data["focus"]]["id"] == "shaoxing"
    assert frame.evaluate("document.documentElement.lang") == "zh-Hans"
    view = frame.evaluate("(() => { const b = window.geomapView.map.getBounds();"
                          " return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()]; })()")
    lat, lon = data["partners"][data["focus"]]["ll"]
    assert view[0] < lat < view[2] and view[1] < lon < view[3]
    assert frame.evaluate("window.geomapView.map.getZoom()") >= 8

    # A real mouse click on a marker inside the frame opens its popup.
    frame.locator('.gm-marker[data-partner="shaoxing"]').click()
    popup = frame.locator(".leaflet-popup-content .gm-popup")
    popup.wait_for()
    assert popup.get_attribute("data-partner") == "shaoxing"
    assert atlas.partners.loc["shaoxing", "name_zh"] in popup.inner_text()
    more = popup.locator("a.gm-more")
    assert more.get_attribute("target") == "_blank"
    page.wait_for_load_state("networkidle")
    screenshot(page, "embed-partner-page")

    # The frame asked nothing of any host but geomap's own, tiles excepted.
    assert frame_requests
    tiles = set(watch.tile_requests)
    assert tiles, "the embedded map asked for no tiles"
    assert [u for u in frame_requests if urlsplit(u).netloc != geomap_host and u not in tiles] == []
    assert watch.foreign_requests() == []
    assert watch.errors == []
    # Links open new tabs (<base target="_blank">), but Leaflet's own buttons stay buttons.
    zoom = frame.evaluate("window.geomapView.map.getZoom()")
    frame.locator(".gm-popup .gm-close").click()
    popup.wait_for(state="detached")
    frame.locator(".leaflet-control-zoom-in").click()
    frame.wait_for_function(f"() => window.geomapView.map.getZoom() === {zoom + 1}")
    assert len(page.context.pages) == 1
    assert urlsplit(frame.url).path == "/embed"


def test_wheel_scrolls_the_host_page_and_ctrl_wheel_zooms(page_for, live_url, host):
    host.page("/wheel", f'<iframe src="{live_url}/embed?partner=shaoxing&amp;lang=zh" height="420" '
                        'style="display:block;width:100%;border:0" data-geomap-embed></iframe>')
    page, watch = page_for(live_url, host.url)
    page.goto(f"{host.url}/wheel")
    frame = embed_frame(page)
    page.wait_for_timeout(400)  # the focus animation
    zoom = frame.evaluate("window.geomapView.map.getZoom()")
    center = frame.evaluate("window.geomapView.map.getCenter()")

    over_frame(page)
    page.mouse.wheel(0, 120)
    page.wait_for_timeout(600)
    assert frame.evaluate("window.geomapView.map.getZoom()") == zoom
    assert frame.evaluate("window.geomapView.map.getCenter()") == center
    assert page.evaluate("window.scrollY") > 0, "the plain wheel did not scroll the host page"
    # The map says how to zoom, in the embed's language.
    hint = frame.evaluate("document.querySelector('.leaflet-container').getAttribute('data-gesture-handling-scroll-content')")
    assert "Ctrl" in hint and "缩放" in hint
    screenshot(page, "embed-wheel-hint")

    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(200)
    over_frame(page)
    page.keyboard.down("Control")
    for _ in range(3):
        page.mouse.wheel(0, -120)
        page.wait_for_timeout(150)
    page.keyboard.up("Control")
    page.wait_for_timeout(600)
    assert frame.evaluate("window.geomapView.map.getZoom()") > zoom, "Ctrl+wheel did not zoom the map"
    assert page.evaluate("window.scrollY") == 0, "Ctrl+wheel scrolled the host page"
    assert watch.errors == []


def test_resize_script_sets_the_height_the_embed_posts_and_nothing_else(page_for, live_url, host):
    script = f'<script src="{live_url}/assets/geomap/embed-resize.js" async></script>'
    # The redirect leads a frame that claims to be on the host's origin to geomap's: its
    # messages then come from an origin that is not its src's, and must be ignored.
    host.add("/redirect", "", "302 Found", [("Location", f"{live_url}/embed?height=520")])
    host.page("/resize", f"""
      <iframe id="good" src="{live_url}/embed?partner=ningbo&amp;height=360" height="200" style="display:block;width:100%;border:0" data-geomap-embed></iframe>
      <iframe id="moved" src="{host.url}/redirect" height="200" style="display:block;width:100%;border:0" data-geomap-embed></iframe>
      <iframe id="other" src="{host.url}/teller" height="200" style="display:block;width:100%;border:0"></iframe>
      {script}""")
    # A same-origin frame of the host page that posts bad heights.
    host.add("/teller", """<!doctype html><script>
      function tell() {
        if (!parent.geomapEmbedResize) return setTimeout(tell, 50);
        for (const h of ["640", "640px", NaN, Infinity, -5, 1e9, {h: 640}, null, true]) {
          parent.postMessage({type: "geomap:height", height: h}, "*");
        }
        parent.postMessage({type: "geomap:height", height: 330}, "*");
      }
      tell();
    </script>""")
    page, watch = page_for(live_url, host.url)
    page.goto(f"{host.url}/resize")
    page.wait_for_function("() => document.getElementById('good').getBoundingClientRect().height === 360")
    page.wait_for_function("() => document.getElementById('other').getBoundingClientRect().height === 330")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)
    assert page.evaluate("document.getElementById('moved').getBoundingClientRect().height") == 200
    # The page's own window posting is not a frame: ignored.
    page.evaluate("window.postMessage({type: 'geomap:height', height: 900}, '*')")
    page.wait_for_timeout(200)
    heights = page.evaluate("[...document.querySelectorAll('iframe')].map(f => f.getBoundingClientRect().height)")
    assert heights == [360, 200, 330]
    assert watch.errors == []


def test_resize_script_loaded_after_the_frame_asks_for_the_height(page_for, live_url, host):
    host.page("/late", f"""
      <iframe id="late" src="{live_url}/embed?height=400" height="200" style="display:block;width:100%;border:0" data-geomap-embed></iframe>
      <script>window.addEventListener("load", () => setTimeout(() => {{
        const s = document.createElement("script"); s.src = {repr(live_url + "/assets/geomap/embed-resize.js")};
        document.body.appendChild(s); }}, 300));</script>""")
    page, watch = page_for(live_url, host.url)
    page.goto(f"{host.url}/late")
    page.wait_for_function("() => window.geomapEmbedResize && document.getElementById('late').getBoundingClientRect().height === 400")
    assert watch.errors == []


@pytest.fixture(scope="module")
def allowlisted(serve):
    """geomap with an allowlist naming one partner origin, and two partner sites: one on it."""
    allowed, refused = HostSite(), HostSite()
    allowed.url = serve(allowed, "localhost")
    refused.url = serve(refused, "localhost")
    app = create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(GEODATA),
                      "GEOMAP_FRAME_ANCESTORS": f"https://partner.example.org, {allowed.url}"})
    return serve(app), allowed, refused


def frame_loaded_map(page, selector: str) -> bool:
    """Whether the iframe shows geomap's map (False when the browser refused to frame it)."""
    handle = page.locator(selector).element_handle()
    frame = handle.content_frame()
    return bool(frame) and frame.evaluate("() => !!document.querySelector('.folium-map')")


def test_allowlist_lets_listed_origins_frame_and_refuses_others(page_for, allowlisted):
    geo, allowed, refused = allowlisted
    snippet = (f'<iframe id="map" src="{geo}/embed?partner=cixi&amp;lang=en" height="400" '
               'style="display:block;width:100%;border:0" data-geomap-embed></iframe>')
    for site in (allowed, refused):
        site.page("/map", snippet)

    page, watch = page_for(geo, allowed.url)
    page.goto(f"{allowed.url}/map")
    embed_frame(page)
    assert frame_loaded_map(page, "#map")

    page, watch = page_for(geo, refused.url)
    messages = []
    page.on("console", lambda m: messages.append(m.text))
    page.goto(f"{refused.url}/map")
    page.wait_for_load_state("load")
    page.wait_for_timeout(500)
    assert not frame_loaded_map(page, "#map")
    assert any("frame-ancestors" in m for m in messages), messages
    screenshot(page, "embed-refused")


def test_pages_other_than_the_embed_cannot_be_framed(page_for, live_url, host):
    host.page("/full", f'<iframe id="full" src="{live_url}/" height="400" style="width:100%"></iframe>'
                       f'<iframe id="code" src="{live_url}/embed/code" height="400" style="width:100%"></iframe>')
    page, watch = page_for(live_url, host.url)
    messages = []
    page.on("console", lambda m: messages.append(m.text))
    page.goto(f"{host.url}/full")
    page.wait_for_load_state("load")
    page.wait_for_timeout(500)
    assert not frame_loaded_map(page, "#full")
    assert not page.locator("#code").element_handle().content_frame().evaluate("() => !!document.getElementById('gm-snippet')")
    assert any("frame-ancestors" in m or "X-Frame-Options" in m for m in messages), messages


def test_snippet_builder_updates_code_and_preview_live(page_for, live_url):
    page, watch = page_for(live_url)
    page.goto(f"{live_url}/embed/code?ui=en")
    page.frame_locator("#gm-preview").locator(".gm-marker").first.wait_for(state="attached")
    page.select_option("#gm-partner", "ningbo")
    page.select_option("#gm-lang", "zh")
    page.select_option("#gm-type", "project")
    page.fill("#gm-height", "360")
    page.check("#gm-legend")
    page.check("#gm-resize")
    page.fill("#gm-q", "  Ningbo ")
    page.wait_for_timeout(400)
    code = page.input_value("#gm-snippet")
    assert "partner=ningbo" in code and "lang=zh" in code and "legend=0" in code and "embed-resize.js" in code

    # Exactly what the server gives for the same options (one format, two builders).
    query = urlsplit(page.url).query
    served = page.context.request.get(f"{live_url}/embed/code?{query}").text()
    m = re.search(r'<textarea id="gm-snippet"[^>]*>(.*?)</textarea>', served, re.S)
    assert html.unescape(m.group(1)) == code

    # The preview shows that embed.
    preview = page.frame_locator("#gm-preview")
    frame = page.locator("#gm-preview").element_handle().content_frame()
    frame.wait_for_function("() => window.geomapView && window.geomapView.data && window.geomapView.data.lang === 'zh'"
                            " && window.geomapView.elementFor('ningbo')")
    assert frame.evaluate("window.geomapView.data.partners[window.geomapView.data.focus].id") == "ningbo"
    page.wait_for_function("() => document.getElementById('gm-preview').clientHeight === 360")

    # A bad value says so and leaves the code as it was.
    page.fill("#gm-height", "20")
    page.wait_for_timeout(400)
    assert page.input_value("#gm-snippet") == code
    assert page.inner_text("#gm-copy-status")
    page.fill("#gm-height", "360")
    page.wait_for_timeout(400)
    page.click("#gm-copy")
    page.wait_for_timeout(200)
    screenshot(page, "embed-code")
    assert watch.foreign_requests() == [] and watch.errors == []


def test_snippet_copy_falls_back_without_the_clipboard_api(page_for, live_url):
    page, watch = page_for(live_url)
    page.add_init_script("Object.defineProperty(navigator, 'clipboard', {value: undefined});")
    page.goto(f"{live_url}/embed/code?partner=shaoxing&ui=en")
    page.click("#gm-copy")
    status = page.inner_text("#gm-copy-status")
    assert status in ("Copied.", "Select the code and press Ctrl+C (⌘+C on a Mac) to copy it.")
    # The code is selected, ready for Ctrl+C.
    assert page.evaluate("(() => { const t = document.getElementById('gm-snippet');"
                         " return t.selectionEnd - t.selectionStart === t.value.length; })()")


def test_built_file_opens_from_disk_and_shows_its_markers(page_for, tmp_path, atlas):
    from click.testing import CliRunner

    from geomap.cli import main as cli

    out = tmp_path / "map.html"
    result = CliRunner().invoke(cli, ["build", "--output", str(out), "--partner", "shaoxing", "--lang", "zh"])
    assert result.exit_code == 0, result.output
    page, watch = page_for("file:///")
    page.goto(out.as_uri())
    page.wait_for_selector(".gm-marker", state="attached")
    shown = page.evaluate("() => window.geomapView.data.partners.map(p => p.id).filter(id => window.geomapView.elementFor(id))")
    assert sorted(shown) == sorted(atlas.partners.index)  # each a marker, or in a stack of close ones
    page.locator('.gm-marker[data-partner="shaoxing"]').click()
    popup = page.locator(".leaflet-popup-content .gm-popup")
    popup.wait_for()
    assert atlas.partners.loc["shaoxing", "name_zh"] in popup.inner_text()
    assert popup.locator("a.gm-more").count() == 0  # no site to link to
    page.wait_for_load_state("networkidle")
    assert watch.errors == []
    assert watch.tile_requests
    # The file itself, and tiles: nothing else.
    assert [u for u in watch.requests if u not in watch.tile_requests] == [out.as_uri()]
    # Leaflet's own stylesheet is in force (its images are data: URIs now).
    assert page.evaluate("getComputedStyle(document.querySelector('.leaflet-container')).overflow") == "hidden"
    screenshot(page, "build-from-disk")
