"""Apply Options' filters to the Atlas: the one place filtering happens, for map, API and export."""
from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from .atlas import Atlas, partners_of
from .options import Options


@dataclass(frozen=True, eq=False)
class Selection:
    agreements: gpd.GeoDataFrame
    links: gpd.GeoDataFrame
    partners: gpd.GeoDataFrame


def select(atlas: Atlas, options: Options, *, partner_filters: bool = True,
           site: str | None = None, period: tuple[str | None, str | None] | None = None) -> Selection:
    """The agreements (and their links and partner places) that the options' filters keep.

    On the API and exports `partner` filters; on maps it only focuses the view, so maps call
    this with partner_filters=False and still show the whole network. `site` keeps only the
    agreements of that Shanghai-side site (a site's page), and only its links.

    `period` (the OGC API's datetime) is a pair of ISO dates, first and last day included,
    either None for an open end: an agreement matches when its date, or its period from
    `date` to `date_end`, shares a day with it.
    """
    a = atlas.agreements
    keep = np.ones(len(a), dtype=bool)
    if period is not None:
        keep &= _overlaps(a, *period)
    # An agreement covers the years from `year` to `year_end` (a period's end, else the same
    # year): it is kept when that span overlaps the years asked for.
    if options.year_from:
        keep &= a["year_end"].to_numpy() >= options.year_from
    if options.year_to:
        keep &= a["year"].to_numpy() <= options.year_to
    if options.status:
        keep &= a["status"].isin(options.status).to_numpy()
    if options.type:
        keep &= a["type"].isin(options.type).to_numpy()
    if options.sector:
        wanted = set(options.sector)
        keep &= np.fromiter((not wanted.isdisjoint(s) for s in a["sectors"]), bool, len(a))
    if options.province:
        keep &= a["province"].isin(options.province).to_numpy()
    if options.partner and partner_filters:
        keep &= (a["place_id"] == options.partner).to_numpy()
    if options.q:
        needle = options.q.casefold()
        keep &= a["search_text"].str.contains(needle, regex=False).to_numpy()
    links = atlas.links
    link_keep = keep[links["pair"].to_numpy()]
    if site is not None:
        keep &= np.fromiter((site in s for s in a["shanghai_sites"]), bool, len(a))
        link_keep &= (links["shanghai_site"] == site).to_numpy()
    if keep.all() and link_keep.all():
        return Selection(atlas.agreements, atlas.links, atlas.partners)
    chosen = a[keep]
    return Selection(chosen, links[link_keep], partners_of(chosen, atlas.places))



def _overlaps(a: gpd.GeoDataFrame, start: str | None, end: str | None) -> np.ndarray:
    # ISO dates compare as text.
    first = a["date"].to_numpy(dtype=object)
    last = a["date_end"].fillna(a["date"]).to_numpy(dtype=object) if "date_end" in a else first
    keep = np.ones(len(a), dtype=bool)
    if end is not None:
        keep &= first <= end
    if start is not None:
        keep &= last >= start
    return keep


def intersecting(frame: gpd.GeoDataFrame, bbox: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    """The rows of a layer whose geometry meets a lon/lat box (edges included): a point in it,
    a link that crosses it. A box whose west edge is east of its east edge spans the antimeridian."""
    west, south, east, north = bbox
    if west <= east:
        box = shapely.box(west, south, east, north)
    else:
        box = shapely.union(shapely.box(west, south, 180, north), shapely.box(-180, south, east, north))
    return frame[shapely.intersects(frame.geometry.values, box)]
