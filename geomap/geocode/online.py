"""The optional online geocoder (geopy), rate-limited, with its answers cached on disk.

The cache lives in the data directory (geocode-cache.json) and is committed with the data,
so a result found once online reproduces offline, in CI and on every later start.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

from ..records import Place
from . import Location
from .offline import ADMINISTRATIVE

CACHE_FILE = "geocode-cache.json"


class CacheError(ValueError):
    """The cache file is not what `geomap geocode --online` writes; `problem` says how."""

    def __init__(self, problem):
        self.problem = problem
        super().__init__(str(problem))


class Unreachable(OSError):
    """The online geocoder could not be reached (no network, DNS, refused, timed out)."""


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
            self._entries = self._read()
        return self._entries

    def _read(self) -> dict:
        from ..load import Problem, _display, _missing

        name = _display(self.path.parent, CACHE_FILE)
        fix = "fix it, or delete it and run `geomap geocode --online` again"

        def fail(line: int, message: str):
            raise CacheError(Problem(name, line, "", "", f"{message}; {fix}"))

        if not self.path.exists() and not self.path.is_symlink():
            return {}
        try:
            text = self.path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            fail(0, f"not UTF-8 ({exc.reason} at byte {exc.start})")
        except OSError as exc:
            fail(0, f"the file {_missing(self.path, 'file')}" if not self.path.is_file()
                 else f"cannot be read ({exc.strerror})")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            fail(exc.lineno, f"not valid JSON ({exc.msg}, column {exc.colno})")
        except RecursionError:
            fail(0, "not valid JSON (nested too deeply)")
        if not isinstance(data, dict):
            fail(1, "not a JSON object of query -> answer")
        for query, hit in data.items():
            if hit is None:
                continue
            ok = (isinstance(hit, dict) and all(
                isinstance(hit.get(k), (int, float)) and not isinstance(hit.get(k), bool) and math.isfinite(hit[k])
                for k in ("lon", "lat")) and isinstance(hit.get("service"), str))
            if not ok:
                line = text[:text.find(json.dumps(query, ensure_ascii=False))].count("\n") + 1
                fail(line, f"the answer for {query[:60]!r} is not {{lon, lat, service, ...}} or null")
        return data

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
        # No retry: without a network every retry only waits, and the caller reports the place.
        self._geocode = RateLimiter(geocoder.geocode, min_delay_seconds=min_delay_seconds,
                                    max_retries=0, swallow_exceptions=False)
        # Once the service could not be reached, the other places are not tried: each would
        # wait for its own time-out. Each is still reported.
        self.unreachable: str | None = None

    def locate(self, place: Place) -> Location | None:
        """The cached answer, else the service's (cached). Raises Unreachable when the service
        cannot be reached, and geopy's GeocoderServiceError when it refuses the query."""
        from geopy.exc import GeocoderServiceError, GeocoderTimedOut, GeocoderUnavailable

        query = query_for(place)
        if query not in self.cache:
            if self.unreachable:
                raise Unreachable(f"not tried: {self.unreachable}")
            try:
                found = self._geocode(query, exactly_one=True)
            except (GeocoderUnavailable, GeocoderTimedOut, OSError) as exc:
                self.unreachable = _reason(exc)
                raise Unreachable(self.unreachable) from None
            except GeocoderServiceError as exc:
                raise Unreachable(f"the service answered with an error: {_reason(exc)}") from None
            if found is None:
                self.cache.put(query, None)
            else:
                raw = getattr(found, "raw", {}) or {}
                ref = f"{raw.get('osm_type', '')}/{raw.get('osm_id', '')}".strip("/")
                self.cache.put(query, {"lon": round(found.longitude, 6), "lat": round(found.latitude, 6),
                                       "service": self.service, "ref": ref, "address": found.address})
        hit = self.cache.get(query)
        return _location(place, hit) if hit else None


def _reason(exc: BaseException) -> str:
    """The root cause of a failed request, in one short line (no URL, no traceback)."""
    seen = set()
    while exc.__cause__ is not None or exc.__context__ is not None:
        nxt = exc.__cause__ or exc.__context__
        if id(nxt) in seen:
            break
        seen.add(id(nxt))
        exc = nxt
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."
