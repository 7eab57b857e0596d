"""The map on other sites: the embed itself, the snippet builder, and oEmbed.

    GET /embed          the map alone, filling its frame (or `height` pixels), for an iframe
    GET /embed/code     pick options, copy the iframe snippet, see a live preview
    GET /oembed         oEmbed 1.0 "rich" for any map page of this site (/, /embed, /partners/<id>)

The snippet is one iframe whose URL carries every option, so the embed is what the URL says:

    <iframe src="https://…/embed?partner=shaoxing&amp;lang=zh&amp;height=480" title="…"
            height="480" style="display:block;width:100%;max-width:100%;border:0"
            loading="lazy" sandbox="…" data-geomap-embed></iframe>

plus, optionally, /assets/geomap/embed-resize.js, which sets the frame's height to the one the
embed posts (postMessage {type: "geomap:height", height}); the script checks the message's
origin against the frame's and that the height is a number in bounds. The sandbox lets the map
run and open links in new tabs, and nothing else: the map can never navigate the host page.

Who may frame /embed is decided in security.py (GEOMAP_FRAME_ANCESTORS).
"""
from __future__ import annotations

import json
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from flask import Blueprint, Response, current_app, g, render_template, request, url_for
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest, HTTPException, NotFound, NotImplemented as NotImplemented501
from werkzeug.routing import RequestRedirect

from .. import assets, i18n
from ..maps import build_map
from ..options import HEIGHT_RANGE, LANGS, NAMES, TILES, Options, ascii_int, parse
from . import charts as chart_views, current_atlas, request_options
from .caching import cached
from .origins import base_url, external_url
from .pages import filter_choices, html_response, map_source, page_key, resolve_lang

bp = Blueprint("embed", __name__)

DEFAULT_HEIGHT = 480          # px, when the snippet or the oEmbed URL names none
OEMBED_WIDTH = 640            # px, oEmbed's width when the consumer sets no maxwidth
MAP_ENDPOINTS = ("pages.index", "pages.partner", "embed.embed")
SANDBOX = "allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox"
RESIZE_SCRIPT = "geomap/embed-resize.js"
TITLE = "Shanghai partnership map"
# Options that mean nothing on the full map page (the "open the full map" link drops them).
EMBED_ONLY = ("controls", "legend", "height", "timeline")
# The filters "clear the filters" drops (the embed keeps its language, focus and look).
FILTERS = ("year_from", "year_to", "type", "sector", "province", "q", "status")
# /embed/code's own parameters, beside the options of the embed it builds.
CODE_PARAMS = ("ui", "resize")


# -- the embed -----------------------------------------------------------------------------------

@bp.get("/embed")
def embed():
    atlas = current_atlas()
    options = request_options()
    lang = resolve_lang(options)

    def build() -> str:
        height = f"{options.height}px" if options.height else "100%"
        parts = build_map(atlas, options, lang=lang, embed=True, height=height,
                          tiles_key=current_app.config.get("GEOMAP_DEFAULT_TILES"), source=map_source(),
                          clear_url=url_for("embed.embed", **dict(options.query(exclude=FILTERS))))
        full = url_for("pages.index") + _query(options.query(exclude=EMBED_ONLY))
        timeline = (chart_views.timeline(atlas, options, lang, shown=len(parts.data["agreements"]))
                    if options.timeline else None)
        return render_template("embed.html", parts=parts, options=options, lang=lang,
                               full_url=full, title=i18n.gettext(lang, TITLE),
                               data_empty=not len(atlas.agreements), timeline=timeline)

    return html_response(page_key("embed", options, lang), build, options)


# -- snippets ------------------------------------------------------------------------------------

def _query(pairs) -> str:
    return "?" + urlencode(pairs) if pairs else ""


def embed_url(options: Options) -> str:
    """The absolute URL of /embed with these options, in their canonical order."""
    return external_url("embed.embed") + _query(options.query())


