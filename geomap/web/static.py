"""Serve every script, stylesheet and image the pages use, from the app itself.

Scripts and styles go gzip-compressed to clients that accept it (every browser): compressed once
per process (assets.gzipped), not per request. The compressed body is another representation of
the same URL, so it has its own ETag (ending in "-gzip") and the response says
Vary: Accept-Encoding, for caches between the app and the browser.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, request

from .. import assets

bp = Blueprint("assets", __name__)


@bp.get("/assets/<path:name>")
def asset(name: str):
    if name not in assets.FILES:
        abort(404, description=f"No asset named {name!r}.")
    compressible = assets.compressible(name)
    gz = compressible and request.accept_encodings["gzip"] > 0
    etag = assets.digest(name) + ("-gzip" if gz else "")
    # Weak comparison (RFC 9110): a proxy that changed the encoding marks our tag W/"...".
    if request.if_none_match.contains_weak(etag):
        resp = Response(status=304)
    elif gz:
        resp = Response(assets.gzipped(name), content_type=assets.media_type(name))
        resp.headers["Content-Encoding"] = "gzip"
    else:
        resp = Response(assets.path(name).read_bytes(), content_type=assets.media_type(name))
    resp.set_etag(etag)
    if compressible:
        resp.vary.add("Accept-Encoding")
    # URLs carry the content digest (?v=...), so a year is safe.
    resp.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return resp
