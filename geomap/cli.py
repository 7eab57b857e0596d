"""The `geomap` command: thin wrappers over the functions the web views call.

Every failure is one clear line on stderr and a non-zero exit, never a traceback.
"""
from __future__ import annotations

import csv
import io
import os
import signal
import sys
import threading
from functools import wraps
from pathlib import Path

import click

from . import ConfigError, atlas as atlas_mod
from .layers import FORMATS, LAYERS
from .load import PLACES_FILE, DataError
from .options import OptionsError, parse
from .records import AGREEMENT_TYPES, PRECISION_CODES, SECTORS, STATUSES

EXIT_DATA = 1
EXIT_USAGE = 2


def _fail(message: str, code: int = EXIT_DATA):
    click.echo(f"geomap: error: {message}", err=True)
    sys.exit(code)


def friendly(fn):
    """Turn the errors a user can cause into one line each."""
    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except DataError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            n = len(exc.problems)
            _fail(f"{n} problem{'s' if n != 1 else ''} in the data; fix the lines above")
        except OptionsError as exc:
            _fail(str(exc), EXIT_USAGE)
        except ConfigError as exc:
            _fail(f"configuration: {exc}", EXIT_USAGE)
        except OSError as exc:
            _fail(f"{exc.strerror or exc}{': ' + str(exc.filename) if exc.filename else ''}")
        except click.exceptions.Exit:
            raise
        except Exception as exc:  # a bug: still one line, with the traceback on request
            if os.environ.get("GEOMAP_DEBUG"):
                raise
            _fail(f"internal error: {type(exc).__name__}: {exc} (set GEOMAP_DEBUG=1 for the traceback)")
    return wrapper


def _data_dir() -> Path:
    return atlas_mod.default_data_dir()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="geomap")
def main():
    """geomap: Shanghai's cooperation agreements on a map.

    Every command reads the data directory named by GEOMAP_DATA_DIR (default: geodata/).
    """
    # A terminated command (SIGTERM: kill, systemd, a CI timeout) unwinds like Ctrl-C, so that
    # an export removes its temporary files and a server closes its socket on the way out.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminated)


def _terminated(signum, frame):
    raise SystemExit(128 + signum)


# waitress: requests are read whole by its I/O thread before a worker thread sees them, so slow
# clients cost a socket each, not a worker. Settings are those of a public server.
SERVER_THREADS = 4
MAX_BODY = 1 << 20  # the app takes GET only: no reason to buffer large bodies


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="0 picks a free port (the line printed at start names it).")
@click.option("--dev", is_flag=True,
              help="Flask's development server, restarting when the code changes (never in production).")
@friendly
def serve(host: str, port: int, dev: bool):
    """Run the web app on waitress, a production WSGI server (--dev: Flask's reloader)."""
    from .web import create_app
    from .web.origins import PROXY_FIX, parse_proxy_fix
    from .web.reload import serving_app

    if dev:
        app = create_app({"TEMPLATES_AUTO_RELOAD": True})
        click.echo(f"geomap: development server for {app.config['GEOMAP_DATA_DIR']} at http://{host}:{port}/", err=True)
        app.run(host=host, port=port, debug=False, use_reloader=True)
        return
    import logging

    import waitress

    app = serving_app(create_app, os.environ)
    proxies = parse_proxy_fix(os.environ.get(PROXY_FIX))
    # Reload and server warnings (geomap.reload, waitress) go to stderr.
    logging.basicConfig(format="%(asctime)s %(name)s %(levelname)s: %(message)s", level=logging.WARNING)
    server = waitress.create_server(
        app, host=host, port=port, threads=SERVER_THREADS, max_request_body_size=MAX_BODY,
        # Forwarded headers reach the app (its ProxyFix) only when GEOMAP_PROXY_FIX trusts them.
        clear_untrusted_proxy_headers=not proxies, expose_tracebacks=False,
    )
    data_dir = os.environ.get("GEOMAP_DATA_DIR") or atlas_mod.default_data_dir()
    click.echo(f"geomap: serving {data_dir} at http://{host}:{server.effective_port}/ "
               f"(waitress, {SERVER_THREADS} threads)", err=True)
    try:
        server.run()
    except KeyboardInterrupt:
        click.echo("geomap: stopped", err=True)
    finally:
        server.close()


