"""The visitor's pages: the full map, a partner's page, and liveness."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, g, render_template, request, url_for

from .. import i18n
from ..maps import build_map
from ..options import Options
from ..payload import SECTOR_LABELS, TYPE_LABELS
from ..select import select
from . import current_atlas, request_options
from .caching import cached

bp = Blueprint("pages", __name__)

LIST_LIMIT = 200  # rows in the side list; past that, the count says to narrow the filters


def resolve_lang(options: Options) -> str:
    """The lang option, else the browser's Accept-Language; remembered in g for templates."""
    g.lang = options.lang or i18n.negotiate(request.accept_languages)
    return g.lang


def page_key(name: str, options: Options, lang: str, *extra) -> tuple:
    return (name, lang, current_app.config.get("GEOMAP_DEFAULT_TILES"), options.cache_key(), *extra)


def html_response(key: tuple, build, options: Options):
    # Without an explicit lang the page depends on Accept-Language: caches must know.
    return cached(key, build, mimetype="text/html", max_age=300,
                  vary=None if options.lang else "Accept-Language")


@bp.get("/healthz")
def healthz():
    atlas = current_atlas()
    return {"status": "ok", "data_version": atlas.version, "agreements": len(atlas.records.agreements)}


@bp.get("/")
def index():
    atlas = current_atlas()
    options = request_options()
    lang = resolve_lang(options)

    def build() -> str:
        parts = build_map(atlas, options, lang=lang, tiles_key=current_app.config.get("GEOMAP_DEFAULT_TILES"))
        data = parts.data
        rows = []
        newest_first = sorted(data["agreements"], key=lambda a: a["iso"], reverse=True)
        for a in newest_first[:LIST_LIMIT]:
            partner = data["partners"][a["p"][0]]
            rows.append({"agreement": a, "partner": partner,
                         "others": [data["partners"][i]["name"] for i in a["p"][1:]]})
        return render_template(
            "index.html", parts=parts, options=options, lang=lang, rows=rows,
            total=len(data["agreements"]), partner_count=len(data["partners"]),
            limit=LIST_LIMIT, filters=filter_choices(atlas, lang),
        )

    return html_response(page_key("index", options, lang), build, options)


def filter_choices(atlas, lang: str) -> dict:
    t = lambda s: i18n.gettext(lang, s)  # noqa: E731
    years = atlas.agreements["year"]
    provinces = sorted(atlas.partners["province"].dropna().unique())
    return {
        "types": [(k, t(v)) for k, v in TYPE_LABELS.items()],
        "sectors": [(k, t(v)) for k, v in SECTOR_LABELS.items()],
        "provinces": [(p, t(p)) for p in provinces],
        "year_min": int(years.min()) if len(years) else 2000,
        "year_max": int(years.max()) if len(years) else 2030,
    }


@bp.get("/partners/<partner_id>")
def partner(partner_id: str):
    atlas = current_atlas()
    if partner_id not in atlas.partners.index:
        options = request_options()
        resolve_lang(options)
        abort(404, description=i18n.Message(i18n.N_("No partner place has the id %(id)s."), id=repr(partner_id)))
    options = request_options().with_(partner=partner_id, popup=False)
    lang = resolve_lang(options)

    def build() -> str:
        row = atlas.partners.loc[partner_id]
        name, fallback = i18n.pick(lang, row["name_en"], row["name_zh"])
        parts = build_map(atlas, options.with_(legend=False), lang=lang, height="320px",
                          tiles_key=current_app.config.get("GEOMAP_DEFAULT_TILES"))
        agreements = [a for a in parts.data["agreements"] if parts.data["focus"] in a["p"]]
        agreements.sort(key=lambda a: a["iso"], reverse=True)
        return render_template("partner.html", parts=parts, options=options, lang=lang,
                               place=row, name=name, name_fallback=fallback,
                               agreements=agreements, sites=parts.data["sites"],
                               partners=parts.data["partners"])

    return html_response(page_key("partner", options, lang, partner_id), build, options)


def lang_url(lang: str) -> str:
    """This page's URL in another language: the same query, lang replaced."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [lang]
    return url_for(request.endpoint, **(request.view_args or {}), **args)
