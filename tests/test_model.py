"""The data model that real articles need: several Shanghai-side sites, periods, status, parts
(and their amounts), towns, and each Shanghai-side site's page.

The cases the shipped data lacks (a two-site agreement, a period, an announced agreement, an
amount on a part) are made in a copy of the data; expectations come from the records, never
from calling the code under test twice.
"""
from __future__ import annotations

import json
import re

import pytest
import shapely

from geomap import atlas as atlas_mod, i18n, layers, payload
from geomap.amounts import stated_amounts, total
from geomap.options import Options, OptionsError, parse
from geomap.select import select
from geomap.web import create_app
from test_load import edit_agreement, edit_place

WORK_PLAN = "qingpu-wujiang-jiashan-2019-work-plan"


@pytest.fixture()
def model_dir(data_copy):
    """The shipped data plus: a work plan signed by Qingpu and Shanghai (two sites) covering
    2018-2020 (a period), and the Shangyu forum as announced."""
    edit_agreement(data_copy, WORK_PLAN, "shanghai_site: qingpu", "shanghai_site: [qingpu, shanghai]")
    edit_agreement(data_copy, WORK_PLAN, "date: 2019-07-23\n  date_precision: day\n",
                   "date: 2018-01-01\n  date_precision: year\n  date_end: 2020-12-31\n")
    edit_agreement(data_copy, "shangyu-week-2023-forum", "  type: forum\n", "  status: announced\n  type: forum\n")
    return data_copy


@pytest.fixture()
def model_atlas(model_dir):
    return atlas_mod.build(model_dir)


# -- several Shanghai-side sites -----------------------------------------------------------------

def test_a_bare_site_id_and_a_list_of_them_both_load(model_atlas):
    by_id = {a.id: a for a in model_atlas.records.agreements}
    assert by_id[WORK_PLAN].shanghai_site == ("qingpu", "shanghai")
    assert by_id["fenhu-branch-center-framework"].shanghai_site == ("qingpu",)
    rows = model_atlas.agreements[model_atlas.agreements["agreement_id"] == WORK_PLAN]
    assert list(rows["shanghai_sites"]) == [("qingpu", "shanghai")] * 2  # one row per partner


def test_two_sites_give_a_link_from_each_site_to_each_partner(model_atlas):
    links = model_atlas.links[model_atlas.links["agreement_id"] == WORK_PLAN]
    assert sorted(links.index) == sorted(f"{WORK_PLAN}@{p}@{s}" for p in ("wujiang", "jiashan")
                                         for s in ("qingpu", "shanghai"))
    places = model_atlas.places
    for fid, row in links.iterrows():
        start, end = shapely.get_coordinates(row.geometry).tolist()
        assert start == [places.at[row["shanghai_site"], "lon"], places.at[row["shanghai_site"], "lat"]]
        assert end == [places.at[row["place_id"], "lon"], places.at[row["place_id"], "lat"]]


def test_flat_formats_join_the_sites_and_links_carry_their_own(model_atlas):
    sel = select(model_atlas, Options())
    agreements = layers.table(model_atlas, sel, "agreements")
    row = agreements[agreements["agreement_id"] == WORK_PLAN].iloc[0]
    assert row["shanghai_site"] == "qingpu; shanghai"
    assert row["shanghai_site_name_en"] == "Qingpu District; Shanghai"
    assert row["shanghai_site_name_zh"] == "青浦区; 上海市"
    links = layers.table(model_atlas, sel, "links")
    own = links[links["agreement_id"] == WORK_PLAN]
    assert sorted(own["shanghai_site"]) == ["qingpu", "qingpu", "shanghai", "shanghai"]
    csv_text = layers.render(model_atlas, sel, "agreements", "csv").decode("utf-8-sig")
    assert "qingpu; shanghai" in csv_text


def test_links_filter_with_their_agreements(model_atlas):
    sel = select(model_atlas, Options(province=("Jiangsu",)))
    assert set(sel.links["agreement_id"]) == set(sel.agreements["agreement_id"])
    assert set(sel.links.index) == {f"{aid}@{pid}@{s}" for aid, pid, sites in zip(
        sel.agreements["agreement_id"], sel.agreements["place_id"], sel.agreements["shanghai_sites"])
        for s in sites}


