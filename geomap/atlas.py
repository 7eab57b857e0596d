"""The Atlas: every view's one source of data, built once per data version and never mutated.

    geodata/ files -> load (records, problems) -> geocode (offline layers) -> Atlas

Four GeoDataFrames in EPSG:4326:
- places:     every located place of the gazetteer;
- agreements: one row per (agreement, partner place), the point at the partner;
- links:      the same rows, a LineString from the Shanghai-side site to the partner;
- partners:   the places that have agreements, with aggregates.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import __version__
from .geocode import locate, offline_layers
from .geocode.offline import PROVINCE_CODES, province_bbox
from .load import AGREEMENTS_FILE, PLACES_FILE, DataError, Problem, Records, load
from .geocode.online import CACHE_FILE

CRS = "EPSG:4326"
PACKAGE_DIR = Path(__file__).resolve().parent


def default_data_dir() -> Path:
    """GEOMAP_DATA_DIR, else the repository's geodata/, else the copy inside an installed wheel."""
    env = os.environ.get("GEOMAP_DATA_DIR")
    if env:
        return Path(env)
    repo = PACKAGE_DIR.parent / "geodata"
    return repo if repo.is_dir() else PACKAGE_DIR / "_bundled" / "geodata"


@dataclass(frozen=True, eq=False)
class Atlas:
    places: gpd.GeoDataFrame
    agreements: gpd.GeoDataFrame
    links: gpd.GeoDataFrame
    partners: gpd.GeoDataFrame
    records: Records
    version: str

    @property
    def place_ids(self) -> frozenset[str]:
        return frozenset(self.places.index)


def data_version(data_dir: Path) -> str:
    """A hash of the data files and the program version: the key of every cache and ETag."""
    h = hashlib.sha256(__version__.encode())
    for name in (PLACES_FILE, AGREEMENTS_FILE, CACHE_FILE):
        path = Path(data_dir) / name
        h.update(name.encode())
        h.update(path.read_bytes() if path.is_file() else b"")
    return h.hexdigest()[:16]


def build(data_dir: Path | None = None) -> Atlas:
    """Load, validate and geocode a data directory into an Atlas; raise DataError on problems."""
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    version = data_version(data_dir)
    records = load(data_dir)
    places = _places_frame(records)
    agreements = _agreements_frame(records, places)
    return Atlas(
        places=places,
        agreements=agreements,
        links=links_of(agreements, places),
        partners=partners_of(agreements, places),
        records=records,
        version=version,
    )


def _places_frame(records: Records) -> gpd.GeoDataFrame:
    layers = offline_layers(records.data_dir)
    rows, problems = [], []
    file = f"{records.data_dir.name}/{PLACES_FILE}"
    for p in records.places:
        loc = locate(p, layers)
        if loc is None:
            problems.append(Problem(file, p.line, p.id, "lon", "no coordinates and no offline gazetteer knows this place; write lon/lat, or run `geomap geocode --online`"))
            continue
        if p.province:
            bbox = province_bbox(p.province)
            if bbox is None:
                problems.append(Problem(file, p.line, p.id, "province", f"{p.province!r} is not a province-level name; use one of {', '.join(PROVINCE_CODES)}"))
                continue
            w, s, e, n = bbox
            if not (w <= loc.lon <= e and s <= loc.lat <= n):
                problems.append(Problem(file, p.line, p.id, "lon", f"({loc.lon}, {loc.lat}) lies outside {p.province} ({w:.2f}..{e:.2f} E, {s:.2f}..{n:.2f} N); check the coordinates or the province"))
                continue
        rows.append({
            "id": p.id, "name_en": p.name_en, "name_zh": p.name_zh or None, "kind": p.kind,
            "province": p.province or None, "prefecture": p.prefecture or None,
            "adcode": p.adcode or None, "lon": loc.lon, "lat": loc.lat,
            "precision": loc.precision, "source": loc.source,
        })
    if problems:
        raise DataError(problems)
    df = pd.DataFrame(rows, columns=["id", "name_en", "name_zh", "kind", "province", "prefecture",
                                     "adcode", "lon", "lat", "precision", "source"])
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.lon, df.lat), crs=CRS).set_index("id", drop=False).rename_axis(None)


