"""The OpenAPI 3.0 document of every public route, built from the program's own vocabularies.

Parameters come from options (names, languages, base maps, year and height ranges, the search
length), records (types, sectors), layers (layers, formats, media types, the properties of each
layer, read off layers.table()), the Atlas (partner ids, provinces) and the OGC API's constants,
so a new option value, format or column shows here without anyone editing this file. A new
route or option name does need an entry (ROUTES, PARAMETERS): tests/test_openapi.py fails until
every URL rule of the app and every option is described, and schemathesis holds every response
to this document.

Self-contained: every $ref points inside the document (offline tools cannot fetch
schemas.opengis.net). Plain functions, no Flask: the web layer serves document(atlas, ...).
"""
from __future__ import annotations

from . import __version__, layers
from .atlas import Atlas
from .options import HEIGHT_RANGE, LANGS, MAX_Q, NAMES, TILES, YEAR_RANGE
from .records import AGREEMENT_TYPES, SECTORS
from .select import Selection

SWITCH_VALUES = ["1", "0", "true", "false", "yes", "no", "on", "off"]
OGC_LIMIT_DEFAULT, OGC_LIMIT_MAX = 100, 10_000
OPENAPI_TYPE = "application/vnd.oai.openapi+json;version=3.0"


def _ref(kind: str, name: str) -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


# -- parameters ----------------------------------------------------------------------------------

def option_schemas(atlas: Atlas) -> dict[str, dict]:
    """Every option of options.NAMES as an OpenAPI query parameter, with its real constraints."""
    provinces = sorted(atlas.places["province"].dropna().unique().tolist())
    partners = sorted(atlas.partners.index.tolist())

    def array(values, description):
        return {"description": description + " Repeat the parameter or separate values with commas.",
                "schema": {"type": "array", "items": {"type": "string", "enum": list(values)}},
                "style": "form", "explode": True}

    year = {"type": "integer", "minimum": YEAR_RANGE[0], "maximum": YEAR_RANGE[1]}
    switch = {"type": "string", "enum": SWITCH_VALUES}
    schemas = {
        "lang": {"description": "Language of the page or of the texts: en or zh. Default: the Accept-Language header.",
                 "schema": {"type": "string", "enum": list(LANGS)}},
        "partner": {"description": "A partner place id. On the API, exports and the OGC API it filters; on map pages it focuses the map.",
                    "schema": {"type": "string", "enum": partners} if partners else {"type": "string"}},
        "year_from": {"description": "Agreements in this year or later.", "schema": year},
        "year_to": {"description": "Agreements in this year or earlier (not before year_from).", "schema": year},
        "type": array(AGREEMENT_TYPES, "Agreement types."),
        "sector": array(SECTORS, "Sector tags: an agreement matches when it has any of them."),
        "province": array(provinces, "Provinces of the partner place (any case)."),
        "q": {"description": "Text search in titles, summaries, place names, parties and ids, ignoring case.",
              "schema": {"type": "string", "maxLength": MAX_Q}},
        "tiles": {"description": "Base map. Default: the operator's GEOMAP_DEFAULT_TILES.",
                  "schema": {"type": "string", "enum": list(TILES)}},
        "controls": {"description": "Zoom buttons and scale (embeds).", "schema": switch},
        "legend": {"description": "The legend (embeds).", "schema": switch},
        "popup": {"description": "Open the focused partner's popup when the map opens.", "schema": switch},
        "timeline": {"description": "The timeline under the map: a year slider over the agreements-per-year chart, with Play (embeds; map pages always show it).",
                     "schema": switch},
        "height": {"description": "Map height in pixels (embeds); a trailing px is accepted.",
                   "schema": {"type": "integer", "minimum": HEIGHT_RANGE[0], "maximum": HEIGHT_RANGE[1]}},
    }
    schemas.update(_extra_option_schemas())
    missing = [n for n in NAMES if n not in schemas]
    if missing:  # a new option must be described here (tests/test_openapi.py says so too)
        raise KeyError(f"options {missing} have no OpenAPI description in geomap/openapi.py")
    return schemas


def _extra_option_schemas() -> dict[str, dict]:
    """Options that other vocabularies define: `status` once the records know statuses."""
    from . import records

    statuses = getattr(records, "STATUSES", None) or getattr(records, "AGREEMENT_STATUSES", None)
    if not statuses:
        return {}
    return {"status": {"description": "Agreement status: signed, announced or intention.",
                       "schema": {"type": "array", "items": {"type": "string", "enum": list(statuses)}},
                       "style": "form", "explode": True}}


