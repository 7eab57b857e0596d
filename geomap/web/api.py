"""The open-data routes: the three layers as GeoJSON under /api/, and as downloads under /export/.

    GET /api/<layer>.geojson            partners, agreements, links (spec section 6)
    GET /export/<layer>.<format>        geojson, csv, gpkg, kml, parquet, fgb, as an attachment

Both take the filters of spec section 6; `partner` filters here (on maps it only focuses).
The body is geomap.layers.render(), the very function `geomap export` calls, so the CLI and
the route give the same bytes. Responses go through caching.cached(): strong ETags from
(data version, layer, format, filters), 304 on If-None-Match, Cache-Control. Everything under
/api/ and /export/ may be fetched by other sites' scripts (Access-Control-Allow-Origin: *).
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from urllib.parse import quote

from flask import Blueprint, request
from werkzeug.exceptions import NotFound

from ..layers import FORMATS, LAYERS, MEDIA_TYPES, render
from ..options import Options
from ..select import select
from . import current_atlas, request_options
from .caching import cached

bp = Blueprint("api", __name__)

# The options that change an export's rows, in the order the filename lists them (by name).
FILTERS = ("partner", "province", "q", "sector", "status", "type", "year_from", "year_to")
CORS_PREFIXES = ("/api/", "/export/", "/ogc", "/openapi.json")
MAX_AGE = 300


@bp.get("/api/<layer>.<fmt>")
def api_layer(layer: str, fmt: str):
    _check_layer(layer)
    if fmt != "geojson":
        raise NotFound(
            f"the API serves GeoJSON only: /api/{layer}.geojson; for {fmt!r} see "
            f"/export/{layer}.<format> with a format among {', '.join(FORMATS)}"
        )
    return _layer_response(layer, "geojson", download=False)


@bp.get("/export/<layer>.<fmt>")
def export(layer: str, fmt: str):
    _check_layer(layer)
    if fmt not in FORMATS:
        raise NotFound(f"unknown format {fmt!r}; the formats are {', '.join(FORMATS)}")
    return _layer_response(layer, fmt, download=True)


def _check_layer(layer: str) -> None:
    if layer not in LAYERS:
        raise NotFound(f"unknown layer {layer!r}; the layers are {', '.join(LAYERS)}")


def export_options(options: Options) -> Options:
    """Only the filters: map-only options (lang, tiles, height, ...) are accepted but do not
    change the data, so they must not change the ETag or split the cache either."""
    return Options(**{name: getattr(options, name) for name in FILTERS})


def _layer_response(layer: str, fmt: str, *, download: bool):
    options = export_options(request_options())
    atlas = current_atlas()

    def build() -> bytes:
        return render(atlas, select(atlas, options), layer, fmt)

    headers = {}
    if download:
        headers["Content-Disposition"] = content_disposition(download_name(layer, fmt, options))
    # One key for /api/ and /export/ alike: the same body has the same ETag and one cache entry.
    key = ("layer", layer, fmt, options.cache_key())
    # Werkzeug appends "; charset=utf-8" to text/* and +xml types itself: pass the bare type.
    mimetype = MEDIA_TYPES[fmt].split(";")[0].strip()
    return cached(key, build, mimetype=mimetype, max_age=MAX_AGE, headers=headers)


# -- the download's file name ------------------------------------------------------------------

MAX_VALUE_CHARS = 40
MAX_STEM_BYTES = 180


def download_name(layer: str, fmt: str, options: Options, today: dt.date | None = None) -> str:
    """geomap-<layer>-<UTC date of the download>[-<filter>-<value>...].<format>

    Filters in the order of their names; a filter's several values joined with "+"; every
    value reduced to letters, digits and hyphens (Chinese kept; the header's ASCII fallback
    drops it), so nothing in the name can be a path, a quote or a header break.
    """
    today = today or dt.datetime.now(dt.timezone.utc).date()
    parts = ["geomap", layer, today.isoformat()]
    for name in FILTERS:
        value = getattr(options, name)
        if value in (None, "", ()):
            continue
        values = value if isinstance(value, tuple) else (value,)
        text = "+".join(_slug(str(v)) for v in values)
        parts.extend([name, text[:MAX_VALUE_CHARS].strip("-+")])
    stem = "-".join(p for p in parts if p)
    while len(stem.encode("utf-8")) > MAX_STEM_BYTES:
        stem = stem[:-1]
    return f"{stem.rstrip('-+')}.{fmt}"


def _slug(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[^\w]+|_+", "-", text).strip("-")


def content_disposition(filename: str) -> str:
    """attachment; filename="<ASCII>"[; filename*=UTF-8''<percent-encoded>] (RFC 6266, 5987)."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    ascii_name = re.sub(r"[^A-Za-z0-9._+-]+", "", ascii_name)
    ascii_name = re.sub(r"-{2,}", "-", ascii_name).replace("-.", ".")
    value = f'attachment; filename="{ascii_name}"'
    if ascii_name != filename:
        value += "; filename*=UTF-8''" + quote(filename, safe="")
    return value


# -- access from other sites -------------------------------------------------------------------

@bp.after_app_request
def allow_any_origin(response):
    """Public open data: any site's scripts may read /api/, /export/, the OGC API and its
    definition, errors and 304s too."""
    if request.path.startswith(CORS_PREFIXES):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = "ETag, Content-Disposition"
        if request.method == "OPTIONS":  # a preflight, e.g. for a script sending If-None-Match
            response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "If-None-Match, If-Modified-Since"
            response.headers["Access-Control-Max-Age"] = "86400"
    return response
