"""Does each located place lie inside the administrative unit its adcode names?

Checked against an offline boundary dataset keyed by adcode, in WGS-84: the one the
`geotool-cn` package ships (every province, prefecture and county-level unit of China, from
DataV.GeoAtlas). Its licence matters: the package's code is MIT, but the boundaries come from
AMap through DataV "for learning and exchange only", with no right to redistribute them. So
geomap only asks the package which unit a point falls in, to check its own data; it never
copies, ships or serves the boundaries, and does not depend on the package at run time. The
test extra installs it, so CI checks the shipped data; `geomap validate` runs the check
whenever it is installed and says when it is not.

An adcode ending in 0000 names a province-level unit (Shanghai's 310000), one ending in 00 a
prefecture-level city (Shaoxing's 330600), any other a county-level unit; a zone, site or
town carries the code of the county-level unit that contains it.
"""
from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass, field
from functools import lru_cache

from ..load import PLACES_FILE, Problem, Records

PACKAGE = "geotool-cn"


@dataclass
class CountyCheck:
    """What the check did: how many places it tested, which it could not, and the problems."""
    source: str | None                  # "geotool-cn 3.1.0", or None when it is not installed
    checked: list[str] = field(default_factory=list)
    without_adcode: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        if self.source is None:
            return (f"county check skipped: {PACKAGE} is not installed "
                    f"(pip install '{PACKAGE}>=3.1,<4' to check every place against its county)")
        text = (f"county check: {len(self.checked)} located place(s) tested against {self.source} "
                f"boundaries, {len(self.problems)} outside their unit")
        if self.without_adcode:
            text += f"; {len(self.without_adcode)} without adcode not tested ({', '.join(self.without_adcode)})"
        return text


@lru_cache(maxsize=1)
def _geotool():
    """The package's reverse geocoder, or None when it is not installed."""
    try:
        from GeoToolCN import GeoTool
    except ImportError:
        return None
    return GeoTool()


def available() -> str | None:
    """"geotool-cn <version>" when the package is installed, else None."""
    if _geotool() is None:
        return None
    try:
        return f"{PACKAGE} {importlib.metadata.version(PACKAGE)}"
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - imported but not installed
        return PACKAGE


def unit_of(lon: float, lat: float, adcode: str):
    """The unit of the adcode's level that contains (lon, lat): a geotool-cn Region or None."""
    found = _geotool().reverse(lat, lon)
    if adcode.endswith("0000"):
        return found.province
    if adcode.endswith("00"):
        return found.city
    return found.district


def check_counties(records: Records, located: dict[str, tuple[float, float]]) -> CountyCheck:
    """Check every located place that has an adcode (`located`: place id -> WGS-84 lon, lat)."""
    source = available()
    check = CountyCheck(source)
    if source is None:
        return check
    tool = _geotool()
    file = f"{records.data_dir.name}/{PLACES_FILE}"
    for place in records.places:
        if place.id not in located:
            continue
        if not place.adcode:
            check.without_adcode.append(place.id)
            continue
        lon, lat = located[place.id]
        check.checked.append(place.id)
        own = tool.get_region(place.adcode)
        if tool.lookup_adcode(place.adcode) is None or own is None:
            check.problems.append(Problem(file, place.line, place.id, "adcode", (
                f"{place.adcode} is no administrative unit in {source}'s boundaries; "
                "check the code is current (units are renamed and merged)")))
            continue
        unit = unit_of(lon, lat, place.adcode)
        if unit is not None and unit.code == place.adcode:
            continue
        where = f"{unit.name} ({unit.code})" if unit is not None else "no unit on land"
        check.problems.append(Problem(file, place.line, place.id, "lon", (
            f"({lon}, {lat}) lies in {where}, not in {own.name} ({place.adcode}), the unit of its "
            "adcode; check the coordinates against the source, or the adcode")))
    return check
