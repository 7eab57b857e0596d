"""The WSGI entry point for a production server: gunicorn wsgi:app

    gunicorn --workers 3 --bind 127.0.0.1:8000 wsgi:app

Each worker builds its own app and atlas from GEOMAP_DATA_DIR and shares nothing mutable with the
others (render caches are per worker; ETags depend only on the data version, so any worker
revalidates any other's). With GEOMAP_RELOAD_SECONDS=N each worker looks for new data at most
every N seconds and swaps in a fresh app when it finds some (geomap.web.reload); otherwise new
data takes a graceful restart (kill -HUP the gunicorn master). README "Running in production".
"""
import gc
import os

from geomap.web import create_app

_reload = os.environ.get("GEOMAP_RELOAD_SECONDS", "").strip()
try:
    _interval = float(_reload) if _reload else 0.0
except ValueError:
    raise SystemExit(f"geomap: error: GEOMAP_RELOAD_SECONDS={_reload!r} is not a number of seconds; "
                     "write e.g. 60, or leave it unset to reload only on restart") from None
if _interval > 0:
    from geomap.web.reload import ReloadingApp

    app = ReloadingApp(create_app, _interval)
else:
    app = create_app()

# The atlas is hundreds of thousands of objects that live as long as the process: out of the
# cyclic collector's sight, a full collection no longer walks them (a cold page at 10,000
# agreements took up to twice as long when one struck), and forked workers share their pages.
gc.collect()
gc.freeze()
