"""The timeline and the charts in Debian's Chromium, in both languages, at 1280×800 and on a
390×844 touch phone: the slider covers the data, arrows and drags move the map and the URL, Play
grows the network year by year and ends on all of it, Pause stops it, the state after a release
or a pause is what the server gives for the URL, the chart's text agrees with the API, bars
filter, and an embed with timeline=1 has it inside its frame."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import PHONES, screenshot
from geomap import charts
from geomap.options import Options
from geomap.select import select
from geomap.web import create_app

pytestmark = pytest.mark.browser

DESKTOP = (1280, 800)
SIZES = [pytest.param(DESKTOP, False, id="desktop"), pytest.param(PHONES[0], True, id="phone")]
LANGS = ["en", "zh"]

VISIBLE = """() => {
  const v = window.geomapView;
  return v.data.partners.filter((p, i) => v.markers[i].gm && v.markers[i].gm.n > 0).map(p => p.id).sort();
}"""
# Every playback step, with the partners shown at that moment.
RECORD = """() => {
  window.__steps = [];
  document.addEventListener("geomap:timeline", (e) => {
    const v = window.geomapView;
    const shown = v.data.partners.filter((p, i) => v.markers[i].gm && v.markers[i].gm.n > 0).map(p => p.id).sort();
    window.__steps.push(Object.assign({ shown: shown, live: document.getElementById("gm-tl-live").textContent }, e.detail));
  });
}"""


def years_of(atlas) -> tuple[int, int]:
    return charts.year_range(select(atlas, Options()))


def expected(atlas, **filters) -> list[str]:
    return sorted(select(atlas, Options(**filters), partner_filters=False).partners.index)


def api_count(client, query: str) -> int:
    r = client.get(f"/api/agreements.geojson?{query}")
    return len({f["properties"]["agreement_id"] for f in r.json["features"]})


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def open_page(page_for, base: str, path: str, viewport, mobile, **kw):
    page, watch = page_for(base, viewport=viewport, mobile=mobile, **kw)
    page.goto(f"{base}{path}")
    page.wait_for_function("() => window.geomapView && window.geomapView.data && window.geomapTimeline")
    page.wait_for_selector("#gm-tl-to", state="visible")
    return page, watch


def settled(page, **years):
    """Wait until the URL carries exactly these years and the server's state is shown."""
    def ok(url):
        q = query_of(url)
        return all(q.get(k) == ([str(v)] if v is not None else None) for k, v in years.items())
    page.wait_for_url(ok)
    page.wait_for_function("() => !window.geomapTimeline.state().pending")


def count_text(page) -> int:
    """The panel's count (in a closed bottom sheet on a phone, so its text rather than what shows)."""
    text = page.text_content("#gm-count").replace(",", "")
    return int(re.search(r"\d+", text).group(0))


def press(page, selector: str, key: str, mobile: bool):
    page.focus(selector)
    page.keyboard.press(key)


def tap_or_click(page, locator, mobile: bool):
    if mobile:
        box = locator.bounding_box()
        page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    else:
        locator.click()


# -- the slider -----------------------------------------------------------------------------------

@pytest.mark.parametrize("viewport, mobile", SIZES)
@pytest.mark.parametrize("lang", LANGS)
def test_slider_covers_the_data_and_its_text_agrees_with_the_api(page_for, live_url, atlas, client, lang, viewport, mobile):
    page, watch = open_page(page_for, live_url, f"/?lang={lang}", viewport, mobile)
    first, last = years_of(atlas)
    for sel in ("#gm-tl-from", "#gm-tl-to"):
        assert page.get_attribute(sel, "min") == str(first) and page.get_attribute(sel, "max") == str(last)
        assert page.get_attribute(sel, "aria-label")
    assert page.input_value("#gm-tl-from") == str(first) and page.input_value("#gm-tl-to") == str(last)
    assert page.get_attribute("#gm-tl-to", "aria-valuetext") == (f"{last}年" if lang == "zh" else str(last))
    # The histogram is an image whose text names every year's count, and its table says the same.
    svg = page.locator("#gm-timeline svg[role=img]")
    desc = svg.locator("desc").text_content()
    rows = page.eval_on_selector_all("#gm-timeline table tbody tr",
                                     "rs => rs.map(r => [r.cells[0].textContent, r.cells[1].textContent])")
    assert [int(y) for y, _ in rows] == list(range(first, last + 1))
    for year, n in rows:
        assert int(n) == api_count(client, f"year_from={year}&year_to={year}")
        sep = "：" if lang == "zh" else ": "
        assert f"{year}{sep}{n}" in desc
    # Every bar is drawn in the map's family colours and the track is on screen.
    assert svg.is_visible() and page.locator("#gm-tl-play").is_visible()
    box = page.locator("#gm-timeline").bounding_box()
    assert box["y"] + box["height"] <= viewport[1] + 1, "the timeline is on the first screen"
    screenshot(page, f"timeline-{lang}-{'phone' if mobile else 'desktop'}")
    assert watch.errors == []


