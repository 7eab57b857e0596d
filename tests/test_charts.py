"""The charts' numbers (geomap.charts) against select() and the API, their SVG (geomap.chart_svg)
and text alternatives, and the charts as the pages show them (links that filter, hidden tables)."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from types import SimpleNamespace

from geomap import amounts, chart_svg, charts
from geomap.options import Options
from geomap.select import Selection, select

SVG = "{http://www.w3.org/2000/svg}"


def distinct(selection) -> int:
    return selection.agreements["agreement_id"].nunique()


def api_count(client, query: str) -> int:
    """Agreements the API gives for a query: its features are (agreement, partner) rows."""
    r = client.get(f"/api/agreements.geojson?{query}")
    assert r.status_code == 200, r.get_data(as_text=True)
    return len({f["properties"]["agreement_id"] for f in r.json["features"]})


def frame(rows: list[dict]) -> Selection:
    """A Selection of hand-made agreement rows (only the columns the charts read)."""
    df = pd.DataFrame(rows)
    for col, default in (("sectors", ()), ("value_cny", float("nan")), ("province", "Zhejiang"),
                         ("type", "project")):
        if col not in df:
            df[col] = [default] * len(df)
        elif isinstance(default, str):
            df[col] = df[col].fillna(default)
    return Selection(df, df, df)


def records_of(rows: list[dict]) -> SimpleNamespace:
    """An Atlas-like object whose records are these rows' agreements (what amounts reads)."""
    agreements = {r["agreement_id"]: SimpleNamespace(id=r["agreement_id"], part_of=r.get("part_of"),
                                                     value_cny=r.get("value_cny"))
                  for r in rows}
    return SimpleNamespace(records=SimpleNamespace(agreements=list(agreements.values())))


# -- the numbers ----------------------------------------------------------------------------------

def test_each_years_count_is_what_select_and_the_api_give_for_that_year(atlas, client):
    everything = select(atlas, Options())
    chart = charts.per_year(everything, "en")
    first, last = charts.year_range(everything)
    assert [b.key for b in chart.bars] == [str(y) for y in range(first, last + 1)]
    assert sum(b.value for b in chart.bars) >= distinct(everything)
    for bar in chart.bars:
        y = int(bar.key)
        assert bar.value == distinct(select(atlas, Options(year_from=y, year_to=y))), y
        assert bar.value == api_count(client, f"year_from={y}&year_to={y}"), y
        assert bar.value == sum(s.value for s in bar.segments)
    # The shipped data: three in 2019, Shangyu Week alone in 2023, nothing in between.
    counts = {b.key: b.value for b in chart.bars}
    assert counts["2019"] == 3 and counts["2021"] == counts["2022"] == 0 and counts["2023"] == 1


def test_years_count_with_other_filters_equals_the_api(atlas, client):
    chart = charts.per_year(select(atlas, Options(type=("project",))), "en", years=(2018, 2024))
    for bar in chart.bars:
        assert bar.value == api_count(client, f"type=project&year_from={bar.key}&year_to={bar.key}")
    assert chart.bars[0].value == 0  # a year before the data: an empty slot, not an error


def test_stacks_follow_the_maps_type_families(atlas):
    from geomap.payload import FAMILIES, TYPE_FAMILY

    chart = charts.per_year(select(atlas, Options()), "en")
    for bar in chart.bars:
        y = int(bar.key)
        rows = select(atlas, Options(year_from=y, year_to=y)).agreements.drop_duplicates("agreement_id")
        want = rows["type"].map(TYPE_FAMILY).value_counts().to_dict()
        got = {s.key: s.value for s in bar.segments if s.value}
        assert got == want
        for s in bar.segments:
            assert s.color == FAMILIES[s.key][2]


