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
import weakref
from functools import lru_cache

from . import i18n
from .atlas import Atlas
from .geocode.datum import wgs84_to_gcj02
from .options import Options
from .select import Selection

# People's Square, WGS-84: where an empty map looks when the data has no place at all.
SHANGHAI_LON_LAT = (121.4737, 31.2304)


def N_(message: str) -> str:
    """Mark a string for the catalog; translated where it is shown."""
    return message


# Marker and line colours group the six types into four families a visitor can tell apart:
# the same colour for a family's lines and its share of a partner's disc. Hues after Okabe and
# Ito's palette for colour-blind readers, each at least 3:1 against white and the base maps.
FAMILIES = {
    "sub-center": ("sub-center", N_("Sub-center"), "#a2367a"),
    "agreement": ("agreement", N_("Agreement"), "#0072b2"),
    "project": ("project", N_("Project"), "#c85200"),
    "forum": ("forum", N_("Forum or event"), "#00896a"),
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
    "town": N_("Town or subdistrict"),
    "zone": N_("Development zone"),
    "site": N_("Site"),
}
STATUS_LABELS = {
    "signed": N_("Signed"),
    "announced": N_("Announced, not yet signed"),
    "intention": N_("Intention"),
}
# Names that collide on the map give way in this order after their number of agreements.
KIND_RANK = {k: i for i, k in enumerate(
    ("municipality", "prefecture-city", "county-city", "district", "county", "town", "zone", "site"))}
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
    "shanghai_sites": N_("Shanghai-side sites"),
    "status": N_("Status"),
    "parts": N_("Parts"),
    "part_of": N_("Part of"),
    # Leaflet's zoom buttons (titles, read aloud), and the punctuation between items and after
    # labels, which differs in Chinese ("、", "；", "："), for the browser script.
    # The map's symbols, read aloud: "Shaoxing, prefecture-level city, 7 agreements".
    "marker_name": N_("%(name)s, %(kind)s, %(count)s"),
    "stack_one": N_("%(name)s and 1 more place close by: show both"),
    "stack_many": N_("%(name)s and %(n)s more places close by: show each"),
    "cluster_name": N_("%(n)s places: zoom in"),
    "close": N_("Close"),
    "partners": N_("Partners"),
    "site_more": N_("All agreements of this site"),
    "load_error": N_("The agreements could not be loaded."),
    "legend_colour": N_("Colour: type of agreement"),
    "legend_mixed": N_("Several types: shared among their colours"),
    "legend_size": N_("Size: number of agreements"),
    "legend_stack": N_("Places close together: select to spread them out"),
    "zoom_in": N_("Zoom in"),
    "zoom_out": N_("Zoom out"),
    "list_separator": N_("; "),
    "label_separator": N_(": "),
}


# What the map says before or without its data (maps.py puts these in the map's settings).
STATE_UI = {
    "loading": N_("Loading the map…"),
    "error": N_("The map's data could not be loaded."),
    "retry": N_("Try again"),
    "empty": N_("No agreement matches these filters."),
    "clear": N_("Clear the filters"),
}


def state_labels(lang: str) -> dict:
    return {k: i18n.gettext(lang, v) for k, v in STATE_UI.items()}


def family_of(types) -> str:
    fams = {TYPE_FAMILY[t] for t in types}
    return next(f for f in FAMILY_ORDER if f in fams)


def _source(s, lang: str) -> dict:
    url = s.url if s.url and re.match(r"^https?://", s.url) else None
    title, fallback = i18n.pick(lang, s.title, s.title_zh)
    return {"title": title, "tfb": fallback, "publisher": s.publisher, "date": s.date, "url": url}


def _party(p, lang: str) -> tuple[str, bool]:
    """A party as "name (role)" in `lang`, and whether it fell back to English. In Chinese a
    party shows in Chinese only when its name, and its role if it has one, are both given."""
    if lang == "zh" and p.name_zh and (p.role_zh or not p.role):
        return (f"{p.name_zh}（{p.role_zh}）" if p.role_zh else p.name_zh), False
    return (f"{p.name} ({p.role})" if p.role else p.name), lang == "zh"


