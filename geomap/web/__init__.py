"""The Flask app factory: configuration from the environment, the Atlas built once, blueprints."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from .. import ConfigError, assets, atlas as atlas_mod

PACKAGE_DIR = Path(__file__).resolve().parent.parent


def templates_dir() -> Path:
    repo = PACKAGE_DIR.parent / "templates"
    return repo if repo.is_dir() else PACKAGE_DIR / "_bundled" / "templates"


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, template_folder=str(templates_dir()), static_folder=None)
    app.config.update(
        GEOMAP_DATA_DIR=str(atlas_mod.default_data_dir()),
    )
    # Every GEOMAP_* variable in the environment configures the app.
    app.config.update({k: v for k, v in os.environ.items() if k.startswith("GEOMAP_")})
    if config:
        app.config.update(config)
    from .. import tiles

    # The operator's default base map, checked once: an unknown name fails at start-up.
    app.config["GEOMAP_DEFAULT_TILES"] = tiles.default_key(app.config.get("GEOMAP_DEFAULT_TILES"))
    cache_entries = config_int(app.config, "GEOMAP_CACHE_ENTRIES", 256, "entries")
    cache_mb = config_int(app.config, "GEOMAP_CACHE_MB", 256, "megabytes")
    from . import origins

    # First of all: the Host check runs before every other hook and view (origins.py).
    origins.register(app)

    # Built once, before the first request; views read it and nothing else.
    app.extensions["geomap.atlas"] = atlas_mod.build(Path(app.config["GEOMAP_DATA_DIR"]))

    from .. import i18n
    from . import errors, pages, static
    from . import api
    from .caching import RenderCache

    app.extensions["geomap.cache"] = RenderCache(cache_entries, cache_mb * 2**20)
    errors.register(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(static.bp)
    from . import embed, security

    embed.register(app)     # /embed, /embed/code, /oembed, and the oembed_link() template global
    from . import ogc

    ogc.register(app)       # /ogc/..., OGC API - Features; its errors as OGC exceptions
    from . import apidoc

    apidoc.register(app)    # /openapi.json and /openapi.html
    security.register(app)  # framing (GEOMAP_FRAME_ANCESTORS, checked here), CSP, nosniff

    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: i18n.translations(_lang()).gettext(s),
        ngettext=lambda s, p, n: i18n.translations(_lang()).ngettext(s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals.update(lang_url=pages.lang_url, asset_url=assets.url,
                                 local_date=lambda iso: i18n.format_agreement_date(iso, "day", _lang()))
    return app


def config_int(config, name: str, default: int, unit: str) -> int:
    """A whole-number setting in ASCII digits, 1 or more; ConfigError otherwise."""
    value = config.get(name)
    if value is None or str(value).strip() == "":
        return default
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise ConfigError(f"{name}: {text!r} is not a number of {unit}; write a whole number, "
                          f"1 or more (default {default})")
    return int(text)


def _lang() -> str:
    """The page's language, chosen by the view (pages.resolve_lang); English before that."""
    from flask import g

    from .. import i18n

    return g.get("lang", i18n.DEFAULT_LANG)


def current_atlas() -> atlas_mod.Atlas:
    from flask import current_app

    return current_app.extensions["geomap.atlas"]


def request_options():
    """The request's query string parsed into Options (OptionsError -> 400 by errors.py)."""
    from flask import request

    from ..options import parse

    atlas = current_atlas()
    return parse(request.args, places=atlas.partners.index,
                 provinces=atlas.places["province"].dropna().unique())
