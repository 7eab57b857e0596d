"""geomap against folium and geopandas baselines, side by side in one run; prints tables.

    .venv/bin/python bench/run.py                        # N = 100, 1,000, 10,000; exports to 100,000
    .venv/bin/python bench/run.py --sizes 1000 --export-sizes 1000 --no-browser   # a quick look

For each N (agreements, from bench/generate.py with a fixed seed) it measures, on the same data:

- cold build of / and of /embed: the first request after the render cache is emptied, in-process
  (Flask's test client, so no network); for a large map / also builds the map data the page's
  script fetches (/api/map.json), so that figure is the whole server cost of a first visit;
- warm response time: the median of repeated requests over HTTP on 127.0.0.1 (a threaded
  werkzeug server, keep-alive), for /, /embed and /api/map.json;
- bytes: the HTML plus the map data, raw and gzip-compressed, and with the page's scripts and
  stylesheets (all served by the app, counted once);
- markers shown: from navigation start until the first marker or cluster is laid out on screen,
  in headless Chromium (Debian's /usr/bin/chromium), a fresh browser context each run (cold
  browser cache), tiles answered locally; the median of --browser-runs runs;
- exports: each GeoJSON layer through geomap.layers (what /api/<layer>.geojson and
  `geomap export` run) against GeoDataFrame.to_json() on the same table.

Baselines, on the same agreements:
- "folium loop": one folium.Marker per (agreement, partner) row with an html-escaped popup and
  tooltip, rendered to a page (what a first version of such a map does);
- "explore": GeoDataFrame.explore() of the agreements table (geopandas' one-liner);
- "to_json": GeoDataFrame.to_json() for the exports.
The baselines' pages load Leaflet and friends from CDNs; in Chromium Leaflet is answered from the
local copy and the rest (jQuery, Bootstrap, Font Awesome) is refused, and their bytes are the HTML
alone: both favour the baselines.

Ratios are baseline / geomap (above 1: geomap is faster or smaller), from the same run: the
machine is shared and noisy, so compare ratios rather than absolute times across runs.
Nothing is written into the repository except bench/results/ (ignored by git).
"""
from __future__ import annotations

import argparse
import gc
import gzip
import html as html_mod
import http.client
import json
import logging
import os
import platform
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import generate  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TILE_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
OUR_MARKERS = ".gm-marker, .marker-cluster"
TARGETS = {  # at 10,000 agreements (the issue)
    "cold / vs folium loop": 5.0, "bytes vs folium loop": 3.0, "warm / median ms": 50.0,
    "markers shown s": 3.0, "export vs to_json": 2.0,
}
# Records when the first element matching the selector is laid out: performance.now() is
# measured from the navigation's start.
SHOWN_SCRIPT = """
(() => {
  const sel = %s;
  function check() {
    const el = document.querySelector(sel);
    if (el) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.height > 0) { window.__geomapShown = performance.now(); return; }
    }
    requestAnimationFrame(check);
  }
  requestAnimationFrame(check);
})();
"""


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def median(xs):
    return statistics.median(xs) if xs else float("nan")


# -- the servers -----------------------------------------------------------------------------

class Server:
    """A threaded werkzeug server on 127.0.0.1 for a WSGI app, like the tests' LiveServer."""

    def __init__(self, app):
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