@pytest.mark.parametrize("viewport, mobile", SIZES)
@pytest.mark.parametrize("lang", LANGS)
def test_arrows_move_the_slider_the_markers_and_the_url(page_for, live_url, atlas, client, lang, viewport, mobile):
    page, watch = open_page(page_for, live_url, f"/?lang={lang}", viewport, mobile)
    first, last = years_of(atlas)
    assert page.evaluate(VISIBLE) == expected(atlas)
    seen = []
    for year in range(last - 1, first - 1, -1):
        press(page, "#gm-tl-to", "ArrowLeft", mobile)
        # Masked in the browser (within a frame or two); the URL follows once the keys rest.
        page.wait_for_function(f"(want) => JSON.stringify(({VISIBLE})()) === JSON.stringify(want)",
                               arg=expected(atlas, year_to=year))
        settled(page, year_to=year, year_from=None)
        assert page.evaluate(VISIBLE) == expected(atlas, year_to=year), year
        assert count_text(page) == api_count(client, f"year_to={year}")
        assert page.input_value("#gm-tl-to") == str(year)
        seen.append(tuple(page.evaluate(VISIBLE)))
    assert len(set(seen)) > 1, "moving the slider changed the markers"
    # End, Home, and the other thumb: a window.
    press(page, "#gm-tl-to", "End", mobile)
    settled(page, year_to=None, year_from=None)
    assert page.evaluate(VISIBLE) == expected(atlas)
    press(page, "#gm-tl-from", "ArrowRight", mobile)
    settled(page, year_from=first + 1, year_to=None)
    assert page.evaluate(VISIBLE) == expected(atlas, year_from=first + 1)
    assert count_text(page) == api_count(client, f"year_from={first + 1}")
    press(page, "#gm-tl-from", "Home", mobile)
    settled(page, year_from=None, year_to=None)
    # Back goes to the previous state, and the slider follows it.
    page.go_back()
    settled(page, year_from=first + 1, year_to=None)
    page.wait_for_function(f"() => document.getElementById('gm-tl-from').value === '{first + 1}'")
    assert watch.errors == []


def test_a_drag_released_gives_the_servers_state_for_its_url(page_for, live_url, atlas, client):
    page, watch = open_page(page_for, live_url, "/?lang=en", DESKTOP, False)
    first, last = years_of(atlas)
    thumb = page.locator("#gm-tl-to")
    box = thumb.bounding_box()
    span = (box["width"] - 24) / (last - first)  # the thumb's centre moves over width - thumb
    start_x = box["x"] + box["width"] - 12
    y = box["y"] + box["height"] / 2
    page.mouse.move(start_x, y)
    page.mouse.down()
    target = first + 1
    for i in range(1, 11):  # a drag in small moves
        page.mouse.move(start_x - (last - target) * span * i / 10, y)
    page.wait_for_function(f"(want) => JSON.stringify(({VISIBLE})()) === JSON.stringify(want)",
                           arg=expected(atlas, year_to=target))  # masked while dragging
    assert "year_to" not in query_of(page.url)                        # no request until released
    page.mouse.up()
    settled(page, year_to=target, year_from=None)
    shown = page.evaluate(VISIBLE)
    fresh, _ = open_page(page_for, live_url, f"/?lang=en&year_to={target}", DESKTOP, False)
    assert shown == fresh.evaluate(VISIBLE) == expected(atlas, year_to=target)
    assert page.text_content("#gm-count") == fresh.text_content("#gm-count")
    assert watch.errors == []


