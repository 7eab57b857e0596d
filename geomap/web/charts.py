"""Charts as the pages show them: the timeline above the map's foot, and the small ranked charts
of the panel and of partner and site pages.

The numbers come from geomap.charts and the drawing from geomap.chart_svg; this module adds what
depends on the request: the link each bar is (the page's own URL with that bar's filter, so
that a click filters with or without JavaScript) and the timeline's settings for
static/geomap/timeline.js.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import request, url_for
from markupsafe import Markup

from .. import chart_svg, charts, i18n
from ..atlas import Atlas
from ..i18n import N_
from ..options import Options
from ..select import Selection, select

LABELS = {
    "heading": N_("Timeline"),
    "play": N_("Play"),
    "pause": N_("Pause"),
    "from": N_("From year"),
    "to": N_("Up to year"),
    "show": N_("%(label)s, %(value)s: show only these"),
    "show_year": N_("%(label)s, %(value)s: show this year"),
    "clear": N_("%(label)s, %(value)s: shown now; show all again"),
    "year": N_("%(y)s"),
    "range": N_("%(a)s–%(b)s"),
    "status": N_("%(years)s: %(count)s"),
    "more": N_("and %(n)s more"),
}


@dataclass(frozen=True)
class Hit:
    """A bar as a link: where it leads, whether its filter is the one applied, its name."""
    key: str
    href: str
    active: bool
    name: str


@dataclass(frozen=True)
class Figure:
    chart: charts.Chart
    svg: Markup
    hits: tuple[Hit, ...]
    id: str


def _t(lang: str, key: str, **values) -> str:
    return i18n.gettext(lang, LABELS[key], **values)


def page_href(options: Options, **changes) -> str:
    """This page's URL with some options changed, in the options' canonical order. A click on
    a chart must not reopen a popup; a partner's or site's own page keeps its id in the path."""
    view_args = request.view_args or {}
    exclude = ("partner",) if "partner_id" in view_args else ()
    query = options.with_(popup=False, **changes).query(exclude=exclude)
    return url_for(request.endpoint, **view_args) + ("?" + urlencode(query) if query else "")


FILTERS = ("year_from", "year_to", "status", "type", "sector", "province", "q")


def unfiltered_href(options: Options) -> str | None:
    """This page without its filters, or None when it has none."""
    if not options.filtered:
        return None
    return page_href(options, **{name: getattr(Options(), name) for name in FILTERS})


def ranked_figure(chart: charts.Chart, options: Options, lang: str, prefix: str) -> Figure:
    current = set(getattr(options, chart.key))
    hits = []
    for bar in chart.bars[:chart_svg.MAX_BARS]:
        active = current == {bar.key}
        name = _t(lang, "clear" if active else "show", label=bar.label, value=bar.text)
        value = () if active else (bar.key,)
        hits.append(Hit(bar.key, page_href(options, **{chart.key: value}), active, name))
    more = _t(lang, "more", n=len(chart.bars) - chart_svg.MAX_BARS)
    return Figure(chart, chart_svg.ranked(chart, prefix, more=more), tuple(hits), f"{prefix}-{chart.key}")


def ranked_figures(atlas: Atlas, selection: Selection, options: Options, lang: str, prefix: str = "gm-chart",
                   keys=("sector", "type", "province")) -> list[Figure]:
    makers = {"sector": charts.by_sector, "type": charts.by_type,
              "province": lambda sel, lang: charts.amounts_by_province(sel, lang, atlas)}
    return [ranked_figure(makers[k](selection, lang), options, lang, prefix) for k in keys]


def years_label(lang: str, first: int, last: int) -> str:
    if first == last:
        return _t(lang, "year", y=first)
    return _t(lang, "range", a=first, b=last)


@dataclass(frozen=True)
class Timeline:
    figure: Figure
    first: int
    last: int
    year_from: int | None
    year_to: int | None
    now: str          # the years shown and their count, as the page first shows them
    ticks: frozenset  # the years the axis names: at most MAX_TICKS, the first and last always
    settings: Markup  # JSON for timeline.js, safe inside <script type="application/json">


def timeline(atlas: Atlas, options: Options, lang: str, *, shown: int) -> Timeline | None:
    """The slider's track and settings; None when the data has no years to move through.

    The track shows every year of the whole data (the slider does not jump as filters change),
    its bars counting what the other filters keep: a year filter would only empty the track.
    `shown` is the number of agreements the page shows (its count).
    """
    span = charts.year_range(Selection(atlas.agreements, atlas.links, atlas.partners))
    if span is None:
        return None
    first, last = span
    unyeared = select(atlas, options.with_(year_from=None, year_to=None), partner_filters=False)
    chart = charts.per_year(unyeared, lang, years=span)
    window = (options.year_from, options.year_to)
    hits = []
    for bar in chart.bars:
        year = int(bar.key)
        active = window == (year, year)
        name = _t(lang, "clear" if active else "show_year", label=bar.label,
                  value=charts.agreements_phrase(int(bar.value), lang))
        href = page_href(options, year_from=None if active else year, year_to=None if active else year)
        hits.append(Hit(bar.key, href, active, name))
    figure = Figure(chart, chart_svg.years(chart, "gm-tl"), tuple(hits), "gm-tl-years")
    lo = max(options.year_from or first, first)
    hi = min(options.year_to or last, last)
    now = _t(lang, "status", years=years_label(lang, lo, hi), count=charts.agreements_phrase(shown, lang))
    settings = {
        "first": first, "last": last, "from": options.year_from, "to": options.year_to,
        "labels": {k: _t(lang, k) for k in ("play", "pause", "from", "to")},
        "formats": {
            "year": i18n.gettext(lang, LABELS["year"]), "range": i18n.gettext(lang, LABELS["range"]),
            "status": i18n.gettext(lang, LABELS["status"]),
            "one": i18n.gettext(lang, charts.UI["agreements_one"]),
            "many": i18n.gettext(lang, charts.UI["agreements_many"]),
        },
        "counts": [int(b.value) for b in chart.bars],
    }
    return Timeline(figure, first, last, options.year_from, options.year_to, now,
                    ticks(first, last), Markup(_json(settings)))


MAX_TICKS = 8


def ticks(first: int, last: int) -> frozenset:
    """Years to name under the track: every k-th from the first, and the last."""
    step = -(-(last - first + 1) // MAX_TICKS)
    named = [y for y in range(first, last + 1) if (y - first) % step == 0]
    if named[-1] != last:
        if last - named[-1] <= step / 2 and len(named) > 1:
            named.pop()
        named.append(last)
    return frozenset(str(y) for y in named)


def _json(value) -> str:
    """JSON for a <script type="application/json"> element: nothing in it can end the element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
