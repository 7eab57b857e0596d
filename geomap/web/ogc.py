"""OGC API – Features, Part 1 Core (OGC 17-069r4) over the three layers, at /ogc.

    GET /ogc                                            landing page
    GET /ogc/conformance                                the conformance classes
    GET /ogc/collections                                partners, agreements, links
    GET /ogc/collections/<id>                           one collection: title, extent, links
    GET /ogc/collections/<id>/items                     features: limit, offset, bbox, datetime, filters
    GET /ogc/collections/<id>/items/<featureId>         one feature (the GeoJSON API's ids)

A new door to the same rooms: the items are select() (with the datetime as its `period`), then
select.intersecting() for the bbox, then a page of layers.render(), the very functions of the
GeoJSON API and the exports, so a feature is the same here as there. Every route answers in
JSON (GeoJSON for features) or HTML, chosen by `f=json|html`, else by Accept; an unknown or
malformed parameter is a 400 and an unknown collection or feature a 404, as OGC exceptions
({"code", "description"}) for JSON. Responses go through caching.cached() like the other API
routes; links are relative (or under GEOMAP_PUBLIC_URL when it is set), never from the Host.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import re
from urllib.parse import urlencode

from flask import Blueprint, current_app, g, render_template, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest, NotFound

from .. import i18n, layers
from ..i18n import N_, Message
from ..options import ascii_int, parse
from ..select import Selection, intersecting, select
from . import current_atlas
from .api import FILTERS, export_options
from .caching import cached
from .origins import absolute, base_url

bp = Blueprint("ogc", __name__)

PREFIX = "/ogc"
COLLECTIONS = layers.LAYERS
TITLES = {
    "partners": N_("Partner places"),
    "agreements": N_("Agreements by partner place"),
    "links": N_("Links"),
}
DESCRIPTIONS = {
    "partners": N_("One point per partner place, with the number of its agreements, their dates, types and sectors."),
    "agreements": N_("One point per agreement and partner place, at the partner place, with the agreement's title, date, type, sectors, amount, parties and source."),
    "links": N_("One line per agreement and partner place, from the Shanghai-side site to the partner place, with the agreement's properties."),
}
CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
)
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
# Agreement dates are days in Shanghai: a datetime is matched by the day it falls on there.
CHINA = dt.timezone(dt.timedelta(hours=8))

FORMATS = ("json", "html")
JSON, GEOJSON, HTML = "application/json", "application/geo+json", "text/html"
OPENAPI_TYPE = "application/vnd.oai.openapi+json;version=3.0"
LIMIT_DEFAULT, LIMIT_MAX = 100, 10_000
MAX_AGE = 300

# The query parameters of each kind of route; anything else is a 400 (OGC /req/core/query-param-unknown).
COMMON_PARAMS = ("f", "lang")
ITEMS_PARAMS = COMMON_PARAMS + ("limit", "offset", "bbox", "datetime") + FILTERS

EXCEPTION_CODES = {400: "InvalidParameterValue", 404: "NotFound", 405: "MethodNotAllowed",
                   406: "NotAcceptable", 500: "ServerError"}

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", re.ASCII)  # \d: 0-9 only
# A day; with a bare "T" after it, as GDAL's OAPIF driver writes a date field's bounds.
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt]?", re.ASCII)
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII)


# -- parameters ----------------------------------------------------------------------------------

def _bad(msgid: str, **params) -> BadRequest:
    return BadRequest(Message(msgid, **params))


def _check_names(allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(request.args) - set(allowed))
    if unknown:
        raise _bad(N_("unknown parameter %(name)s; the parameters here are %(allowed)s"),
                   name=repr(unknown[0]), allowed=", ".join(allowed))


def _one(name: str) -> str | None:
    values = request.args.getlist(name)
    if len(values) > 1:
        raise _bad(N_("%(name)s given %(count)s times; give it once"), name=name, count=len(values))
    return values[0] if values else None


def _lang() -> tuple[str, bool]:
    """The response's language, and whether the URL named it (else Accept-Language chose)."""
    value = _one("lang")
    if value is None or value == "":
        return i18n.negotiate(request.accept_languages), False
    if value.lower() not in i18n.LANGS:
        raise _bad(N_("lang=%(value)s is not a language; use en or zh"), value=repr(value))
    return value.lower(), True


