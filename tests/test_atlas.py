"""The Atlas frames (spec: places, agreements, links, partners) and select()'s filters.

Expectations are computed from the records (or the raw files), never by calling select again.
"""
from __future__ import annotations

from collections import Counter

import pytest
import shapely

from geomap import atlas as atlas_mod
from geomap.options import Options
from geomap.select import select

FRAMES = ("places", "agreements", "links", "partners")


def pairs_of(records, keep=lambda a, pid: True) -> set[tuple[str, str]]:
    return {(a.id, pid) for a in records.agreements for pid in a.partners if keep(a, pid)}


def pairs_in(frame) -> set[tuple[str, str]]:
    return set(zip(frame["agreement_id"], frame["place_id"]))


# -- shapes --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", FRAMES)
def test_crs_is_wgs84(atlas, name):
    frame = getattr(atlas, name)
    assert frame.crs is not None and frame.crs.to_epsg() == 4326
    assert len(frame) > 0


def test_places_are_points_at_their_coordinates(atlas):
    assert set(atlas.places.geometry.geom_type) == {"Point"}
    assert set(atlas.places.index) == {p.id for p in atlas.records.places}
    for p in atlas.records.places:
        point = atlas.places.geometry.loc[p.id]
        assert (point.x, point.y) == (p.lon, p.lat)


def test_agreements_one_row_per_partner(atlas):
    records = atlas.records
    expected = pairs_of(records)
    assert len(atlas.agreements) == sum(len(a.partners) for a in records.agreements) == len(expected)
    assert pairs_in(atlas.agreements) == expected
    assert atlas.agreements.index.is_unique
    places = {p.id: p for p in records.places}
    for _, row in atlas.agreements.iterrows():
        place = places[row["place_id"]]
        assert row.geometry.geom_type == "Point"
        assert (row.geometry.x, row.geometry.y) == (place.lon, place.lat)


def test_agreement_rows_carry_their_record(atlas):
    by_id = {a.id: a for a in atlas.records.agreements}
    for _, row in atlas.agreements.iterrows():
        a = by_id[row["agreement_id"]]
        assert row["date"] == a.date.isoformat() and row["year"] == a.date.year
        assert row["type"] == a.type and tuple(row["sectors"]) == a.sectors
        assert row["shanghai_sites"] == a.shanghai_site
        assert (row["year"], row["year_end"]) == (a.year, a.year_end) and row["status"] == a.status


def test_links_run_from_shanghai_site_to_partner(atlas):
    places = {p.id: p for p in atlas.records.places}
    links = atlas.links
    # One link per (agreement, Shanghai-side site, partner), with a stable id naming all three.
    expected = {f"{a.id}@{pid}@{sid}" for a in atlas.records.agreements
                for pid in a.partners for sid in a.shanghai_site}
    assert set(links.index) == expected and len(links) == len(expected)
    assert (links["id"] == links.index).all()
    assert set(links.geometry.geom_type) == {"LineString"}
    assert pairs_in(links) == pairs_in(atlas.agreements)
    for _, row in links.iterrows():
        assert atlas.agreements.iloc[row["pair"]]["id"] == row["id"].rsplit("@", 1)[0]
        coords = shapely.get_coordinates(row.geometry).tolist()
        site, partner = places[row["shanghai_site"]], places[row["place_id"]]
        assert coords[0] == [site.lon, site.lat]
        assert coords[-1] == [partner.lon, partner.lat]


def test_some_links_start_elsewhere_than_shanghai(atlas):
    # The data has Qingpu- and Stock-Exchange-side agreements: links must not all share a start.
    starts = {tuple(shapely.get_coordinates(g)[0]) for g in atlas.links.geometry}
    assert len(starts) >= 3


def test_partners_agreement_count(atlas):
    counts = Counter(pid for a in atlas.records.agreements for pid in a.partners)
    assert set(atlas.partners.index) == set(counts)
    for pid, n in counts.items():
        assert atlas.partners.loc[pid, "agreement_count"] == n, pid
    assert set(atlas.partners.geometry.geom_type) == {"Point"}
    # Sorted most agreements first.
    assert list(atlas.partners["agreement_count"]) == sorted(counts.values(), reverse=True)


def test_partner_aggregates(atlas):
    for pid, row in atlas.partners.iterrows():
        mine = [a for a in atlas.records.agreements if pid in a.partners]
        assert row["first_date"] == min(a.date for a in mine).isoformat()
        assert row["last_date"] == max(a.date for a in mine).isoformat()
        assert set(row["types"]) == {a.type for a in mine}
        assert set(row["sectors"]) == {s for a in mine for s in a.sectors}
        assert set(row["agreement_ids"]) == {a.id for a in mine}


# -- version ------------------------------------------------------------------------------------

def test_version_stable_and_changes_with_data(data_copy):
    v1 = atlas_mod.build(data_copy).version
    assert atlas_mod.build(data_copy).version == v1
    assert atlas_mod.data_version(data_copy) == v1

    path = data_copy / "agreements.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "Shangyu Week forum in Shanghai", "Shangyu Week forum, Shanghai", 1), encoding="utf-8")
    v2 = atlas_mod.build(data_copy).version
    assert v2 != v1

    path = data_copy / "places.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("120.848,31.008", "120.849,31.008", 1),
                    encoding="utf-8")
    v3 = atlas_mod.build(data_copy).version
    assert v3 not in (v1, v2)

    (data_copy / "geocode-cache.json").write_text("{}\n", encoding="utf-8")
    assert atlas_mod.build(data_copy).version not in (v1, v2, v3)


def test_version_same_for_identical_copies(data_copy, atlas):
    assert atlas_mod.build(data_copy).version == atlas.version


