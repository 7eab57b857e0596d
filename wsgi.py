"""The WSGI entry point for a production server: gunicorn wsgi:app

    gunicorn --config gunicorn.conf.py --workers 2 --bind 127.0.0.1:8000 wsgi:app

Each worker builds its own app and atlas from GEOMAP_DATA_DIR and shares nothing mutable with the
others (render caches are per worker; ETags depend only on the data version, so any worker
revalidates any other's). With GEOMAP_RELOAD_SECONDS=N each worker looks for new data at most
every N seconds and swaps in a fresh app when it finds some (geomap.web.reload); otherwise new
data takes a graceful restart (kill -HUP the gunicorn master). README "Running in production".

Broken data or a bad setting prints its lines and exits with gunicorn's "worker failed to boot"
status, so the master stops at once instead of restarting workers that cannot start; no traceback.
"""
import gc
import os
import sys

from geomap import ConfigError
from geomap.load import DataError
from geomap.web import create_app
from geomap.web.reload import serving_app

BOOT_ERROR = 3  # gunicorn's WORKER_BOOT_ERROR: the master shuts down rather than retrying


def _stop(lines: list[str]) -> None:
    for line in lines:
        print(line, file=sys.stderr, flush=True)
    raise SystemExit(BOOT_ERROR)


try:
    app = serving_app(create_app, os.environ)
except DataError as exc:
    n = len(exc.problems)
    _stop([str(p) for p in exc.problems] +
          [f"geomap: error: {n} problem{'s' if n != 1 else ''} in the data; fix the lines above"])
except ConfigError as exc:
    _stop([f"geomap: error: configuration: {exc}"])
except OSError as exc:
    _stop([f"geomap: error: {exc.strerror or exc}{': ' + str(exc.filename) if exc.filename else ''}"])

# The atlas is hundreds of thousands of objects that live as long as the process: out of the
# cyclic collector's sight, a full collection no longer walks them (a cold page at 10,000
# agreements took up to twice as long when one struck), and forked workers share their pages.
# A reload unfreezes, collects the old app and freezes again (geomap.web.reload).
gc.collect()
gc.freeze()