@main.command()
@friendly
def validate():
    """Check geodata/ and say exactly what is wrong and where.

    Beyond what loading checks, every located place is tested against the boundary of the
    unit its adcode names, when the geotool-cn package is installed (geomap.geocode.counties).
    """
    from .geocode.counties import check_counties

    data_dir = _data_dir()
    atlas = atlas_mod.build(data_dir)
    located = dict(zip(atlas.places.index, zip(atlas.places["lon"].tolist(), atlas.places["lat"].tolist())))
    counties = check_counties(atlas.records, located)
    if counties.problems:
        raise DataError(counties.problems)
    click.echo(f"{data_dir}: {len(atlas.places)} places, {len(atlas.records.agreements)} agreements, "
               f"{len(atlas.agreements)} agreement-partner pairs: OK")
    click.echo(counties.summary())


@main.command()
@click.option("--online", is_flag=True, help="Also ask the online geocoder (geopy/Nominatim) for places no offline gazetteer knows; answers are cached in the data directory.")
@click.option("--write", is_flag=True, help="Write the coordinates found into places.csv.")
@friendly
def geocode(online: bool, write: bool):
    """Locate places lacking coordinates and report each with its precision and source."""
    from .geocode import locate, offline_layers
    from .geocode.online import CacheError, Online, Unreachable
    from .load import load

    data_dir = _data_dir()
    records = load(data_dir)
    layers = offline_layers(data_dir)
    if online:
        layers.append(Online(data_dir))
    todo = [p for p in records.places if not p.located]
    if not todo:
        click.echo("every place has coordinates; nothing to geocode")
        return
    found = {}
    unreached = 0
    for i, place in enumerate(todo, 1):
        prefix = f"[{i}/{len(todo)}] {place.id}:"
        try:
            loc = locate(place, layers)
        except CacheError as exc:
            raise DataError([exc.problem]) from None
        except Unreachable as exc:
            unreached += 1
            click.echo(f"{prefix} could not reach the online geocoder ({exc}); run again with a "
                       "network, or write lon/lat by hand", err=True)
            continue
        if loc is None:
            click.echo(f"{prefix} not found; write lon/lat by hand" + ("" if online else " or try --online"))
            continue
        found[place.id] = loc
        click.echo(f"{prefix} {loc.lon:.6f}, {loc.lat:.6f} precision {loc.precision} "
                   f"({PRECISION_CODES[loc.precision]}) from {loc.source}")
    if write and found:
        _write_locations(data_dir / PLACES_FILE, found)
        click.echo(f"wrote {len(found)} location(s) to {data_dir / PLACES_FILE}")
    missing = len(todo) - len(found)
    if unreached:
        _fail(f"{missing} place(s) not located, {unreached} of them because the online geocoder could not be reached")
    if missing:
        _fail(f"{missing} place(s) not located")


def _write_locations(path: Path, found: dict) -> None:
    from .layers import write_atomic

    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    fieldnames = list(rows[0].keys()) if rows else []
    for row in rows:
        loc = found.get(row["id"].strip())
        if loc is not None:
            row.update(lon=f"{loc.lon:.6f}".rstrip("0").rstrip("."), lat=f"{loc.lat:.6f}".rstrip("0").rstrip("."),
                       precision=str(loc.precision), source=loc.source)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fieldnames, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(out.getvalue().encode("utf-8"), path)


