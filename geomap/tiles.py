"""Base maps, from xyzservices, with their attributions.

Gaode (AMap) draws in GCJ-02: when it is chosen, maps.py shifts every marker and line into
GCJ-02 for display; the data, API and exports stay WGS-84.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import xyzservices.providers as xyz

from . import ConfigError

DEFAULT_TILES = "osm"


@dataclass(frozen=True)
class Tiles:
    key: str
    url: str
    attribution: str  # HTML, from xyzservices; our own constant, not data
    subdomains: str
    max_zoom: int
    gcj02: bool

    @property
    def hosts(self) -> tuple[str, ...]:
        """The hosts a page may request tiles from (for tests and the CSP)."""
        from urllib.parse import urlsplit

        subs = self.subdomains or ""
        if "{s}" in self.url and subs:
            return tuple(urlsplit(self.url.replace("{s}", s)).hostname for s in subs)
        return (urlsplit(self.url).hostname,)


def get(key: str) -> Tiles:
    if key == "osm":
        p = xyz.OpenStreetMap.Mapnik
        return Tiles(key, p["url"], p["html_attribution"], "", p["max_zoom"], False)
    if key == "carto-light":
        p = xyz.CartoDB.Positron
        url = "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png"
        api_key = os.environ.get("GEOMAP_CARTO_API_KEY")
        if api_key:
            url += "?key=" + api_key
        return Tiles(key, url, p["html_attribution"], p["subdomains"], p["max_zoom"], False)
    if key == "gaode":
        p = xyz.Gaode.Normal
        # xyzservices has one plain-http host; the same service answers on https and on
        # webrd01-04, which a page served over https needs (no mixed content).
        url = p["url"].replace("http://webrd01.", "https://webrd0{s}.")
        attribution = p["html_attribution"].replace("http://", "https://")
        return Tiles(key, url, attribution, "1234", p["max_zoom"], True)
    raise KeyError(key)


KEYS = ("osm", "carto-light", "gaode")


def default_key(configured: str | None = None) -> str:
    """The operator's default base map: `configured` (the app's GEOMAP_DEFAULT_TILES setting),
    else the GEOMAP_DEFAULT_TILES environment variable, else OSM. A deployment for visitors in
    China sets it to gaode. An unknown name is an error, not a silent OSM: the operator meant
    something else."""
    value = configured or os.environ.get("GEOMAP_DEFAULT_TILES") or DEFAULT_TILES
    key = str(value).strip().lower()
    if key not in KEYS:
        raise ConfigError(f"GEOMAP_DEFAULT_TILES={value!r} is not a base map; use one of {', '.join(KEYS)}")
    return key