def test_a_period_counts_in_every_year_it_covers():
    sel = frame([
        {"agreement_id": "plan", "year": 2018, "year_end": 2020},
        {"agreement_id": "one", "year": 2019, "year_end": None},
        # one agreement, two partner places: still one agreement a year
        {"agreement_id": "two", "year": 2020, "year_end": 2021},
        {"agreement_id": "two", "year": 2020, "year_end": 2021},
    ])
    chart = charts.per_year(sel, "en")
    assert {b.key: b.value for b in chart.bars} == {"2018": 1, "2019": 2, "2020": 2, "2021": 1}
    # A window narrower than the period still counts it in the years shown.
    assert [b.value for b in charts.per_year(sel, "en", years=(2019, 2019)).bars] == [2]


def test_sectors_and_types_equal_their_filters(atlas, client):
    everything = select(atlas, Options())
    sectors = charts.by_sector(everything, "en")
    assert sectors.bars, "the shipped data has sectors"
    for bar in sectors.bars:
        assert bar.value == distinct(select(atlas, Options(sector=(bar.key,))))
        assert bar.value == api_count(client, f"sector={bar.key}")
    values = [b.value for b in sectors.bars]
    assert values == sorted(values, reverse=True)
    types = charts.by_type(everything, "en")
    assert sum(b.value for b in types.bars) == distinct(everything)
    for bar in types.bars:
        assert bar.value == api_count(client, f"type={bar.key}")


def test_amounts_by_province_in_both_languages(atlas):
    everything = select(atlas, Options())
    en = charts.amounts_by_province(everything, "en", atlas)
    zh = charts.amounts_by_province(everything, "zh", atlas)
    # Each amount once (the shipped data's partners of an amount lie in one province).
    assert sum(b.value for b in en.bars) == pytest.approx(amounts.total(atlas))
    ningbo = {b.key: b for b in en.bars}["Zhejiang"]
    assert ningbo.value == pytest.approx(13.7e9)
    assert ningbo.text == "13.7 billion yuan"
    assert {b.key: b for b in zh.bars}["Zhejiang"].text == "137亿元"
    assert {b.key: b for b in zh.bars}["Zhejiang"].label == "浙江省"


def test_a_parts_amount_is_not_counted_again_when_its_parent_states_the_total():
    rows = [
        {"agreement_id": "signing", "year": 2020, "value_cny": 10e9, "part_of": None},
        {"agreement_id": "p1", "year": 2020, "value_cny": 4e9, "part_of": "signing"},
        {"agreement_id": "p2", "year": 2020, "value_cny": 1e9, "part_of": "p1"},   # a part of a part
        {"agreement_id": "alone", "year": 2020, "value_cny": 2e9, "part_of": None, "province": "Jiangsu"},
    ]
    chart = charts.amounts_by_province(frame(rows), "en", records_of(rows))
    assert {b.key: b.value for b in chart.bars} == {"Zhejiang": 10e9, "Jiangsu": 2e9}
    # Without the parent in view (a filter left it out), the part's own amount is what is known.
    chart = charts.amounts_by_province(frame(rows[1:]), "en", records_of(rows))
    assert {b.key: b.value for b in chart.bars} == {"Zhejiang": 4e9, "Jiangsu": 2e9}


def test_an_amount_counts_once_per_province_not_once_per_partner():
    rows = [
        {"agreement_id": "plan", "year": 2020, "value_cny": 3e9, "province": "Jiangsu"},
        {"agreement_id": "plan", "year": 2020, "value_cny": 3e9, "province": "Jiangsu"},
        {"agreement_id": "plan", "year": 2020, "value_cny": 3e9, "province": "Zhejiang"},
    ]
    chart = charts.amounts_by_province(frame(rows), "en", records_of(rows))
    assert {b.key: b.value for b in chart.bars} == {"Jiangsu": 3e9, "Zhejiang": 3e9}


# -- the drawing and its text -------------------------------------------------------------------

def parse(svg) -> ET.Element:
    return ET.fromstring(str(svg))