def _query(name: str, spec: dict, required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, **spec}


def _path(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema}


# -- schemas -------------------------------------------------------------------------------------

def _property_schema(series) -> dict:
    kind = series.dtype.kind
    if kind in "iu":
        return {"type": "integer", "nullable": str(series.dtype) == "Int64"}
    if kind == "f":
        return {"type": "number", "nullable": True}
    if kind == "b":
        return {"type": "boolean"}
    return {"type": "string", "nullable": True}


def layer_properties(atlas: Atlas, layer: str) -> dict:
    """The JSON schema of a layer's feature properties, read off the table every writer uses."""
    table = layers.table(atlas, Selection(atlas.agreements, atlas.links, atlas.partners), layer)
    props = {c: _property_schema(table[c]) for c in table.columns if c != "geometry"}
    props["id"] = {"type": "string"}
    return {"type": "object", "required": ["id"], "properties": props, "additionalProperties": False}


def _schemas(atlas: Atlas) -> dict:
    position = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
    point = {"type": "object", "required": ["type", "coordinates"],
             "properties": {"type": {"type": "string", "enum": ["Point"]}, "coordinates": position}}
    line = {"type": "object", "required": ["type", "coordinates"],
            "properties": {"type": {"type": "string", "enum": ["LineString"]},
                           "coordinates": {"type": "array", "items": position, "minItems": 2}}}
    link = {"type": "object", "required": ["href", "rel"],
            "properties": {k: {"type": "string"} for k in ("href", "rel", "type", "title", "hreflang")}}
    schemas = {
        "Point": point, "LineString": line, "Link": link,
        "Links": {"type": "array", "items": _ref("schemas", "Link")},
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["status", "title", "message"],
            "properties": {"status": {"type": "integer"}, "title": {"type": "string"},
                           "message": {"type": "string"}}}}},
        "OGCException": {"type": "object", "required": ["code"],
                         "properties": {"code": {"type": "string"}, "description": {"type": "string"}}},
        "Health": {"type": "object", "required": ["status", "data_version", "agreements"],
                   "properties": {"status": {"type": "string", "enum": ["ok"]}, "data_version": {"type": "string"},
                                  "agreements": {"type": "integer", "minimum": 0}}},
        "OEmbed": {"type": "object", "required": ["version", "type", "html", "width", "height"],
                   "properties": {"version": {"type": "string", "enum": ["1.0"]}, "type": {"type": "string", "enum": ["rich"]},
                                  "title": {"type": "string"}, "provider_name": {"type": "string"},
                                  "provider_url": {"type": "string"}, "html": {"type": "string"},
                                  "width": {"type": "integer"}, "height": {"type": "integer"},
                                  "cache_age": {"type": "integer"}}},
        "MapData": {"type": "object", "description": "The map script's data (payload.compact): columns of partners, sites and agreements."},
        "LandingPage": {"type": "object", "required": ["links"],
                        "properties": {"title": {"type": "string"}, "description": {"type": "string"},
                                       "links": _ref("schemas", "Links")}},
        "ConfClasses": {"type": "object", "required": ["conformsTo"],
                        "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}},
                                       "links": _ref("schemas", "Links")}},
        "Collection": {"type": "object", "required": ["id", "links"], "properties": {
            "id": {"type": "string", "enum": list(layers.LAYERS)}, "title": {"type": "string"},
            "description": {"type": "string"}, "itemType": {"type": "string"},
            "crs": {"type": "array", "items": {"type": "string"}}, "links": _ref("schemas", "Links"),
            "extent": {"type": "object", "properties": {
                "spatial": {"type": "object", "properties": {
                    "bbox": {"type": "array", "items": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 6}},
                    "crs": {"type": "string"}}},
                "temporal": {"type": "object", "properties": {
                    "interval": {"type": "array", "items": {"type": "array", "minItems": 2, "maxItems": 2,
                                                            "items": {"type": "string", "format": "date-time", "nullable": True}}},
                    "trs": {"type": "string"}}}}}}},
        "Collections": {"type": "object", "required": ["collections", "links"],
                        "properties": {"collections": {"type": "array", "items": _ref("schemas", "Collection")},
                                       "links": _ref("schemas", "Links")}},
    }
    for layer in layers.LAYERS:
        name = layer.capitalize()
        schemas[f"{name}Properties"] = layer_properties(atlas, layer)
        schemas[f"{name}Feature"] = {
            "type": "object", "required": ["type", "id", "geometry", "properties"],
            "properties": {"type": {"type": "string", "enum": ["Feature"]}, "id": {"type": "string"},
                           "geometry": _ref("schemas", "LineString" if layer == "links" else "Point"),
                           "properties": _ref("schemas", f"{name}Properties"),
                           "links": _ref("schemas", "Links")}}
        schemas[f"{name}Collection"] = {
            "type": "object", "required": ["type", "features"],
            "properties": {"type": {"type": "string", "enum": ["FeatureCollection"]},
                           "features": {"type": "array", "items": _ref("schemas", f"{name}Feature")},
                           "numberMatched": {"type": "integer", "minimum": 0},
                           "numberReturned": {"type": "integer", "minimum": 0},
                           "timeStamp": {"type": "string", "format": "date-time"},
                           "links": _ref("schemas", "Links")}}
    schemas["AnyLayer"] = {"anyOf": [_ref("schemas", f"{layer.capitalize()}Collection") for layer in layers.LAYERS]}
    schemas["AnyFeature"] = {"anyOf": [_ref("schemas", f"{layer.capitalize()}Feature") for layer in layers.LAYERS]}
    return schemas