def test_payload_gives_each_agreement_its_list_of_sites(model_atlas):
    data = payload.build(model_atlas, select(model_atlas, Options()), Options(), lang="en", gcj02=False)
    a = next(a for a in data["agreements"] if a["id"] == WORK_PLAN)
    assert sorted(data["sites"][i]["id"] for i in a["s"]) == ["qingpu", "shanghai"]
    assert all(isinstance(a["s"], list) for a in data["agreements"])
    assert {s["id"]: s["url"] for s in data["sites"]}["qingpu"] == "/sites/qingpu"
    compact = payload.compact(payload.build(model_atlas, select(model_atlas, Options()), Options(),
                                            lang="en", gcj02=False, details=False))
    row = next(r for r in compact["agreements"] if len(r[1]) == 2)
    assert [compact["sites"][i]["id"] for i in row[1]] == [data["sites"][i]["id"] for i in a["s"]]
    assert row[2:4] == [2018, 2020] and compact["statuses"][row[4]] == "signed"


def test_a_site_listed_twice_is_named(model_dir):
    from test_load import find, problems_of
    line = edit_agreement(model_dir, WORK_PLAN, "shanghai_site: [qingpu, shanghai]",
                          "shanghai_site: [qingpu, qingpu]")
    problem = find(problems_of(model_dir), "agreements.yaml", WORK_PLAN, "shanghai_site")
    assert problem.line == line
    assert problem.message == "'qingpu' is listed twice; list each place once"


# -- periods -------------------------------------------------------------------------------------

@pytest.mark.parametrize("query, kept", [
    ({"year_from": "2019", "year_to": "2019"}, True),   # inside the period
    ({"year_from": "2020"}, True),                      # overlaps its last year
    ({"year_to": "2018"}, True),                        # overlaps its first year
    ({"year_from": "2021"}, False),
    ({"year_to": "2017"}, False),
])
def test_a_period_matches_every_year_it_overlaps(model_atlas, query, kept):
    options = parse(query)
    for sel in (select(model_atlas, options), select(model_atlas, options, partner_filters=False)):
        assert (WORK_PLAN in set(sel.agreements["agreement_id"])) is kept
        assert (WORK_PLAN in set(sel.links["agreement_id"])) is kept


def test_a_period_is_shown_as_a_range_in_both_languages(model_atlas):
    row = model_atlas.agreements[model_atlas.agreements["agreement_id"] == WORK_PLAN].iloc[0]
    assert (row["date_end"], row["date_end_precision"], row["year"], row["year_end"]) == ("2020-12-31", "year", 2018, 2020)
    en = payload.agreement_details(next(model_atlas.agreements.loc[[row["id"]]].itertuples()), "en")
    zh = payload.agreement_details(next(model_atlas.agreements.loc[[row["id"]]].itertuples()), "zh")
    assert en["date"] == "2018–2020"
    assert zh["date"] == "2018年—2020年"
    assert i18n.format_period("2018-03-01", "month", "2020-06-30", "month", "en") == "March 2018 – June 2020"
    assert i18n.format_period("2019-01-01", "year", "2019-12-31", "year", "zh") == "2019年"


def test_a_period_is_exported_with_its_end(model_atlas):
    doc = json.loads(layers.render(model_atlas, select(model_atlas, Options()), "agreements", "geojson"))
    props = next(f["properties"] for f in doc["features"] if f["properties"]["agreement_id"] == WORK_PLAN)
    assert (props["date"], props["date_precision"], props["date_end"], props["date_end_precision"]) == \
        ("2018-01-01", "year", "2020-12-31", "year")


def test_the_map_page_year_fields_reach_the_period_end(model_dir):
    client = create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(model_dir)}).test_client()
    html = client.get("/?lang=en").get_data(as_text=True)
    assert 'placeholder="2023"' in html  # the latest year any agreement covers
    # year_to=2018 keeps the period (2018-2020) although its date's year is 2018 and end 2020.
    html = client.get("/?lang=en&year_from=2020&year_to=2020").get_data(as_text=True)
    assert "2018–2020" in html


