"""The map's data as the browser receives it: display strings in one language, and JSON that is
safe to embed in an HTML page.

This is where data meets the page. Nothing here is HTML: the browser script (static/geomap.js)
puts every value into the DOM as text (textContent), never as markup, and only http(s) URLs
become links. The JSON itself is escaped so that no value can close the <script> element it
travels in.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache

from . import i18n
from .atlas import Atlas
from .geocode.datum import wgs84_to_gcj02
from .options import Options
from .select import Selection


def N_(message: str) -> str:
    """Mark a string for the catalog; translated where it is shown."""
    return message


# Marker and line styles group the six types into four families a visitor can tell apart.
FAMILIES = {
    "sub-center": ("sub-center", N_("Sub-center"), "#7b3294"),
    "agreement": ("agreement", N_("Agreement"), "#2166ac"),
    "project": ("project", N_("Project"), "#e66101"),
    "forum": ("forum", N_("Forum or event"), "#1b7837"),
}
TYPE_FAMILY = {
    "sub-center": "sub-center", "strategic-agreement": "agreement",
    "framework-agreement": "agreement", "work-plan": "agreement", "project": "project",
    "forum": "forum",
}
FAMILY_ORDER = ("sub-center", "agreement", "project", "forum")

TYPE_LABELS = {
    "sub-center": N_("Sub-center"),
    "strategic-agreement": N_("Strategic agreement"),
    "framework-agreement": N_("Framework agreement"),
    "work-plan": N_("Work plan"),
    "project": N_("Project"),
    "forum": N_("Forum"),
}
SECTOR_LABELS = {
    "technology-transfer": N_("Technology transfer"),
    "advanced-manufacturing": N_("Advanced manufacturing"),
    "finance": N_("Finance"),
    "biomedicine": N_("Biomedicine"),
    "new-materials": N_("New materials"),
    "new-energy": N_("New energy"),
    "port-logistics": N_("Port and logistics"),
    "digital-economy": N_("Digital economy"),
    "culture-tourism": N_("Culture and tourism"),
    "talent": N_("Talent"),
    "urban-renewal": N_("Urban renewal"),
    "healthcare": N_("Healthcare"),
    "ecology": N_("Ecology"),
    "infrastructure": N_("Infrastructure"),
    "public-services": N_("Public services"),
}
KIND_LABELS = {
    "municipality": N_("Municipality"),
    "prefecture-city": N_("Prefecture-level city"),
    "county-city": N_("County-level city"),
    "district": N_("District"),
    "county": N_("County"),
    "zone": N_("Development zone"),
    "site": N_("Site"),
}
# Provinces as places.csv names them (province column, English); shown in the visitor's language.
PROVINCE_LABELS = {
    "Shanghai": N_("Shanghai"),
    "Jiangsu": N_("Jiangsu"),
    "Zhejiang": N_("Zhejiang"),
    "Anhui": N_("Anhui"),
}
UI = {
    "agreements_one": N_("1 agreement"),
    "agreements_many": N_("%(n)s agreements"),
    "parties": N_("Parties"),
    "sectors": N_("Sectors"),
    "amount": N_("Amount"),
    "sources": N_("Sources"),
    "date_note": N_("Date note"),
    "more": N_("All agreements and sources"),
    "fallback": N_("English only"),
    "signed_at": N_("Shanghai side"),
    "legend": N_("Legend"),
    "link": N_("Link to the Shanghai-side site"),
    "shanghai_site": N_("Shanghai-side site"),
    # Leaflet's zoom buttons (titles, read aloud), and the punctuation between items and after
    # labels, which differs in Chinese ("、", "；", "："), for the browser script.
    "zoom_in": N_("Zoom in"),
    "zoom_out": N_("Zoom out"),
    "list_separator": N_("; "),
    "label_separator": N_(": "),
}


def family_of(types) -> str:
    fams = {TYPE_FAMILY[t] for t in types}
    return next(f for f in FAMILY_ORDER if f in fams)


def _source(s) -> dict:
    url = s.url if s.url and re.match(r"^https?://", s.url) else None
    return {"title": s.title, "publisher": s.publisher, "date": s.date, "url": url}


@lru_cache(maxsize=4096)
def _date(iso: str, precision: str, lang: str) -> str:
    return i18n.format_agreement_date(iso, precision, lang)


def build(atlas: Atlas, selection: Selection, options: Options, *, lang: str, gcj02: bool,
          partner_url: str = "/partners/{id}") -> dict:
    """The dict the browser script draws: partners, Shanghai-side sites, agreements, labels."""
    t = lambda s: i18n.gettext(lang, s)  # noqa: E731
    places = atlas.places

    def point(lon: float, lat: float) -> list[float]:
        if gcj02:
            lon, lat = wgs84_to_gcj02(lon, lat)
        return [round(lat, 6), round(lon, 6)]

    partners = selection.partners
    p_index = {pid: i for i, pid in enumerate(partners.index)}
    out_partners = []
    for row in partners.itertuples():
        name, fallback = i18n.pick(lang, row.name_en, row.name_zh)
        out_partners.append({
            "id": row.id, "name": name, "fb": fallback, "ll": point(row.lon, row.lat),
            "kind": t(KIND_LABELS[row.kind]), "fam": family_of(row.types), "n": int(row.agreement_count),
            "url": partner_url.format(id=row.id),
        })

    agreements = selection.agreements
    site_ids = list(dict.fromkeys(agreements["shanghai_site"]))
    s_index = {sid: i for i, sid in enumerate(site_ids)}
    out_sites = []
    for sid in site_ids:
        row = places.loc[sid]
        name, fallback = i18n.pick(lang, row["name_en"], row["name_zh"])
        out_sites.append({"id": sid, "name": name, "fb": fallback, "ll": point(row["lon"], row["lat"])})

    out_agreements = []
    by_id: dict[str, int] = {}
    for row in agreements.itertuples():
        i = by_id.get(row.agreement_id)
        if i is not None:  # one agreement, several partners: one entry, several links
            out_agreements[i]["p"].append(p_index[row.place_id])
            continue
        title, title_fb = i18n.pick(lang, row.title_en, row.title_zh)
        summary, summary_fb = i18n.pick(lang, row.summary_en, row.summary_zh)
        by_id[row.agreement_id] = len(out_agreements)
        out_agreements.append({
            "id": row.agreement_id, "title": title, "tfb": title_fb,
            "date": _date(row.date, row.date_precision, lang), "iso": row.date,
            "note": row.date_note, "type": t(TYPE_LABELS[row.type]), "fam": TYPE_FAMILY[row.type],
            "parties": [f"{p.name} ({p.role})" if p.role else p.name for p in row.parties],
            "sectors": [t(SECTOR_LABELS[s]) for s in row.sectors],
            "amount": i18n.format_amount(row.value_cny, lang),
            "summary": summary, "sfb": summary_fb,
            "sources": [_source(s) for s in row.sources],
            "p": [p_index[row.place_id]], "s": s_index[row.shanghai_site],
        })

    shanghai = places.loc["shanghai"] if "shanghai" in places.index else places.iloc[0]
    labels = {k: t(v) for k, v in UI.items()}
    labels["families"] = [{"key": f, "label": t(FAMILIES[f][1]), "color": FAMILIES[f][2]} for f in FAMILY_ORDER]
    return {
        "lang": lang,
        "center": point(shanghai["lon"], shanghai["lat"]),
        "partners": out_partners,
        "sites": out_sites,
        "agreements": out_agreements,
        "focus": p_index.get(options.partner) if options.partner else None,
        "popup": bool(options.popup),
        "labels": labels,
    }


_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
           "\u2029": "\\u2029", "{": "\\u007b"}


def to_json(payload: dict) -> str:
    """JSON for a <script type="application/json"> element inside a folium page.

    Two contexts: HTML, where "</script>" (or "<!--") in a value would end the element; and
    branca, which compiles each element's rendered HTML as a Jinja template, so "{{", "{%" or
    "{#" in a value would be evaluated on the server. Both are escaped as JSON \\u escapes,
    which JSON.parse turns back into the same text. A structural "{" is never followed by
    "{", "%" or "#", so only braces inside strings change.
    """
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return re.sub("[<>&\u2028\u2029]|\\{(?=[{%#])", lambda m: _UNSAFE[m.group()], text)
