"""The numbers behind the charts: agreements per year (stacked by the map's type families), and
agreements by sector, by type, and stated amounts by province. Plain functions of a Selection
(geomap.select), no Flask, no drawing: chart_svg.py draws a Chart, templates place it.

Counting rules, the same on every page and equal to what the API gives for the same filters:
- an agreement counts once, however many partner places it has (a Selection has one row per
  (agreement, partner place));
- an agreement with a period (`date_end`) counts in every year it covers, as `select()` keeps it
  for every year it overlaps;
- an agreement with several sectors counts in each of them;
- a stated amount counts once per province its partners lie in, and never twice: a part's amount
  is left out when the agreement it belongs to (`part_of`) is also shown and states a total
  (geomap.amounts, the one place amounts are added up).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import i18n
from .amounts import stated_amounts
from .i18n import N_
from .payload import FAMILIES, FAMILY_ORDER, PROVINCE_LABELS, SECTOR_LABELS, TYPE_FAMILY, TYPE_LABELS, UI
from .select import Selection

TITLES = {
    "years": N_("Agreements per year"),
    "sector": N_("Agreements by sector"),
    "type": N_("Agreements by type"),
    "province": N_("Stated amounts by province"),
}
NOTES = {
    "years": N_("An agreement with a period counts in every year it covers."),
    "sector": N_("An agreement with several sectors counts in each."),
    "type": None,
    "province": N_("Only amounts the sources state; a project's amount is not counted again when its signing states the total."),
}
HEADERS = {  # the hidden table's columns: what a bar is, and what its number is
    "years": (N_("Year"), N_("Agreements")),
    "sector": (N_("Sector"), N_("Agreements")),
    "type": (N_("Type"), N_("Agreements")),
    "province": (N_("Province"), N_("Stated amount")),
}
EMPTY = {
    "years": N_("No agreement matches these filters."),
    "sector": N_("No agreement matches these filters."),
    "type": N_("No agreement matches these filters."),
    "province": N_("No amount is stated for these agreements."),
}


@dataclass(frozen=True)
class Segment:
    """One family's share of a stacked bar, coloured as the map's legend colours it."""
    key: str
    label: str
    color: str
    value: int


@dataclass(frozen=True)
class Bar:
    key: str                 # what a click filters by: a year, a sector or type key, a province
    label: str               # in the page's language
    value: float             # a count, or yuan
    text: str                # the value as printed, in the page's locale: "7", "137亿元"
    segments: tuple[Segment, ...] = ()


@dataclass(frozen=True)
class Chart:
    key: str                 # "years", "sector", "type" or "province": the filter a bar sets
    title: str
    bars: tuple[Bar, ...]
    headers: tuple[str, str]
    note: str | None = None
    empty: str = ""
    series: tuple[Segment, ...] = field(default=())  # the stack's legend (value unused)
    lang: str = "en"

    @property
    def total(self) -> float:
        return sum(b.value for b in self.bars)

    def describe(self) -> str:
        """Every bar and its number as one sentence: the SVG's <desc>, read by screen readers."""
        sep = i18n.gettext(self.lang, UI["list_separator"])
        colon = i18n.gettext(self.lang, UI["label_separator"])
        if not self.bars:
            return self.empty
        parts = []
        for b in self.bars:
            text = f"{b.label}{colon}{b.text}"
            shares = [f"{s.label} {fmt_count(s.value, self.lang)}" for s in b.segments if s.value]
            if len(shares) > 1:
                text += f" ({', '.join(shares)})" if self.lang == "en" else f"（{'，'.join(shares)}）"
            parts.append(text)
        body = sep.join(parts)
        if not self.note:
            return body
        return f"{body}。{self.note}" if self.lang == "zh" else f"{body}. {self.note}"


def fmt_count(n: float, lang: str) -> str:
    return i18n.format_number(int(n), lang)


def agreements_phrase(n: int, lang: str) -> str:
    """ "1 agreement", "7 agreements", "7项协议" """
    if n == 1:
        return i18n.gettext(lang, UI["agreements_one"])
    return i18n.gettext(lang, UI["agreements_many"], n=fmt_count(n, lang))


# -- the agreements a selection shows, once each -------------------------------------------------

def _distinct(selection: Selection) -> pd.DataFrame:
    """One row per agreement of the selection (its first partner row)."""
    a = selection.agreements
    return a.loc[~a["agreement_id"].duplicated().to_numpy()]