def static_app(pages: dict[str, bytes]):
    """A WSGI app serving fixed HTML pages (the baselines) and geomap's assets."""
    from geomap import assets

    def app(environ, start):
        path = environ.get("PATH_INFO", "")
        if path in pages:
            start("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [pages[path]]
        if path.startswith("/assets/") and path[8:] in assets.FILES:
            start("200 OK", [("Content-Type", assets.media_type(path[8:]))])
            return [assets.path(path[8:]).read_bytes()]
        start("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]
    return app


def http_median(url: str, n: int) -> float:
    """Median seconds of n GETs over one keep-alive connection (after one unmeasured GET)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    target = parts.path + ("?" + parts.query if parts.query else "")
    times = []
    for i in range(n + 1):
        t = time.perf_counter()
        conn.request("GET", target)
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{url}: HTTP {resp.status}")
        if i:
            times.append(time.perf_counter() - t)
    conn.close()
    return median(times)


# -- baselines -------------------------------------------------------------------------------

def folium_loop(table) -> str:
    """One folium.Marker per row, popup and tooltip escaped: the straightforward map."""
    import folium

    m = folium.Map(location=[31.23, 121.47], zoom_start=8)
    esc = html_mod.escape
    for row in table.itertuples():
        body = (f"<b>{esc(str(row.title_en))}</b><br>{esc(str(row.date))} · {esc(str(row.type))}<br>"
                f"{esc(str(row.place_name_en))}<br>{esc(str(row.parties))}<br>{esc(str(row.sectors))}<br>"
                f"{esc(str(row.summary_en))}<br>{esc(str(row.source_title))}")
        folium.Marker([row.geometry.y, row.geometry.x], popup=folium.Popup(body, max_width=320),
                      tooltip=esc(str(row.place_name_en))).add_to(m)
    return m.get_root().render()


def explore(table) -> str:
    return table.explore().get_root().render()


# -- Chromium --------------------------------------------------------------------------------

class Browser:
    def __init__(self):
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self.browser = self._pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

    def close(self):
        self.browser.close()
        self._pw.stop()

    def shown(self, url: str, selector: str, runs: int, local_leaflet: str | None = None,
              timeout_s: float = 120) -> float | None:
        """Median seconds from navigation start until `selector` is laid out; None on timeout."""
        results = []
        own = urlsplit(url).netloc
        for _ in range(runs):
            ctx = self.browser.new_context(viewport={"width": 1280, "height": 800})

            def route(r):  # one parameter: Playwright passes (route, request) to two
                u = r.request.url
                if urlsplit(u).netloc == own:
                    return r.continue_()
                if local_leaflet and re.search(r"/leaflet@[\d.]+/dist/leaflet\.(js|css)$", u):
                    ext = u.rsplit(".", 1)[-1]
                    return r.fulfill(status=302, headers={"Location": f"{local_leaflet}/assets/leaflet/leaflet.{ext}"})
                if re.search(r"tile|basemaps|autonavi", u):
                    return r.fulfill(status=200, content_type="image/png", body=TILE_PNG)
                return r.abort()

            ctx.route("**/*", route)
            page = ctx.new_page()
            page.add_init_script(SHOWN_SCRIPT % json.dumps(selector))
            try:
                page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
                page.wait_for_function("() => window.__geomapShown", timeout=timeout_s * 1000, polling=50)
                results.append(page.evaluate("() => window.__geomapShown") / 1000)
            except Exception as exc:  # a baseline too slow to show anything in time
                log(f"  {url}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
                results.append(None)
            finally:
                ctx.close()
        ok = [r for r in results if r is not None]
        return median(ok) if len(ok) == len(results) else None


# -- one size --------------------------------------------------------------------------------

def bench_maps(n: int, data_dir: Path, args, browser: Browser | None) -> dict:
    from flask import Flask  # noqa: F401  (import cost outside the timings)

    from geomap import assets, atlas as atlas_mod, layers, maps, payload
    from geomap.options import Options
    from geomap.select import select
    from geomap.web import create_app

    out: dict = {"n": n}
    atl, out["atlas_build_s"] = timed(atlas_mod.build, data_dir)
    out["rows"] = len(atl.agreements)
    out["partners"] = len(atl.partners)
    app, out["create_app_s"] = timed(create_app, {"TESTING": True, "GEOMAP_DATA_DIR": str(data_dir)})
    gc.collect()
    gc.freeze()  # as wsgi.py does
    client = app.test_client()
    cache = app.extensions["geomap.cache"]
    has_embed = any(r.rule == "/embed" for r in app.url_map.iter_rules())
    out["embed_measured_as"] = "GET /embed" if has_embed else "build_map(embed=True)"

    def cold(path: str) -> float:
        times = []
        for _ in range(args.cold_runs):
            cache.clear()
            payload._date.cache_clear()
            resp, dt = timed(client.get, path)
            assert resp.status_code == 200, (path, resp.status_code)
            times.append(dt)
        return median(times)

    out["cold_index_s"] = cold("/?lang=en")
    if has_embed:
        out["cold_embed_s"] = cold("/embed?lang=en")
    else:
        out["cold_embed_s"] = median([timed(maps.build_map, atl, Options(), lang="en", embed=True, source=None)[1]
                                      for _ in range(args.cold_runs)])
    page = client.get("/?lang=en")
    html = page.get_data()
    m = re.search(rb'"dataUrl": "([^"]+)"', html)
    data_url = m.group(1).decode().replace("\\u0026", "&") if m else None
    data = b""
    if data_url:
        def cold_data():
            cache.clear()
            return timed(client.get, data_url)[1]
        out["cold_data_s"] = median([cold_data() for _ in range(args.cold_runs)])
        data = client.get(data_url).get_data()
    out["mode"] = "loaded" if data_url else "inline"
    out["html_bytes"] = len(html)
    out["data_bytes"] = len(data)
    out["html_data_bytes"] = len(html) + len(data)
    out["html_data_gzip"] = len(gzip.compress(html, 6)) + (len(gzip.compress(data, 6)) if data else 0)
    asset_names = sorted(set(re.findall(rb'/assets/([^"?]+)\?v=', html)))
    asset_bytes = [assets.path(a.decode()).read_bytes() for a in asset_names]
    out["assets_bytes"] = sum(len(b) for b in asset_bytes)
    out["assets_gzip"] = sum(len(gzip.compress(b, 6)) for b in asset_bytes)
    out["total_bytes"] = out["html_data_bytes"] + out["assets_bytes"]
    out["total_gzip"] = out["html_data_gzip"] + out["assets_gzip"]

    server = Server(app)
    try:
        out["warm_index_ms"] = http_median(server.url + "/?lang=en", args.warm) * 1000
        if has_embed:
            out["warm_embed_ms"] = http_median(server.url + "/embed?lang=en", args.warm) * 1000
        if data_url:
            out["warm_data_ms"] = http_median(server.url + data_url, args.warm) * 1000
        if browser:
            out["shown_s"] = browser.shown(server.url + "/?lang=en", OUR_MARKERS, args.browser_runs)
            if has_embed:
                out["shown_embed_s"] = browser.shown(server.url + "/embed?lang=en", OUR_MARKERS, args.browser_runs)
    finally:
        server.stop()

    # Baselines on the agreements table (the same rows /api/agreements.geojson has).
    table = layers.table(atl, select(atl, Options()), "agreements")
    loop_html, out["loop_cold_s"] = timed(folium_loop, table)
    out["loop_bytes"] = len(loop_html.encode())
    out["loop_gzip"] = len(gzip.compress(loop_html.encode(), 6))
    explore_html, out["explore_cold_s"] = timed(explore, table)
    out["explore_bytes"] = len(explore_html.encode())
    out["explore_gzip"] = len(gzip.compress(explore_html.encode(), 6))
    if browser and n <= args.baseline_browser_max:
        pages = {"/loop.html": loop_html.encode(), "/explore.html": explore_html.encode()}
        server = Server(static_app(pages))
        try:
            out["loop_shown_s"] = browser.shown(server.url + "/loop.html", ".leaflet-marker-icon",
                                                max(1, args.browser_runs // 2), local_leaflet=server.url)
            out["explore_shown_s"] = browser.shown(server.url + "/explore.html", ".leaflet-interactive",
                                                   max(1, args.browser_runs // 2), local_leaflet=server.url)
        finally:
            server.stop()
    return out


def bench_exports(n: int, data_dir: Path, args) -> list[dict]:
    """Each GeoJSON layer: the first export after start-up (which also makes the per-row texts
    that the agreements and links layers share, once per data version), later exports (any
    filters: a join of those texts), and to_json() on the same table, built beforehand."""
    from geomap import atlas as atlas_mod, layers
    from geomap.options import Options
    from geomap.select import select

    atl, build_s = timed(atlas_mod.build, data_dir)
    sel = select(atl, Options())
    rows = []
    for layer in layers.LAYERS:
        first = []
        for _ in range(args.export_runs):
            layers._ROW_JSON.clear()
            body, dt = timed(layers.render, atl, sel, layer, "geojson")
            first.append(dt)
        later = [timed(layers.render, atl, sel, layer, "geojson")[1] for _ in range(args.export_runs)]
        table = layers.table(atl, sel, layer)
        theirs = []
        for _ in range(args.export_runs):
            ref, dt = timed(table.to_json)
            theirs.append(dt)
        rows.append({"n": n, "layer": layer, "features": len(table),
                     "first_s": median(first), "later_s": median(later), "to_json_s": median(theirs),
                     "geomap_bytes": len(body), "to_json_bytes": len(ref.encode()),
                     "atlas_build_s": build_s})
    return rows


# -- the report ------------------------------------------------------------------------------

def fmt_s(x):
    return "–" if x is None or x != x else (f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s")


def fmt_b(x):
    if x is None:
        return "–"
    return f"{x / 2**20:.2f} MB" if x >= 2**20 else f"{x / 1024:.0f} kB"


def ratio(a, b):
    if a is None or b is None or not b or a != a or b != b:
        return "–"
    return f"{a / b:.1f}x"


def machine() -> dict:
    import folium
    import geopandas
    import pandas
    import shapely

    cpu = ""
    try:
        cpu = next(ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = ""
    try:
        kb = int(next(ln.split()[1] for ln in open("/proc/meminfo") if ln.startswith("MemTotal")))
        mem = f"{kb / 2**20:.0f} GiB"
    except (OSError, StopIteration):
        pass
    chromium = ""
    try:
        import subprocess

        chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception:
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory": mem, "python": platform.python_version(),
            "folium": folium.__version__, "geopandas": geopandas.__version__, "pandas": pandas.__version__,
            "shapely": shapely.__version__, "chromium": chromium, "platform": platform.platform(),
            "load_average_at_start": os.getloadavg()}


def report(env: dict, maps_rows: list[dict], export_rows: list[dict]) -> str:
    lines = [f"machine: {env['cpus']} CPUs, {env['cpu']}, {env['memory']}; Python {env['python']}, "
             f"folium {env['folium']}, geopandas {env['geopandas']}, pandas {env['pandas']}, "
             f"shapely {env['shapely']}; {env['chromium']}; load average at start {env['load_average_at_start']}", ""]
    if maps_rows:
        lines += ["Maps (geomap; baselines: folium Marker loop, GeoDataFrame.explore(); ratio = baseline / geomap)", "",
                  "| N agreements (rows, partners) | measure | geomap | folium loop | explore | vs loop | vs explore |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        for r in maps_rows:
            label = f"{r['n']:,} ({r['rows']:,}, {r['partners']:,}) {r['mode']}"
            cold_total = r["cold_index_s"]
            lines.append(f"| {label} | cold / | {fmt_s(cold_total)} | {fmt_s(r['loop_cold_s'])} | {fmt_s(r['explore_cold_s'])} "
                         f"| {ratio(r['loop_cold_s'], cold_total)} | {ratio(r['explore_cold_s'], cold_total)} |")
            lines.append(f"| | cold /embed ({r['embed_measured_as']}) | {fmt_s(r['cold_embed_s'])} | | | "
                         f"{ratio(r['loop_cold_s'], r['cold_embed_s'])} | {ratio(r['explore_cold_s'], r['cold_embed_s'])} |")
            if r.get("cold_data_s") is not None:
                lines.append(f"| | cold /api/map.json alone (another worker's first request) | {fmt_s(r['cold_data_s'])} | | | | |")
            lines.append(f"| | warm / median (HTTP) | {r['warm_index_ms']:.1f} ms | | | | |")
            if r.get("warm_embed_ms") is not None:
                lines.append(f"| | warm /embed median | {r['warm_embed_ms']:.1f} ms | | | | |")
            if r.get("warm_data_ms") is not None:
                lines.append(f"| | warm /api/map.json median | {r['warm_data_ms']:.1f} ms | | | | |")
            lines.append(f"| | HTML + data | {fmt_b(r['html_data_bytes'])} | {fmt_b(r['loop_bytes'])} | {fmt_b(r['explore_bytes'])} "
                         f"| {ratio(r['loop_bytes'], r['html_data_bytes'])} | {ratio(r['explore_bytes'], r['html_data_bytes'])} |")
            lines.append(f"| | HTML + data, gzip | {fmt_b(r['html_data_gzip'])} | {fmt_b(r['loop_gzip'])} | {fmt_b(r['explore_gzip'])} "
                         f"| {ratio(r['loop_gzip'], r['html_data_gzip'])} | {ratio(r['explore_gzip'], r['html_data_gzip'])} |")
            lines.append(f"| | + scripts and styles (raw / gzip) | {fmt_b(r['total_bytes'])} / {fmt_b(r['total_gzip'])} | CDN, not counted | CDN, not counted | | |")
            lines.append(f"| | markers shown in Chromium | {fmt_s(r.get('shown_s'))} | {fmt_s(r.get('loop_shown_s'))} | "
                         f"{fmt_s(r.get('explore_shown_s'))} | {ratio(r.get('loop_shown_s'), r.get('shown_s'))} | "
                         f"{ratio(r.get('explore_shown_s'), r.get('shown_s'))} |")
            if r.get("shown_embed_s") is not None:
                lines.append(f"| | /embed markers shown | {fmt_s(r['shown_embed_s'])} | | | | |")
            lines.append(f"| | (start-up: atlas build / create_app) | {fmt_s(r['atlas_build_s'])} / {fmt_s(r['create_app_s'])} | | | | |")
        lines.append("")
    if export_rows:
        lines += ["GeoJSON exports (geomap.layers.render, as /api/<layer>.geojson and `geomap export`; baseline "
                  "GeoDataFrame.to_json() on the same table, the table built beforehand; ratio = to_json / geomap)", "",
                  "| N agreements | layer (features) | geomap, first after start-up | geomap, later (any filter) | to_json() "
                  "| ratio first | ratio later | geomap bytes | to_json bytes |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for r in export_rows:
            lines.append(f"| {r['n']:,} | {r['layer']} ({r['features']:,}) | {fmt_s(r['first_s'])} | {fmt_s(r['later_s'])} | "
                         f"{fmt_s(r['to_json_s'])} | {ratio(r['to_json_s'], r['first_s'])} | {ratio(r['to_json_s'], r['later_s'])} | "
                         f"{fmt_b(r['geomap_bytes'])} | {fmt_b(r['to_json_bytes'])} |")
        lines.append("")
    big = next((r for r in maps_rows if r["n"] == 10_000), None)
    if big or any(r["n"] == 10_000 for r in export_rows):
        lines += ["Targets at 10,000 agreements", ""]
        if big:
            checks = [
                ("cold / at least 5x faster than the folium loop", big["loop_cold_s"] / big["cold_index_s"], 5.0, "x"),
                ("HTML + data at least 3x smaller than the loop's page", big["loop_bytes"] / big["html_data_bytes"], 3.0, "x"),
                ("warm / median under 50 ms", big["warm_index_ms"], 50.0, "ms<"),
                ("markers shown within 3 s", big.get("shown_s"), 3.0, "s<"),
            ]
            for name, value, target, kind in checks:
                if value is None:
                    lines.append(f"- {name}: not measured")
                    continue
                ok = value >= target if kind == "x" else value < target
                shown = f"{value:.1f}x" if kind == "x" else (f"{value:.1f} ms" if kind == "ms<" else f"{value:.2f} s")
                lines.append(f"- {name}: {shown} — {'met' if ok else 'NOT met'}")
        for r in export_rows:
            if r["n"] == 10_000:
                v1, v2 = r["to_json_s"] / r["first_s"], r["to_json_s"] / r["later_s"]
                lines.append(f"- GeoJSON export of {r['layer']} at least 2x faster than to_json(): first after start-up "
                             f"{v1:.1f}x ({'met' if v1 >= 2 else 'NOT met'}), later {v2:.1f}x ({'met' if v2 >= 2 else 'NOT met'})")
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100,1000,10000", help="agreement counts for the map measures")
    ap.add_argument("--export-sizes", default="100,1000,10000,100000", help="agreement counts for the exports")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--warm", type=int, default=50, help="requests per warm median")
    ap.add_argument("--cold-runs", type=int, default=3, help="cold builds per median")
    ap.add_argument("--export-runs", type=int, default=3)
    ap.add_argument("--browser-runs", type=int, default=5, help="page loads per Chromium median")
    ap.add_argument("--baseline-browser-max", type=int, default=10_000,
                    help="largest N whose baseline pages are opened in Chromium")
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the results here (default bench/results/<time>.json)")
    args = ap.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",") if x]
    export_sizes = [int(x) for x in args.export_sizes.split(",") if x]

    env = machine()
    browser = None if args.no_browser else Browser()
    maps_rows, export_rows = [], []
    try:
        with tempfile.TemporaryDirectory(prefix="geomap-bench-") as tmp:
            dirs = {}
            for n in sorted(set(sizes) | set(export_sizes)):
                dirs[n] = generate.generate(Path(tmp) / f"n{n}", agreements=n, seed=args.seed)
            for n in sizes:
                log(f"maps at N={n:,} ...")
                maps_rows.append(bench_maps(n, dirs[n], args, browser))
            for n in export_sizes:
                log(f"exports at N={n:,} ...")
                export_rows.extend(bench_exports(n, dirs[n], args))
    finally:
        if browser:
            browser.close()
    text = report(env, maps_rows, export_rows)
    print(text)
    out = args.json or REPO / "bench" / "results" / time.strftime("%Y%m%d-%H%M%S.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": env, "maps": maps_rows, "exports": export_rows, "report": text},
                              indent=1, default=str), encoding="utf-8")
    log(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
