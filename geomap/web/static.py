"""Serve every script, stylesheet and image the pages use, from the app itself."""
from __future__ import annotations

from flask import Blueprint, Response, abort, request

from .. import assets

bp = Blueprint("assets", __name__)


@bp.get("/assets/<path:name>")
def asset(name: str):
    if name not in assets.FILES:
        abort(404, description=f"No asset named {name!r}.")
    etag = assets.digest(name)
    if request.if_none_match.contains_weak(etag):
        resp = Response(status=304)
    else:
        resp = Response(assets.path(name).read_bytes(), content_type=assets.media_type(name))
    resp.set_etag(etag)
    # URLs carry the content digest (?v=...), so a year is safe.
    resp.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return resp