def snippet(src: str, *, title: str, height: int | str, width: int | None = None,
            resize: bool = False) -> str:
    """The HTML a host page pastes. Without a width the frame takes its container's width.

    (`height` may be a placeholder string: /embed/code's script fills in the template.)
    """
    style = "display:block;width:100%;max-width:100%;border:0" if width is None else "max-width:100%;border:0"
    size = f'height="{escape(height)}"' if width is None else f'width="{int(width)}" height="{escape(height)}"'
    html = (f'<iframe src="{escape(src)}" title="{escape(title)}" {size} style="{style}" '
            f'loading="lazy" sandbox="{SANDBOX}" data-geomap-embed></iframe>')
    if resize:
        script = external_url("assets.asset", name=RESIZE_SCRIPT, v=assets.digest(RESIZE_SCRIPT))
        html += f'\n<script src="{escape(script)}" async></script>'
    return html


# -- the snippet builder -------------------------------------------------------------------------

@bp.get("/embed/code")
def code():
    atlas = current_atlas()
    ui = (request.args.get("ui") or "").strip().lower()
    # The builder's own language (its error pages' too); `lang` is the embed's.
    page_lang = g.lang = ui if ui in LANGS else i18n.negotiate(request.accept_languages)
    g.lang_param = "ui"
    if ui and ui not in LANGS:
        raise BadRequest(i18n.Message(i18n.N_("ui=%(value)s is not a language; use en or zh"), value=repr(ui)))
    resize = (request.args.get("resize") or "").strip().lower()
    if resize not in ("", "0", "1"):
        raise BadRequest(i18n.Message(i18n.N_("%(name)s=%(value)s is not a switch; use 1 or 0"),
                                      name="resize", value=repr(resize)))
    args = MultiDict([(k, v) for k, v in request.args.items(multi=True) if k not in CODE_PARAMS])
    options = parse(args, places=atlas.partners.index,
                    provinces=atlas.places["province"].dropna().unique())
    options = options.with_(height=options.height or DEFAULT_HEIGHT)

    def build() -> str:
        titles = {lang: i18n.gettext(lang, TITLE) for lang in LANGS}
        titles[""] = i18n.gettext(page_lang, TITLE)
        src = embed_url(options)
        code_text = snippet(src, title=titles[options.lang or ""], height=options.height,
                            resize=resize == "1")
        partners = []
        for pid, row in atlas.partners.iterrows():
            name, _fb = i18n.pick(page_lang, row["name_en"], row["name_zh"])
            partners.append((pid, name))
        partners.sort(key=lambda p: p[1])
        template = {
            "order": list(NAMES), "integers": ["year_from", "year_to", "height"],
            "height": DEFAULT_HEIGHT, "path": url_for("embed.embed"),
            "embed": external_url("embed.embed"),
            "iframe": snippet("__SRC__", title="__TITLE__", height="__HEIGHT__"),
            "script": snippet("", title="", height=0, resize=True).split("\n", 1)[1],
            "titles": titles,
        }
        return render_template(
            "embed_code.html", options=options, lang=page_lang, ui=ui, resize=resize == "1",
            code=code_text, preview=url_for("embed.embed") + _query(options.query()),
            partners=partners, filters=filter_choices(atlas, page_lang), height_range=HEIGHT_RANGE,
            tiles=TILES, default_height=DEFAULT_HEIGHT, ui_url=_ui_url,
            frame_ancestors=current_app.extensions.get("geomap.frame_ancestors"),
            template_json=Markup(_script_json(template)),
        )

    key = ("embed-code", page_lang, base_url(), resize, options.cache_key())
    return cached(key, build, mimetype="text/html", max_age=300,
                  vary=None if ui else "Accept-Language")


def _ui_url(lang: str) -> str:
    """This builder in another language, the chosen options kept."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "ui" and v != ""]
    return url_for("embed.code") + _query(args + [("ui", lang)])


def _script_json(value) -> str:
    """JSON for a <script type="application/json"> element: nothing in it can end the element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# -- oEmbed --------------------------------------------------------------------------------------

def _one(name: str) -> str | None:
    values = [v for v in request.args.getlist(name) if v != ""]
    if len(values) > 1:
        raise BadRequest(f"{name} given {len(values)} times; give it once")
    return values[0].strip() if values else None


def _dimension(name: str) -> int | None:
    text = _one(name)
    if text is None:
        return None
    pixels = ascii_int(text)
    if pixels is None or not 0 < pixels <= 100_000:
        raise BadRequest(f"{name}={text!r} is not a size; use a whole number of pixels, 1 or more")
    return pixels


def _port(scheme: str, port: int | None) -> int | None:
    return None if port == {"http": 80, "https": 443}.get(scheme) else port


