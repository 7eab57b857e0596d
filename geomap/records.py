"""The record types of geodata/ (spec section 3) and the vocabularies they draw on.

Records are plain frozen dataclasses: load.py builds them and reports problems; nothing
downstream ever sees an invalid record.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

PLACE_KINDS = (
    "municipality", "prefecture-city", "county-city", "district", "county", "zone", "site",
)

# IATI/AidData geographic precision codes, as the spec lists them.
PRECISION_CODES = {
    1: "exact site",
    2: "within 25 km of a known place",
    3: "in a second-order administrative division",
    4: "in a first-order administrative division",
    5: "estimated",
    6: "country",
    7: "unclear",
    8: "seat of an administrative division",
    9: "other",
}

AGREEMENT_TYPES = (
    "sub-center", "strategic-agreement", "framework-agreement", "work-plan", "project", "forum",
)

# The spec's list ends in "...": the last three extend it for the Qingpu-Wujiang-Jiashan
# work plan, whose article names ecology, infrastructure and public services.
SECTORS = (
    "technology-transfer", "advanced-manufacturing", "finance", "biomedicine", "new-materials",
    "new-energy", "port-logistics", "digital-economy", "culture-tourism", "talent",
    "urban-renewal", "healthcare", "ecology", "infrastructure", "public-services",
)

DATE_PRECISIONS = ("day", "month", "year")

PLACE_COLUMNS = (
    "id", "name_en", "name_zh", "kind", "province", "prefecture", "adcode",
    "lon", "lat", "precision", "source",
)

AGREEMENT_KEYS = (
    "id", "title_en", "title_zh", "date", "date_precision", "date_note", "type", "partners",
    "shanghai_site", "parties", "sectors", "value_cny", "summary_en", "summary_zh", "sources",
)


@dataclass(frozen=True)
class Place:
    id: str
    name_en: str
    name_zh: str
    kind: str
    province: str
    prefecture: str
    adcode: str
    lon: float | None
    lat: float | None
    precision: int | None
    source: str
    line: int = 0  # line in places.csv, for messages

    @property
    def located(self) -> bool:
        return self.lon is not None and self.lat is not None


@dataclass(frozen=True)
class Party:
    name: str
    role: str


@dataclass(frozen=True)
class Source:
    publisher: str | None
    title: str
    date: str | None
    url: str | None
    document: str | None


@dataclass(frozen=True)
class Agreement:
    id: str
    title_en: str
    title_zh: str | None
    date: dt.date
    date_precision: str
    date_note: str | None
    type: str
    partners: tuple[str, ...]
    shanghai_site: str
    parties: tuple[Party, ...]
    sectors: tuple[str, ...]
    value_cny: float | None
    summary_en: str
    summary_zh: str | None
    sources: tuple[Source, ...] = field(default_factory=tuple)
    line: int = 0  # line in agreements.yaml where the record starts

    @property
    def year(self) -> int:
        return self.date.year