def _format() -> tuple[str, bool]:
    """json or html, and whether f= chose it (else the Accept header did)."""
    value = _one("f")
    if value:
        if value.lower() not in FORMATS:
            raise _bad(N_("f=%(value)s is not a format here; use json or html"), value=repr(value))
        return value.lower(), True
    return _negotiated_format(), False


def _negotiated_format() -> str:
    best = request.accept_mimetypes.best_match([JSON, GEOJSON, HTML], default=JSON)
    return "html" if best == HTML else "json"


def parse_limit(text: str | None) -> int:
    if text is None or text == "":
        return LIMIT_DEFAULT
    limit = ascii_int(text)
    if limit is None or limit < 1:
        raise _bad(N_("limit=%(value)s is not a number of features; use a whole number from 1 to %(max)s"),
                   value=repr(text), max=f"{LIMIT_MAX:,}")
    # OGC Core: a limit above the maximum is not an error; the maximum applies.
    return min(limit, LIMIT_MAX)


def parse_offset(text: str | None) -> int:
    if text is None or text == "":
        return 0
    offset = ascii_int(text)
    if offset is None:
        raise _bad(N_("offset=%(value)s is not a position; use a whole number, 0 or more"), value=repr(text))
    return offset


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """west,south,east,north in CRS84 (or six numbers with heights, which are ignored)."""
    if text is None or text == "":
        return None
    parts = text.split(",")
    if len(parts) not in (4, 6) or not all(_NUMBER.fullmatch(p.strip()) for p in parts):
        raise _bad(N_("bbox=%(value)s is not a bounding box; give 4 numbers, west,south,east,north in degrees (CRS84), e.g. 119.5,29.5,122,31.5"),
                   value=repr(text))
    numbers = [float(p) for p in parts]
    if not all(math.isfinite(n) for n in numbers):
        raise _bad(N_("bbox=%(value)s is not a bounding box; give 4 numbers, west,south,east,north in degrees (CRS84), e.g. 119.5,29.5,122,31.5"),
                   value=repr(text))
    west, south, east, north = numbers if len(numbers) == 4 else numbers[0:2] + numbers[3:5]
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
        raise _bad(N_("bbox=%(value)s is outside the globe or upside down; longitudes go from -180 to 180, latitudes from -90 to 90, south before north"),
                   value=repr(text))
    return west, south, east, north


def parse_datetime(text: str | None) -> tuple[str | None, str | None] | None:
    """An RFC 3339 instant or interval ("a/b", "../b", "a/..") as a pair of ISO days in
    Shanghai, first and last included; None for an open end."""
    if text is None or text == "":
        return None
    parts = text.split("/")
    if len(parts) == 1:
        day = _day(parts[0], text)
        return day, day
    if len(parts) != 2 or parts == ["..", ".."] or parts == ["", ""]:
        raise _datetime_error(text)
    start, end = (None if p in ("..", "") else _day(p, text) for p in parts)
    if start is not None and end is not None and start > end:
        raise _bad(N_("datetime=%(value)s ends before it starts; put the earlier time first"), value=repr(text))
    return start, end


def _day(value: str, whole: str) -> str:
    try:
        date = _DATE.fullmatch(value)
        if date:
            return dt.date.fromisoformat(date.group(1)).isoformat()
        if _DATETIME.fullmatch(value):
            moment = dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
            return moment.astimezone(CHINA).date().isoformat()
    except (ValueError, OverflowError):
        pass
    raise _datetime_error(whole)


