"""Shared fixtures: the shipped data, broken copies of it, the app and its test client."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from geomap import atlas as atlas_mod
from geomap.web import create_app

REPO = Path(__file__).resolve().parent.parent
GEODATA = REPO / "geodata"
SEEDS = REPO.parent / "shared" / "seeds"  # the seed articles, beside the repository in CI


@pytest.fixture(scope="session")
def atlas():
    return atlas_mod.build(GEODATA)


@pytest.fixture()
def data_copy(tmp_path) -> Path:
    """A fresh copy of geodata/ that a test may break."""
    dst = tmp_path / "geodata"
    shutil.copytree(GEODATA, dst)
    return dst


@pytest.fixture(scope="session")
def app():
    return create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(GEODATA)})


@pytest.fixture()
def client(app):
    return app.test_client()


# -- live servers and the browser ------------------------------------------------------------

import threading  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

from werkzeug.serving import make_server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
ARTIFACTS = REPO / "test-artifacts"
# A 1x1 transparent PNG: tiles are answered locally so tests need no network.
TILE_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


class LiveServer:
    def __init__(self, wsgi_app, host: str = "127.0.0.1"):
        self.server = make_server(host, 0, wsgi_app, threaded=True)
        self.url = f"http://{host}:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()


@pytest.fixture(scope="session")
def serve():
    """serve(wsgi_app) -> base URL of a live server, stopped at the end of the session."""
    servers = []

    def start(wsgi_app, host: str = "127.0.0.1") -> str:
        s = LiveServer(wsgi_app, host)
        servers.append(s)
        return s.url

    yield start
    for s in servers:
        s.stop()


@pytest.fixture(scope="session")
def live_url(app, serve):
    return serve(app)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (Debian's chromium package)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class PageWatch:
    """Records every request a page makes, page errors, and whether tiles were asked for."""

    def __init__(self, page, own_hosts):
        self.page = page
        self.own_hosts = set(own_hosts)
        self.requests: list[str] = []
        self.tile_requests: list[str] = []
        self.errors: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.context.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        self.requests.append(url)
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            return route.continue_()
        host = parts.netloc
        if host in self.own_hosts:
            return route.continue_()
        if _looks_like_tile(url):
            self.tile_requests.append(url)
            return route.fulfill(status=200, content_type="image/png", body=TILE_PNG)
        return route.abort()

    def foreign_requests(self) -> list[str]:
        """Requests to any host but the page's own, tiles excepted."""
        return [u for u in self.requests
                if urlsplit(u).scheme in ("http", "https")
                and urlsplit(u).netloc not in self.own_hosts and u not in self.tile_requests]


def _looks_like_tile(url: str) -> bool:
    from geomap import tiles

    hosts = {h for key in ("osm", "carto-light", "gaode") for h in tiles.get(key).hosts}
    return urlsplit(url).hostname in hosts


@pytest.fixture()
def page_for(browser):
    """page_for(*own_base_urls) -> (page, watch): a fresh page whose requests are recorded.

    viewport=one of PHONES with mobile=True is a phone: is_mobile and has_touch."""
    contexts = []

    def make(*own_urls, viewport=(1280, 800), mobile=False):
        ctx = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                  is_mobile=mobile, has_touch=mobile)
        contexts.append(ctx)
        page = ctx.new_page()
        watch = PageWatch(page, {urlsplit(u).netloc for u in own_urls})
        return page, watch

    yield make
    for ctx in contexts:
        ctx.close()


DESKTOP = (1280, 800)
PHONES = ((390, 844), (360, 740))


def screenshot(page, name: str) -> Path:
    """Keep a screenshot as a test artifact (test-artifacts/, kept by CI)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