@pytest.mark.parametrize("interval, kept", [
    ("2019-06-01T00:00:00Z/2019-06-30T23:59:59Z", True),   # inside the period, far from its date
    ("2020-12-31T00:00:00Z", True),                          # the instant of its last day
    ("../2017-12-30T12:00:00Z", False),                      # before it begins (dates are China's days)
    ("2021-01-01T00:00:00Z/..", False),                      # after it ends
])
def test_ogc_datetime_matches_a_period_it_overlaps(model_dir, interval, kept):
    client = create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(model_dir)}).test_client()
    body = client.get(f"/ogc/collections/agreements/items?f=json&limit=10000&datetime={interval}").get_json()
    assert (WORK_PLAN in {f["properties"]["agreement_id"] for f in body["features"]}) is kept
    links = client.get(f"/ogc/collections/links/items?f=json&limit=10000&datetime={interval}").get_json()
    assert any(f["properties"]["agreement_id"] == WORK_PLAN for f in links["features"]) is kept


# -- status ----------------------------------------------------------------------------------------

def test_status_defaults_to_signed_and_filters(model_atlas):
    statuses = dict(zip(model_atlas.agreements["agreement_id"], model_atlas.agreements["status"]))
    assert statuses["shangyu-week-2023-forum"] == "announced"
    assert statuses["ningbo-five-intention-projects"] == "intention"
    assert statuses["shaoxing-12-projects-2020"] == "signed"
    for wanted in (("announced",), ("intention",), ("signed", "announced")):
        sel = select(model_atlas, parse({"status": ",".join(wanted)}))
        assert set(sel.agreements["agreement_id"]) == {a for a, s in statuses.items() if s in wanted}


def test_status_option_is_checked():
    with pytest.raises(OptionsError) as info:
        parse({"status": "rumoured"})
    assert str(info.value) == "status='rumoured' is not known; use one of signed, announced, intention"
    assert parse({"status": "intention"}).status == ("intention",)
    assert Options(status=("intention",)).query() == [("status", "intention")]


def test_status_is_shown_and_exported(model_atlas, model_dir):
    client = create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(model_dir)}).test_client()
    html = client.get("/partners/shangyu?lang=zh").get_data(as_text=True)
    assert '<span class="gm-status gm-status-announced">已宣布，尚未签约</span>' in html
    csv_text = client.get("/export/agreements.csv?status=announced").get_data(as_text=True)
    header, *rows = csv_text.lstrip("\ufeff").strip().splitlines()
    assert "status" in header.split(",") and rows and all(",announced," in r for r in rows)


# -- parts and amounts -----------------------------------------------------------------------------

def test_parts_and_their_parent_know_each_other(atlas):
    rows = atlas.agreements.drop_duplicates("agreement_id").set_index("agreement_id")
    parents = {a.id: a.part_of for a in atlas.records.agreements if a.part_of}
    assert parents  # the shipped data records the Ningbo and Shaoxing projects as parts
    for parent in set(parents.values()):
        assert rows.at[parent, "parts"] == tuple(a for a, p in parents.items() if p == parent)
    assert rows.at["ningbo-seven-projects-signing", "parts"] and len(rows.at["ningbo-seven-projects-signing", "parts"]) == 7
    assert len(rows.at["shaoxing-12-projects-2020", "parts"]) == 5


def test_totals_never_count_a_part_twice(model_dir):
    # Give one of the seven Ningbo projects an amount of its own: the signing's 13.7 billion
    # is the total of all seven, so only the total counts while both are in the sum.
    edit_agreement(model_dir, "yinzhou-brain-hospital", "value_cny: null", "value_cny: 2000000000")
    # And an amount on a part whose parent states none: that one counts.
    edit_agreement(model_dir, "shaoxing-cell-therapy-park", "value_cny: null", "value_cny: 500000000")
    atlas = atlas_mod.build(model_dir)
    amounts = stated_amounts(atlas)
    assert amounts["ningbo-seven-projects-signing"] == 13_700_000_000
    assert "yinzhou-brain-hospital" not in amounts
    assert amounts["shaoxing-cell-therapy-park"] == 500_000_000
    assert total(atlas) == 13_700_000_000 + 500_000_000
    # Without the parent in the sum (filtered out), the part's own amount is all there is.
    assert total(atlas, ["yinzhou-brain-hospital", "xiangshan-old-city-reconstruction"]) == 2_000_000_000
    sel = select(atlas, Options(partner="yinzhou"))
    assert total(atlas, sel.agreements["agreement_id"]) == 2_000_000_000