def test_ranked_svg_is_an_image_whose_text_gives_every_value(atlas):
    chart = charts.by_sector(select(atlas, Options()), "zh")
    root = parse(chart_svg.ranked(chart, more="还有7项"))
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    for bar in chart.bars:
        assert f"{bar.label}：{bar.text}" in desc.text
    drawn = root.findall(f"{SVG}g")
    assert len(drawn) == min(len(chart.bars), chart_svg.MAX_BARS)
    for g, bar in zip(drawn, chart.bars):
        texts = [t.text for t in g.findall(f"{SVG}text")]
        assert texts == [bar.label, bar.text]  # the number is printed beside its label
    if len(chart.bars) > chart_svg.MAX_BARS:
        assert root.findall(f"{SVG}text")[-1].text == "还有7项"
    widths = [float(g.findall(f"{SVG}rect")[1].get("width").rstrip("%")) for g in drawn]
    assert widths[0] == 100 and widths == sorted(widths, reverse=True)


def test_years_svg_stacks_one_rect_per_family_with_agreements(atlas):
    chart = charts.per_year(select(atlas, Options()), "en")
    root = parse(chart_svg.years(chart, "gm-tl"))
    assert root.get("role") == "img"
    groups = {g.get("data-year"): g for g in root.findall(f"{SVG}g")}
    assert list(groups) == [b.key for b in chart.bars]
    for bar in chart.bars:
        rects = groups[bar.key].findall(f"{SVG}rect")
        assert [r.get("data-family") for r in rects] == [s.key for s in bar.segments if s.value]
        heights = sum(float(r.get("height")) for r in rects)
        top = max(b.value for b in chart.bars)
        assert heights == pytest.approx(chart_svg.PLOT_HEIGHT * 0.96 * bar.value / top, abs=0.01)
    desc = root.find(f"{SVG}desc").text
    for bar in chart.bars:
        assert f"{bar.key}: {bar.value}" in desc


def test_chart_text_is_escaped():
    hostile = '<script>alert(1)</script>"&'
    rows = [{"agreement_id": "x", "year": 2020, "value_cny": 5e8, "province": hostile}]
    chart = charts.amounts_by_province(frame(rows), "en", records_of(rows))
    svg = str(chart_svg.ranked(chart))
    assert "<script>" not in svg
    root = parse(svg)  # still well-formed XML
    assert hostile in root.find(f"{SVG}desc").text
    assert [t.text for t in root.iter(f"{SVG}text")][0] == hostile


# -- on the pages --------------------------------------------------------------------------------

def hidden_table(html: str, chart_id: str) -> dict[str, str]:
    block = re.search(rf'id="{chart_id}".*?</table>', html, re.S).group(0)
    return dict(re.findall(r'<th scope="row">(.*?)</th><td>(.*?)</td>', block))


def test_index_timeline_table_agrees_with_the_api(client, atlas):
    html = client.get("/?lang=en").get_data(as_text=True)
    table = hidden_table(html, "gm-timeline")
    assert table, "the timeline's hidden table"
    for year, count in table.items():
        assert int(count) == api_count(client, f"year_from={year}&year_to={year}")
    first, last = charts.year_range(select(atlas, Options()))
    assert list(table) == [str(y) for y in range(first, last + 1)]
    # Each year bar is a link that selects that year, with or without JavaScript.
    links = re.findall(r'<a class="gm-tl-hit[^"]*" href="([^"]+)" data-year="(\d+)"', html)
    assert [y for _, y in links] == list(table)
    for href, year in links:
        assert href == f"/?lang=en&amp;year_from={year}&amp;year_to={year}"


def test_index_timeline_keeps_the_other_filters_and_shows_the_state(client):
    html = client.get("/?lang=en&type=project&year_to=2020").get_data(as_text=True)
    table = hidden_table(html, "gm-timeline")
    for year, count in table.items():  # the track counts what the other filters keep
        assert int(count) == api_count(client, f"type=project&year_from={year}&year_to={year}")
    assert 'id="gm-tl-to" min="2019" max="2023" step="1" value="2020"' in html
    shown = api_count(client, "type=project&year_to=2020")
    assert re.search(rf'id="gm-tl-now" data-gm-region>2019–2020: {shown} agreements<', html)