def _datetime_error(text: str) -> BadRequest:
    return _bad(N_("datetime=%(value)s is not an RFC 3339 date, date-time or interval; e.g. 2020-05-17, 2020-05-17T10:00:00Z, 2019-01-01/2020-12-31 or 2020-01-01/.."),
                value=repr(text))


# -- links ---------------------------------------------------------------------------------------

def href(path: str, params: list[tuple[str, str]] | None = None) -> str:
    """An absolute link (GEOMAP_PUBLIC_URL, else the checked host: origins.absolute), as
    clients such as QGIS expect; bodies are cached per origins.base_url()."""
    query = urlencode(params) if params else ""
    return absolute(path) + ("?" + query if query else "")


def _link(rel: str, path: str, type_: str, title: str, lang: str, params=None) -> dict:
    return {"href": href(path, list(params or [])), "rel": rel, "type": type_, "title": i18n.gettext(lang, title)}


def _self_and_alternate(path: str, fmt: str, lang: str, params: list[tuple[str, str]], json_type: str = JSON):
    here = [(k, v) for k, v in params if k != "f"]
    as_json = _link("self" if fmt == "json" else "alternate", path, json_type,
                    N_("This document as JSON"), lang, here + [("f", "json")])
    as_html = _link("self" if fmt == "html" else "alternate", path, HTML,
                    N_("This document as HTML"), lang, here + [("f", "html")])
    return [as_json, as_html] if fmt == "json" else [as_html, as_json]


def _lang_params(lang: str, in_url: bool) -> list[tuple[str, str]]:
    return [("lang", lang)] if in_url else []


# -- responses -----------------------------------------------------------------------------------

def _respond(key: tuple, fmt: str, f_in_url: bool, lang_in_url: bool, build_json, build_html,
             json_type: str = JSON):
    """JSON or HTML through the render cache, with Vary for whatever the URL left to headers."""
    vary = ", ".join(v for v, named in (("Accept", f_in_url), ("Accept-Language", lang_in_url)) if not named)
    key = (*key, lang_in_url, base_url(), fmt)
    if fmt == "html":
        return cached(key, build_html, mimetype=HTML, max_age=MAX_AGE, vary=vary or None)
    return cached(key, lambda: json.dumps(build_json(), ensure_ascii=False, indent=1).encode("utf-8"),
                  mimetype=json_type, max_age=MAX_AGE, vary=vary or None)


def _page(template: str, lang: str, keep: list[tuple[str, str]], **context) -> str:
    g.lang = lang
    return render_template(template, lang=lang, switch=_switch_urls(), keep=keep,
                           url=lambda path, *params: href(path, keep + list(params)),
                           plain_url=href, **context)


def _switch_urls() -> dict[str, str]:
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return {code: request.path + "?" + urlencode(args + [("lang", code)]) for code in i18n.LANGS}


def _collection_or_404(collection_id: str) -> str:
    if collection_id not in COLLECTIONS:
        raise NotFound(Message(N_("there is no collection %(id)s; the collections are %(allowed)s"),
                               id=repr(collection_id), allowed=", ".join(COLLECTIONS)))
    return collection_id


@bp.get(PREFIX)
def landing():
    _check_names(COMMON_PARAMS)
    fmt, f_in_url = _format()
    lang, lang_in_url = _lang()
    keep = _lang_params(lang, lang_in_url)

    def links():
        return _self_and_alternate(PREFIX, fmt, lang, keep) + [
            _link("service-desc", "/openapi.json", OPENAPI_TYPE, N_("The API definition (OpenAPI 3.0)"), lang),
            _link("service-doc", "/openapi.html", HTML, N_("The API documentation"), lang, keep),
            _link("conformance", f"{PREFIX}/conformance", JSON, N_("The conformance classes this API implements"), lang, keep),
            _link("data", f"{PREFIX}/collections", JSON, N_("The collections of features"), lang, keep),
        ]

    def body():
        return {"title": i18n.gettext(lang, "Shanghai partnership map"),
                "description": i18n.gettext(lang, N_("Shanghai's cooperation agreements with the cities, districts and zones of the Yangtze River Delta, as OGC API – Features.")),
                "links": links()}

    def page():
        return _page("ogc_landing.html", lang, keep, doc=body())

    return _respond(("ogc-landing", lang), fmt, f_in_url, lang_in_url, body, page)


