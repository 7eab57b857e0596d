"""The data model in Debian's Chromium: a two-site agreement's links, a period in the year
filter, a part listed under its parent, a Shanghai-side site's page, and Chinese pages that show
no English without its mark."""
from __future__ import annotations

import re

import pytest

from conftest import screenshot
from geomap import atlas as atlas_mod
from geomap.web import create_app
from test_load import edit_agreement

pytestmark = pytest.mark.browser

WORK_PLAN = "qingpu-wujiang-jiashan-2019-work-plan"


@pytest.fixture(scope="module")
def model_site(tmp_path_factory, serve):
    """(base URL, atlas) of the shipped data with the work plan signed by Qingpu and Shanghai
    (two Shanghai-side sites) over 2018-2020 (a period)."""
    import shutil
    from conftest import GEODATA

    data = tmp_path_factory.mktemp("model") / "geodata"
    shutil.copytree(GEODATA, data)
    edit_agreement(data, WORK_PLAN, "shanghai_site: qingpu", "shanghai_site: [qingpu, shanghai]")
    edit_agreement(data, WORK_PLAN, "date: 2019-07-23\n  date_precision: day\n",
                   "date: 2018-01-01\n  date_precision: year\n  date_end: 2020-12-31\n")
    app = create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(data)})
    return serve(app), atlas_mod.build(data)


def open_map(page_for, base: str, path: str, **kw):
    page, watch = page_for(base, **kw)
    page.goto(base + path)
    page.wait_for_function("() => window.geomapView && window.geomapView.markers.length > 0")
    return page, watch


LINKS_OF = """(pid) => {
  // The drawn links ending at a partner's marker, as [[lat, lon], [lat, lon]] pairs.
  const v = window.geomapView;
  const i = v.data.partners.findIndex(p => p.id === pid);
  const end = v.markers[i].getLatLng();
  const out = [];
  v.lines.forEach(l => {
    const lls = l.getLatLngs();
    (Array.isArray(lls[0]) ? lls : [lls]).forEach(seg => {
      if (seg.some(p => p.equals(end))) out.push(seg.map(p => [p.lat, p.lng]));
    });
  });
  return out;
}"""


def test_a_two_site_agreement_draws_a_link_from_each_site(page_for, model_site):
    base, atlas = model_site
    page, watch = open_map(page_for, base, "/?lang=en&type=work-plan")
    places = atlas.places
    for pid in ("wujiang", "jiashan"):
        links = page.evaluate(LINKS_OF, pid)
        starts = sorted(tuple(round(x, 6) for x in seg[0]) for seg in links)
        assert starts == sorted((places.at[s, "lat"], places.at[s, "lon"]) for s in ("qingpu", "shanghai")), pid
    # Both Shanghai-side sites have their marker.
    sites = page.evaluate("() => Array.from(document.querySelectorAll('[data-site]')).map(n => n.dataset.site)")
    assert {"qingpu", "shanghai"} <= set(sites)
    screenshot(page, "data-two-site-links")
    assert watch.errors == []


@pytest.mark.parametrize("years, shown", [("2019", True), ("2020", True), ("2021", False), ("2017", False)])
def test_a_period_answers_the_year_filter(page_for, model_site, years, shown):
    base, _ = model_site
    page, watch = open_map(page_for, base, "/?lang=en")
    page.fill("#gm-year-from", years)
    page.fill("#gm-year-to", years)
    # Submitted as a visitor would (Enter in the field): the page filters in place, or reloads.
    # (A year typed alone may already have been applied in place: wait for the state with both.)
    both = f"year_from={years}&year_to={years}"
    with page.expect_response(lambda r: both in r.url and r.request.resource_type in ("document", "fetch")):
        page.press("#gm-year-to", "Enter")
    page.wait_for_function("(q) => location.search.includes(q)", arg=both)
    page.wait_for_load_state()
    listed = page.locator("#gm-list").inner_text()
    assert ("2018–2020" in listed) is shown, listed
    assert ("2019 integration development work plan" in listed) is shown
    if shown:
        page.wait_for_selector('[data-partner="wujiang"].gm-marker, .gm-marker[data-partner="wujiang"]', state="attached")
    screenshot(page, f"data-period-{years}")
    assert watch.errors == []