def test_index_panel_charts_link_to_their_filters(client, atlas):
    html = client.get("/?lang=en&year_from=2020").get_data(as_text=True)
    sectors = hidden_table(html, "gm-chart-sector")
    for label, count in sectors.items():
        key = next(k for k, v in charts.SECTOR_LABELS.items() if v == label)
        assert int(count) == api_count(client, f"year_from=2020&sector={key}")
    hits = re.findall(r'href="([^"]+)" data-filter="sector" data-value="([^"]+)"', html)
    assert hits
    for href, key in hits:
        assert href == f"/?lang=en&amp;year_from=2020&amp;sector={key}"
    # The filter applied is marked, and its link clears it.
    html = client.get("/?lang=en&type=project").get_data(as_text=True)
    active = re.search(r'<a class="gm-chart-hit gm-active" href="([^"]+)" data-filter="type" data-value="project" aria-current="true">', html)
    assert active and active.group(1) == "/?lang=en"


def test_index_amounts_in_the_pages_language(client):
    en = client.get("/?lang=en").get_data(as_text=True)
    zh = client.get("/?lang=zh").get_data(as_text=True)
    assert hidden_table(en, "gm-chart-province") == {"Zhejiang": "13.7 billion yuan"}
    assert hidden_table(zh, "gm-chart-province") == {"浙江省": "137亿元"}


def test_partner_page_charts_count_its_own_agreements(client):
    html = client.get("/partners/shaoxing?lang=en").get_data(as_text=True)
    types = hidden_table(html, "gm-chart-type")
    assert sum(int(v) for v in types.values()) == api_count(client, "partner=shaoxing")
    hits = re.findall(r'href="([^"]+)" data-filter="type"', html)
    assert "/partners/shaoxing?lang=en&amp;type=project" in hits
    filtered = client.get("/partners/shaoxing?lang=en&type=project").get_data(as_text=True)
    assert '<a href="/partners/shaoxing?lang=en">Show all agreements</a>' in filtered


def test_an_embed_has_no_timeline_unless_asked(client):
    assert 'id="gm-timeline"' not in client.get("/embed?lang=en").get_data(as_text=True)
    html = client.get("/embed?lang=en&timeline=1").get_data(as_text=True)
    assert 'id="gm-timeline"' in html
    assert "timeline" not in re.search(r'class="gm-embed-full" href="([^"]*)"', html).group(1)
    assert client.get("/embed?timeline=maybe").status_code == 400


def test_the_timelines_json_is_not_taken_for_the_maps(client):
    """The page's filtering reads the map's JSON from the script elements of #gm-map whose ids
    end in -data and -settings; the timeline under the map must not look like one of them."""
    html = client.get("/?lang=en").get_data(as_text=True)
    ids = re.findall(r'<script type="application/json" id="([^"]+)"', html)
    assert "gm-timeline-config" in ids
    assert [i for i in ids if i.endswith(("data", "settings"))] == ["gm-map-data", "gm-map-settings"]


def test_site_page_charts_count_the_sites_agreements(client, atlas):
    html = client.get("/sites/qingpu?lang=zh").get_data(as_text=True)
    types = hidden_table(html, "gm-chart-type")
    rows = select(atlas, Options(), site="qingpu").agreements.drop_duplicates("agreement_id")
    assert sum(int(v) for v in types.values()) == len(rows)
    assert set(hidden_table(html, "gm-chart-sector")) and 'id="gm-chart-province"' in html
    hits = re.findall(r'href="([^"]+)" data-filter="type" data-value="([^"]+)"', html)
    assert hits and all(h == f"/sites/qingpu?lang=zh&amp;type={k}" for h, k in hits)
