"""The visitor's pages: the full map, a partner's page, liveness, and a large map's data."""
from __future__ import annotations

import threading
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, g, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from .. import i18n, layers, payload, tiles as tiles_mod
from ..maps import MapSource, build_map
from ..options import Options, parse
from ..payload import KIND_LABELS, SECTOR_LABELS, STATUS_LABELS, TYPE_LABELS, add_details
from ..select import select
from . import api, charts as chart_views, current_atlas, request_options
from .caching import cached
from .origins import base_url

bp = Blueprint("pages", __name__)

LIST_LIMIT = 200  # agreements in the side list; past that, a note says to narrow the filters
ITEM_LIMIT = 8    # agreements under one partner in the list; the rest are on its page


def resolve_lang(options: Options) -> str:
    """The lang option, else the browser's Accept-Language; remembered in g for templates."""
    g.lang = options.lang or i18n.negotiate(request.accept_languages)
    return g.lang


def page_key(name: str, options: Options, lang: str, *extra) -> tuple:
    # The site's base URL is part of the page (the oEmbed discovery link is absolute): the
    # configured one, or the request's host once checked against the trusted ones (origins.py).
    return (name, lang, base_url(), current_app.config.get("GEOMAP_DEFAULT_TILES"),
            options.cache_key(), *extra)


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
        parts = build_map(atlas, options, lang=lang, tiles_key=current_app.config.get("GEOMAP_DEFAULT_TILES"),
                          source=map_source(), clear_url=url_for("pages.index", lang=options.lang))
        data = parts.data
        items = list_items(atlas, data, lang)
        selection = select(atlas, options, partner_filters=False)
        return render_template(
            "index.html", parts=parts, options=options, lang=lang, items=items,
            total=len(data["agreements"]), partner_count=len(data["partners"]), shown_partners=len(items),
            filters=filter_choices(atlas, lang), download_query=download_query(options),
            figures=chart_views.ranked_figures(atlas, selection, options, lang),
            timeline=chart_views.timeline(atlas, options, lang, shown=len(data["agreements"])),
            data_empty=not len(atlas.agreements),
        )

    return html_response(page_key("index", options, lang), build, options)


def list_items(atlas, data: dict, lang: str) -> list[dict]:
    """The list beside the map: the map's partners in the map's order, each with its agreements
    newest first, as its details on the map show them. A text alternative to the map, so it
    holds the same things in the same order; long lists stop at about LIST_LIMIT agreements."""
    partners = data["partners"]
    of: dict[int, list[dict]] = {}
    for a in data["agreements"]:
        for i in a["p"]:
            of.setdefault(i, []).append(a)
    provinces = atlas.partners["province"]
    items, rows = [], 0
    for i, p in enumerate(partners):
        mine = sorted(of.get(i, []), key=lambda a: a["iso"], reverse=True)
        shown = mine[:ITEM_LIMIT]
        if items and rows + len(shown) > LIST_LIMIT:
            break
        rows += len(shown)
        province = provinces.get(p["id"])
        items.append({
            "partner": p, "count": len(mine), "more": len(mine) - len(shown),
            "province": i18n.gettext(lang, province) if isinstance(province, str) and province else "",
            "agreements": [(a, [partners[j]["name"] for j in a["p"] if j != i]) for a in shown],
        })
    add_details(atlas, [a for item in items for a, _ in item["agreements"]], lang)  # a large map's data has none
    return items


def download_query(options: Options) -> str:
    """The query of the download links: the filters that choose the list's agreements."""
    pairs = [(k, v) for k, v in options.query() if k in api.FILTERS and k != "partner"]
    return "?" + urlencode(pairs) if pairs else ""


def filter_choices(atlas, lang: str) -> dict:
    t = lambda s: i18n.gettext(lang, s)  # noqa: E731
    years = atlas.agreements["year"]
    ends = atlas.agreements["year_end"]
    provinces = sorted(atlas.partners["province"].dropna().unique())
    return {
        "types": [(k, t(v)) for k, v in TYPE_LABELS.items()],
        "sectors": [(k, t(v)) for k, v in SECTOR_LABELS.items()],
        "statuses": [(k, t(v)) for k, v in STATUS_LABELS.items()],
        "provinces": [(p, t(p)) for p in provinces],
        "year_min": int(years.min()) if len(years) else 2000,
        "year_max": int(ends.max()) if len(ends) else 2030,
    }


