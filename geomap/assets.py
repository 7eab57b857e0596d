"""Where every script and stylesheet comes from: XStatic packages and geomap/static/.

Pages make no request to any host but their own (tiles excepted): the app serves these files
under /assets/, and `geomap build` inlines them into a standalone page.
"""
from __future__ import annotations

import gzip
import hashlib
from functools import lru_cache
from pathlib import Path

import xstatic.pkg.leaflet as _leaflet
import xstatic.pkg.leaflet_gesturehandling as _gesture
import xstatic.pkg.leaflet_markercluster as _cluster

STATIC = Path(__file__).resolve().parent / "static"

# logical name -> file. Names are URL paths under /assets/.
FILES: dict[str, Path] = {
    "leaflet/leaflet.js": Path(_leaflet.BASE_DIR) / "leaflet.js",
    "leaflet/leaflet.css": Path(_leaflet.BASE_DIR) / "leaflet.css",
    "markercluster/leaflet.markercluster.js": Path(_cluster.BASE_DIR) / "leaflet.markercluster.js",
    "markercluster/MarkerCluster.css": Path(_cluster.BASE_DIR) / "MarkerCluster.css",
    "markercluster/MarkerCluster.Default.css": Path(_cluster.BASE_DIR) / "MarkerCluster.Default.css",
    "gesture/leaflet-gesture-handling.min.js": Path(_gesture.BASE_DIR) / "leaflet-gesture-handling.min.js",
    "gesture/leaflet-gesture-handling.min.css": Path(_gesture.BASE_DIR) / "leaflet-gesture-handling.min.css",
}
for _p in sorted(STATIC.rglob("*")):
    # src/ holds the ES modules geomap.js is built from (make js); pages load the build.
    if _p.is_file() and "src" not in _p.relative_to(STATIC).parts[:1]:
        FILES[f"geomap/{_p.relative_to(STATIC).as_posix()}"] = _p
# Leaflet's stylesheet refers to its images relatively (images/layers.png, ...).
for _p in sorted((Path(_leaflet.BASE_DIR) / "images").glob("*.png")):
    FILES[f"leaflet/images/{_p.name}"] = _p

MAP_JS = ["leaflet/leaflet.js", "markercluster/leaflet.markercluster.js", "geomap/geomap.js"]
# MarkerCluster.Default.css is left out: geomap.css draws the groups (symbols.js).
MAP_CSS = ["leaflet/leaflet.css", "markercluster/MarkerCluster.css", "geomap/geomap.css"]
EMBED_JS = MAP_JS[:-1] + ["gesture/leaflet-gesture-handling.min.js", "geomap/geomap.js"]
EMBED_CSS = MAP_CSS + ["gesture/leaflet-gesture-handling.min.css"]


def path(name: str) -> Path:
    return FILES[name]


@lru_cache(maxsize=None)
def digest(name: str) -> str:
    return hashlib.sha256(FILES[name].read_bytes()).hexdigest()[:12]


def url(name: str, prefix: str = "/assets") -> str:
    """A content-addressed URL: the query changes with the file, so it can be cached for a year."""
    return f"{prefix}/{name}?v={digest(name)}"


# Scripts, styles and SVG compress to a quarter or less; PNGs are compressed already.
COMPRESSIBLE = ("js", "css", "svg")


def compressible(name: str) -> bool:
    return name.rsplit(".", 1)[-1] in COMPRESSIBLE


@lru_cache(maxsize=None)
def gzipped(name: str) -> bytes:
    """The file gzip-compressed, once per process (the best level: it is paid once), and
    deterministic (no timestamp), so every worker serves the same bytes under the same ETag."""
    return gzip.compress(FILES[name].read_bytes(), 9, mtime=0)


def media_type(name: str) -> str:
    suffix = name.rsplit(".", 1)[-1]
    return {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
            "png": "image/png", "svg": "image/svg+xml"}.get(suffix, "application/octet-stream")