# -- select --------------------------------------------------------------------------------------

def check(atlas, options: Options, expected: set[tuple[str, str]], **kw):
    sel = select(atlas, options, **kw)
    assert pairs_in(sel.agreements) == expected
    assert len(sel.agreements) == len(expected)
    assert pairs_in(sel.links) == expected
    assert set(sel.links.geometry.geom_type) <= {"LineString"}
    counts = Counter(pid for _, pid in expected)
    assert set(sel.partners.index) == set(counts)
    for pid, n in counts.items():
        assert sel.partners.loc[pid, "agreement_count"] == n
    return sel


def test_select_no_filter_keeps_all(atlas):
    check(atlas, Options(), pairs_of(atlas.records))


@pytest.mark.parametrize("year_from, year_to", [(2020, None), (None, 2019), (2020, 2020), (2021, 2023), (2024, None)])
def test_select_years(atlas, year_from, year_to):
    lo, hi = year_from or 0, year_to or 9999
    expected = pairs_of(atlas.records, lambda a, pid: lo <= a.date.year <= hi)
    check(atlas, Options(year_from=year_from, year_to=year_to), expected)


def test_select_years_known_counts(atlas):
    # From the data as read: 2019 holds the sub-center, the work plan (two partners) and Fenhu.
    sel = select(atlas, Options(year_from=2019, year_to=2019))
    assert sorted(set(sel.agreements["year"])) == [2019]
    assert {"shaoxing-tech-transfer-sub-center", "qingpu-wujiang-jiashan-2019-work-plan",
            "fenhu-branch-center-framework"} <= set(sel.agreements["agreement_id"])


@pytest.mark.parametrize("types", [("project",), ("forum",), ("sub-center", "work-plan"), ("strategic-agreement",)])
def test_select_type(atlas, types):
    expected = pairs_of(atlas.records, lambda a, pid: a.type in types)
    check(atlas, Options(type=types), expected)


@pytest.mark.parametrize("sectors", [("finance",), ("ecology",), ("new-energy", "healthcare"), ("technology-transfer",)])
def test_select_sector(atlas, sectors):
    expected = pairs_of(atlas.records, lambda a, pid: bool(set(a.sectors) & set(sectors)))
    assert expected
    check(atlas, Options(sector=sectors), expected)


@pytest.mark.parametrize("provinces", [("Jiangsu",), ("Zhejiang",), ("Jiangsu", "Zhejiang"), ("Shanghai",)])
def test_select_province(atlas, provinces):
    province_of = {p.id: p.province for p in atlas.records.places}
    expected = pairs_of(atlas.records, lambda a, pid: province_of[pid] in provinces)
    check(atlas, Options(province=provinces), expected)


def test_select_jiangsu_is_wujiang_and_fenhu(atlas):
    sel = select(atlas, Options(province=("Jiangsu",)))
    assert set(sel.agreements["place_id"]) == {"wujiang", "fenhu-hitech-zone"}


@pytest.mark.parametrize("partner", ["shaoxing", "ningbo", "jiashan"])
def test_select_partner(atlas, partner):
    expected = pairs_of(atlas.records, lambda a, pid: pid == partner)
    assert expected
    check(atlas, Options(partner=partner), expected)
    # On maps the partner only focuses the view: nothing is filtered.
    check(atlas, Options(partner=partner), pairs_of(atlas.records), partner_filters=False)


@pytest.mark.parametrize("q, agreements", [
    ("tesla", {"shaoxing-auto-parts-park"}),
    ("TESLA", {"shaoxing-auto-parts-park"}),
    ("Guotai Junan", {"shaoxing-12-projects-2020", "shaoxing-city-investment-guotai-junan"}),
    ("汾湖", {"fenhu-branch-center-framework"}),
    ("Shanshan Holdings", {"shanshan-qianwan-new-energy-framework"}),
    ("no such words anywhere", set()),
])
def test_select_q(atlas, q, agreements):
    # The expected agreements were found by reading the data; check that reading here: q occurs
    # (case-insensitively) in the texts of exactly those records, names of their places included.
    places = {p.id: p for p in atlas.records.places}

    def text(a, pid):
        parts = [a.id, pid, a.title_en, a.title_zh or "", a.summary_en, a.summary_zh or "",
                 places[pid].name_en, places[pid].name_zh] + [places[s].name_en for s in a.shanghai_site]
        parts += [p.name for p in a.parties] + [p.name_zh or "" for p in a.parties]
        return "\n".join(parts).casefold()

    found = pairs_of(atlas.records, lambda a, pid: q.casefold() in text(a, pid))
    expected = pairs_of(atlas.records, lambda a, pid: a.id in agreements)
    assert found == expected
    check(atlas, Options(q=q), expected)


def test_select_q_matches_partner_place_name(atlas):
    # "Qianwan New District" as a place name; Chinese place name too.
    sel = select(atlas, Options(q="宁波前湾新区"))
    assert "shanshan-qianwan-new-energy-framework" in set(sel.agreements["agreement_id"])


def test_select_combined_filters(atlas):
    opts = Options(year_from=2020, type=("project",), province=("Zhejiang",), sector=("biomedicine",))
    province_of = {p.id: p.province for p in atlas.records.places}
    expected = pairs_of(atlas.records, lambda a, pid: a.date.year >= 2020 and a.type == "project"
                        and province_of[pid] == "Zhejiang" and "biomedicine" in a.sectors)
    assert expected
    check(atlas, opts, expected)


def test_select_does_not_mutate_the_atlas(atlas):
    before = (len(atlas.agreements), len(atlas.links), len(atlas.partners))
    select(atlas, Options(type=("forum",)))
    assert (len(atlas.agreements), len(atlas.links), len(atlas.partners)) == before
