"""The API's description: /openapi.json (OpenAPI 3.0, built by geomap.openapi) and
/openapi.html, the same document rendered on the server as a plain page (no script, no CDN).

The document depends on the data (partner ids, provinces, the layers' columns) and on the
app's root, so it is cached per data version and root like any other response.
"""
from __future__ import annotations

import json

from flask import Blueprint, g, render_template, request
from werkzeug.exceptions import BadRequest

from .. import assets, i18n, openapi
from ..i18n import N_, Message
from . import current_atlas
from .caching import cached

bp = Blueprint("apidoc", __name__)
MAX_AGE = 300


def _document() -> dict:
    names = sorted(assets.FILES)
    return openapi.document(current_atlas(), server=request.script_root or "/", assets=names,
                            asset_types=[assets.media_type(n).split(";")[0] for n in names])


@bp.get("/openapi.json")
def openapi_json():
    def build() -> bytes:
        return json.dumps(_document(), ensure_ascii=False, indent=1).encode("utf-8")

    # The media type OGC API Features names for service-desc (GDAL and QGIS ask for it).
    return cached(("openapi", request.script_root), build, mimetype=openapi.OPENAPI_TYPE, max_age=MAX_AGE)


@bp.get("/openapi.html")
def openapi_html():
    unknown = sorted(set(request.args) - {"lang"})
    lang = (request.args.get("lang") or "").lower()
    g.lang = lang if lang in i18n.LANGS else i18n.negotiate(request.accept_languages)
    if unknown:
        raise BadRequest(Message(N_("unknown parameter %(name)s; the parameters here are %(allowed)s"),
                                 name=repr(unknown[0]), allowed="lang"))
    if lang and lang not in i18n.LANGS:
        raise BadRequest(Message(N_("lang=%(value)s is not a language; use en or zh"), value=repr(lang)))

    def build() -> str:
        doc = _document()
        ops = [(path, method, op, [openapi.resolve(doc, p) for p in op.get("parameters", [])])
               for path, method, op in openapi.operations(doc)]
        return render_template("ogc_openapi.html", doc=doc, ops=ops, lang=g.lang,
                               schema_text=_schema_text, switch={code: f"{request.path}?lang={code}" for code in i18n.LANGS})

    return cached(("openapi-html", request.script_root, g.lang, bool(lang)), build, mimetype="text/html",
                  max_age=MAX_AGE, vary=None if lang else "Accept-Language")


def _schema_text(schema: dict) -> str:
    """A parameter's constraints in a few words: type, allowed values, range, length."""
    schema = schema or {}
    if schema.get("type") == "array":
        inner = _schema_text(schema.get("items", {}))
        return f"list of {inner}"
    parts = [schema.get("type", "string")]
    if "enum" in schema:
        values = schema["enum"]
        shown = ", ".join(str(v) for v in values[:12]) + (f", … ({len(values)} values)" if len(values) > 12 else "")
        parts.append(f"one of {shown}")
    if "minimum" in schema or "maximum" in schema:
        parts.append(f"{schema.get('minimum', '…')} to {schema.get('maximum', '…')}")
    if "maxLength" in schema:
        parts.append(f"at most {schema['maxLength']} characters")
    if "default" in schema:
        parts.append(f"default {schema['default']}")
    return "; ".join(parts)


def register(app) -> None:
    app.register_blueprint(bp)