def map_page_options(url: str) -> Options:
    """The options of one of this site's map pages, from its URL; NotFound if it is not one.

    A malformed option in the page's query is an OptionsError (400), as on the page itself.
    """
    base = base_url()
    not_ours = NotFound(f"{url!r} is not a map page of this site; oEmbed answers for "
                        f"{base}, {base}embed and {base}partners/<id>")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise not_ours from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise not_ours
    own = urlsplit(base)
    if (parts.hostname.lower(), _port(parts.scheme, port)) != (own.hostname, _port(own.scheme, own.port)):
        raise not_ours
    path = unquote(parts.path) or "/"
    root = own.path.rstrip("/")
    if root:
        if not (path == root or path.startswith(root + "/")):
            raise not_ours
        path = path[len(root):] or "/"
    adapter = current_app.url_map.bind(own.netloc)
    try:
        endpoint, view_args = adapter.match(path, method="GET")
    except (HTTPException, RequestRedirect):
        raise not_ours from None
    if endpoint not in MAP_ENDPOINTS:
        raise not_ours
    atlas = current_atlas()
    options = parse(MultiDict(parse_qsl(parts.query, keep_blank_values=True)),
                    places=atlas.partners.index, provinces=atlas.places["province"].dropna().unique())
    if endpoint == "pages.partner":
        partner_id = view_args["partner_id"]
        if partner_id not in atlas.partners.index:
            raise NotFound(f"no partner place has the id {partner_id!r}")
        options = options.with_(partner=partner_id)
    return options


@bp.get("/oembed")
def oembed():
    fmt = (_one("format") or "json").lower()
    if fmt == "xml":
        raise NotImplemented501("this provider answers in JSON only: use format=json")
    if fmt != "json":
        raise BadRequest(f"format={fmt!r} is not an oEmbed format; use json")
    url = _one("url")
    if not url:
        raise BadRequest("url is missing: give the address of a map page, e.g. "
                         f"/oembed?url={base_url()}&format=json")
    maxwidth, maxheight = _dimension("maxwidth"), _dimension("maxheight")
    options = map_page_options(url)
    lang = options.lang or i18n.negotiate(request.accept_languages)
    atlas = current_atlas()

    def build() -> bytes:
        title = provider = i18n.gettext(lang, TITLE)
        if options.partner:
            row = atlas.partners.loc[options.partner]
            name, _fb = i18n.pick(lang, row["name_en"], row["name_zh"])
            title = f"{name} · {provider}"
        width = min(OEMBED_WIDTH, maxwidth) if maxwidth else OEMBED_WIDTH
        height = options.height or DEFAULT_HEIGHT
        if maxheight:
            height = min(height, maxheight)
        # The embed's own height follows the frame's; below the option's minimum, it fills it.
        embed_height = height if options.height and height >= HEIGHT_RANGE[0] else None
        src = embed_url(options.with_(height=embed_height))
        body = {
            "version": "1.0", "type": "rich", "title": title,
            "provider_name": provider, "provider_url": external_url("pages.index"),
            "html": snippet(src, title=title, height=height, width=width),
            "width": width, "height": height, "cache_age": 3600,
        }
        return json.dumps(body, ensure_ascii=False).encode("utf-8")

    key = ("oembed", base_url(), lang, maxwidth, maxheight, options.cache_key())
    return cached(key, build, mimetype="application/json", max_age=3600,
                  headers={"Access-Control-Allow-Origin": "*"},
                  vary=None if options.lang else "Accept-Language")


# -- discovery -----------------------------------------------------------------------------------

def page_url(options: Options) -> str:
    """The absolute, canonical URL of the current map page with these options."""
    view_args = dict(request.view_args or {})
    exclude = ("partner", "popup") if "partner_id" in view_args else ()
    return external_url(request.endpoint, **view_args) + _query(options.query(exclude=exclude))


def oembed_link(options: Options) -> Markup:
    """<link rel="alternate" type="application/json+oembed"> for the current map page."""
    href = external_url("embed.oembed") + "?" + urlencode({"url": page_url(options), "format": "json"})
    return Markup('<link rel="alternate" type="application/json+oembed" href="{}" title="oEmbed">').format(href)


def register(app) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["oembed_link"] = oembed_link
