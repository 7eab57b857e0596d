"""Rendered responses cached per (data version, route, options), with strong ETags.

A rendered page is a pure function of (Atlas.version, Options), so the ETag is computed
from that key alone: a 304 costs no rendering at all, and the ETag changes exactly when the
data (or the program) changes. Rendered bytes are cached, never folium objects, because
rendering a folium Map twice appends a second tile layer.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Callable

from flask import Response, current_app, request


class RenderCache:
    """A bounded LRU of rendered bodies, safe across threads of one worker."""

    def __init__(self, maxsize: int = 256):
        self.maxsize = maxsize
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get_or_build(self, key, build: Callable[[], bytes]) -> bytes:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        body = build()  # outside the lock: a slow build must not block cache hits
        with self._lock:
            self._items[key] = body
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return body

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


def etag_for(version: str, key: tuple) -> str:
    return hashlib.sha256(repr((version, key)).encode()).hexdigest()[:32]


def cached(key: tuple, build: Callable[[], bytes | str], *, mimetype: str,
           max_age: int = 300, headers: dict | None = None, vary: str | None = None) -> Response:
    from . import current_atlas

    version = current_atlas().version
    etag = etag_for(version, key)
    if request.if_none_match.contains(etag):
        resp = Response(status=304)
    else:
        cache: RenderCache = current_app.extensions["geomap.cache"]

        def build_bytes() -> bytes:
            body = build()
            return body.encode("utf-8") if isinstance(body, str) else body

        resp = Response(cache.get_or_build((version, key), build_bytes), mimetype=mimetype)
    resp.set_etag(etag)
    resp.headers["Cache-Control"] = f"public, max-age={max_age}"
    if vary:
        resp.vary.add(vary)
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp
