"""New data in running workers without a restart (GEOMAP_RELOAD_SECONDS; see README "Running in
production").

ReloadingApp is a WSGI app in front of a Flask app built by create_app(). At most every
`interval` seconds a request makes it look at the data files (their size and modification time;
their hash only when those changed); when the data version differs, a background thread builds a
whole new app and swaps it in. Each request runs in one app from start to end, with that app's
atlas and render cache: a request never mixes two versions, and the old app is dropped once its
last request is done. Data with problems is logged and the running version kept.
"""
from __future__ import annotations

import gc
import logging
import threading
import time
from pathlib import Path
from typing import Callable

from flask import Flask

from ..atlas import data_version
from ..geocode.online import CACHE_FILE
from ..load import AGREEMENTS_FILE, PLACES_FILE

log = logging.getLogger("geomap.reload")


class ReloadingApp:
    def __init__(self, factory: Callable[[], Flask], interval: float):
        self.factory = factory
        self.interval = interval
        self.app = factory()
        self._stamp = self._file_stamp()
        self._checked = time.monotonic()
        self._busy = threading.Lock()
        self.reloads = 0

    @property
    def version(self) -> str:
        return self.app.extensions["geomap.atlas"].version

    def __call__(self, environ, start_response):
        app = self.app  # this request's app, whatever happens meanwhile
        if time.monotonic() - self._checked >= self.interval:
            self.check(wait=False)
        return app(environ, start_response)

    def _data_dir(self) -> Path:
        return Path(self.app.config["GEOMAP_DATA_DIR"])

    def _file_stamp(self) -> tuple:
        stamp = []
        for name in (PLACES_FILE, AGREEMENTS_FILE, CACHE_FILE):
            try:
                st = (self._data_dir() / name).stat()
                stamp.append((name, st.st_size, st.st_mtime_ns))
            except OSError:
                stamp.append((name, None, None))
        return tuple(stamp)

    def check(self, wait: bool = True) -> bool:
        """Look for new data now; True if a new app was swapped in (with wait=True)."""
        if not self._busy.acquire(blocking=False):
            return False  # another request's check is at work
        self._checked = time.monotonic()
        if wait:
            return self._reload()
        threading.Thread(target=self._reload, name="geomap-reload", daemon=True).start()
        return False

    def _reload(self) -> bool:
        try:
            stamp = self._file_stamp()
            if stamp == self._stamp:
                return False
            if data_version(self._data_dir()) == self.version:
                self._stamp = stamp
                return False
            started = time.monotonic()
            new = self.factory()
            gc.collect()
            gc.freeze()  # as wsgi.py does for the first app
            old_version = self.version
            self.app = new
            self._stamp = stamp
            self.reloads += 1
            log.warning("geomap: data %s -> %s reloaded in %.1f s", old_version, self.version,
                        time.monotonic() - started)
            return True
        except Exception as exc:  # bad data or a bug: keep serving what works
            self._stamp = self._file_stamp()  # do not retry until the files change again
            log.error("geomap: new data not loaded, still serving %s: %s", self.version,
                      str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            return False
        finally:
            self._checked = time.monotonic()
            self._busy.release()
