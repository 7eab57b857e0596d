"""The record types of geodata/ (spec section 3) and the vocabularies they draw on.

Records are plain frozen dataclasses: load.py builds them and reports problems; nothing
downstream ever sees an invalid record.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

PLACE_KINDS = (
    "municipality", "prefecture-city", "county-city", "district", "county", "town", "zone", "site",
)
# Kinds whose adcode is the place's own code (rather than that of the unit containing it).
ADMINISTRATIVE_KINDS = ("municipality", "prefecture-city", "county-city", "district", "county")

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

# GB/T 2260 province-level codes by English name (the `province` column): the first two
# digits of every adcode within.
PROVINCE_CODES = {
    "Beijing": "11", "Tianjin": "12", "Hebei": "13", "Shanxi": "14", "Inner Mongolia": "15",
    "Liaoning": "21", "Jilin": "22", "Heilongjiang": "23", "Shanghai": "31", "Jiangsu": "32",
    "Zhejiang": "33", "Anhui": "34", "Fujian": "35", "Jiangxi": "36", "Shandong": "37",
    "Henan": "41", "Hubei": "42", "Hunan": "43", "Guangdong": "44", "Guangxi": "45",
    "Hainan": "46", "Chongqing": "50", "Sichuan": "51", "Guizhou": "52", "Yunnan": "53",
    "Tibet": "54", "Shaanxi": "61", "Gansu": "62", "Qinghai": "63", "Ningxia": "64",
    "Xinjiang": "65",
}
SHANGHAI = "Shanghai"

DATE_PRECISIONS = ("day", "month", "year")

# What an agreement is: signed (the default), announced but not yet signed, or a signed
# statement of intention ("five intentional cooperation projects were also signed").
STATUSES = ("signed", "announced", "intention")
DEFAULT_STATUS = "signed"

PLACE_COLUMNS = (
    "id", "name_en", "name_zh", "kind", "province", "prefecture", "adcode",
    "lon", "lat", "precision", "source",
)

AGREEMENT_KEYS = (
    "id", "title_en", "title_zh", "date", "date_precision", "date_note", "date_note_zh",
    "date_end", "date_end_precision", "status", "part_of", "type", "partners", "shanghai_site",
    "parties", "sectors", "value_cny", "summary_en", "summary_zh", "sources",
)
PARTY_KEYS = ("name", "role", "name_zh", "role_zh")
SOURCE_KEYS = ("publisher", "title", "title_zh", "date", "url", "document")


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
    name_zh: str | None = None
    role_zh: str | None = None


@dataclass(frozen=True)
class Source:
    publisher: str | None
    title: str
    date: str | None       # ISO date, checked by load
    url: str | None
    document: str | None
    title_zh: str | None = None


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
    shanghai_site: tuple[str, ...]  # one place id or several; YAML may give a bare id
    parties: tuple[Party, ...]
    sectors: tuple[str, ...]
    value_cny: float | None
    summary_en: str
    summary_zh: str | None
    sources: tuple[Source, ...] = field(default_factory=tuple)
    line: int = 0  # line in agreements.yaml where the record starts
    date_note_zh: str | None = None
    date_end: dt.date | None = None      # the end of the period the agreement covers
    date_end_precision: str | None = None
    status: str = DEFAULT_STATUS
    part_of: str | None = None           # the id of the agreement this one belongs to

    @property
    def year(self) -> int:
        return self.date.year

    @property
    def year_end(self) -> int:
        """The last year the agreement covers: its period's end, else the year of its date."""
        return self.date_end.year if self.date_end else self.date.year