# -- responses -----------------------------------------------------------------------------------

HTML = {"text/html": {"schema": {"type": "string"}}}
JSON_ERROR = {"application/json": {"schema": _ref("schemas", "Error")}}
OGC_ERROR = {"application/json": {"schema": _ref("schemas", "OGCException")}, **HTML}
CACHED = {"ETag": {"description": "Strong validator: the data version and the request's options.",
                   "schema": {"type": "string"}},
          "Cache-Control": {"schema": {"type": "string"}}}


def _ok(content: dict, description: str = "OK", cached: bool = True) -> dict:
    out = {"description": description, "content": content}
    if cached:
        out["headers"] = CACHED
    return out


def _responses(ok: dict, errors: dict[int, dict], cached: bool = True) -> dict:
    out = {"200": ok}
    if cached:
        out["304"] = {"description": "Not Modified: If-None-Match named the current ETag."}
    for status, content in errors.items():
        out[str(status)] = {"description": {400: "A malformed or unknown parameter; the message says which and what is allowed.",
                                            404: "No such resource.", 501: "Not implemented."}[status],
                            "content": content}
    return out


def _binary(media: str) -> dict:
    return {"schema": {"type": "string", "format": "binary"}}


def _export_content() -> dict:
    content = {}
    for fmt in layers.FORMATS:
        media = layers.MEDIA_TYPES[fmt].split(";")[0]
        if fmt == "geojson":
            content[media] = {"schema": _ref("schemas", "AnyLayer")}
        elif fmt in ("csv", "kml"):
            content[media] = {"schema": {"type": "string"}}
        else:
            content[media] = _binary(media)
    return content


# -- the document ----------------------------------------------------------------------------------