def filter_options(fn):
    """The filters of spec section 6, as flags shared by the commands that take them."""
    opts = [
        click.option("--partner", help="Only this partner place id."),
        click.option("--year-from", "year_from", help="Earliest year."),
        click.option("--year-to", "year_to", help="Latest year."),
        click.option("--type", "type_", multiple=True, help=f"Agreement type: {', '.join(AGREEMENT_TYPES)}."),
        click.option("--sector", multiple=True, help=f"Sector tag: {', '.join(SECTORS)}."),
        click.option("--province", multiple=True, help="Province of the partner, e.g. Zhejiang."),
        click.option("--status", multiple=True, help=f"Agreement status: {', '.join(STATUSES)}."),
        click.option("--q", help="Text search in titles, summaries, names and parties."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def _options(atlas, **flags):
    args = {k: v for k, v in flags.items() if v not in (None, (), "")}
    if "type_" in args:
        args["type"] = args.pop("type_")
    return parse(args, places=atlas.partners.index, provinces=atlas.places["province"].dropna().unique())


@main.command()
@click.option("--layer", required=True, type=click.Choice(LAYERS))
@click.option("--format", "fmt", default="geojson", show_default=True, type=click.Choice(FORMATS),
              help="geojson, csv, gpkg (GeoPackage), kml, parquet (GeoParquet 1.1) or fgb (FlatGeobuf).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: standard output).")
@filter_options
@friendly
def export(layer: str, fmt: str, output: Path | None, **filters):
    """Write a layer as GeoJSON, CSV, GeoPackage, KML, GeoParquet or FlatGeobuf."""
    from .layers import render, write_atomic
    from .select import select

    atlas = atlas_mod.build(_data_dir())
    options = _options(atlas, **filters)
    data = render(atlas, select(atlas, options), layer, fmt)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        write_atomic(data, output)
        click.echo(f"wrote {output} ({len(data):,} bytes)", err=True)


@main.command()
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The HTML file to write, e.g. map.html.")
@click.option("--lang", help="Language of the map: en or zh (default en).")
@click.option("--tiles", help="Base map: osm, carto-light or gaode (default: GEOMAP_DEFAULT_TILES, else osm).")
@click.option("--controls/--no-controls", default=True, show_default=True, help="Zoom buttons and scale.")
@click.option("--legend/--no-legend", default=True, show_default=True, help="The legend.")
@click.option("--height", help="Map height in pixels (default: the whole window).")
@click.option("--popup", is_flag=True, help="Open the --partner's popup when the map opens.")
@click.option("--base-url", help="The geomap site's address (https://...): popups then link to its partner pages.")
@filter_options
@friendly
def build(output: Path, lang: str | None, tiles: str | None, controls: bool, legend: bool,
          height: str | None, popup: bool, base_url: str | None, **filters):
    """Write a standalone HTML map that works when opened from disk (on --partner it focuses)."""
    import re

    from .layers import write_atomic
    from .standalone import build_html

    if base_url is not None and not re.match(r"^https?://[^/\s?#]+(/[^\s?#]*)?$", base_url):
        _fail(f"--base-url {base_url!r} is not a web address; write https://host[/path]", EXIT_USAGE)
    folder = output.parent if str(output.parent) else Path(".")
    if not folder.is_dir():
        _fail(f"no directory {str(folder)!r} to write {output.name} into; create it first")
    atlas = atlas_mod.build(_data_dir())
    options = _options(atlas, lang=lang, tiles=tiles, height=height, controls="1" if controls else "0",
                       legend="1" if legend else "0", popup="1" if popup else None, **filters)
    if options.popup and not options.partner:
        _fail("--popup opens the --partner's popup: name a --partner too", EXIT_USAGE)
    click.echo(f"geomap: drawing {len(atlas.records.agreements):,} agreements into {output}...", err=True)
    data = build_html(atlas, options, lang=options.lang or "en", base_url=base_url).encode("utf-8")
    write_atomic(data, output)
    click.echo(f"wrote {output} ({len(data):,} bytes); it works opened from disk, and asks only for map tiles", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
