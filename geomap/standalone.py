"""A standalone HTML map (`geomap build`): one file that works when opened from disk.

build_map() renders the same map as the web app, with placeholder asset URLs; every script and
stylesheet is then inlined, and the images a stylesheet refers to become data: URIs. The file
asks nothing of any host but the tile server, and says so in a content security policy that
allows its inline scripts and styles by their hashes only.
"""
from __future__ import annotations

import base64
import html
import posixpath
import re

from . import assets, csp, i18n, tiles as tiles_mod
from .atlas import Atlas
from .maps import build_map
from .options import Options

_SCHEME = "geomap-asset:"
_SCRIPT = re.compile(r'<script src="geomap-asset:([^"?]+)(?:\?[^"]*)?">\s*</script>')
_STYLE = re.compile(r'<link rel="stylesheet" href="geomap-asset:([^"?]+)(?:\?[^"]*)?"\s*/?>')
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")
_SOURCE_MAP = re.compile(r"^[ \t]*(//|/\*)# sourceMappingURL=[^\n]*$", re.MULTILINE)
TITLE = "Shanghai partnership map"


class StandaloneError(ValueError):
    """An asset the map needs cannot be inlined (a program error, not a user's)."""


def _js(name: str) -> str:
    text = assets.path(name).read_text(encoding="utf-8")
    text = _SOURCE_MAP.sub("", text)
    # Nothing inside may end the <script> element or open an HTML comment in it; in a JS
    # string, regular expression or comment "<\/" and "<\!" mean the same as "</" and "<!".
    text = re.sub(r"</(?=script)", r"<\\/", text, flags=re.IGNORECASE)
    return text.replace("<!--", "<\\!--")


def _data_uri(name: str) -> str:
    mime = assets.media_type(name).split(";")[0]
    return f"data:{mime};base64," + base64.b64encode(assets.path(name).read_bytes()).decode("ascii")


def _css(name: str) -> str:
    text = assets.path(name).read_text(encoding="utf-8")
    text = _SOURCE_MAP.sub("", text)

    def inline(match: re.Match) -> str:
        ref = match.group(2).strip()
        if ref.startswith(("#", "data:")):
            return match.group(0)
        if re.match(r"^[a-z][a-z0-9+.-]*:|^/", ref, re.IGNORECASE):
            raise StandaloneError(f"{name} refers to {ref!r}, which a file on disk cannot load")
        target = posixpath.normpath(posixpath.join(posixpath.dirname(name), ref.split("?")[0].split("#")[0]))
        if target not in assets.FILES:
            raise StandaloneError(f"{name} refers to {ref!r}, which is not among the assets")
        return f'url("{_data_uri(target)}")'

    text = _CSS_URL.sub(inline, text)
    return re.sub(r"</(?=style)", r"\\3c/", text, flags=re.IGNORECASE)


def content_policy(tiles: tiles_mod.Tiles, document: str = "") -> str:
    """Nothing but the document's own inline scripts and styles (by their hashes) and the tiles."""
    img = " ".join(["data:"] + [f"https://{h}" for h in tiles.hosts])
    scripts = " ".join(csp.script_hashes(document)) or "'none'"
    styles = " ".join(csp.style_hashes(document)) or "'none'"
    return (f"default-src 'none'; script-src {scripts}; style-src {styles}; "
            f"img-src {img}; base-uri 'none'; form-action 'none'")


def build_html(atlas: Atlas, options: Options, *, lang: str, tiles_key: str | None = None,
               base_url: str | None = None) -> str:
    """The whole document. `base_url` (the geomap site) makes popups link to partner pages."""
    if base_url:
        partner_url = base_url.rstrip("/") + "/partners/{id}" + ("?lang=" + lang if options.lang else "")
    else:
        partner_url = ""  # no site to link to: geomap.js leaves the link out
    height = f"{options.height}px" if options.height else "100%"
    parts = build_map(atlas, options, lang=lang, tiles_key=tiles_key, embed=False, height=height,
                      asset_url=lambda name: _SCHEME + name, partner_url=partner_url)
    header = _SCRIPT.sub(lambda m: f"<script>\n{_js(m.group(1))}\n</script>", parts.header)
    header = _STYLE.sub(lambda m: f"<style>\n{_css(m.group(1))}\n</style>", header)
    if _SCHEME in header or _SCHEME in parts.html or _SCHEME in parts.script:
        raise StandaloneError("an asset reference was left in the page: " +
                              re.search(r"geomap-asset:[^\"'\s]*", header + parts.html + parts.script).group(0))
    tiles = tiles_mod.get(options.tiles or tiles_key or tiles_mod.default_key())
    title = html.escape(i18n.gettext(lang, TITLE))
    html_lang = "zh-Hans" if lang == "zh" else "en"
    extra = "html, body { height: auto; }\n" if options.height else ""
    head = (f'<!DOCTYPE html>\n<html lang="{html_lang}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n')
    rest = (f'<title>{title}</title>\n<base target="_blank">\n{header}\n'
            f"<style>\n{extra}body {{ margin: 0; }}\n</style>\n</head>\n<body>\n{parts.html}\n"
            f"<script>\n{parts.script}\n</script>\n</body>\n</html>\n")
    # The policy goes first in <head>, so that it governs every script and style after it.
    policy = content_policy(tiles, rest)
    return f'{head}<meta http-equiv="Content-Security-Policy" content="{html.escape(policy)}">\n{rest}'
