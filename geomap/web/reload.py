"""New data in running workers without a restart (GEOMAP_RELOAD_SECONDS; see README "Running in
production").

ReloadingApp is a WSGI app in front of a Flask app built by create_app(). At most every
`interval` seconds a request makes it look at the data files in a background thread; when the
data version differs, that thread builds a whole new app and swaps it in. Each request runs in
one app from start to end, with that app's atlas and render cache: a request never mixes two
versions. Data with problems is logged and the running version kept.

Two races are closed here:

- A reload never misses new data. The files' state (size, modification time) is recorded
  *before* a build, so files that change while a build runs (or fails) are looked at again on
  the next check. And a version is taken only once the files have looked the same twice, a
  `settle` time apart: a copy still being written is left for the next check. (A copy that
  pauses longer than that can still be caught half-way, and a YAML file cut between two items
  is valid YAML: publish data with an atomic rename, as the README says.)
- A reload never leaks the old app. gc.freeze() keeps the long-lived atlas out of the cyclic
  collector's sight (wsgi.py), but a frozen object is never collected. So the new app is
  swapped in first; once the old one's last request is done, everything is unfrozen, collected
  (the old app with it) and frozen again.
"""
from __future__ import annotations

import gc
import logging
import threading
import time
import weakref
from pathlib import Path
from typing import Callable

from flask import Flask

from .. import ConfigError
from ..atlas import data_version, default_data_dir
from ..geocode.online import CACHE_FILE
from ..load import AGREEMENTS_FILE, PLACES_FILE

log = logging.getLogger("geomap.reload")

SETTING = "GEOMAP_RELOAD_SECONDS"
SETTLE_MAX = 2.0      # seconds between the two looks at changed files
DRAIN_SECONDS = 60.0  # how long the old app's last requests may take before it is left to the GC


def parse_interval(value: object) -> float:
    """GEOMAP_RELOAD_SECONDS as seconds; 0 (off) when unset or empty; ConfigError otherwise."""
    text = str(value).strip() if value is not None else ""
    if not text:
        return 0.0
    import re

    if not re.fullmatch(r"[0-9]{1,7}(\.[0-9]{1,3})?", text) or float(text) <= 0:
        raise ConfigError(f"{SETTING}={text!r} is not a number of seconds; write e.g. 60, or leave it "
                          "unset to reload only on restart")
    return float(text)


def serving_app(factory: Callable[[], Flask], environ: dict) -> Callable:
    """The WSGI app a server runs: factory()'s app, behind a ReloadingApp when the environment
    asks for reloads. Raises ConfigError or DataError (the caller prints them as lines)."""
    interval = parse_interval(environ.get(SETTING))
    return ReloadingApp(factory, interval) if interval > 0 else factory()


class ReloadingApp:
    def __init__(self, factory: Callable[[], Flask], interval: float, *, settle: float | None = None,
                 drain: float = DRAIN_SECONDS, data_dir: Path | None = None):
        self.factory = factory
        self.interval = interval
        self.settle = min(interval, SETTLE_MAX) if settle is None else settle
        self.drain = drain
        self._sleep = time.sleep  # a test replaces it to act between the two looks
        guess = Path(data_dir) if data_dir is not None else default_data_dir()
        before = self._file_stamp(guess)
        self.app = factory()
        # The state before the first build, if the app reads the directory we looked at;
        # otherwise none, so that the first check compares data versions.
        self._stamp = before if self._data_dir() == guess else None
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

    @staticmethod
    def _file_stamp(data_dir: Path) -> tuple:
        stamp = []
        for name in (PLACES_FILE, AGREEMENTS_FILE, CACHE_FILE):
            try:
                st = (data_dir / name).stat()
                stamp.append((name, st.st_size, st.st_mtime_ns, st.st_ino))
            except OSError:
                stamp.append((name, None, None, None))
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
        data_dir = self._data_dir()
        stamp = self._stamp
        try:
            stamp = self._file_stamp(data_dir)
            if stamp == self._stamp:
                return False
            # Changed: look again after a moment, and go on only if nothing moved meanwhile.
            self._sleep(self.settle)
            if self._file_stamp(data_dir) != stamp:
                log.info("geomap: data files still changing; looking again in %s s", self.interval)
                return False
            if data_version(data_dir) == self.version:
                self._stamp = stamp
                return False
            started = time.monotonic()
            new = self.factory()
            old_version = self.version
            self._swap(new)
            self._stamp = stamp  # as the files were before the build: a change since is seen next time
            self.reloads += 1
            log.warning("geomap: data %s -> %s reloaded in %.1f s", old_version, self.version,
                        time.monotonic() - started)
            return True
        except Exception as exc:  # bad data or a bug: keep serving what works
            # Not retried until the files change from what this build read.
            self._stamp = stamp
            log.error("geomap: new data not loaded, still serving %s: %s", self.version,
                      str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            return False
        finally:
            self._checked = time.monotonic()
            self._busy.release()

    def _swap(self, new: Flask) -> None:
        """Serve `new` from now on; collect the old app once its last request is done, then
        freeze the survivors again."""
        gone = weakref.ref(self.app)
        self.app = new  # first: from here on no request starts in the old app
        # The old app was frozen with everything else at start-up or at the last reload:
        # give it back to the collector, or it would stay in memory for good.
        gc.unfreeze()
        deadline = time.monotonic() + self.drain
        while True:
            gc.collect()
            if gone() is None:
                gc.freeze()  # the new app is the only one left: out of the collector's sight again
                return
            if time.monotonic() >= deadline:
                # A request still holds it: leave everything to the collector, which frees the
                # old app when that request ends; the next reload freezes again.
                log.warning("geomap: the old app is still in use after %.0f s; left to the garbage "
                            "collector", self.drain)
                return
            self._sleep(0.5)
