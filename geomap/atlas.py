"""The Atlas: every view's one source of data, built once per data version and never mutated.

    geodata/ files -> load (records, problems) -> geocode (offline layers) -> Atlas

Five GeoDataFrames in EPSG:4326:
- places:     every located place of the gazetteer;
- agreements: one row per (agreement, partner place), the point at the partner; the row
              carries all the agreement's Shanghai-side sites (`shanghai_sites`, a tuple);
- links:      one row per (agreement, Shanghai-side site, partner place), a LineString from
              the site (`shanghai_site`) to the partner; `pair` is the position of its
              agreements row;
- partners:   the places that have agreements, with aggregates;
- sites:      the Shanghai-side places that have agreements, with aggregates.
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
from .geocode.offline import province_bbox
from .geocode.online import CACHE_FILE, CacheError
from .load import AGREEMENTS_FILE, PLACES_FILE, DataError, Problem, Records, load

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
    sites: gpd.GeoDataFrame

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
        sites=sites_of(agreements, places),
    )


def _places_frame(records: Records) -> gpd.GeoDataFrame:
    layers = offline_layers(records.data_dir)
    for layer in layers:  # a broken geocoding cache is a problem even while no place needs it
        try:
            getattr(getattr(layer, "cache", None), "entries", None)
        except CacheError as exc:
            raise DataError([exc.problem]) from None
    rows, problems = [], []
    file = f"{records.data_dir.name}/{PLACES_FILE}"
    for p in records.places:
        try:
            loc = locate(p, layers)
        except CacheError as exc:  # the online geocoder's cache file is broken: say so once
            raise DataError([exc.problem]) from None
        if loc is None:
            problems.append(Problem(file, p.line, p.id, "lon", "no coordinates and no offline gazetteer knows this place; write lon/lat, or run `geomap geocode --online`"))
            continue
        if p.province:
            w, s, e, n = province_bbox(p.province)
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


# The columns of Atlas.agreements (besides geometry, province and search_text):
# - shanghai_sites: all the agreement's Shanghai-side place ids, a tuple (one or more);
# - year, year_end: the first and last year the agreement covers (the same year unless it has
#   a date_end); select() keeps an agreement in every year of that span;
# - date_end, date_end_precision: the period's end (ISO text) or None;
# - status: signed, announced or intention;
# - part_of: the id of the agreement this one belongs to, or None;
# - parts: the ids of the agreements that belong to this one, in the data's order (a tuple).
AGREEMENT_COLUMNS = [
    "id", "agreement_id", "place_id", "title_en", "title_zh", "date", "date_precision",
    "date_note", "date_note_zh", "date_end", "date_end_precision", "year", "year_end", "status",
    "part_of", "parts", "type", "sectors", "value_cny", "parties", "summary_en", "summary_zh",
    "sources", "shanghai_sites",
]


def _agreements_frame(records: Records, places: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    parts: dict[str, list[str]] = {}
    for a in records.agreements:
        if a.part_of:
            parts.setdefault(a.part_of, []).append(a.id)
    rows = []
    for a in records.agreements:
        date_end = a.date_end.isoformat() if a.date_end else None
        own_parts = tuple(parts.get(a.id, ()))
        for pid in a.partners:
            rows.append({
                "id": f"{a.id}@{pid}", "agreement_id": a.id, "place_id": pid,
                "title_en": a.title_en, "title_zh": a.title_zh, "date": a.date.isoformat(),
                "date_precision": a.date_precision, "date_note": a.date_note,
                "date_note_zh": a.date_note_zh, "date_end": date_end,
                "date_end_precision": a.date_end_precision, "year": a.year, "year_end": a.year_end,
                "status": a.status, "part_of": a.part_of, "parts": own_parts,
                "type": a.type, "sectors": a.sectors, "value_cny": a.value_cny,
                "parties": a.parties, "summary_en": a.summary_en, "summary_zh": a.summary_zh,
                "sources": a.sources, "shanghai_sites": a.shanghai_site,
            })
    df = pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)
    df["year"] = df["year"].astype("int64")
    df["year_end"] = df["year_end"].astype("int64")
    where = places.reindex(df.place_id)
    df["province"] = where["province"].to_numpy()
    # One lower-cased haystack per row, built once, so text search is a vectorised `in`.
    site_names = places["name_en"].to_dict()
    df["search_text"] = (
        df.title_en + "\n" + df.title_zh.fillna("") + "\n" + df.summary_en + "\n"
        + df.summary_zh.fillna("") + "\n" + where["name_en"].to_numpy() + "\n"
        + where["name_zh"].fillna("").to_numpy() + "\n"
        + df.shanghai_sites.map(lambda ss: "\n".join(site_names[s] for s in ss)) + "\n"
        + df.parties.map(lambda ps: "\n".join(p.name + ("\n" + p.name_zh if p.name_zh else "") for p in ps))
        + "\n" + df.agreement_id + "\n" + df.place_id
    ).str.casefold()
    return gpd.GeoDataFrame(df, geometry=where.geometry.values, crs=CRS).set_index("id", drop=False).rename_axis(None)


def links_of(agreements: gpd.GeoDataFrame, places: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One LineString per (agreement row, Shanghai-side site): from the site to the partner.

    Ids are `<agreement id>@<partner id>@<site id>`, stable whatever else the data holds;
    `shanghai_site` is the link's own site, `pair` the position of its agreements row.
    """
    sites = agreements["shanghai_sites"].tolist()
    pair = np.repeat(np.arange(len(agreements)), [len(s) for s in sites])
    site = [s for ss in sites for s in ss]
    df = agreements.drop(columns="geometry").iloc[pair].copy()
    df["shanghai_site"] = site
    df["pair"] = pair
    df["id"] = [f"{rid}@{s}" for rid, s in zip(df["id"].tolist(), site)]
    df.index = pd.Index(df["id"].tolist())
    start = shapely.get_coordinates(places.geometry.reindex(site).values)
    end = shapely.get_coordinates(agreements.geometry.values)[pair]
    lines = shapely.linestrings(np.stack([start, end], axis=1)) if len(df) else []
    return gpd.GeoDataFrame(df, geometry=lines, crs=CRS)


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


SITE_AGGREGATES = ["agreement_count", "first_date", "last_date", "agreement_ids", "partner_ids"]


def sites_of(agreements: gpd.GeoDataFrame, places: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The Shanghai-side places of `agreements`: how many agreements each has (counted once
    per agreement, whatever its partners), their date span, and their partner places."""
    groups: dict[str, list] = {}
    for sites, date, aid, pid in zip(agreements["shanghai_sites"].tolist(), agreements["date"].tolist(),
                                     agreements["agreement_id"].tolist(), agreements["place_id"].tolist()):
        for sid in sites:
            g = groups.get(sid)
            if g is None:
                g = groups[sid] = [date, date, {}, {}]
            g[0] = min(g[0], date)
            g[1] = max(g[1], date)
            g[2][aid] = None
            g[3][pid] = None
    out = places.loc[places.index.isin(list(groups))].copy()
    rows = [groups[sid] for sid in out.index]
    out["agreement_count"] = np.array([len(g[2]) for g in rows], dtype="int64")
    out["first_date"] = [g[0] for g in rows]
    out["last_date"] = [g[1] for g in rows]
    out["agreement_ids"] = [tuple(g[2]) for g in rows]
    out["partner_ids"] = [tuple(g[3]) for g in rows]
    return out.sort_values(["agreement_count", "id"], ascending=[False, True])