def spans(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each row's first and last year: the period's end where one is given, else its date's year."""
    first = frame["year"].to_numpy(dtype="int64")
    if "year_end" in frame.columns:
        last = frame["year_end"].fillna(frame["year"]).to_numpy(dtype="int64")
    else:
        last = first
    return first, np.maximum(first, last)


def year_range(selection: Selection) -> tuple[int, int] | None:
    """The first and last year any agreement covers, or None for no agreement."""
    if selection.agreements.empty:
        return None
    first, last = spans(selection.agreements)
    return int(first.min()), int(last.max())


# -- the charts ----------------------------------------------------------------------------------

def per_year(selection: Selection, lang: str, years: tuple[int, int] | None = None) -> Chart:
    """Agreements in each year of `years` (default: the selection's own), stacked by family."""
    t = lambda s: i18n.gettext(lang, s)  # noqa: E731
    rows = _distinct(selection)
    years = years or year_range(selection)
    series = tuple(Segment(f, t(FAMILIES[f][1]), FAMILIES[f][2], 0) for f in FAMILY_ORDER)
    if years is None:
        return Chart("years", t(TITLES["years"]), (), _headers("years", lang), t(NOTES["years"]),
                     t(EMPTY["years"]), series, lang)
    lo, hi = years
    counts = np.zeros((hi - lo + 1, len(FAMILY_ORDER)), dtype="int64")
    fam_index = {f: i for i, f in enumerate(FAMILY_ORDER)}
    first, last = spans(rows)
    fams = [fam_index[TYPE_FAMILY[x]] for x in rows["type"].tolist()]
    for start, end, fam in zip(first.tolist(), last.tolist(), fams):
        a, b = max(start, lo), min(end, hi)
        if a <= b:
            counts[a - lo:b - lo + 1, fam] += 1
    bars = []
    for i, year in enumerate(range(lo, hi + 1)):
        segs = tuple(Segment(s.key, s.label, s.color, int(counts[i, j])) for j, s in enumerate(series))
        n = int(counts[i].sum())
        bars.append(Bar(str(year), str(year), n, fmt_count(n, lang), segs))
    return Chart("years", t(TITLES["years"]), tuple(bars), _headers("years", lang), t(NOTES["years"]),
                 t(EMPTY["years"]), series, lang)


def _ranked(key: str, counts: dict[str, float], labels: dict[str, str], order, lang: str,
            text=None) -> Chart:
    t = lambda s: i18n.gettext(lang, s)  # noqa: E731
    rank = {k: i for i, k in enumerate(order)}
    keys = sorted((k for k, v in counts.items() if v), key=lambda k: (-counts[k], rank.get(k, len(rank)), k))
    text = text or (lambda v: fmt_count(v, lang))
    bars = tuple(Bar(k, labels.get(k, k), counts[k], text(counts[k])) for k in keys)
    note = t(NOTES[key]) if NOTES[key] else None
    return Chart(key, t(TITLES[key]), bars, _headers(key, lang), note, t(EMPTY[key]), (), lang)


def by_sector(selection: Selection, lang: str) -> Chart:
    counts: dict[str, int] = {}
    for sectors in _distinct(selection)["sectors"].tolist():
        for s in sectors:
            counts[s] = counts.get(s, 0) + 1
    labels = {k: i18n.gettext(lang, v) for k, v in SECTOR_LABELS.items()}
    return _ranked("sector", counts, labels, list(SECTOR_LABELS), lang)


def by_type(selection: Selection, lang: str) -> Chart:
    counts: dict[str, int] = {}
    for atype in _distinct(selection)["type"].tolist():
        counts[atype] = counts.get(atype, 0) + 1
    labels = {k: i18n.gettext(lang, v) for k, v in TYPE_LABELS.items()}
    return _ranked("type", counts, labels, list(TYPE_LABELS), lang)


def amounts_by_province(selection: Selection, lang: str, atlas) -> Chart:
    """Stated yuan per partner province: amounts.stated_amounts() (a part's amount never on top
    of its parent's total), each agreement's amount once in each province its partners lie in."""
    a = selection.agreements
    amounts = stated_amounts(atlas, a["agreement_id"]).to_dict()
    totals: dict[str, float] = {}
    seen: set[tuple[str, str]] = set()
    for aid, province in zip(a["agreement_id"].tolist(), a["province"].tolist()):
        if aid not in amounts or not isinstance(province, str) or (aid, province) in seen:
            continue
        seen.add((aid, province))
        totals[province] = totals.get(province, 0.0) + amounts[aid]
    labels = {p: i18n.gettext(lang, PROVINCE_LABELS.get(p, p)) for p in totals}
    return _ranked("province", totals, labels, list(PROVINCE_LABELS), lang,
                   text=lambda v: i18n.format_amount(v, lang))


def panel(selection: Selection, lang: str, atlas) -> list[Chart]:
    """The small charts of the map page's panel, in the order they are shown."""
    return [by_sector(selection, lang), by_type(selection, lang), amounts_by_province(selection, lang, atlas)]


def _headers(key: str, lang: str) -> tuple[str, str]:
    return tuple(i18n.gettext(lang, h) for h in HEADERS[key])  # type: ignore[return-value]
