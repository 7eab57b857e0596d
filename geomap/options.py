"""Options: the query string (or CLI flags) parsed and checked once, at the edge.

Everything behind the edge takes an Options value, never raw strings. A bad value raises
OptionsError, which the web layer turns into a 400 and the CLI into one line on stderr.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Iterable, Mapping

from .i18n import N_, Message
from .records import AGREEMENT_TYPES, SECTORS, STATUSES

LANGS = ("en", "zh")
TILES = ("osm", "carto-light", "gaode")
YEAR_RANGE = (1949, 2100)
HEIGHT_RANGE = (150, 4000)
MAX_Q = 200
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class OptionsError(ValueError):
    """A malformed or unknown option; the message says which and what is allowed.

    Raised with a catalog message and its values: str(exc) is English (the command line,
    JSON errors); `exc.message.translate(lang)` is the error page's language.
    """

    def __init__(self, msgid: str, **params):
        self.message = Message(msgid, **params)
        super().__init__(str(self.message))


@dataclass(frozen=True)
class Options:
    lang: str | None = None          # None: negotiate from Accept-Language
    partner: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    type: tuple[str, ...] = ()
    sector: tuple[str, ...] = ()
    province: tuple[str, ...] = ()
    status: tuple[str, ...] = ()     # signed, announced, intention; () keeps all
    q: str = ""
    tiles: str | None = None         # None: the operator's default
    controls: bool = True
    legend: bool = True
    height: int | None = None
    popup: bool = False              # open the focused partner's popup on load
    timeline: bool = False           # embeds: the timeline under the map (map pages always have it)

    def with_(self, **changes) -> "Options":
        return replace(self, **changes)

    @property
    def filtered(self) -> bool:
        return bool(self.year_from or self.year_to or self.type or self.sector or self.province
                    or self.status or self.q)

    def query(self, *, exclude: Iterable[str] = ()) -> list[tuple[str, str]]:
        """The options as query-string pairs, defaults left out: the canonical, shareable form."""
        pairs: list[tuple[str, str]] = []
        default = Options()
        for f in fields(self):
            if f.name in exclude:
                continue
            value = getattr(self, f.name)
            if value == getattr(default, f.name):
                continue
            if isinstance(value, tuple):
                pairs.extend((f.name, v) for v in value)
            elif isinstance(value, bool):
                pairs.append((f.name, "1" if value else "0"))
            else:
                pairs.append((f.name, str(value)))
        return pairs

    def cache_key(self) -> tuple:
        return tuple((f.name, getattr(self, f.name)) for f in fields(self))


NAMES = tuple(f.name for f in fields(Options))


def ascii_int(text: str) -> int | None:
    """The whole number that `text` writes in ASCII digits, else None.

    str.isdigit() also accepts "²" and "①", which int() then refuses: a 500 from a query string.
    """
    return int(text) if text and text.isascii() and text.isdigit() else None


def parse(args: Mapping[str, object], *, places: Iterable[str] = (),
          provinces: Iterable[str] = ()) -> Options:
    """Parse a mapping of name -> str or list of str (a MultiDict's lists, or CLI values).

    `places` are the partner ids a `partner` may name; `provinces` the province names known.
    """
    values = {k: _as_list(v) for k, v in _items(args)}
    unknown = sorted(set(values) - set(NAMES))
    if unknown:
        raise OptionsError(N_("unknown parameter %(name)s; the parameters are %(allowed)s"),
                           name=repr(unknown[0]), allowed=", ".join(NAMES))

    def one(name: str) -> str | None:
        vals = [v for v in values.get(name, []) if v != ""]
        if len(vals) > 1:
            raise OptionsError(N_("%(name)s given %(count)s times; give it once"), name=name, count=len(vals))
        return vals[0] if vals else None

    def many(name: str) -> tuple[str, ...]:
        out: list[str] = []
        for v in values.get(name, []):
            out.extend(x.strip() for x in v.split(",") if x.strip())
        return tuple(dict.fromkeys(out))

    opts: dict[str, object] = {}
    lang = one("lang")
    if lang is not None:
        lang = lang.lower()
        if lang not in LANGS:
            raise OptionsError(N_("lang=%(value)s is not a language; use en or zh"), value=repr(lang))
        opts["lang"] = lang

    partner = one("partner")
    if partner is not None:
        known = set(places)
        if partner not in known:
            raise OptionsError(N_("partner=%(value)s is not a partner place id; see /api/partners.geojson for the ids"),
                               value=repr(partner))
        opts["partner"] = partner

    for name in ("year_from", "year_to"):
        text = one(name)
        if text is not None:
            year = ascii_int(text)
            if year is None or not (YEAR_RANGE[0] <= year <= YEAR_RANGE[1]):
                raise OptionsError(N_("%(name)s=%(value)s is not a year; use four digits between %(low)s and %(high)s"),
                                   name=name, value=repr(text), low=YEAR_RANGE[0], high=YEAR_RANGE[1])
            opts[name] = year
    if opts.get("year_from") and opts.get("year_to") and opts["year_from"] > opts["year_to"]:
        raise OptionsError(N_("year_from=%(start)s is after year_to=%(end)s; swap them"),
                           start=opts["year_from"], end=opts["year_to"])

    for name, allowed in (("type", AGREEMENT_TYPES), ("sector", SECTORS), ("status", STATUSES)):
        chosen = many(name)
        for v in chosen:
            if v not in allowed:
                raise OptionsError(N_("%(name)s=%(value)s is not known; use one of %(allowed)s"),
                                   name=name, value=repr(v), allowed=", ".join(allowed))
        opts[name] = chosen

    known_provinces = {p.lower(): p for p in provinces}
    chosen = []
    for v in many("province"):
        if v.lower() not in known_provinces:
            listing = ", ".join(sorted(known_provinces.values())) or "none"
            raise OptionsError(N_("province=%(value)s has no partners; use one of %(allowed)s"),
                               value=repr(v), allowed=listing)
        chosen.append(known_provinces[v.lower()])
    opts["province"] = tuple(chosen)

    q = one("q")
    if q is not None:
        q = " ".join(q.split())
        if len(q) > MAX_Q:
            raise OptionsError(N_("q is %(length)s characters long; search with at most %(max)s"),
                               length=len(q), max=MAX_Q)
        opts["q"] = q

    tiles = one("tiles")
    if tiles is not None:
        if tiles not in TILES:
            raise OptionsError(N_("tiles=%(value)s is not a base map; use one of %(allowed)s"),
                               value=repr(tiles), allowed=", ".join(TILES))
        opts["tiles"] = tiles

    for name in ("controls", "legend", "popup", "timeline"):
        text = one(name)
        if text is not None:
            if text.lower() in _TRUE:
                opts[name] = True
            elif text.lower() in _FALSE:
                opts[name] = False
            else:
                raise OptionsError(N_("%(name)s=%(value)s is not a switch; use 1 or 0"), name=name, value=repr(text))

    height = one("height")
    if height is not None:
        pixels = ascii_int(height[:-2] if height.endswith("px") else height)
        if pixels is None or not (HEIGHT_RANGE[0] <= pixels <= HEIGHT_RANGE[1]):
            raise OptionsError(N_("height=%(value)s is not a height; use pixels from %(low)s to %(high)s"),
                               value=repr(height), low=HEIGHT_RANGE[0], high=HEIGHT_RANGE[1])
        opts["height"] = pixels

    return Options(**opts)


def _items(args: Mapping[str, object]):
    if hasattr(args, "lists"):
        return list(args.lists())
    return list(args.items())


def _as_list(v) -> list[str]:
    if v is None:
        return []
    if isinstance(v, (list, tuple)):
        return [str(x) for x in v]
    return [str(v)]