def site_url(partner_url: str) -> str:
    """A Shanghai-side site's page URL pattern from a partner page's ("/partners/{id}" ->
    "/sites/{id}", with the same host and query); "" where partners have no pages either."""
    return partner_url.replace("/partners/{id}", "/sites/{id}") if "/partners/{id}" in partner_url else ""


def _text(value) -> str | None:
    """A text cell, or None: pandas' string columns hold NaN (truthy, and not JSON) for None."""
    return value if isinstance(value, str) and value else None


def _pick(lang: str, en, zh) -> tuple[str, bool]:
    return i18n.pick(lang, _text(en), _text(zh))


@lru_cache(maxsize=4096)
def _date(iso: str, precision: str, lang: str, end: str | None = None, end_precision: str | None = None) -> str:
    """The date, or the period "2018–2020" / "2018年—2020年", each end to its precision."""
    if not isinstance(end, str) or not end:
        return i18n.format_agreement_date(iso, precision, lang)
    return i18n.format_period(iso, precision, end, end_precision or precision, lang)


def _point(gcj02: bool):
    def point(lon: float, lat: float) -> list[float]:
        if gcj02:
            lon, lat = wgs84_to_gcj02(lon, lat)
        return [round(lat, 6), round(lon, 6)]
    return point


def build(atlas: Atlas, selection: Selection, options: Options, *, lang: str, gcj02: bool,
          partner_url: str = "/partners/{id}", details: bool = True) -> dict:
    """The dict the browser script draws: partners, Shanghai-side sites, agreements, labels.

    With details=False each agreement carries only what drawing needs (id, iso date, family,
    partner and site indices) and the key of its first row; details() fills in the rest for
    the few agreements a page lists or a popup shows. Drawing data for 10,000 agreements costs
    tens of milliseconds that way, against seconds of per-row date and amount formatting.
    """
    t = lambda s: i18n.gettext(lang, s)  # noqa: E731
    places = atlas.places
    point = _point(gcj02)

    partners = selection.partners
    p_index = {pid: i for i, pid in enumerate(partners.index)}
    kinds = {k: t(v) for k, v in KIND_LABELS.items()}
    out_partners = []
    # Columns as lists: iterating a pandas string column directly costs ~10 µs a value.
    for pid, name_en, name_zh, kind, lon, lat, types, n in zip(*(
            col.tolist() for col in (partners.index, partners["name_en"], partners["name_zh"], partners["kind"],
                                     partners["lon"], partners["lat"], partners["types"],
                                     partners["agreement_count"]))):
        name, fallback = _pick(lang, name_en, name_zh)
        out_partners.append({
            "id": pid, "name": name, "fb": fallback, "ll": point(lon, lat),
            "kind": kinds[kind], "rank": KIND_RANK.get(kind, len(KIND_RANK)), "fam": family_of(types), "n": int(n),
            "url": partner_url.format(id=pid),
        })

    agreements = selection.agreements
    site_lists = agreements["shanghai_sites"].tolist()
    site_ids = list(dict.fromkeys(sid for sites in site_lists for sid in sites))
    s_index = {sid: i for i, sid in enumerate(site_ids)}
    s_url = site_url(partner_url)
    out_sites = []
    for sid in site_ids:
        row = places.loc[sid]
        name, fallback = _pick(lang, row["name_en"], row["name_zh"])
        out_sites.append({"id": sid, "name": name, "fb": fallback, "ll": point(row["lon"], row["lat"]),
                          "url": s_url.format(id=sid) if s_url else None})

    out_agreements = []
    by_id: dict[str, dict] = {}
    for key, aid, pid, sites, atype, iso, y0, y1, status in zip(*(
            col.tolist() for col in (agreements.index, agreements["agreement_id"], agreements["place_id"],
                                     agreements["shanghai_sites"], agreements["type"], agreements["date"],
                                     agreements["year"], agreements["year_end"], agreements["status"]))):
        entry = by_id.get(aid)
        if entry is not None:  # one agreement, several partners: one entry, several links
            entry["p"].append(p_index[pid])
            continue
        # s: the indices of its Shanghai-side sites (a link from each to each partner);
        # years: the first and last year it covers; status: signed, announced or intention.
        entry = by_id[aid] = {"id": aid, "iso": iso, "fam": TYPE_FAMILY[atype],
                              "p": [p_index[pid]], "s": [s_index[sid] for sid in sites],
                              "years": [y0, y1], "status": status, "_row": key}
        out_agreements.append(entry)
    if details:
        add_details(atlas, out_agreements, lang)
        for entry in out_agreements:
            del entry["_row"]

    # Shanghai, the map's subject: always drawn, the strongest symbol, named (the hub).
    hub_row = places.loc["shanghai"] if "shanghai" in places.index else places.iloc[0] if len(places) else None
    if hub_row is not None:
        center = point(hub_row["lon"], hub_row["lat"])
        hub_name, hub_fallback = _pick(lang, hub_row["name_en"], hub_row["name_zh"])
        hub = {"id": str(hub_row.name), "name": hub_name, "fb": hub_fallback, "ll": center}
    else:  # no place at all (valid, empty data): an empty map centred on Shanghai
        center = point(*SHANGHAI_LON_LAT)
        hub = None
    labels = {k: t(v) for k, v in UI.items()}
    labels["families"] = [{"key": f, "label": t(FAMILIES[f][1]), "color": FAMILIES[f][2]} for f in FAMILY_ORDER]
    return {
        "lang": lang,
        "center": center,
        "hub": hub,
        "partners": out_partners,
        "sites": out_sites,
        "agreements": out_agreements,
        "focus": p_index.get(options.partner) if options.partner else None,
        "popup": bool(options.popup),
        "labels": labels,
    }