AGREEMENT_COLUMNS = [
    "id", "agreement_id", "place_id", "title_en", "title_zh", "date", "date_precision",
    "date_note", "year", "type", "sectors", "value_cny", "parties", "summary_en", "summary_zh",
    "sources", "shanghai_site",
]


def _agreements_frame(records: Records, places: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    rows = []
    for a in records.agreements:
        for pid in a.partners:
            rows.append({
                "id": f"{a.id}@{pid}", "agreement_id": a.id, "place_id": pid,
                "title_en": a.title_en, "title_zh": a.title_zh, "date": a.date.isoformat(),
                "date_precision": a.date_precision, "date_note": a.date_note, "year": a.year,
                "type": a.type, "sectors": a.sectors, "value_cny": a.value_cny,
                "parties": a.parties, "summary_en": a.summary_en, "summary_zh": a.summary_zh,
                "sources": a.sources, "shanghai_site": a.shanghai_site,
            })
    df = pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)
    where = places.reindex(df.place_id)
    df["province"] = where["province"].to_numpy()
    # One lower-cased haystack per row, built once, so text search is a vectorised `in`.
    site_names = places.reindex(df.shanghai_site)
    df["search_text"] = (
        df.title_en + "\n" + df.title_zh.fillna("") + "\n" + df.summary_en + "\n"
        + df.summary_zh.fillna("") + "\n" + where["name_en"].to_numpy() + "\n"
        + where["name_zh"].fillna("").to_numpy() + "\n" + site_names["name_en"].to_numpy() + "\n"
        + df.parties.map(lambda ps: "\n".join(p.name for p in ps))
        + "\n" + df.agreement_id + "\n" + df.place_id
    ).str.casefold()
    return gpd.GeoDataFrame(df, geometry=where.geometry.values, crs=CRS).set_index("id", drop=False).rename_axis(None)


def links_of(agreements: gpd.GeoDataFrame, places: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One LineString per agreement row, from its Shanghai-side site to its partner."""
    start = shapely.get_coordinates(places.geometry.reindex(agreements.shanghai_site).values)
    end = shapely.get_coordinates(agreements.geometry.values)
    lines = shapely.linestrings(np.stack([start, end], axis=1)) if len(agreements) else []
    return gpd.GeoDataFrame(agreements.drop(columns="geometry"), geometry=lines, crs=CRS)


PARTNER_AGGREGATES = ["agreement_count", "first_date", "last_date", "types", "sectors", "agreement_ids"]


def partners_of(agreements: gpd.GeoDataFrame, places: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The places that appear in `agreements`, with counts, date span, types and sectors."""
    if agreements.empty:
        out = places.iloc[0:0].copy()
        for c in PARTNER_AGGREGATES:
            out[c] = pd.Series(dtype=object)
        return out
    # One pass in plain Python: pandas' groupby with per-group lambdas costs ~1 s at 10,000 rows,
    # and select() calls this for every filtered view.
    groups: dict[str, list] = {}
    for pid, date, atype, sectors, aid in zip(
            agreements["place_id"].tolist(), agreements["date"].tolist(), agreements["type"].tolist(),
            agreements["sectors"].tolist(), agreements["agreement_id"].tolist()):
        g = groups.get(pid)
        if g is None:
            groups[pid] = [1, date, date, {atype}, set(sectors), [aid]]
            continue
        g[0] += 1
        if date < g[1]:
            g[1] = date
        if date > g[2]:
            g[2] = date
        g[3].add(atype)
        g[4].update(sectors)
        g[5].append(aid)
    out = places.loc[places.index.isin(list(groups))].copy()
    rows = [groups[pid] for pid in out.index]
    out["agreement_count"] = np.array([g[0] for g in rows], dtype="int64")
    out["first_date"] = [g[1] for g in rows]
    out["last_date"] = [g[2] for g in rows]
    out["types"] = [tuple(sorted(g[3])) for g in rows]
    out["sectors"] = [tuple(sorted(g[4])) for g in rows]
    out["agreement_ids"] = [tuple(g[5]) for g in rows]
    return out.sort_values(["agreement_count", "id"], ascending=[False, True])