def test_a_part_names_its_parent_and_the_parent_lists_its_parts(client):
    html = client.get("/partners/ningbo?lang=en").get_data(as_text=True)
    article = html[html.index('<article class="gm-agreement" id="ningbo-seven-projects-signing" '):]
    article = article[:article.index("</article>")]
    assert article.count('<li><a href="/partners/') == 7
    assert '<a href="/partners/yinzhou?lang=en#yinzhou-brain-hospital">Brain Hospital project in Yinzhou District</a>' in article
    html = client.get("/partners/yinzhou?lang=zh").get_data(as_text=True)
    assert '<dt>所属签约</dt><dd><a href="/partners/ningbo?lang=zh#ningbo-seven-projects-signing">' in html


# -- towns -----------------------------------------------------------------------------------------

def test_town_is_a_place_kind(data_copy):
    edit_place(data_copy, "fenhu-hitech-zone", kind="town")
    atlas = atlas_mod.build(data_copy)
    assert atlas.places.at["fenhu-hitech-zone", "kind"] == "town"
    data = payload.build(atlas, select(atlas, Options()), Options(), lang="zh", gcj02=False)
    assert next(p for p in data["partners"] if p["id"] == "fenhu-hitech-zone")["kind"] == "乡镇或街道"


# -- /sites/<id> -----------------------------------------------------------------------------------

def test_every_shanghai_side_site_has_a_page(client, atlas):
    sites = set(atlas.links["shanghai_site"])
    assert set(atlas.sites.index) == sites
    for sid in sites:
        for lang in ("en", "zh"):
            resp = client.get(f"/sites/{sid}?lang={lang}")
            assert resp.status_code == 200, (sid, lang)
            html = resp.get_data(as_text=True)
            mine = {a.id for a in atlas.records.agreements if sid in a.shanghai_site}
            assert {aid for aid in mine if f'<article class="gm-agreement" id="{aid}" ' in html} == mine


def test_the_qingpu_page_lists_its_agreements_and_partners(client):
    html = client.get("/sites/qingpu?lang=en").get_data(as_text=True)
    assert "<h1>Qingpu District</h1>" in html
    for aid in ("qingpu-wujiang-jiashan-2019-work-plan", "fenhu-branch-center-framework"):
        assert f'id="{aid}"' in html
    for pid in ("wujiang", "jiashan", "fenhu-hitech-zone"):
        assert f'href="/partners/{pid}?lang=en"' in html
    assert "shaoxing-12-projects-2020" not in html  # another site's agreement
    zh = client.get("/sites/qingpu?lang=zh").get_data(as_text=True)
    assert "<h1>青浦区</h1>" in zh and "上海方所在地" in zh


@pytest.mark.parametrize("lang, message, link", [
    ("en", "No agreement matches these filters.", "Show all its agreements"),
    ("zh", "没有符合筛选条件的协议。", None)])
def test_a_site_page_with_nothing_left_says_so_with_a_way_back(client, lang, message, link):
    html = client.get(f"/sites/qingpu?lang={lang}&year_from=2023").get_data(as_text=True)
    assert message in html
    back = re.search(r'<p class="gm-empty">[^<]*<a href="([^"]+)">([^<]+)</a>', html)
    assert back and back.group(1) == f"/sites/qingpu?lang={lang}"
    assert link is None or back.group(2) == link
    assert 'class="gm-agreement' not in html


def test_an_unknown_site_is_a_404_in_both_languages(client):
    for lang, text in (("en", "No Shanghai-side site has the id &#39;nowhere&#39;."),
                       ("zh", "没有 id 为 &#39;nowhere&#39; 的上海方所在地。")):
        resp = client.get(f"/sites/nowhere?lang={lang}")
        assert resp.status_code == 404
        assert text in resp.get_data(as_text=True)
    # A partner is not a Shanghai-side site.
    assert client.get("/sites/shaoxing").status_code == 404


def test_partner_pages_link_their_sites(client):
    html = client.get("/partners/fenhu-hitech-zone?lang=en").get_data(as_text=True)
    assert '<a href="/sites/qingpu?lang=en">Qingpu District</a>' in html
