"""Response headers that decide who may frame the app, and what its pages may load.

Framing (spec section 7, "Embeds behave"):

- /embed (and its error pages, so a partner sees why a bad snippet fails) and /assets/ may be
  framed by any site. The operator narrows that with GEOMAP_FRAME_ANCESTORS, a list of origins
  separated by spaces or commas (``https://www.example.org, https://*.example.net``), sent as
  CSP ``frame-ancestors 'self' <origins>``. 'self' stays in so that /embed/code can preview.
- Every other route sends ``frame-ancestors 'self'`` and ``X-Frame-Options: SAMEORIGIN``.
  X-Frame-Options ALLOW-FROM is ignored by browsers and never sent.

"Any site" is expressed by sending no frame-ancestors directive at all rather than ``*``: in
CSP ``*`` does not match ancestors such as a file:// page, where a webmaster tries a snippet.

HTML pages also get a content security policy: scripts, styles, frames and fetches from this
site only, images from this site, data: URIs and the tile servers of geomap.tiles. Inline
scripts run only by their sha256 hashes, never by 'unsafe-inline': the response layer hashes
every executable inline <script> of a rendered body (geomap.csp) once, when the body is built
and cached (caching.cached), and any other HTML response (error pages) here. No template or
module needs to know: whatever inline script a page carries is allowed, and nothing else.
Styles likewise: the hashes of the page's <style> elements, no 'unsafe-inline' (Leaflet does not
need it; geomap.csp.style_hashes says why), so no style attribute in a page's markup.

Everything gets X-Content-Type-Options: nosniff and a Referrer-Policy that still tells tile
servers the origin (OpenStreetMap's tile policy asks for it).
"""
from __future__ import annotations

import re

from flask import Flask, request

from .. import ConfigError, csp, tiles as tiles_mod
from ..options import TILES

SETTING = "GEOMAP_FRAME_ANCESTORS"
EMBED_PATHS = ("/embed",)
EMBED_PREFIXES = ("/assets/",)
REFERRER_POLICY = "strict-origin-when-cross-origin"

_HOST = r"(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*"
_IPV6 = r"\[[0-9a-f:.]+\]"
_ORIGIN = re.compile(rf"^(https?)://({_HOST}|{_IPV6})(:(?P<port>[0-9]{{1,5}}|\*))?/?$", re.IGNORECASE)


def parse_frame_ancestors(value: object) -> tuple[str, ...] | None:
    """The other sites that may frame /embed, as CSP source expressions; None for "any site"
    (unset, empty or ``*``); an empty tuple for "this site only" (``self``, ``'self'``, ``none``
    or ``'none'``: the snippet builder's own preview still shows).

    Raises ConfigError naming the entry it cannot read, so the app fails at start-up rather than
    sending a policy the browser would read differently from what the operator meant: a value
    never opens /embed to every site unless it says ``*`` or nothing.
    """
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = " ".join(str(v) for v in value)
    entries = [e for e in re.split(r"[\s,]+", str(value).strip()) if e]
    if not entries or entries == ["*"]:
        return None
    sources: list[str] = []
    nobody = False
    for entry in entries:
        if entry == "*":
            raise ConfigError(f"{SETTING}: '*' (any site) cannot be combined with other origins; "
                             "leave the setting empty for any site, or list the origins only")
        if entry.lower() in ("'self'", "self"):
            continue  # always included
        if entry.lower() in ("'none'", "none"):
            nobody = True
            continue
        match = _ORIGIN.match(entry)
        port = match and match.group("port")
        if not match or (port and port != "*" and not 0 < int(port) < 65536):
            raise ConfigError(
                f"{SETTING}: {entry!r} is not an origin; write scheme://host[:port] with no path, "
                "e.g. https://www.example.org or https://*.example.org, separated by spaces or commas")
        sources.append(entry.rstrip("/").lower())
    if nobody and sources:
        raise ConfigError(f"{SETTING}: 'none' (no other site) cannot be combined with origins; "
                          "write none alone, or list the origins that may frame the embed")
    return tuple(dict.fromkeys(sources))


def is_embed_path(path: str) -> bool:
    return path in EMBED_PATHS or path.startswith(EMBED_PREFIXES)


def content_policy(frame_ancestors: str | None, scripts: tuple[str, ...] = (),
                   styles: tuple[str, ...] = ()) -> str:
    """The policy of an HTML page; `scripts` and `styles` are the hashes of its inline scripts
    and <style> elements."""
    img = ["'self'", "data:"]
    for key in TILES:
        img.extend(f"https://{h}" for h in tiles_mod.get(key).hosts)
    directives = [
        "default-src 'self'",
        " ".join(["script-src 'self'", *scripts]),
        " ".join(["style-src 'self'", *styles]),
        "img-src " + " ".join(dict.fromkeys(img)),
        "connect-src 'self'",
        "font-src 'self' data:",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
    if frame_ancestors:
        directives.append(frame_ancestors)
    return "; ".join(directives)


def inline_sources(body: bytes) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(script hashes, style hashes) of an HTML body, for content_policy()."""
    return csp.script_hashes(body), csp.style_hashes(body)


def register(app: Flask) -> None:
    """Check the setting once, then add the headers to every response."""
    allow = parse_frame_ancestors(app.config.get(SETTING))
    embed_ancestors = "frame-ancestors " + " ".join(("'self'",) + allow) if allow is not None else None
    own_ancestors = "frame-ancestors 'self'"
    app.extensions["geomap.frame_ancestors"] = allow

    @app.after_request
    def security_headers(response):
        embed = is_embed_path(request.path)
        ancestors = embed_ancestors if embed else own_ancestors
        if response.mimetype == "text/html":
            sources = getattr(response, "inline_sources", None)
            if sources is None:
                # Not from the render cache (error pages): hashed here, once per response.
                body = b"" if response.is_streamed or response.direct_passthrough else response.get_data()
                sources = inline_sources(body)
            response.headers["Content-Security-Policy"] = content_policy(ancestors, *sources)
        elif ancestors:
            response.headers["Content-Security-Policy"] = ancestors
        else:
            response.headers.pop("Content-Security-Policy", None)
        if embed:
            response.headers.pop("X-Frame-Options", None)
        else:
            response.headers["X-Frame-Options"] = "SAMEORIGIN"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers.setdefault("Referrer-Policy", REFERRER_POLICY)
        return response