# -- playback -------------------------------------------------------------------------------------

@pytest.mark.parametrize("viewport, mobile", SIZES)
@pytest.mark.parametrize("lang", LANGS)
def test_play_grows_the_network_year_by_year_and_ends_on_all_of_it(page_for, live_url, atlas, client, lang, viewport, mobile):
    page, watch = open_page(page_for, live_url, f"/?lang={lang}&type=project&year_to=2020", viewport, mobile)
    first, last = years_of(atlas)
    page.evaluate(RECORD)
    tap_or_click(page, page.locator("#gm-tl-play"), mobile)
    page.wait_for_function("() => document.getElementById('gm-tl-play').hasAttribute('data-playing')")
    assert page.inner_text("#gm-tl-play") == ("暂停" if lang == "zh" else "Pause")
    page.wait_for_function("() => !window.geomapTimeline.state().playing", timeout=30_000)
    settled(page, year_from=None, year_to=None)
    steps = page.evaluate("() => window.__steps")
    years = [s for s in steps if s["playing"] and s["month"] is None]
    # Resumed after 2020 (the page's year), a step for every later year, the map as the server
    # would give each year's cumulative view.
    assert [s["year"] for s in years] == list(range(2021, last + 1))
    for s in years:
        assert s["shown"] == expected(atlas, type=("project",), year_to=s["year"]), s["year"]
        assert str(s["count"]) in s["live"].replace(",", "") and str(s["year"]) in s["live"]
    # Ends on the whole network for the other filters, as the server gives it.
    assert steps[-1]["playing"] is False
    assert page.evaluate(VISIBLE) == expected(atlas, type=("project",))
    assert count_text(page) == api_count(client, "type=project")
    assert page.inner_text("#gm-tl-play") == ("播放" if lang == "zh" else "Play")

    # From the whole network, Play starts again from the first year; each year changes the
    # map as the data does.
    page.evaluate("() => { window.__steps = []; }")
    tap_or_click(page, page.locator("#gm-tl-play"), mobile)
    page.wait_for_function("() => !window.geomapTimeline.state().playing", timeout=30_000)
    steps = page.evaluate("() => window.__steps")
    years = [s for s in steps if s["playing"] and s["month"] is None]
    assert [s["year"] for s in years] == list(range(first, last + 1))
    for before, after in zip(years, years[1:]):
        if expected(atlas, type=("project",), year_to=before["year"]) != expected(atlas, type=("project",), year_to=after["year"]):
            assert before["shown"] != after["shown"]
    # Month by month inside the years of a short span of data, never showing an agreement before
    # its month.
    months = [s for s in steps if s["month"]]
    assert months and all(int(m["month"][:4]) in range(first, last + 1) for m in months)
    rows = select(atlas, Options(type=("project",))).agreements.drop_duplicates("agreement_id")
    for m in months:
        assert m["count"] == int((rows["date"].str.slice(0, 7) <= m["month"]).sum()), m
    settled(page, year_from=None, year_to=None)
    assert page.evaluate(VISIBLE) == expected(atlas, type=("project",))
    screenshot(page, f"timeline-played-{lang}-{'phone' if mobile else 'desktop'}")
    assert watch.errors == []