@bp.get(f"{PREFIX}/conformance")
def conformance():
    _check_names(COMMON_PARAMS)
    fmt, f_in_url = _format()
    lang, lang_in_url = _lang()
    keep = _lang_params(lang, lang_in_url)

    def body():
        return {"conformsTo": list(CONFORMANCE),
                "links": _self_and_alternate(f"{PREFIX}/conformance", fmt, lang, keep)}

    def page():
        return _page("ogc_conformance.html", lang, keep, doc=body())

    return _respond(("ogc-conformance", lang), fmt, f_in_url, lang_in_url, body, page)


def collection_doc(layer: str, lang: str, keep: list[tuple[str, str]], fmt: str | None = None) -> dict:
    atlas = current_atlas()
    frame = getattr(atlas, layer)
    path = f"{PREFIX}/collections/{layer}"
    if len(frame):
        west, south, east, north = frame.total_bounds.tolist()
        bbox = [math.floor(west * 1e6) / 1e6, math.floor(south * 1e6) / 1e6,
                math.ceil(east * 1e6) / 1e6, math.ceil(north * 1e6) / 1e6]
    else:
        bbox = [-180.0, -90.0, 180.0, 90.0]
    first, last = _date_span(atlas)
    links = _self_and_alternate(path, fmt, lang, keep) if fmt else [
        _link("self", path, JSON, N_("This collection as JSON"), lang, keep + [("f", "json")]),
        _link("alternate", path, HTML, N_("This collection as HTML"), lang, keep + [("f", "html")])]
    links += [
        _link("items", f"{path}/items", GEOJSON, N_("The features as GeoJSON"), lang, keep + [("f", "json")]),
        _link("items", f"{path}/items", HTML, N_("The features as HTML"), lang, keep + [("f", "html")]),
        _link("enclosure", f"/export/{layer}.parquet", layers.MEDIA_TYPES["parquet"],
              N_("The whole layer as GeoParquet"), lang),
        _link("enclosure", f"/export/{layer}.gpkg", layers.MEDIA_TYPES["gpkg"],
              N_("The whole layer as GeoPackage"), lang),
    ]
    return {
        "id": layer,
        "title": i18n.gettext(lang, TITLES[layer]),
        "description": i18n.gettext(lang, DESCRIPTIONS[layer]),
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {
            "spatial": {"bbox": [bbox], "crs": CRS84},
            "temporal": {"interval": [[first, last]], "trs": GREGORIAN},
        },
        "links": links,
    }


def _date_span(atlas) -> tuple[str | None, str | None]:
    """The first and last moments of the agreements' days in Shanghai, as RFC 3339."""
    a = atlas.agreements
    if not len(a):
        return None, None
    first = min(a["date"])
    last = max(a["date_end"].fillna(a["date"])) if "date_end" in a else max(a["date"])
    return f"{first}T00:00:00+08:00", f"{last}T23:59:59+08:00"


@bp.get(f"{PREFIX}/collections")
def collections():
    _check_names(COMMON_PARAMS)
    fmt, f_in_url = _format()
    lang, lang_in_url = _lang()
    keep = _lang_params(lang, lang_in_url)

    def body():
        return {"collections": [collection_doc(layer, lang, keep) for layer in COLLECTIONS],
                "links": _self_and_alternate(f"{PREFIX}/collections", fmt, lang, keep)}

    def page():
        return _page("ogc_collections.html", lang, keep, doc=body())

    return _respond(("ogc-collections", lang), fmt, f_in_url, lang_in_url, body, page)


