"""Locating places: the curated gazetteer first, then offline tables, then (only when asked)
an online geocoder whose answers are cached on disk so later runs reproduce them offline.

Every answer is a Location that records its precision code and where it came from.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Protocol

from ..records import Place


@dataclass(frozen=True)
class Location:
    lon: float
    lat: float
    precision: int
    source: str


class Layer(Protocol):
    name: str

    def locate(self, place: Place) -> Location | None: ...


class Curated:
    """The coordinates a maintainer wrote into places.csv."""

    name = "curated"

    def locate(self, place: Place) -> Location | None:
        if not place.located:
            return None
        return Location(place.lon, place.lat, place.precision or 9, place.source or "places.csv")


def locate(place: Place, layers: Iterable[Layer]) -> Location | None:
    for layer in layers:
        found = layer.locate(place)
        if found is not None:
            return Location(round(found.lon, 6), round(found.lat, 6), found.precision, found.source)
    return None


def offline_layers(data_dir=None) -> list[Layer]:
    """The layers used whenever the data loads: never touches the network."""
    from .offline import AdcodeSeats, GeoNamesCities, Towns
    from .online import CachedOnly

    layers: list[Layer] = [Curated(), Towns(), AdcodeSeats(), GeoNamesCities()]
    if data_dir is not None:
        layers.append(CachedOnly(data_dir))
    return layers