def test_a_part_is_listed_under_its_parent_and_leads_to_itself(page_for, live_url):
    page, watch = page_for(live_url)
    page.goto(f"{live_url}/partners/ningbo?lang=en")
    parent = page.locator("article#ningbo-seven-projects-signing")
    parts = parent.locator("ul.gm-parts li a")
    assert parts.count() == 7
    titles = parts.all_inner_texts()
    assert "Brain Hospital project in Yinzhou District" in titles
    parts.filter(has_text="Brain Hospital project in Yinzhou District").click()
    page.wait_for_url(re.compile(r"/partners/yinzhou\?lang=en#yinzhou-brain-hospital$"))
    part = page.locator("article#yinzhou-brain-hospital")
    assert part.is_visible()
    assert page.evaluate("() => document.querySelector(':target').id") == "yinzhou-brain-hospital"
    back = part.locator("dd a", has_text="Signing of seven cooperation projects")
    assert back.get_attribute("href") == "/partners/ningbo?lang=en#ningbo-seven-projects-signing"
    screenshot(page, "data-part-of-parent")
    assert watch.errors == []


@pytest.mark.parametrize("lang, size, mobile", [("en", (1280, 800), False), ("zh", (390, 844), True)])
def test_the_qingpu_site_page(page_for, live_url, atlas, lang, size, mobile):
    page, watch = open_map(page_for, live_url, f"/sites/qingpu?lang={lang}", viewport=size, mobile=mobile)
    assert page.locator("h1").inner_text() == ("Qingpu District" if lang == "en" else "青浦区")
    mine = sorted(a.id for a in atlas.records.agreements if "qingpu" in a.shanghai_site)
    assert sorted(page.eval_on_selector_all("article.gm-agreement", "els => els.map(e => e.id)")) == mine
    # Its map shows its partners (and only them) and the site itself.
    partners = page.evaluate("() => window.geomapView.data.partners.map(p => p.id)")
    assert sorted(partners) == ["fenhu-hitech-zone", "jiashan", "wujiang"]
    assert page.locator('[data-site="qingpu"]').count() == 1
    # The partners' pages are a tap away.
    link = page.locator(".gm-site-partners a", has_text="吴江区" if lang == "zh" else "Wujiang District")
    if mobile:
        box = link.bounding_box()
        page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    else:
        link.click()
    page.wait_for_url(re.compile(r"/partners/wujiang"))
    screenshot(page, f"data-after-site-{lang}")
    page.go_back()
    page.wait_for_url(re.compile(r"/sites/qingpu"))
    screenshot(page, f"data-site-qingpu-{lang}")
    assert watch.errors == [] and watch.foreign_requests() == []


UNMARKED_ENGLISH = """() => {
  // Every visible English text (Latin letters and no Chinese: "DDR" inside a Chinese title is
  // Chinese): is it inside lang="en", and does a visible "English only" mark go with it? The
  // mark itself, the language switch, and the map's attribution and scale (km, mi) aside.
  const out = {latin: 0, unmarked: [], nomark: []};
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest("script, style, .leaflet-control-attribution, .leaflet-control-scale, .gm-lang")) continue;
    if (!el.getClientRects().length) continue;  // not shown
    const letters = (n.textContent.match(/[A-Za-z]/g) || []).length;
    if (!letters || /[\u4e00-\u9fff]/.test(n.textContent)) continue;
    out.latin += letters;
    const en = el.closest('[lang]');
    if (!en || !en.getAttribute("lang").startsWith("en")) { out.unmarked.push(n.textContent.trim().slice(0, 60)); continue; }
    if (en.classList.contains("gm-fallback")) continue;
    // The mark follows the English text within the same block.
    const block = en.closest("h1, h2, h3, p, dd, li, span.gm-source") || en.parentElement;
    const mark = block.querySelector(".gm-fallback");
    if (!mark || !mark.getClientRects().length || mark.textContent !== "仅有英文") out.nomark.push(n.textContent.trim().slice(0, 60));
  }
  return out;
}"""


@pytest.mark.parametrize("path", ["/partners/shaoxing?lang=zh", "/partners/ningbo?lang=zh",
                                  "/partners/fenhu-hitech-zone?lang=zh", "/sites/qingpu?lang=zh",
                                  "/sites/shanghai?lang=zh"])
def test_a_chinese_page_shows_no_unmarked_english(page_for, live_url, path):
    page, watch = open_map(page_for, live_url, path)
    found = page.evaluate(UNMARKED_ENGLISH)
    assert found["unmarked"] == [], found["unmarked"]
    assert found["nomark"] == [], found["nomark"]
    # And there is English to check: the shipped data has persons' names and English titles.
    if "shaoxing" in path or "fenhu" in path:
        assert found["latin"] > 0
    screenshot(page, "data-zh-" + re.sub(r"\W+", "-", path.strip("/")))
    assert watch.errors == []
