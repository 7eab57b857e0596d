"""Every page type under its content security policy in Chromium: no securitypolicyviolation event
and no CSP console error, with the map drawn and used (issue 11, finding 8). The policy has no
'unsafe-inline' (tests/test_csp.py), so any inline script or style the hashes miss shows here."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import REPO, screenshot
from geomap.cli import main as cli
from geomap.web import create_app

sys.path.insert(0, str(REPO / "bench"))
import generate  # noqa: E402

pytestmark = pytest.mark.browser

LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push([e.violatedDirective, e.blockedURI, e.sample, e.sourceFile, e.lineNumber].join(" | "));
});
"""
PAGES = [
    "/?lang=en", "/?lang=zh&type=project&year_from=2019", "/?partner=ningbo&popup=1&lang=zh",
    "/embed?lang=en", "/embed?partner=shaoxing&lang=zh&height=420&legend=0", "/embed?controls=0&tiles=gaode",
    "/embed/code?ui=en&resize=1&partner=cixi", "/embed/code?ui=zh",
    "/partners/shaoxing?lang=en", "/partners/shaoxing?type=forum&lang=zh",
    "/no/such/page", "/?year_from=%C2%B2&lang=zh", "/embed?height=1", "/partners/nowhere",
    "/ogc?f=html", "/ogc/collections?f=html&lang=zh", "/ogc/collections/agreements/items?f=html&limit=5",
    "/ogc/collections/partners/items/ningbo?f=html", "/openapi.html",
]


def watch_policy(page) -> list[str]:
    """Console errors about the policy, from every frame of the page."""
    console: list[str] = []
    page.add_init_script(LISTEN)
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    return console


def violations(page, console: list[str]) -> list[str]:
    found = list(console)
    for frame in page.frames:
        try:
            found += frame.evaluate("() => window.__csp || []")
        except Exception:  # a frame that went away
            pass
    return found


def use_the_map(page) -> None:
    """Open a partner's details where the map has markers, as a visitor would (through the map's
    view API, so that an open popup covering the markers does not matter)."""
    pid = page.evaluate("""() => { const m = document.querySelector(".gm-marker[data-partner]");
                                   return m && m.getAttribute("data-partner"); }""")
    if pid:
        page.evaluate("(pid) => window.geomapView.focusPartner(pid, true)", pid)
        page.locator(".leaflet-popup-content").first.wait_for(state="visible")


@pytest.mark.parametrize("path", PAGES)
def test_no_policy_violation_on_any_page(page_for, live_url, path):
    page, watch = page_for(live_url)
    console = watch_policy(page)
    page.goto(live_url + path)
    page.wait_for_load_state("load")
    if page.locator(".folium-map").count():
        page.wait_for_function("() => window.geomapView && window.geomapView.markers.length >= 0")
        use_the_map(page)
    page.keyboard.press("Tab")
    page.wait_for_timeout(300)
    assert violations(page, console) == [], path
    assert watch.errors == []


def test_no_policy_violation_on_a_phone(page_for, live_url):
    page, watch = page_for(live_url, viewport=(390, 844))
    console = watch_policy(page)
    page.goto(live_url + "/?lang=zh&partner=ningbo&popup=1")
    page.wait_for_function("() => window.geomapView && window.geomapView.markers.length > 0")
    screenshot(page, "csp-phone-zh")
    assert violations(page, console) == []


@pytest.fixture(scope="module")
def loaded_url(tmp_path_factory, serve):
    """A map above the inline limit: the page loads its data and popups from the API."""
    data_dir = generate.generate(tmp_path_factory.mktemp("csp") / "geodata", agreements=700, seed=3)
    return serve(create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(data_dir)}))


@pytest.mark.parametrize("path", ["/?lang=en", "/embed?lang=zh"])
def test_no_policy_violation_on_a_large_map_that_loads_its_data(page_for, loaded_url, path):
    page, watch = page_for(loaded_url)
    console = watch_policy(page)
    page.goto(loaded_url + path)
    page.wait_for_function("() => window.geomapView && window.geomapView.markers.length > 0", timeout=60_000)
    assert "dataUrl" in page.content()  # the data came from /api/map.json
    assert violations(page, console) == [], path
    assert watch.errors == []


def test_no_policy_violation_in_the_standalone_file(page_for, tmp_path):
    out = Path(tmp_path) / "map.html"
    result = CliRunner().invoke(cli, ["build", "--output", str(out), "--partner", "ningbo", "--popup", "--lang", "zh"])
    assert result.exit_code == 0, result.output
    page, watch = page_for("file:///")
    console = watch_policy(page)
    page.goto(out.as_uri())
    page.wait_for_function("() => window.geomapView && window.geomapView.markers.length > 0")
    page.locator(".leaflet-popup-content").first.wait_for(state="visible")
    assert violations(page, console) == []
    assert watch.errors == []


def test_the_listener_sees_a_violation(page_for, live_url):
    """The watch works: an inline script the hashes do not allow is reported."""
    page, _ = page_for(live_url)
    console = watch_policy(page)
    page.goto(live_url + "/no/such/page")
    page.evaluate("""() => { const s = document.createElement("script"); s.textContent = "window.ran = 1";
                             document.body.appendChild(s); }""")
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.ran") is None
    assert any("script-src" in v for v in violations(page, console))
