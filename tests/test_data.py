"""The shipped data: every seed article cited, sources byte-identical to the seeds, places in
their provinces, and the agreements the product spec names (spec section 3).

The data files are read here with csv and yaml directly, not through geomap.load, so that a
loader bug cannot hide a data error.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
import yaml

from conftest import GEODATA, SEEDS
from geomap.geocode.offline import province_bbox
from geomap.load import load

SOURCES = GEODATA / "sources"
SEED_DIR = SEEDS if SEEDS.is_dir() else SOURCES


def _places() -> list[dict]:
    text = (GEODATA / "places.csv").read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _agreements() -> list[dict]:
    data = yaml.safe_load((GEODATA / "agreements.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, list) and data
    return data


PLACES = _places()
AGREEMENTS = _agreements()
PLACE_BY_ID = {p["id"]: p for p in PLACES}


def documents(a: dict) -> set[str]:
    return {s.get("document") for s in a.get("sources") or [] if s.get("document")}


def as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def with_partner(pid: str, **where) -> list[dict]:
    out = []
    for a in AGREEMENTS:
        if pid in a["partners"] and all(a.get(k) == v for k, v in where.items()):
            out.append(a)
    return out


def test_shipped_data_validates():
    records = load(GEODATA)
    assert len(records.agreements) == len(AGREEMENTS)
    assert len(records.places) == len(PLACES)


# -- sources -------------------------------------------------------------------------------------

SEED_FILES = sorted(p.name for p in SEED_DIR.iterdir() if p.is_file())


def test_there_are_seed_articles():
    assert len(SEED_FILES) >= 5


@pytest.mark.parametrize("name", SEED_FILES)
def test_every_seed_is_cited(name):
    citing = [a["id"] for a in AGREEMENTS if name in documents(a)]
    assert citing, f"no agreement cites {name}"


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed articles are not beside the repository")
def test_sources_are_the_seeds_byte_for_byte():
    shipped = sorted(p.name for p in SOURCES.iterdir() if p.is_file())
    assert shipped == sorted(p.name for p in SEEDS.iterdir() if p.is_file())
    for name in shipped:
        assert (SOURCES / name).read_bytes() == (SEEDS / name).read_bytes(), name


def test_every_cited_document_exists():
    for a in AGREEMENTS:
        for doc in documents(a):
            assert (SOURCES / doc).is_file(), (a["id"], doc)


# -- places --------------------------------------------------------------------------------------

@pytest.mark.parametrize("place", PLACES, ids=lambda p: p["id"])
def test_place_in_its_province(place):
    assert place["province"], "every shipped place names its province"
    bbox = province_bbox(place["province"])
    assert bbox is not None, place["province"]
    w, s, e, n = bbox
    lon, lat = float(place["lon"]), float(place["lat"])
    assert w <= lon <= e and s <= lat <= n, (place["id"], lon, lat, bbox)


def test_province_bboxes_are_sane():
    # Guards the check above against a box so big that it would pass anything.
    w, s, e, n = province_bbox("Shanghai")
    assert e - w < 2.5 and n - s < 2.5
    assert w <= 121.47 <= e and s <= 31.23 <= n
    zw, zs, ze, zn = province_bbox("Zhejiang")
    assert not (zw <= 116.4 <= ze and zs <= 39.9 <= zn)  # Beijing is not in Zhejiang


@pytest.mark.parametrize("place", PLACES, ids=lambda p: p["id"])
def test_coordinates_have_at_most_6_decimals(place):
    for axis in ("lon", "lat"):
        text = place[axis]
        assert text, (place["id"], axis)
        decimals = text.split(".")[1] if "." in text else ""
        assert decimals.isdigit() or decimals == "", text
        assert len(decimals) <= 6, (place["id"], axis, text)


def test_every_partner_and_site_is_a_place():
    for a in AGREEMENTS:
        assert a["shanghai_site"] in PLACE_BY_ID, a["id"]
        for pid in a["partners"]:
            assert pid in PLACE_BY_ID, (a["id"], pid)


# -- the agreements the spec requires ------------------------------------------------------------

def test_shaoxing_sub_center():
    hits = [a for a in with_partner("shaoxing", type="sub-center")
            if "000_a31382e979a8807d.txt" in documents(a)]
    assert len(hits) == 1
    a = hits[0]
    assert as_date(a["date"]) == dt.date(2019, 1, 19)
    note = (a.get("date_note") or "").lower()
    assert "infer" in note and "2019" in note
    assert "Shaoxing" in a["title_en"] and "Sub-center" in a["title_en"]


def test_qingpu_wujiang_jiashan_work_plan():
    hits = [a for a in AGREEMENTS if a["type"] == "work-plan"
            and {"wujiang", "jiashan"} <= set(a["partners"])]
    assert len(hits) == 1
    a = hits[0]
    assert as_date(a["date"]) == dt.date(2019, 7, 23)
    assert a["shanghai_site"] == "qingpu"
    assert "001_79133b3d494bcdbd.txt" in documents(a)


def test_fenhu_branch_center():
    hits = with_partner("fenhu-hitech-zone")
    assert len(hits) == 1
    a = hits[0]
    assert "Fenhu" in a["title_en"] and "Branch Center" in a["title_en"]
    assert as_date(a["date"]) == dt.date(2019, 7, 23)
    assert "001_79133b3d494bcdbd.txt" in documents(a)
    assert PLACE_BY_ID["fenhu-hitech-zone"]["province"] == "Jiangsu"


def test_shangyu_forum_names_its_two_zones():
    hits = [a for a in AGREEMENTS if a["type"] == "forum" and "002_317456791a856a0d.txt" in documents(a)]
    assert len(hits) == 1
    partners = set(hits[0]["partners"])
    assert {"shangyu", "hangzhou-bay-shangyu-etda", "zhangjiang-shangyu-caoejiang-eda"} <= partners
    zones = [pid for pid in partners if PLACE_BY_ID[pid]["kind"] == "zone"]
    assert len(zones) == 2
    assert all(PLACE_BY_ID[pid]["prefecture"] == "Shaoxing" for pid in zones)


def test_shaoxing_12_projects_and_the_5_named():
    doc = "003_194a35754776e172.txt"
    hits = [a for a in AGREEMENTS if doc in documents(a)]
    assert all(a["partners"] == ["shaoxing"] for a in hits)
    assert all(as_date(a["date"]) == dt.date(2020, 12, 19) for a in hits)
    assert all(a["type"] == "project" for a in hits)
    signing = [a for a in hits if "12" in a["title_en"]]
    assert len(signing) == 1
    named = [a for a in hits if a is not signing[0]]
    assert len(named) == 5
    titles = " | ".join(a["title_en"].lower() for a in named)
    for word in ("automobile parts", "stock exchange", "guotai junan", "cell therapy", "membrane"):
        assert word in titles, word
    sse = [a for a in named if a["shanghai_site"] == "shanghai-stock-exchange"]
    assert len(sse) == 1 and "stock exchange" in sse[0]["title_en"].lower()


def test_ningbo_framework_with_date_note():
    hits = with_partner("ningbo", type="framework-agreement")
    assert len(hits) == 1
    a = hits[0]
    assert "Zhejiang Chamber of Commerce" in a["title_en"]
    assert as_date(a["date"]) == dt.date(2020, 5, 17)
    assert "infer" in (a.get("date_note") or "").lower()
    assert "004_0725e87f1746e140.txt" in documents(a)


@pytest.mark.parametrize("pid", ["xiangshan", "cicheng-new-city", "yinzhou", "beilun", "haishu",
                                 "cixi", "ningbo-hitech-zone"])
def test_seven_ningbo_projects(pid):
    hits = with_partner(pid, type="project")
    hits = [a for a in hits if "004_0725e87f1746e140.txt" in documents(a)]
    assert len(hits) == 1, pid
    assert as_date(hits[0]["date"]) == dt.date(2020, 5, 17)
    assert PLACE_BY_ID[pid]["prefecture"] == "Ningbo"


def test_13_7_billion_stated_once():
    valued = [a for a in AGREEMENTS if a.get("value_cny") is not None]
    assert [a["value_cny"] for a in valued] == [13700000000]
    assert "004_0725e87f1746e140.txt" in documents(valued[0])
    # The seven projects share it; none carries it (or a share of it) again.
    sevens = {pid: with_partner(pid) for pid in
              ["xiangshan", "cicheng-new-city", "yinzhou", "beilun", "haishu", "cixi", "ningbo-hitech-zone"]}
    for pid, items in sevens.items():
        assert all(a.get("value_cny") is None for a in items), pid


def test_shanshan_qianwan_framework():
    hits = with_partner("qianwan-new-district", type="framework-agreement")
    assert len(hits) == 1
    a = hits[0]
    assert any("Shanshan" in p["name"] for p in a["parties"])
    assert "new-energy" in a["sectors"]
    assert "004_0725e87f1746e140.txt" in documents(a)


def test_every_shipped_place_lies_in_the_unit_of_its_adcode():
    """The polygon test (geotool-cn's boundaries, installed by the test extra), not a box."""
    from geomap.geocode.counties import available, check_counties

    assert available(), "pip install '.[test]': the test extra installs geotool-cn"
    records = load(GEODATA)
    located = {p["id"]: (float(p["lon"]), float(p["lat"])) for p in PLACES}
    check = check_counties(records, located)
    assert check.problems == []
    assert set(check.checked) == {p["id"] for p in PLACES if p["adcode"]}
    assert len(check.checked) >= len(PLACES) - 1


# -- the interface: spec section 3's field names are exactly what the loader accepts ------------

SPEC = SEEDS.parent / "spec" / "PRODUCT.md"


def _section_3() -> str:
    text = SPEC.read_text(encoding="utf-8")
    return text[text.index("## 3. Data"):text.index("## 4.")]


def _table_rows(section: str, after: str) -> list[tuple[str, str]]:
    block = section[section.index(after):]
    rows = []
    for line in block.splitlines()[1:]:
        if line.startswith("| ---") or line.startswith("| column") or line.startswith("| key"):
            continue
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows.append((cells[0], cells[1]))
    return rows


@pytest.mark.skipif(not SPEC.is_file(), reason="the product spec is not beside the repository")
def test_spec_section_3_names_are_the_loaders():
    from geomap.records import (AGREEMENT_KEYS, DATE_PRECISIONS, PARTY_KEYS, PLACE_COLUMNS, PLACE_KINDS,
                                SOURCE_KEYS, STATUSES)

    section = _section_3()
    columns = [c.strip() for name, _ in _table_rows(section, "`geodata/places.csv`") for c in name.split(",")]
    assert tuple(columns) == PLACE_COLUMNS
    kinds = dict(_table_rows(section, "`geodata/places.csv`"))["kind"]
    assert tuple(re.findall(r"`([a-z-]+)`", kinds)) == PLACE_KINDS

    rows = _table_rows(section, "`geodata/agreements.yaml`")
    keys = [k.strip() for name, _ in rows for k in name.split(",")]
    meaning = dict(rows)
    # date_note (and date_note_zh) are named in date_precision's row.
    keys += re.findall(r"`(date_note(?:_zh)?)`", meaning["date_precision"])
    assert sorted(keys) == sorted(AGREEMENT_KEYS)
    assert tuple(re.findall(r"`([a-z]+)`", meaning["date_precision"].split(";")[0])) == DATE_PRECISIONS
    assert tuple(re.findall(r"`([a-z]+)`", meaning["status"])) == STATUSES
    assert tuple(k.strip() for k in re.search(r"`\{(.*?)\}`", meaning["parties"]).group(1).split(",")) == PARTY_KEYS
    assert tuple(k.strip() for k in re.search(r"`\{(.*?)\}`", meaning["sources"]).group(1).split(",")) == SOURCE_KEYS