@bp.get(f"{PREFIX}/collections/<collection_id>")
def collection(collection_id: str):
    layer = _collection_or_404(collection_id)
    _check_names(COMMON_PARAMS)
    fmt, f_in_url = _format()
    lang, lang_in_url = _lang()
    keep = _lang_params(lang, lang_in_url)

    def body():
        return collection_doc(layer, lang, keep, fmt)

    def page():
        return _page("ogc_collection.html", lang, keep, doc=body())

    return _respond(("ogc-collection", layer, lang), fmt, f_in_url, lang_in_url, body, page)


@dataclasses.dataclass(frozen=True)
class ItemsQuery:
    options: object
    limit: int
    offset: int
    bbox: tuple | None
    period: tuple | None


def items_query() -> ItemsQuery:
    _check_names(ITEMS_PARAMS)
    atlas = current_atlas()
    filters = MultiDict([(k, v) for k, v in request.args.items(multi=True) if k in FILTERS])
    options = export_options(parse(filters, places=atlas.partners.index,
                                   provinces=atlas.places["province"].dropna().unique()))
    return ItemsQuery(options, parse_limit(_one("limit")), parse_offset(_one("offset")),
                      parse_bbox(_one("bbox")), parse_datetime(_one("datetime")))


def matching(layer: str, query: ItemsQuery):
    """The layer's features that the query keeps, in the layers' order: select() is the filter."""
    atlas = current_atlas()
    selection = select(atlas, query.options, period=query.period)
    frame = getattr(selection, layer)
    if query.bbox is not None:
        frame = intersecting(frame, query.bbox)
    return selection, frame


@bp.get(f"{PREFIX}/collections/<collection_id>/items")
def items(collection_id: str):
    layer = _collection_or_404(collection_id)
    query = items_query()
    fmt, f_in_url = _format()
    lang, lang_in_url = _lang()
    atlas = current_atlas()
    path = f"{PREFIX}/collections/{layer}/items"
    # The request's own parameters, in its order, for self, alternate, next and prev.
    params = [(k, v) for k, v in request.args.items(multi=True) if k not in ("f", "offset") and v != ""]

    def page_of():
        selection, frame = matching(layer, query)
        chosen = frame.iloc[min(query.offset, len(frame)):min(query.offset, len(frame)) + query.limit]
        return selection, len(frame), chosen

    def links(matched: int, returned: int):
        at = lambda offset: params + ([("offset", str(offset))] if offset else [])  # noqa: E731
        out = _self_and_alternate(path, fmt, lang, at(query.offset), GEOJSON)
        if query.offset + returned < matched:
            out.append(_link("next", path, GEOJSON, N_("The next page"), lang,
                             at(query.offset + returned) + [("f", "json")]))
        if query.offset > 0:
            out.append(_link("prev", path, GEOJSON, N_("The previous page"), lang,
                             at(max(0, query.offset - query.limit)) + [("f", "json")]))
        out.append(_link("collection", f"{PREFIX}/collections/{layer}", JSON, N_("The collection"), lang,
                         _lang_params(lang, lang_in_url)))
        return out

    def build_json() -> bytes:
        selection, matched, chosen = page_of()
        members = {"numberMatched": matched, "numberReturned": len(chosen),
                   "timeStamp": _now(), "links": links(matched, len(chosen))}
        return layers.render(atlas, dataclasses.replace(selection, **{layer: chosen}), layer, "geojson",
                             members=members)

    def build_html() -> str:
        selection, matched, chosen = page_of()
        doc = json.loads(layers.render(atlas, dataclasses.replace(selection, **{layer: chosen}), layer,
                                       "geojson"))
        pages = {link["rel"]: link["href"].replace("f=json", "f=html")
                 for link in links(matched, len(chosen)) if link["rel"] in ("next", "prev")}
        rows = [(f, *_label(layer, f["properties"], lang)) for f in doc["features"]]
        return _page("ogc_items.html", lang, _lang_params(lang, lang_in_url), layer=layer,
                     title=i18n.gettext(lang, TITLES[layer]), rows=rows, matched=matched,
                     offset=query.offset, pages=pages,
                     json_url=href(path, params + ([("offset", str(query.offset))] if query.offset else [])
                                   + [("f", "json")]))

    key = ("ogc-items", layer, lang, query.limit, query.offset, query.bbox, query.period,
           query.options.cache_key(), tuple(params), base_url(), fmt)
    vary = ", ".join(v for v, named in (("Accept", f_in_url), ("Accept-Language", lang_in_url)) if not named)
    if fmt == "html":
        return cached(key, build_html, mimetype=HTML, max_age=MAX_AGE, vary=vary or None)
    return cached(key, build_json, mimetype=GEOJSON, max_age=MAX_AGE, vary=vary or None)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _label(layer: str, properties: dict, lang: str) -> tuple[str, bool]:
    """A feature's name (partners) or title (agreements, links) in `lang`, and whether it fell
    back to English."""
    field = "name" if layer == "partners" else "title"
    return i18n.pick(lang, properties.get(f"{field}_en"), properties.get(f"{field}_zh"))