@pytest.mark.parametrize("viewport, mobile", SIZES)
def test_pause_stops_playback_on_the_servers_state(page_for, live_url, atlas, client, viewport, mobile):
    page, watch = open_page(page_for, live_url, "/?lang=en", viewport, mobile)
    page.evaluate(RECORD)
    tap_or_click(page, page.locator("#gm-tl-play"), mobile)
    page.wait_for_function("() => window.__steps.some(s => s.year === 2020 && s.month === null)", timeout=30_000)
    tap_or_click(page, page.locator("#gm-tl-play"), mobile)
    state = page.evaluate("() => window.geomapTimeline.state()")
    assert state["playing"] is False
    year = state["to"]
    assert year in (2020, 2021)
    settled(page, year_to=year, year_from=None)
    n = len(page.evaluate("() => window.__steps"))
    page.wait_for_timeout(2500)  # longer than two steps
    assert len(page.evaluate("() => window.__steps")) == n, "no step after Pause"
    assert page.evaluate("() => window.geomapTimeline.state().to") == year
    shown = page.evaluate(VISIBLE)
    fresh, _ = open_page(page_for, live_url, f"/?lang=en&year_to={year}", viewport, mobile)
    assert shown == fresh.evaluate(VISIBLE) == expected(atlas, year_to=year)
    assert count_text(page) == count_text(fresh) == api_count(client, f"year_to={year}")
    assert watch.errors == []


def test_reduced_motion_plays_a_year_at_a_time_without_transitions(page_for, live_url, atlas):
    page, watch = page_for(live_url)
    page.emulate_media(reduced_motion="reduce")
    page.goto(f"{live_url}/?lang=en")
    page.wait_for_function("() => window.geomapView && window.geomapView.data && window.geomapTimeline")
    assert page.evaluate("() => document.getElementById('gm-timeline').classList.contains('gm-still')")
    page.evaluate(RECORD)
    page.click("#gm-tl-play")
    assert page.evaluate("() => getComputedStyle(document.querySelector('.gm-tl-range')).transitionDuration") == "0s"
    page.wait_for_function("() => !window.geomapTimeline.state().playing", timeout=30_000)
    steps = page.evaluate("() => window.__steps")
    first, last = years_of(atlas)
    assert [s["year"] for s in steps if s["playing"]] == list(range(first, last + 1))
    assert all(s["month"] is None for s in steps)
    assert watch.errors == []


# -- bars -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("viewport, mobile", SIZES)
@pytest.mark.parametrize("lang", LANGS)
def test_a_year_bar_selects_its_year(page_for, live_url, atlas, client, lang, viewport, mobile):
    page, watch = open_page(page_for, live_url, f"/?lang={lang}", viewport, mobile)
    tap_or_click(page, page.locator('.gm-tl-hit[data-year="2020"]'), mobile)
    settled(page, year_from=2020, year_to=2020)
    assert page.evaluate(VISIBLE) == expected(atlas, year_from=2020, year_to=2020)
    assert count_text(page) == api_count(client, "year_from=2020&year_to=2020")
    assert page.input_value("#gm-tl-from") == page.input_value("#gm-tl-to") == "2020"
    # The keyboard: the bars are one tab stop; arrows move between them, Enter selects.
    hit = page.locator('.gm-tl-hit[data-year="2020"]')
    hit.focus()
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("() => document.activeElement.dataset.year") == "2019"
    assert page.eval_on_selector_all(".gm-tl-hit", "hs => hs.filter(h => h.tabIndex === 0).length") == 1
    page.keyboard.press("Enter")
    settled(page, year_from=None, year_to=2019)
    assert page.evaluate(VISIBLE) == expected(atlas, year_to=2019)
    assert page.evaluate("() => document.activeElement.dataset.year") == "2019", "focus stays on the bar"
    assert watch.errors == []


def test_a_panel_chart_bar_filters_in_place(page_for, live_url, atlas, client):
    page, watch = open_page(page_for, live_url, "/?lang=en", DESKTOP, False)
    page.evaluate("() => { window.__doc = document.documentElement; }")
    bar = page.locator('#gm-chart-type .gm-chart-hit[data-value="project"]')
    bar.click()
    page.wait_for_url(lambda u: query_of(u).get("type") == ["project"])
    page.wait_for_function("() => document.querySelector('#gm-chart-type .gm-chart-hit.gm-active')")
    assert count_text(page) == api_count(client, "type=project")
    assert page.evaluate(VISIBLE) == expected(atlas, type=("project",))
    assert page.evaluate("() => window.__doc === document.documentElement"), "no reload"
    # The timeline's track now counts projects only.
    rows = page.eval_on_selector_all("#gm-timeline table tbody tr",
                                     "rs => rs.map(r => [r.cells[0].textContent, r.cells[1].textContent])")
    for year, n in rows:
        assert int(n) == api_count(client, f"type=project&year_from={year}&year_to={year}")
    # The same bar again shows every type.
    page.locator('#gm-chart-type .gm-chart-hit[data-value="project"]').click()
    page.wait_for_url(lambda u: "type" not in query_of(u))
    assert count_text(page) == api_count(client, "")
    assert watch.errors == []