def agreement_details(row, lang: str, atlas: Atlas | None = None) -> dict:
    """An agreement's display fields in `lang`, from one row of Atlas.agreements.

    Each text that fell back to English says so: tfb (title), sfb (summary), nfb (date note),
    pfb (the indices of the parties shown in English), and each source's tfb. With the atlas,
    `part_of` and `parts` name the related agreements ({id, title, tfb, partner}).
    """
    t = lambda s: i18n.gettext(lang, s)  # noqa: E731
    title, title_fb = _pick(lang, row.title_en, row.title_zh)
    summary, summary_fb = _pick(lang, row.summary_en, row.summary_zh)
    note, note_fb = _pick(lang, row.date_note, row.date_note_zh)
    parties = [_party(p, lang) for p in row.parties]
    out = {
        "title": title, "tfb": title_fb,
        "date": _date(row.date, row.date_precision, lang, row.date_end, row.date_end_precision),
        "iso": row.date, "note": note or None, "nfb": note_fb and bool(note),
        "type": t(TYPE_LABELS[row.type]), "fam": TYPE_FAMILY[row.type],
        "status": row.status, "status_label": t(STATUS_LABELS[row.status]),
        "parties": [text for text, _ in parties], "pfb": [i for i, (_, fb) in enumerate(parties) if fb],
        "sectors": [t(SECTOR_LABELS[s]) for s in row.sectors],
        "amount": i18n.format_amount(row.value_cny, lang),
        "summary": summary, "sfb": summary_fb,
        "sources": [_source(s, lang) for s in row.sources],
    }
    if atlas is not None:
        out["part_of"] = _related(atlas, row.part_of, lang) if _text(row.part_of) else None
        out["parts"] = [_related(atlas, aid, lang) for aid in row.parts]
    return out


def _related(atlas: Atlas, agreement_id: str, lang: str) -> dict:
    """Another agreement, for a link to it: its title and its (first) partner's page."""
    row = atlas.agreements.loc[_first_row(atlas)[agreement_id]]
    title, fallback = _pick(lang, row["title_en"], row["title_zh"])
    return {"id": agreement_id, "title": title, "tfb": fallback, "partner": row["place_id"]}


