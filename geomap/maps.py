"""Build folium maps from (Atlas, Options): plain functions, no Flask.

folium gives the map, its base layer and controls; the partner layer is drawn by our own
script (static/geomap.js) from a JSON payload, because folium's own elements cannot do what
the map needs: PolyLine drops `interactive`, so lines would steal clicks from markers; Popup
and Tooltip take raw HTML (a backtick or ${...} in a tooltip runs as code); and ten thousand
inlined popups make a page of many megabytes. The script builds each popup on click, as text.

Two ways to carry the data (docs/performance.md has the measurements behind them):
- inline: the whole payload in the page, popups included. Small maps, and `geomap build`'s
  standalone file, which must work from disk with no server to ask.
- loaded: above INLINE_MAX agreements, when a web app serves the page, the page carries only
  settings; the script fetches the drawing data in columns (payload.compact) from the cached
  /api/map.json, and each popup's agreements from /api/map/<partner>.json on click.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Callable

import folium
from branca.element import Figure, MacroElement
from jinja2 import Template

from html import escape as html_escape

from . import assets, payload, tiles as tiles_mod
from .atlas import Atlas
from .options import Options
from .select import select

# Above this many partner places, markers cluster at low zoom.
CLUSTER_ABOVE = 150
# Above this many agreements a served page loads its data instead of inlining it.
INLINE_MAX = 500


@dataclass(frozen=True)
class MapParts:
    """A rendered map in three parts, for a page template to place."""
    header: str   # <link>/<script src> tags and the map's styles, for <head>
    html: str     # the map's <div> and its data, for <body>
    script: str   # the script that draws it, after the body
    data: dict    # the payload drawn, for the page around the map (lists, counts)

    def document(self, title: str = "", lang: str = "en") -> str:
        return (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
                f"<title>{title}</title>\n{self.header}\n</head>\n<body>\n{self.html}\n"
                f"<script>\n{self.script}\n</script>\n</body>\n</html>\n")


class _PartsFigure(Figure):
    """A Figure that renders its header, body and script separately."""

    _template = Template(
        "{{ this.header.render(**kwargs) }}\x00{{ this.html.render(**kwargs) }}\x00"
        "{{ this.script.render(**kwargs) }}"
    )


class PartnerLayer(MacroElement):
    """The partners, Shanghai, their links, names, legend and details, drawn by geomap.js.

    The data and the settings travel as JSON in <script type="application/json"> elements with
    fixed ids (#gm-map-data, #gm-map-settings), which the page's in-place filtering reads from a
    fetched page too; folium's inline script only starts the drawing."""

    _template = Template("""
        {% macro html(this, kwargs) %}
        <script type="application/json" id="gm-map-data">{{ this.data_json }}</script>
        <script type="application/json" id="gm-map-settings">{{ this.settings_json }}</script>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        geomap.start({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, data_json: str, settings_json: str):
        super().__init__()
        self._name = "GeomapPartners"
        # branca compiles every element's rendered HTML as a Jinja template: megabytes of
        # JSON cost seconds there, and text from the query string ("{{") must never be
        # evaluated. Placeholders go through instead, replaced after render.
        self.data_json = DATA_PLACEHOLDER
        self.settings_json = SETTINGS_PLACEHOLDER
        self.real_json = data_json
        self.real_settings = settings_json


DATA_PLACEHOLDER = "@@geomap-data-d41d8cd98f00b204@@"
SETTINGS_PLACEHOLDER = "@@geomap-settings-d41d8cd98f00b204@@"
# folium's header pins the page's zoom (user-scalable=no) and sets a global that Leaflet, loaded
# before it, never reads: pages have their own viewport meta, which lets visitors pinch-zoom.
_FOLIUM_VIEWPORT = re.compile(r'\s*<meta name="viewport"[^>]*>')
_FOLIUM_GLOBALS = re.compile(r"\s*<script>\s*L_NO_TOUCH = [^<]*L_DISABLE_3D = [^<]*</script>")


class MapSource:
    """Where a served page's data comes from when it is not inline: the web app makes the data
    fetchable (geomap.web.pages.WebMapSource) and build_map's caller passes it in."""

    partner_url = "/partners/{id}"

    def publish(self, options: Options, lang: str, gcj02: bool, data: dict) -> dict:
        """Make the data fetchable; return the script's settings (dataUrl, popupUrl)."""
        raise NotImplementedError


def _stable_ids(root) -> None:
    """Replace branca's random element ids with ones derived from position in the tree, so
    the same data and options give byte-identical pages (cacheable, diffable, ETag-able)."""
    counter = itertools.count()

    def walk(el):
        el._id = f"{next(counter):04d}"
        for child in el._children.values():
            walk(child)

    walk(root)


def build_map(atlas: Atlas, options: Options, *, lang: str, tiles_key: str | None = None,
              embed: bool = False, asset_url: Callable[[str], str] = assets.url,
              partner_url: str = "/partners/{id}", height: str = "100%",
              source: MapSource | None = None, clear_url: str | None = None,
              site: str | None = None) -> MapParts:
    """Everything the map shows for these options, rendered.

    The caller decides what the map needs from outside: `source` (the web app's MapSource)
    lets a large map load its data (see the module's docstring), None always inlines it;
    `partner_url` is the partners' page URLs ("" for none); `clear_url` is where "clear the
    filters" leads when nothing matches. `site` keeps only the agreements of that
    Shanghai-side site (its page's map), always inline: the loaded data is the whole map's.
    """
    tiles = tiles_mod.get(options.tiles or tiles_key or tiles_mod.default_key())
    selection = select(atlas, options, partner_filters=False, site=site)
    if site is not None:
        source = None
    loaded = (source is not None and partner_url == source.partner_url
              and selection.agreements["agreement_id"].nunique() > INLINE_MAX)
    data = payload.build(atlas, selection, options, lang=lang, gcj02=tiles.gcj02,
                         partner_url=partner_url, details=not loaded)

    map_options = {}
    if embed:
        # Leaflet.GestureHandling: a plain wheel scrolls the host page, Ctrl/Cmd+wheel zooms,
        # two fingers pan on touch.
        map_options["gestureHandling"] = True
    # Quarter zoom steps: the first view fits the data more tightly than whole steps would.
    m = folium.Map(location=data["center"], zoom_start=8, tiles=None, prefer_canvas=True,
                   control_scale=options.controls, zoom_control=options.controls,
                   height=height, zoom_snap=0.25, **map_options)
    # Per-instance lists: folium's class attributes are shared by every Map (and CDN URLs).
    js, css = (assets.EMBED_JS, assets.EMBED_CSS) if embed else (assets.MAP_JS, assets.MAP_CSS)
    m.default_js = [(name, asset_url(name)) for name in js]
    m.default_css = [(name, asset_url(name)) for name in css]

    folium.TileLayer(tiles=tiles.url, attr=tiles.attribution, name=tiles.key,
                     max_zoom=tiles.max_zoom, subdomains=tiles.subdomains or "abc",
                     detect_retina=False).add_to(m)
    settings = {
        "legend": options.legend, "controls": options.controls, "embed": embed,
        "cluster": len(data["partners"]) > CLUSTER_ABOVE,
        "clearUrl": clear_url or None,
        # What the map says before (or without) its data: loading, failing, nothing matching.
        "labels": payload.state_labels(lang),
    }
    if loaded:
        settings.update(source.publish(options, lang, tiles.gcj02, data))
        settings.update(focus=options.partner, popup=bool(options.popup))
        layer = PartnerLayer("null", payload.to_json(settings))
    else:
        layer = PartnerLayer(payload.to_json(data), payload.to_json(settings))
    m.add_child(layer)

    figure = _PartsFigure()
    figure.add_child(m)
    _stable_ids(figure)
    header, html, script = figure.render().split("\x00")
    if loaded:  # start the data's download before the scripts in <head> have run
        header = (f'<link rel="preload" href="{html_escape(settings["dataUrl"])}" as="fetch" '
                  f'crossorigin="anonymous">\n' + header)
    header = _FOLIUM_GLOBALS.sub("", _FOLIUM_VIEWPORT.sub("", header, count=1), count=1)
    html = html.replace(DATA_PLACEHOLDER, layer.real_json, 1).replace(SETTINGS_PLACEHOLDER, layer.real_settings, 1)
    return MapParts(header, html, script, data)
