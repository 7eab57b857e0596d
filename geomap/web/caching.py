"""Rendered responses cached per (data version, route, options), with strong ETags.

A rendered page is a pure function of (Atlas.version, Options), so the ETag is computed
from that key alone: a 304 costs no rendering at all, and the ETag changes exactly when the
data (or the program) changes. Rendered bytes are cached, never folium objects, because
rendering a folium Map twice appends a second tile layer.
"""
from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from typing import Callable

from flask import Response, current_app, request


class RenderCache:
    """An LRU of rendered bodies bounded by entries and by bytes, safe across threads.

    The byte budget matters at scale: one export of 10,000 agreements is tens of MB, and every
    distinct search string is a distinct key.
    """

    def __init__(self, maxsize: int = 256, max_bytes: int = 256 * 2**20):
        self.maxsize = maxsize
        self.max_bytes = max_bytes
        self.nbytes = 0
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get_or_build(self, key, build: Callable[[], bytes]) -> bytes:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        body = build()  # outside the lock: a slow build must not block cache hits
        if len(body) > self.max_bytes // 4:
            return body  # too big to keep without evicting most of the cache
        with self._lock:
            if key not in self._items:
                self.nbytes += len(body)
            self._items[key] = body
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize or self.nbytes > self.max_bytes:
                _, old = self._items.popitem(last=False)
                self.nbytes -= len(old)
        return body

    def put(self, key, body: bytes) -> None:
        """Store a body built elsewhere (a page builds its map's data as a side effect),
        with its compressed form, which browsers will ask for."""
        self.get_or_build(key, lambda: body)
        self.get_or_build((*key, "gzip"), lambda: gzip_bytes(body))

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.nbytes = 0

    def __len__(self) -> int:
        return len(self._items)


def etag_for(version: str, key: tuple) -> str:
    return hashlib.sha256(repr((version, key)).encode()).hexdigest()[:32]


# Text compresses to a fifth or less; GeoPackages and images are left as they are.
COMPRESSIBLE = ("text/", "application/json", "application/geo+json", "application/javascript")
GZIP_LEVEL = 6


def compressible(mimetype: str) -> bool:
    mimetype = mimetype.split(";")[0].strip()  # application/vnd.oai.openapi+json;version=3.0
    return mimetype.startswith(COMPRESSIBLE) or mimetype.endswith(("+xml", "+json"))


def gzip_bytes(body: bytes) -> bytes:
    """Deterministic gzip (no timestamp): the same body always gives the same bytes."""
    return gzip.compress(body, GZIP_LEVEL, mtime=0)


def cached(key: tuple, build: Callable[[], bytes | str], *, mimetype: str,
           max_age: int = 300, headers: dict | None = None, vary: str | None = None,
           store: bool = True) -> Response:
    """The response for `key`: 304 on a matching If-None-Match, else the body from the render
    cache, built on a miss. store=False builds every time (bodies cheap to build and too many
    to keep, such as one popup per partner) but keeps the ETag and 304s.

    Text goes gzip-compressed to clients that accept it, compressed once and kept beside the
    plain body. The two are different representations: the compressed one's ETag ends in
    "-gzip", and every text response says Vary: Accept-Encoding, so a shared cache keeps them
    apart.
    """
    from . import current_atlas

    version = current_atlas().version
    etag = etag_for(version, key)
    gz = compressible(mimetype) and request.accept_encodings["gzip"] > 0
    if gz:
        etag += "-gzip"
    cache: RenderCache = current_app.extensions["geomap.cache"]

    def build_bytes() -> bytes:
        body = build()
        return body.encode("utf-8") if isinstance(body, str) else body

    built: list[bytes] = []  # a body built for this request when store=False

    def plain() -> bytes:
        if not store:
            if not built:
                built.append(build_bytes())
            return built[0]
        return cache.get_or_build((version, key), build_bytes)

    # If-None-Match compares weakly (RFC 9110): a proxy that gzips turns our tag into W/"...".
    if request.if_none_match.contains_weak(etag):
        resp = Response(status=304)
    else:
        if not store:
            body = gzip_bytes(plain()) if gz else plain()
        elif gz:
            body = cache.get_or_build((version, key, "gzip"), lambda: gzip_bytes(plain()))
        else:
            body = plain()
        resp = Response(body, content_type=_content_type(mimetype))
        if gz:
            resp.headers["Content-Encoding"] = "gzip"
    if mimetype == "text/html":
        # The page's inline scripts and styles, hashed once per body for its content security
        # policy (security.py), kept beside it; a 304 carries the same policy as the 200.
        resp.inline_sources = _inline_sources(cache, (version, key, "csp"), plain, store)
    resp.set_etag(etag)
    resp.headers["Cache-Control"] = f"public, max-age={max_age}"
    if compressible(mimetype):
        resp.vary.add("Accept-Encoding")
    for name in (vary or "").split(","):  # "Accept, Accept-Language": one header name at a time
        if name.strip():
            resp.vary.add(name.strip())
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


def _inline_sources(cache: RenderCache, key: tuple, plain: Callable[[], bytes], store: bool):
    from .security import inline_sources

    if not store:
        return inline_sources(plain())
    packed = cache.get_or_build(key, lambda: "|".join(" ".join(h) for h in inline_sources(plain())).encode())
    scripts, _, styles = packed.decode().partition("|")
    return tuple(scripts.split()), tuple(styles.split())


def _content_type(mimetype: str) -> str:
    """werkzeug's rule for adding a charset, without adding a second one."""
    from werkzeug.utils import get_content_type

    return mimetype if "charset=" in mimetype else get_content_type(mimetype, "utf-8")