# -- the embed ------------------------------------------------------------------------------------

@pytest.mark.parametrize("viewport, mobile", SIZES)
def test_an_embed_with_timeline_shows_it_inside_its_frame(page_for, live_url, serve, atlas, viewport, mobile):
    host_html = (f'<!doctype html><html><head><meta name="viewport" content="width=device-width, initial-scale=1"></head><body><h1>Partner site</h1>'
                 f'<iframe src="{live_url}/embed?lang=zh&timeline=1" title="map" width="100%" height="520" '
                 f'style="border:0"></iframe></body></html>').encode()

    def host(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [host_html]

    host_url = serve(host)
    page, watch = page_for(host_url, live_url, viewport=viewport, mobile=mobile)
    page.goto(host_url)
    frame = page.frame_locator("iframe")
    frame.locator("#gm-tl-to").wait_for(state="visible")
    inner = next(f for f in page.frames if "/embed" in f.url)
    inner.wait_for_function("() => window.geomapView && window.geomapView.data && window.geomapTimeline")
    box = page.locator("iframe").bounding_box()
    tl = frame.locator("#gm-timeline").bounding_box()
    assert box["y"] <= tl["y"] and tl["y"] + tl["height"] <= box["y"] + box["height"] + 1, "inside the frame"
    first, last = years_of(atlas)
    frame.locator("#gm-tl-to").focus()
    page.keyboard.press("ArrowLeft")
    inner.wait_for_function(f"() => location.search.includes('year_to={last - 1}') && !window.geomapTimeline.state().pending")
    assert inner.evaluate(VISIBLE) == expected(atlas, year_to=last - 1)
    assert page.url == host_url + "/" or page.url == host_url, "the host page stays where it is"
    screenshot(page, f"embed-timeline-{'phone' if mobile else 'desktop'}")
    assert watch.errors == []


# -- accessibility --------------------------------------------------------------------------------

from test_a11y_browser import axe, check, load  # noqa: E402,F401  (the page's axe-core fixture)

A11Y = [
    ("/?lang=en&year_from=2020&year_to=2020", DESKTOP, False),   # a year chosen: its bar marked
    ("/?lang=zh&year_to=2020&type=project", PHONES[0], True),
    ("/embed?lang=zh&timeline=1", DESKTOP, False),
    ("/embed?lang=en&timeline=1&partner=shaoxing", PHONES[0], True),
    ("/partners/shaoxing?lang=zh&type=project", DESKTOP, False),  # a chart's bar applied
]


@pytest.mark.parametrize("path, viewport, mobile", A11Y, ids=[f"{p}-{'phone' if m else 'desktop'}" for p, _, m in A11Y])
def test_timeline_and_charts_have_no_violations(page_for, live_url, axe, path, viewport, mobile):
    page, watch = load(page_for, live_url, path, viewport, mobile)
    check(page, axe, f"timeline-{'phone' if mobile else 'desktop'}-{path}")
    assert watch.errors == []


def test_no_violations_while_playing_and_after_a_pause(page_for, live_url, axe):
    page, watch = load(page_for, live_url, "/?lang=en", DESKTOP, False)
    page.evaluate(RECORD)
    page.click("#gm-tl-play")
    page.wait_for_function("() => window.__steps.some(s => s.year === 2020 && s.month === null)", timeout=30_000)
    check(page, axe, "timeline-playing")
    page.click("#gm-tl-play")
    settled(page, year_to=page.evaluate("() => window.geomapTimeline.state().to"))
    check(page, axe, "timeline-paused")
    assert watch.errors == []