def place_map(atlas, options: Options, lang: str, **where):
    """The small map of a place's own page (a partner's or a Shanghai-side site's)."""
    return build_map(atlas, options.with_(legend=False), lang=lang, height="320px",
                     tiles_key=current_app.config.get("GEOMAP_DEFAULT_TILES"), **where)


def place_page(template: str, atlas, options: Options, lang: str, row, parts, agreements: list[dict],
               selection, *, unfiltered: str, here=None, keys=("sector", "type", "province")) -> str:
    """A place's page (place.html): its name, map, charts of `selection` and agreements, newest first."""
    name, fallback = i18n.pick(lang, row["name_en"], row["name_zh"])
    agreements.sort(key=lambda a: a["iso"], reverse=True)
    add_details(atlas, agreements, lang)
    return render_template(template, parts=parts, options=options, lang=lang,
                           place=row, name=name, name_fallback=fallback,
                           kind=i18n.gettext(lang, KIND_LABELS.get(row["kind"], row["kind"])),
                           agreements=agreements, sites=parts.data["sites"], partners=parts.data["partners"],
                           here=here, unfiltered=unfiltered,
                           figures=chart_views.ranked_figures(atlas, selection, options, lang, keys=keys),
                           charts_unfiltered=chart_views.unfiltered_href(options))


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
        parts = place_map(atlas, options, lang, source=map_source())
        # With filters, the partner may have no agreement left (and no marker): the page says so.
        focus = parts.data["focus"]
        agreements = [a for a in parts.data["agreements"] if focus is not None and focus in a["p"]]
        return place_page("partner.html", atlas, options, lang, row, parts, agreements,
                          select(atlas, options), keys=("sector", "type"), here=focus,
                          unfiltered=url_for("pages.partner", partner_id=partner_id, lang=options.lang))

    return html_response(page_key("partner", options, lang, partner_id), build, options)


@bp.get("/sites/<site_id>")
def site(site_id: str):
    """One Shanghai-side site: its agreements, their partners, and a small map of them."""
    atlas = current_atlas()
    if site_id not in atlas.sites.index:
        options = request_options()
        resolve_lang(options)
        abort(404, description=i18n.Message(i18n.N_("No Shanghai-side site has the id %(id)s."), id=repr(site_id)))
    options = request_options().with_(partner=None, popup=False)
    lang = resolve_lang(options)

    def build() -> str:
        row = atlas.sites.loc[site_id]
        parts = place_map(atlas, options, lang, site=site_id)
        return place_page("site.html", atlas, options, lang, row, parts, list(parts.data["agreements"]),
                          select(atlas, options, partner_filters=False, site=site_id),
                          unfiltered=url_for("pages.site", site_id=site_id, lang=options.lang))

    return html_response(page_key("site", options, lang, site_id), build, options)


