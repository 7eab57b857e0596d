"""The visitor's pages."""
from __future__ import annotations

from flask import Blueprint, render_template

from . import current_atlas

bp = Blueprint("pages", __name__)


@bp.get("/healthz")
def healthz():
    atlas = current_atlas()
    return {"status": "ok", "data_version": atlas.version, "agreements": len(atlas.records.agreements)}


@bp.get("/")
def index():
    atlas = current_atlas()
    return render_template("index.html", atlas=atlas)