def document(atlas: Atlas, *, server: str = "/", assets: list[str] | None = None,
             asset_types: list[str] | None = None) -> dict:
    """The whole OpenAPI 3.0 document. `server` is the app's root URL (relative is fine);
    `assets` the names served under /assets/ and their media types (from geomap.assets)."""
    opts = option_schemas(atlas)
    params = {f"option_{name}": _query(name, spec) for name, spec in opts.items()}
    all_options = [_ref("parameters", f"option_{name}") for name in opts]
    filters = [_ref("parameters", f"option_{name}") for name in
               ("partner", "province", "q", "sector", "type", "year_from", "year_to", "status") if name in opts]
    partner_ids = sorted(atlas.partners.index.tolist())
    partner_path = _path("partner_id", {"type": "string", "enum": partner_ids} if partner_ids else {"type": "string"},
                         "A partner place id (see /api/partners.geojson).")
    site_ids = sorted(atlas.sites.index.tolist())
    site_path = _path("site_id", {"type": "string", "enum": site_ids} if site_ids else {"type": "string"},
                      "A Shanghai-side site's place id (the shanghai_site of some agreement).")
    layer_path = _path("layer", {"type": "string", "enum": list(layers.LAYERS)}, "The layer.")
    ogc_f = _query("f", {"description": "json or html; default: by the Accept header (JSON unless HTML is preferred).",
                         "schema": {"type": "string", "enum": ["json", "html"]}})
    ogc_lang = _query("lang", {"description": "Language of titles and pages: en or zh. Default: Accept-Language.",
                               "schema": {"type": "string", "enum": list(LANGS)}})
    params.update({"ogc_f": ogc_f, "ogc_lang": ogc_lang})
    ogc_common = [_ref("parameters", "ogc_f"), _ref("parameters", "ogc_lang")]
    collection_path = _path("collectionId", {"type": "string", "enum": list(layers.LAYERS)}, "The collection: a layer.")
    first_id = atlas.agreements["id"].iloc[0] if len(atlas.agreements) else "shaoxing"

    def page(summary, parameters, errors=(400,)):
        return {"get": {"summary": summary, "parameters": parameters,
                        "responses": _responses(_ok(HTML), {s: HTML for s in errors})}}

    def ogc(summary, parameters, schema, media="application/json", errors=(400,)):
        return {"get": {"summary": summary, "tags": ["OGC API – Features"], "parameters": ogc_common + parameters,
                        "responses": _responses(_ok({media: {"schema": schema}, **HTML}),
                                                {s: OGC_ERROR for s in errors})}}

    items_params = [
        _query("limit", {"description": f"Features per page: 1 to {OGC_LIMIT_MAX:,} (a larger number means {OGC_LIMIT_MAX:,}).",
                         "schema": {"type": "integer", "minimum": 1, "default": OGC_LIMIT_DEFAULT}}),
        _query("offset", {"description": "Features to skip, for paging (the next and prev links carry it).",
                          "schema": {"type": "integer", "minimum": 0, "default": 0}}),
        _query("bbox", {"description": "West, south, east, north in degrees (CRS84); six numbers with heights are accepted, heights ignored. Features that meet the box.",
                        "schema": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 6},
                        "style": "form", "explode": False}),
        _query("datetime", {"description": "An RFC 3339 date or date-time, or an interval a/b with .. for an open end. Agreements whose date (or period) shares a day with it, days in China Standard Time.",
                            "schema": {"type": "string"}}),
    ] + filters

    paths = {
        "/": page("The map page: map, filter panel, search, list of agreements", all_options),
        "/embed": page("The map alone, for an iframe", all_options),
        "/embed/code": page("The embed snippet builder with a live preview", all_options + [
            _query("ui", {"description": "The builder's own language.", "schema": {"type": "string", "enum": list(LANGS)}}),
            _query("resize", {"description": "Add the resize script to the snippet.", "schema": {"type": "string", "enum": ["0", "1"]}})]),
        "/partners/{partner_id}": page("One partner place: its agreements, sources and a small map",
                                       [partner_path] + all_options, errors=(400, 404)),
        "/sites/{site_id}": page("One Shanghai-side site: its agreements, their partners and a small map",
                                 [site_path] + all_options, errors=(400, 404)),
        "/oembed": {"get": {"summary": "oEmbed 1.0 rich response for a map page of this site", "parameters": [
            _query("url", {"description": "A map page of this site: /, /embed or /partners/<id>, with options.",
                           "schema": {"type": "string"}}, required=True),
            _query("format", {"description": "json, the one format served; xml is answered 501 Not Implemented, as oEmbed 1.0 asks of a provider.",
                              "schema": {"type": "string", "enum": ["json"]}}),
            _query("maxwidth", {"schema": {"type": "integer", "minimum": 1, "maximum": 100_000}}),
            _query("maxheight", {"schema": {"type": "integer", "minimum": 1, "maximum": 100_000}})],
            "responses": _responses(_ok({"application/json": {"schema": _ref("schemas", "OEmbed")}}),
                                    {400: JSON_ERROR, 404: JSON_ERROR, 501: JSON_ERROR})}},
        "/api/{layer}.{fmt}": {"get": {
            "summary": "A layer as GeoJSON (RFC 7946), filtered", "tags": ["Open data"],
            "parameters": [layer_path, _path("fmt", {"type": "string", "enum": ["geojson"]}, "geojson")] + all_options,
            "responses": _responses(_ok({"application/geo+json": {"schema": _ref("schemas", "AnyLayer")}}),
                                    {400: JSON_ERROR, 404: JSON_ERROR})}},
        "/export/{layer}.{fmt}": {"get": {
            "summary": "A layer as a download, filtered", "tags": ["Open data"],
            "parameters": [layer_path, _path("fmt", {"type": "string", "enum": list(layers.FORMATS)}, "The file format.")] + all_options,
            "responses": _responses(_ok(_export_content()), {400: JSON_ERROR, 404: JSON_ERROR})}},
        "/api/map.json": {"get": {
            "summary": "A large map's data, fetched by its page script", "tags": ["Map data"],
            "parameters": [_query("v", {"description": "The data version (cache busting).", "schema": {"type": "string"}})] + all_options,
            "responses": _responses(_ok({"application/json": {"schema": _ref("schemas", "MapData")}}), {400: JSON_ERROR})}},
        "/api/map/{partner_id}.json": {"get": {
            "summary": "One partner's agreements for a popup", "tags": ["Map data"],
            "parameters": [partner_path, _query("v", {"schema": {"type": "string"}})] + all_options,
            "responses": _responses(_ok({"application/json": {"schema": {"type": "object"}}}),
                                    {400: JSON_ERROR, 404: JSON_ERROR})}},
        "/assets/{name}": {"get": {
            "summary": "A script, stylesheet or image the pages use, served locally",
            "parameters": [_path("name", {"type": "string", "enum": sorted(assets or [])}, "The asset's name."),
                           _query("v", {"description": "The content digest (cache busting).", "schema": {"type": "string"}})],
            "responses": _responses(_ok({t: {"schema": {"type": "string"}} for t in sorted(set(asset_types or ["text/css"]))}),
                                    {404: HTML})}},
        "/healthz": {"get": {"summary": "Liveness and the data version", "parameters": [],
                             "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": _ref("schemas", "Health")}}}}}},
        "/openapi.json": {"get": {"summary": "This document", "parameters": [],
                                  "responses": _responses(_ok({OPENAPI_TYPE: {"schema": {"type": "object"}}}), {})}},
        "/openapi.html": {"get": {"summary": "This document as an HTML page", "parameters": [
            _query("lang", {"schema": {"type": "string", "enum": list(LANGS)}})],
            "responses": _responses(_ok(HTML), {400: HTML})}},
        "/ogc": ogc("OGC API – Features landing page", [], _ref("schemas", "LandingPage")),
        "/ogc/conformance": ogc("The conformance classes", [], _ref("schemas", "ConfClasses")),
        "/ogc/collections": ogc("The collections: partners, agreements, links", [], _ref("schemas", "Collections")),
        "/ogc/collections/{collectionId}": ogc("One collection", [collection_path], _ref("schemas", "Collection"),
                                               errors=(400, 404)),
        "/ogc/collections/{collectionId}/items": ogc(
            "The collection's features, a page at a time", [collection_path] + items_params,
            _ref("schemas", "AnyLayer"), "application/geo+json", errors=(400, 404)),
        "/ogc/collections/{collectionId}/items/{featureId}": ogc(
            "One feature", [collection_path, {**_path("featureId", {"type": "string"}, "The feature's stable id, as in the GeoJSON API."),
                                              "example": first_id}],
            _ref("schemas", "AnyFeature"), "application/geo+json", errors=(400, 404)),
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "geomap: the Shanghai partnership map", "version": __version__,
                 "description": "Every public route of geomap: the map pages, embeds and oEmbed, the open data "
                                "(GeoJSON API and downloads), the map's data, and OGC API – Features at /ogc.",
                 "license": {"name": "MIT (the program)"}},
        "servers": [{"url": server}],
        "paths": paths,
        "components": {"parameters": params, "schemas": _schemas(atlas)},
    }


def operations(doc: dict):
    """(path, method, operation) of every operation, for the HTML page."""
    for path, item in doc["paths"].items():
        for method, op in item.items():
            yield path, method, op


def resolve(doc: dict, value: dict) -> dict:
    """A local $ref's target (the document never refers elsewhere)."""
    while isinstance(value, dict) and "$ref" in value:
        node = doc
        for part in value["$ref"].lstrip("#/").split("/"):
            node = node[part]
        value = node
    return value
