"""The timeline at scale: frame rate in Chromium while it plays and while its slider is dragged.

    .venv/bin/python bench/timeline.py                   # N = 10,000 agreements (bench/generate.py, seed 1)
    .venv/bin/python bench/timeline.py --agreements 1000 --runs 1

On the map page (/, 1280x800, Debian's headless Chromium, tiles answered locally) it measures,
with requestAnimationFrame timestamps recorded by the page itself:

- play: geomapTimeline.play() from the first year to the last, as a visitor's Play button does
  (one step a second; each step masks the agreements by year in the browser);
- drag: the "Up to year" slider moved to another year on every animation frame, as a fast drag
  does, through the input events the browser sends (each one masks the map again);
- baseline, in the same run: the same drag where each step instead gives the map the server's
  data for that year (geomapView.setData with the page's JSON for ?year_to=Y, fetched
  beforehand so that the network is not counted): what the timeline would cost without the
  mask;
- references for the machine's own noise: the same page at rest, and an empty page (a shared,
  loaded machine drops frames even there).

For each, the frames per second over the whole run and over the worst 1-second window, the
90th and 99th percentile and the longest frame interval, the share of frames over 33.3 ms
(below 30 frames a second), and the time one step's work takes (script, before the frame is
drawn). The target: no 1-second window below 30 frames a second while playing or dragging.

The machine is shared and noisy (docs/performance.md): compare the mask with the baseline of
the same run. Nothing is written into the repository except bench/results/ (ignored by git).
"""
from __future__ import annotations

import argparse
import json
import platform
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
from run import CHROMIUM, CHROMIUM_ARGS, TILE_PNG  # noqa: E402  (the same browser and tiles as bench/run.py)

# Frame timestamps from requestAnimationFrame, kept by the page until asked for.
RECORDER = """
window.__frames = null;
window.__record = function () {
  window.__frames = [];
  (function loop(t) { if (window.__frames) { window.__frames.push(t); requestAnimationFrame(loop); } })(performance.now());
};
window.__stop = function () { const f = window.__frames; window.__frames = null; return f; };
"""

# Move the slider once per frame through every year and back, as a drag sends input events.
DRAG = """async ([seconds, baseline]) => {
  const input = document.getElementById("gm-tl-to");
  const first = +input.min, last = +input.max;
  const pages = window.__pages || {};
  const work = [];
  let y = last, dir = -1;
  const end = performance.now() + seconds * 1000;
  window.__record();
  while (performance.now() < end) {
    await new Promise(requestAnimationFrame);
    y += dir;
    if (y <= first || y >= last) dir = -dir;
    const t0 = performance.now();
    if (baseline) {
      const p = pages[y];
      window.geomapView.setYearRange(null, null);
      await window.geomapView.setData(p.data, p.settings);
    } else {
      input.value = String(y);
      input.dispatchEvent(new Event("input", { bubbles: true }));
    }
    work.push(performance.now() - t0);
  }
  return { frames: window.__stop(), work: work };
}"""

# The server's map JSON for each ?year_to=Y, fetched before the baseline runs.
PREFETCH = """async () => {
  const input = document.getElementById("gm-tl-to");
  const pages = {};
  for (let y = +input.min; y <= +input.max; y++) {
    const u = new URL(location.href); u.searchParams.set("year_to", y);
    const doc = new DOMParser().parseFromString(await (await fetch(u)).text(), "text/html");
    const out = {
      data: JSON.parse(doc.getElementById("gm-map-data").textContent),
      settings: JSON.parse(doc.getElementById("gm-map-settings").textContent),
    };
    // A large map's page carries its data's URL: fetched now, the map's own fetch of it
    // later comes from the browser's cache (the URL names the data version; immutable).
    if (!out.data && out.settings && out.settings.dataUrl) await (await fetch(out.settings.dataUrl)).text();
    pages[y] = out;
  }
  window.__pages = pages;
  return Object.keys(pages).length;
}"""

REST = """async (seconds) => {
  window.__record();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  return { frames: window.__stop() };
}"""

PLAY = """async () => {
  window.__record();
  const t0 = performance.now();
  window.geomapTimeline.play();
  await new Promise((resolve) => {
    (function wait() { if (window.geomapTimeline.state().playing) setTimeout(wait, 50); else resolve(); })();
  });
  return { frames: window.__stop(), seconds: (performance.now() - t0) / 1000 };
}"""

STEP_COST = """() => {
  const v = window.geomapView, input = document.getElementById("gm-tl-to");
  const out = [];
  for (let y = +input.min; y <= +input.max; y++) {
    const t0 = performance.now();
    v.setYearRange(null, y);
    out.push(performance.now() - t0);
  }
  v.setYearRange(null, null);
  return out;
}"""


