"""Issue 11's visible fixes in Chromium: the 404 page's language link stays on the site when
followed (finding 9), and empty data shows an empty map with its message (finding 7), on a desktop
and a phone, in both languages."""
from __future__ import annotations

import shutil
from urllib.parse import urlsplit

import pytest

from conftest import GEODATA, screenshot
from geomap.web import create_app

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("path", ["/%5Cevil.example", "/%5C%5Cevil.example/x?lang=en", "/%2F%2Fevil.example"])
def test_following_the_404_language_link_stays_on_the_site(page_for, live_url, path):
    page, watch = page_for(live_url)
    page.goto(live_url + path)
    page.get_by_role("link", name="中文").click()
    page.wait_for_load_state("load")
    assert urlsplit(page.url).netloc == urlsplit(live_url).netloc, page.url
    assert not [u for u in watch.requests if "evil.example" in urlsplit(u).netloc]
    assert page.locator("html").get_attribute("lang") == "zh-Hans"  # the 404 page, now in Chinese


@pytest.fixture(scope="module")
def empty_url(tmp_path_factory, serve):
    data = tmp_path_factory.mktemp("empty-browser") / "geodata"
    shutil.copytree(GEODATA, data)
    (data / "agreements.yaml").write_text("[]\n", encoding="utf-8")
    header = (GEODATA / "places.csv").read_text(encoding="utf-8").splitlines()[0]
    (data / "places.csv").write_text(header + "\n", encoding="utf-8")
    return serve(create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(data)}))


@pytest.mark.parametrize("path,words,size", [
    ("/embed?lang=en", "There are no agreements in the data yet.", (1280, 800)),
    ("/embed?lang=zh", "数据中尚无合作协议。", (390, 844)),
    ("/?lang=zh", "数据中尚无合作协议。", (390, 844)),
    ("/?lang=en", "There are no agreements in the data yet.", (1280, 800)),
])
def test_empty_data_shows_an_empty_map_with_its_message(page_for, empty_url, path, words, size):
    page, watch = page_for(empty_url, viewport=size)
    page.goto(empty_url + path)
    page.wait_for_function("() => window.geomapView && window.geomapView.markers.length === 0")
    message = page.get_by_text(words)
    message.wait_for(state="visible")
    assert page.locator(".leaflet-container").count() == 1  # the map is there, empty
    assert watch.errors == []
    screenshot(page, f"empty-data{path.replace('/', '-').replace('?', '-').replace('=', '-')}-{size[0]}")