@bp.get(f"{PREFIX}/collections/<collection_id>/items/<feature_id>")
def item(collection_id: str, feature_id: str):
    layer = _collection_or_404(collection_id)
    atlas = current_atlas()
    frame = getattr(atlas, layer)
    found = frame["id"].to_numpy() == feature_id
    if not found.any():
        raise NotFound(Message(N_("there is no feature %(id)s in %(collection)s"),
                               id=repr(feature_id), collection=layer))
    _check_names(COMMON_PARAMS)
    fmt, f_in_url = _format()
    lang, lang_in_url = _lang()
    keep = _lang_params(lang, lang_in_url)
    path = f"{PREFIX}/collections/{layer}/items/{feature_id}"

    def feature() -> dict:
        selection = Selection(atlas.agreements, atlas.links, atlas.partners)
        one = dataclasses.replace(selection, **{layer: frame[found]})
        return json.loads(layers.render(atlas, one, layer, "geojson"))["features"][0]

    def body() -> dict:
        out = feature()
        out["links"] = _self_and_alternate(path, fmt, lang, keep, GEOJSON) + [
            _link("collection", f"{PREFIX}/collections/{layer}", JSON, N_("The collection"), lang, keep)]
        return out

    def page() -> str:
        doc = body()
        place = doc["properties"].get("place_id") or (doc["id"] if layer == "partners" else None)
        label, fallback = _label(layer, doc["properties"], lang)
        return _page("ogc_item.html", lang, keep, layer=layer, title=i18n.gettext(lang, TITLES[layer]),
                     doc=doc, label=label, fallback=fallback,
                     partner_url=href(f"/partners/{place}", keep) if place in atlas.partners.index else None,
                     json_url=href(path, keep + [("f", "json")]))

    return _respond(("ogc-item", layer, feature_id, lang), fmt, f_in_url, lang_in_url, body, page, GEOJSON)


# -- errors --------------------------------------------------------------------------------------

def exception_response(status: int, title: str, message):
    """An OGC exception ({"code", "description"}) for a JSON request under /ogc; None lets
    errors.py answer with its HTML page (f=html, or a browser's Accept)."""
    wanted = (request.args.get("f") or "").lower()
    if wanted == "html" or (wanted not in FORMATS and _negotiated_format() == "html"):
        return None
    body = {"code": EXCEPTION_CODES.get(status, title.replace(" ", "")), "description": str(message)}
    resp = current_app.response_class(json.dumps(body, ensure_ascii=False), status=status, mimetype=JSON)
    return resp


def register(app) -> None:
    app.register_blueprint(bp)
    app.extensions.setdefault("geomap.error_responders", {})[PREFIX] = exception_response