def frame_stats(frames: list[float]) -> dict:
    gaps = [b - a for a, b in zip(frames, frames[1:])]
    if not gaps:
        return {}
    gaps_sorted = sorted(gaps)
    total = (frames[-1] - frames[0]) / 1000
    # Frames per second in every 1-second window starting at a frame.
    worst = float("inf")
    j = 0
    for i, t in enumerate(frames):
        while j < len(frames) and frames[j] <= t + 1000:
            j += 1
        if frames[-1] - t < 1000:
            break
        worst = min(worst, j - i - 1)
    return {
        "frames": len(frames), "seconds": round(total, 2),
        "fps": round((len(frames) - 1) / total, 1) if total else None,
        "worst_1s_fps": worst if worst != float("inf") else None,
        "p90_ms": round(gaps_sorted[int(0.9 * (len(gaps) - 1))], 1),
        "p99_ms": round(gaps_sorted[int(0.99 * (len(gaps) - 1))], 1),
        "max_ms": round(gaps_sorted[-1], 1),
        "over_33ms": round(100 * sum(g > 1000 / 30 for g in gaps) / len(gaps), 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--agreements", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3, help="runs of each measurement (fresh page each)")
    ap.add_argument("--drag-seconds", type=float, default=5.0)
    args = ap.parse_args()

    import logging

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from geomap.web import create_app

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    tmp = Path(tempfile.mkdtemp(prefix="geomap-timeline-bench-"))
    t0 = time.perf_counter()
    data_dir = generate.generate(tmp / "geodata", agreements=args.agreements, seed=1)
    app = create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(data_dir)})
    atlas = app.extensions["geomap.atlas"]
    print(f"N = {args.agreements:,} agreements, {len(atlas.partners):,} partners "
          f"(data and app in {time.perf_counter() - t0:.1f} s)")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"

    results: dict[str, list] = {"blank": [], "rest": [], "play": [], "drag": [], "baseline": [], "step_ms": []}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        version = browser.version
        for run in range(args.runs):
            ctx = browser.new_context(viewport={"width": 1280, "height": 800})
            page = ctx.new_page()
            page.add_init_script(RECORDER)
            page.goto("about:blank")
            page.evaluate(RECORDER)
            results["blank"].append(frame_stats(page.evaluate(REST, args.drag_seconds)["frames"]))
            ctx.close()
            for kind in ("rest", "play", "drag", "baseline"):
                ctx = browser.new_context(viewport={"width": 1280, "height": 800})
                own = urlsplit(base).netloc
                ctx.route("**/*", lambda r: r.continue_() if urlsplit(r.request.url).netloc == own
                          else r.fulfill(status=200, content_type="image/png", body=TILE_PNG))
                page = ctx.new_page()
                page.add_init_script(RECORDER)
                page.goto(f"{base}/?lang=en")
                page.wait_for_function("() => window.geomapView && window.geomapView.markers.length > 0"
                                       " && window.geomapTimeline", timeout=120_000)
                page.wait_for_timeout(1500)  # the links a frame later, labels, idle
                if kind == "rest":
                    results["rest"].append(frame_stats(page.evaluate(REST, args.drag_seconds)["frames"]))
                elif kind == "play":
                    out = page.evaluate(PLAY)
                    results["play"].append(frame_stats(out["frames"]))
                    results["step_ms"].append(page.evaluate(STEP_COST))
                elif kind == "drag":
                    out = page.evaluate(DRAG, [args.drag_seconds, False])
                    stats = frame_stats(out["frames"])
                    stats["work_ms_median"] = round(statistics.median(out["work"]), 2)
                    results["drag"].append(stats)
                else:
                    page.evaluate(PREFETCH)
                    out = page.evaluate(DRAG, [args.drag_seconds, True])
                    stats = frame_stats(out["frames"])
                    stats["work_ms_median"] = round(statistics.median(out["work"]), 2)
                    results["baseline"].append(stats)
                ctx.close()
                print(f"run {run + 1} {kind}: {results[kind][-1]}")
        browser.close()
    server.shutdown()

    def med(kind: str, key: str):
        values = [r[key] for r in results[kind] if r.get(key) is not None]
        return statistics.median(values) if values else None

    steps = [ms for run in results["step_ms"] for ms in run]
    print()
    print(f"Chromium {version}, {platform.machine()}, Python {platform.python_version()}; "
          f"medians of {args.runs} runs")
    print(f"{'':28}{'fps':>8}{'worst 1 s':>11}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}{'>33 ms':>9}{'step ms':>10}")
    for kind, label in (("blank", "empty page (reference)"), ("rest", "map at rest (reference)"),
                        ("play", "play (mask)"), ("drag", "drag, a year a frame (mask)"),
                        ("baseline", "drag, setData per year")):
        step = (statistics.median(steps) if kind == "play" and steps
                else med(kind, "work_ms_median") if kind in ("drag", "baseline") else None)
        print(f"{label:28}{med(kind, 'fps') or 0:>8.1f}{med(kind, 'worst_1s_fps') or 0:>11.0f}"
              f"{med(kind, 'p90_ms') or 0:>9.1f}{med(kind, 'p99_ms') or 0:>9.1f}{med(kind, 'max_ms') or 0:>9.1f}"
              f"{med(kind, 'over_33ms') or 0:>8.1f}%{step or 0:>10.2f}")
    drag, baseline = med("drag", "fps"), med("baseline", "fps")
    if drag and baseline:
        print(f"\ndrag frame rate, mask / setData per year: {drag / baseline:.1f}x")
    worst = min(v for v in (med("play", "worst_1s_fps"), med("drag", "worst_1s_fps")) if v is not None)
    print(f"target (no 1-second window below 30 fps while playing or dragging): "
          f"{'met' if worst >= 30 else 'NOT met'} (worst window {worst} fps)")
    out_dir = REPO / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    path = out_dir / f"timeline-{args.agreements}-{int(time.time())}.json"
    path.write_text(json.dumps({"agreements": args.agreements, "chromium": version, **results}, indent=1))
    print(f"wrote {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