def lang_url(lang: str) -> str:
    """This page's URL in another language: the same query, lang replaced."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [lang]
    return url_for(request.endpoint, **(request.view_args or {}), **args)


# -- a large map's data, loaded by the page's script (maps.INLINE_MAX) ------------------------

# The options that change a map's data; lang and the base map's datum too.
DATA_FILTERS = ("year_from", "year_to", "status", "type", "sector", "province", "q")
IMMUTABLE = "public, max-age=31536000, immutable"


def _data_key(options: Options, lang: str, gcj02: bool) -> tuple:
    filters = tuple((name, getattr(options, name)) for name in DATA_FILTERS)
    return ("map-data", lang, gcj02, filters)


def _data_query(version: str, options: Options, lang: str, tiles: str | None) -> str:
    pairs = [("v", version), ("lang", lang)]
    if tiles:
        pairs.append(("tiles", tiles))
    pairs += [(k, v) for k, v in options.query() if k in DATA_FILTERS]
    return urlencode(pairs)


class WebMapSource(MapSource):
    def publish(self, options: Options, lang: str, gcj02: bool, data: dict) -> dict:
        atlas = current_atlas()
        tiles = options.tiles or current_app.config.get("GEOMAP_DEFAULT_TILES")
        query = _data_query(atlas.version, options, lang, tiles)
        # The page has just computed what /api/map.json would: keep it for the script's request.
        body = payload.to_json(payload.compact(data, self.partner_url)).encode("utf-8")
        current_app.extensions["geomap.cache"].put((atlas.version, _data_key(options, lang, gcj02)), body)
        return {"dataUrl": url_for("pages.map_data") + "?" + query,
                "popupUrl": url_for("pages.map_popup", partner_id="ID").replace("/ID.json", "/{id}.json") + "?" + query}


@bp.record_once
def _install(state) -> None:
    state.app.extensions.setdefault("geomap.map_source", WebMapSource())


def map_source() -> MapSource:
    """This app's MapSource, which a view hands to build_map (the map never asks Flask)."""
    return current_app.extensions["geomap.map_source"]


@bp.before_app_request
def _warm_up_exports() -> None:
    """On an app's first request, make the GeoJSON row texts (layers.warm_up) in a thread, so
    that exports find them ready. Not at start-up: a thread there would not survive gunicorn's
    fork with --preload, and could leave a lock held in the workers."""
    app = current_app._get_current_object()
    if app.extensions.get("geomap.warmed"):
        return
    app.extensions["geomap.warmed"] = True
    threading.Thread(target=layers.warm_up, args=(current_atlas(),), name="geomap-warm-up",
                     daemon=True).start()


def _data_options() -> tuple[Options, str, bool]:
    """The request's options without the version tag (it only busts caches), with lang and
    the base map's datum resolved as the page that asked resolved them."""
    atlas = current_atlas()
    args = MultiDict([(k, v) for k, v in request.args.items(multi=True) if k != "v"])
    options = parse(args, places=atlas.partners.index, provinces=atlas.places["province"].dropna().unique())
    lang = options.lang or i18n.negotiate(request.accept_languages)
    tiles = tiles_mod.get(options.tiles or current_app.config.get("GEOMAP_DEFAULT_TILES") or tiles_mod.default_key())
    return options, lang, tiles.gcj02


def _data_headers() -> dict:
    """A URL that names the current data version may be cached for good; an older one not."""
    headers = {"X-Content-Type-Options": "nosniff"}
    if request.args.get("v") == current_atlas().version:
        headers["Cache-Control"] = IMMUTABLE
    return headers


@bp.get("/api/map.json")
def map_data():
    """The map's drawing data in columns (payload.compact), for pages above maps.INLINE_MAX."""
    atlas = current_atlas()
    options, lang, gcj02 = _data_options()

    def build() -> str:
        selection = select(atlas, options, partner_filters=False)
        data = payload.build(atlas, selection, options, lang=lang, gcj02=gcj02, details=False)
        return payload.to_json(payload.compact(data, WebMapSource.partner_url))

    return cached(_data_key(options, lang, gcj02), build, mimetype="application/json",
                  max_age=300, headers=_data_headers(),
                  vary=None if options.lang else "Accept-Language")


@bp.get("/api/map/<partner_id>.json")
def map_popup(partner_id: str):
    """One partner's agreements, in the page's language and filters: a popup's content."""
    atlas = current_atlas()
    options, lang, _ = _data_options()
    if partner_id not in atlas.partners.index:
        abort(404, description=f"No partner place has the id {partner_id!r}.")

    def build() -> str:
        selection = select(atlas, options.with_(partner=partner_id))
        return payload.to_json(payload.popup(atlas, selection, partner_id, lang=lang))

    key = ("map-popup", partner_id, *_data_key(options, lang, False))
    return cached(key, build, mimetype="application/json", max_age=300, headers=_data_headers(),
                  vary=None if options.lang else "Accept-Language", store=False)
