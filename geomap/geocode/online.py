"""The optional online geocoder (geopy), rate-limited, with its answers cached on disk.

The cache lives in the data directory (geocode-cache.json) and is committed with the data,
so a result found once online reproduces offline, in CI and on every later start.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from ..records import Place
from . import Location
from .offline import ADMINISTRATIVE

CACHE_FILE = "geocode-cache.json"


def query_for(place: Place) -> str:
    parts = [place.name_en, place.prefecture, place.province, "China"]
    return ", ".join(p for p in parts if p)


class Cache:
    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / CACHE_FILE
        self._entries: dict | None = None

    @property
    def entries(self) -> dict:
        if self._entries is None:
            try:
                self._entries = json.loads(self.path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                self._entries = {}
        return self._entries

    def get(self, query: str):
        return self.entries.get(query)

    def __contains__(self, query: str) -> bool:
        return query in self.entries

    def put(self, query: str, value: dict | None) -> None:
        self.entries[query] = value
        # Write whole-or-nothing: a cache cut off mid-write would break every later start.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".geocode-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self.entries, fh, ensure_ascii=False, indent=1, sort_keys=True)
            fh.write("\n")
        os.replace(tmp, self.path)


def _location(place: Place, hit: dict) -> Location:
    precision = 8 if place.kind in ADMINISTRATIVE else 2
    return Location(hit["lon"], hit["lat"], precision, f"geopy:{hit['service']} {hit.get('ref', '')}".strip())


class CachedOnly:
    """Answers from earlier online runs only; never touches the network."""

    name = "geocode-cache"

    def __init__(self, data_dir: Path):
        self.cache = Cache(data_dir)

    def locate(self, place: Place) -> Location | None:
        hit = self.cache.get(query_for(place))
        return _location(place, hit) if hit else None


class Online:
    """geopy behind a RateLimiter (Nominatim's policy: at most one request a second)."""

    name = "online"

    def __init__(self, data_dir: Path, geocoder=None, min_delay_seconds: float = 1.0):
        from geopy.extra.rate_limiter import RateLimiter

        if geocoder is None:
            from geopy.geocoders import Nominatim

            geocoder = Nominatim(user_agent="geomap (Shanghai partnership map)", timeout=10)
        self.service = type(geocoder).__name__.lower()
        self.cache = Cache(data_dir)
        self._geocode = RateLimiter(geocoder.geocode, min_delay_seconds=min_delay_seconds,
                                    max_retries=1, swallow_exceptions=False)

    def locate(self, place: Place) -> Location | None:
        query = query_for(place)
        if query not in self.cache:
            found = self._geocode(query, exactly_one=True)
            if found is None:
                self.cache.put(query, None)
            else:
                raw = getattr(found, "raw", {}) or {}
                ref = f"{raw.get('osm_type', '')}/{raw.get('osm_id', '')}".strip("/")
                self.cache.put(query, {"lon": round(found.longitude, 6), "lat": round(found.latitude, 6),
                                       "service": self.service, "ref": ref, "address": found.address})
        hit = self.cache.get(query)
        return _location(place, hit) if hit else None