def _first_row(atlas: Atlas) -> dict[str, str]:
    """agreement id -> the key of its first Atlas.agreements row (made once per Atlas)."""
    found = _FIRST_ROWS.get(atlas)
    if found is None:
        a = atlas.agreements
        found = _FIRST_ROWS[atlas] = dict(zip(a["agreement_id"].tolist()[::-1], a.index.tolist()[::-1]))
    return found


_FIRST_ROWS: "weakref.WeakKeyDictionary[Atlas, dict[str, str]]" = weakref.WeakKeyDictionary()


def add_details(atlas: Atlas, entries: list[dict], lang: str) -> list[dict]:
    """Fill in the display fields of agreement entries made by build(details=False)."""
    todo = [e for e in entries if "title" not in e and "_row" in e]
    if todo:
        rows = atlas.agreements.loc[[e["_row"] for e in todo]]
        for entry, row in zip(todo, rows.itertuples()):
            details = agreement_details(row, lang, atlas)
            drawing = {k: entry[k] for k in ("p", "s", "years", "_row")}
            aid = entry["id"]
            entry.clear()  # in place, the keys in the order they always had
            entry.update(id=aid, **details, **drawing)
    return entries


def popup(atlas: Atlas, selection: Selection, partner_id: str, *, lang: str) -> dict:
    """One partner's agreements for its popup, newest first: what the browser fetches on a click
    when the page carries only the drawing data (compact())."""
    rows = selection.agreements
    rows = rows[rows["place_id"].to_numpy() == partner_id]
    places = atlas.places
    out = []
    separator = i18n.gettext(lang, UI["list_separator"])
    for row in rows.itertuples():
        entry = {"id": row.agreement_id, **agreement_details(row, lang, atlas)}
        names = [_pick(lang, places.at[sid, "name_en"], places.at[sid, "name_zh"])[0] for sid in row.shanghai_sites]
        entry["site"] = separator.join(names)  # all its Shanghai-side sites, in one text
        entry["sites"] = list(row.shanghai_sites)
        out.append(entry)
    out.sort(key=lambda a: a["iso"], reverse=True)
    return {"partner": partner_id, "agreements": out}


def compact(data: dict, partner_url: str = "/partners/{id}") -> dict:
    """build(details=False)'s dict in columns, for a large map: about a tenth of the bytes.

    Partners become parallel lists, agreements [family, [site...], first year, last year,
    status, partner...] rows sorted newest first, and the repeated strings (kinds, families,
    statuses) indices into small tables. geomap.js turns it back into the shape build() gives.
    """
    partners = data["partners"]
    kinds = list(dict.fromkeys(p["kind"] for p in partners))
    k_index = {k: i for i, k in enumerate(kinds)}
    fams = list(FAMILY_ORDER)
    f_index = {f: i for i, f in enumerate(fams)}
    statuses = list(STATUS_LABELS)
    st_index = {st: i for i, st in enumerate(statuses)}
    newest = sorted(range(len(data["agreements"])), key=lambda i: data["agreements"][i]["iso"], reverse=True)
    return {
        "format": "compact-2",
        "lang": data["lang"],
        "center": data["center"],
        "hub": data["hub"],
        "kinds": kinds,
        "fams": fams,
        "statuses": statuses,
        "partners": {
            "id": [p["id"] for p in partners],
            "name": [p["name"] for p in partners],
            "fb": [i for i, p in enumerate(partners) if p["fb"]],
            "lat": [p["ll"][0] for p in partners],
            "lon": [p["ll"][1] for p in partners],
            "kind": [k_index[p["kind"]] for p in partners],
            "rank": [p["rank"] for p in partners],
            "fam": [f_index[p["fam"]] for p in partners],
            "n": [p["n"] for p in partners],
        },
        "url": partner_url or None,  # "{id}" stands for the partner's id
        "sites": data["sites"],
        # Newest first, as popups list them: [family, [site...], year, last year, status, partner...]
        "agreements": [[f_index[a["fam"]], a["s"], *a["years"], st_index[a["status"]], *a["p"]]
                       for a in (data["agreements"][i] for i in newest)],
        "labels": data["labels"],
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
