"""Read geodata/ into records, collecting every problem with its file, line, record and field.

Loading never stops at the first problem: a maintainer fixing the data wants the whole
list at once, one line per problem, each saying what would fix it.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from .records import (
    AGREEMENT_KEYS, AGREEMENT_TYPES, DATE_PRECISIONS, PLACE_COLUMNS, PLACE_KINDS,
    PRECISION_CODES, SECTORS, Agreement, Party, Place, Source,
)

PLACES_FILE = "places.csv"
AGREEMENTS_FILE = "agreements.yaml"
SOURCES_DIR = "sources"

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ADCODE = re.compile(r"^\d{6}$")
# China's extent, generously: the check is for typos and swapped axes, not borders.
CHINA_LON = (73.0, 135.5)
CHINA_LAT = (18.0, 54.0)


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    record: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.record or '-'}: {self.field or '-'}: {self.message}"


class DataError(Exception):
    """The data directory has problems; str() gives one line per problem."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Records:
    places: tuple[Place, ...]
    agreements: tuple[Agreement, ...]
    data_dir: Path


def load(data_dir: Path) -> Records:
    """Read and validate a data directory; raise DataError listing every problem."""
    data_dir = Path(data_dir)
    problems: list[Problem] = []
    broken: set[str] = set()
    places = _read_places(data_dir, problems, broken)
    agreements = _read_agreements(data_dir, {p.id for p in places}, problems, broken)
    if problems:
        raise DataError(problems)
    return Records(tuple(places), tuple(agreements), data_dir)


# -- places.csv ------------------------------------------------------------------------------

def _display(data_dir: Path, file: str) -> str:
    return f"{data_dir.resolve().name}/{file}"


def _read_places(data_dir: Path, problems: list[Problem], broken: set[str]) -> list[Place]:
    """`broken` collects the ids of rows with problems, so agreements citing them are not
    also told the id is unknown."""
    path = data_dir / PLACES_FILE
    name = _display(data_dir, PLACES_FILE)
    if not path.is_file():
        problems.append(Problem(name, 0, "", "", f"file not found in {data_dir}; create it with the columns {', '.join(PLACE_COLUMNS)}"))
        return []
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(Problem(name, 0, "", "", f"not UTF-8 ({exc.reason} at byte {exc.start}); save the file as UTF-8"))
        return []
    # StringIO, not splitlines(): a value may hold U+2028 and other breaks csv keeps as text.
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in PLACE_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        problems.append(Problem(name, 1, "", ",".join(missing), "missing column(s); the header must be " + ",".join(PLACE_COLUMNS)))
        return []
    places: list[Place] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        p = _place(row, line, name, problems)
        if p is None:
            broken.add((row.get("id") or "").strip())
            continue
        if p.id in seen:
            problems.append(Problem(name, line, p.id, "id", f"duplicate id (first on line {seen[p.id]}); give each place its own id"))
            continue
        seen[p.id] = line
        places.append(p)
    return places


def _place(row: dict, line: int, name: str, problems: list[Problem]) -> Place | None:
    def bad(fld: str, msg: str) -> None:
        problems.append(Problem(name, line, pid or f"(row {line})", fld, msg))

    get = lambda k: (row.get(k) or "").strip()  # noqa: E731
    pid = get("id")
    before = len(problems)
    if not SLUG.match(pid):
        bad("id", f"{pid!r} is not a slug; use lower-case letters, digits and hyphens, e.g. fenhu-hitech-zone")
    if not get("name_en"):
        bad("name_en", "empty; give the English name")
    kind = get("kind")
    if kind not in PLACE_KINDS:
        bad("kind", f"{kind!r} is not a kind; use one of {', '.join(PLACE_KINDS)}")
    adcode = get("adcode")
    if adcode and not ADCODE.match(adcode):
        bad("adcode", f"{adcode!r} is not a 6-digit administrative code; leave it empty if none applies")

    lon = _coordinate(get("lon"), "lon", bad)
    lat = _coordinate(get("lat"), "lat", bad)
    if (lon is None) != (lat is None) and len(problems) == before:
        bad("lon" if lon is None else "lat", "one coordinate without the other; give both lon and lat, or leave both empty for `geomap geocode`")
    if lon is not None and lat is not None:
        _check_in_china(lon, lat, bad)

    precision = None
    if get("precision"):
        try:
            precision = int(get("precision"))
        except ValueError:
            precision = -1
        if precision not in PRECISION_CODES:
            bad("precision", f"{get('precision')!r} is not a precision code; use 1 to 9 (1 exact site, 2 within 25 km, 8 seat of a division)")
            precision = None
    elif lon is not None:
        bad("precision", "empty for a located place; say how exact the coordinates are, 1 to 9")
    if lon is not None and not get("source"):
        bad("source", "empty for a located place; say where the coordinates came from, e.g. 'manual: zone HQ address'")

    if len(problems) > before:
        return None
    return Place(pid, get("name_en"), get("name_zh"), kind, get("province"), get("prefecture"),
                 adcode, lon, lat, precision, get("source"), line)


def _coordinate(text: str, axis: str, bad) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        bad(axis, f"{text!r} is not a number; write WGS-84 decimal degrees such as {'120.58' if axis == 'lon' else '30.03'}")
        return None
    if not math.isfinite(value):
        bad(axis, f"{text!r} is not a finite number; write WGS-84 decimal degrees")
        return None
    if "." in text and len(text.split(".")[1]) > 6:
        bad(axis, f"{text!r} has more than 6 decimals; round to 6 (about 0.1 m)")
        return None
    return value


def _check_in_china(lon: float, lat: float, bad) -> None:
    def inside(x: float, y: float) -> bool:
        return CHINA_LON[0] <= x <= CHINA_LON[1] and CHINA_LAT[0] <= y <= CHINA_LAT[1]

    if inside(lon, lat):
        return
    if inside(lat, lon):
        bad("lon", f"lon={lon} and lat={lat} look swapped; put longitude (73..135 E) in lon and latitude (18..54 N) in lat")
    else:
        bad("lon", f"({lon}, {lat}) lies outside China; check the coordinates are WGS-84 lon/lat in decimal degrees")


# -- agreements.yaml -------------------------------------------------------------------------

# libyaml's parser where PyYAML was built with it (the wheels are): the pure-Python one spends
# about 3 s per thousand agreements, the C one a tenth of that. Both give nodes with marks.
_SafeBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeBase):
    """A safe loader that remembers the line each mapping starts on."""


def _construct_mapping(loader, node, deep=False):
    mapping = _SafeBase.construct_mapping(loader, node, deep=deep)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
# Dates stay text until _date() checks them: YAML's own timestamp parsing would raise a bare
# ValueError for 2019-13-45 instead of a problem naming the record and field.
_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _SafeBase.yaml_implicit_resolvers.items()
}


class _Unusual(Exception):
    """The document uses a YAML feature the fast path leaves to the full loader."""


_STR, _NULL, _BOOL, _INT, _FLOAT = (f"tag:yaml.org,2002:{t}" for t in ("str", "null", "bool", "int", "float"))


def _load_yaml(data: bytes):
    """yaml.load(data, _LineLoader), built from libyaml's events without the node tree.

    PyYAML composes a node per scalar and resolves it in Python, which costs seconds per ten
    thousand agreements; the events alone cost a tenth of that. The plain data the files hold
    (mappings, sequences, scalars) is built here with the loader's own resolvers and scalar
    constructors; a document with tags, anchors, aliases, merge keys, complex keys or several
    documents goes to the full loader, so the result is always the same.
    """
    if not hasattr(yaml, "CSafeLoader"):
        return yaml.load(data, Loader=_LineLoader)
    loader = _LineLoader(data)
    try:
        return _build_from_events(loader)
    except _Unusual:
        return yaml.load(data, Loader=_LineLoader)
    finally:
        loader.dispose()


def _build_from_events(loader):
    from yaml.events import (
        AliasEvent, DocumentEndEvent, DocumentStartEvent, MappingEndEvent, MappingStartEvent,
        ScalarEvent, SequenceEndEvent, SequenceStartEvent, StreamEndEvent, StreamStartEvent,
    )
    from yaml.nodes import ScalarNode

    resolvers = _LineLoader.yaml_implicit_resolvers
    wildcard = resolvers.get(None, [])
    construct = {_NULL: loader.construct_yaml_null, _BOOL: loader.construct_yaml_bool,
                 _INT: loader.construct_yaml_int, _FLOAT: loader.construct_yaml_float}

    def scalar(ev):
        if ev.anchor is not None or ev.tag is not None:
            raise _Unusual
        value = ev.value
        if not ev.implicit[0]:  # quoted, literal or folded: text
            return value
        for tag, rx in resolvers.get(value[0] if value else "", []) + wildcard:
            if rx.match(value):
                if tag == _STR:
                    return value
                if tag not in construct:  # merge key "<<", value "=": the full loader's
                    raise _Unusual
                return construct[tag](ScalarNode(tag, value))
        return value

    get = loader.get_event
    if not isinstance(get(), StreamStartEvent):
        raise _Unusual
    ev = get()
    if isinstance(ev, StreamEndEvent):
        return None
    if not isinstance(ev, DocumentStartEvent):
        raise _Unusual
    # The open collections: [container, pending key or no_key, line].
    stack: list[list] = []
    root = None
    no_key = object()
    while True:
        ev = get()
        cls = type(ev)
        if cls is ScalarEvent:
            value = scalar(ev)
        elif cls is MappingStartEvent or cls is SequenceStartEvent:
            if ev.anchor is not None or ev.tag is not None:
                raise _Unusual
            empty = {} if cls is MappingStartEvent else []
            stack.append([empty, no_key, ev.start_mark.line + 1])
            continue
        elif cls is MappingEndEvent or cls is SequenceEndEvent:
            value, _, line = stack.pop()
            if cls is MappingEndEvent:  # as _construct_mapping does, after the keys
                value["__line__"] = line
        elif cls is DocumentEndEvent:
            break
        elif cls is AliasEvent:
            raise _Unusual
        else:
            raise _Unusual
        if not stack:
            root = value
            continue
        top = stack[-1]
        container = top[0]
        if type(container) is list:
            container.append(value)
        elif top[1] is no_key:
            if cls is not ScalarEvent:  # a mapping or sequence as a key
                raise _Unusual
            top[1] = value
        else:
            container[top[1]] = value
            top[1] = no_key
    if not isinstance(get(), StreamEndEvent):  # several documents: the full loader's error
        raise _Unusual
    return root


def _read_agreements(data_dir: Path, place_ids: set[str], problems: list[Problem],
                     broken: set[str] = frozenset()) -> list[Agreement]:
    path = data_dir / AGREEMENTS_FILE
    name = _display(data_dir, AGREEMENTS_FILE)
    if not path.is_file():
        problems.append(Problem(name, 0, "", "", f"file not found in {data_dir}; create it as a YAML list of agreements"))
        return []
    try:
        data = path.read_bytes()
        data.decode("utf-8")  # the same UnicodeDecodeError as read_text: libyaml's is vaguer
        raw = _load_yaml(data)
    except UnicodeDecodeError as exc:
        problems.append(Problem(name, 0, "", "", f"not UTF-8 ({exc.reason} at byte {exc.start}); save the file as UTF-8"))
        return []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problems.append(Problem(name, line, "", "", f"not valid YAML ({what}); check indentation and quoting"))
        return []
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        problems.append(Problem(name, 1, "", "", "the file must be a YAML list of agreements (each item starting with '- id: ...')"))
        return []

    sources_dir = data_dir / SOURCES_DIR
    _is_file.cache_clear()  # per load: a file added since the last load must be seen
    agreements: list[Agreement] = []
    seen: dict[str, int] = {}
    for item in raw:
        if not isinstance(item, dict):
            problems.append(Problem(name, 0, "", "", f"list item {item!r} is not a mapping; each agreement is a set of 'key: value' lines"))
            continue
        a = _agreement(item, name, place_ids, sources_dir, problems, broken)
        if a is None:
            continue
        if a.id in seen:
            problems.append(Problem(name, a.line, a.id, "id", f"duplicate id (first on line {seen[a.id]}); give each agreement its own id"))
            continue
        seen[a.id] = a.line
        agreements.append(a)
    return agreements


def _agreement(item: dict, name: str, place_ids: set[str], sources_dir: Path,
               problems: list[Problem], broken: set[str]) -> Agreement | None:
    line = item.pop("__line__", 0)
    aid = str(item.get("id") or "")
    before = len(problems)

    def bad(fld: str, msg: str) -> None:
        problems.append(Problem(name, line, aid or f"(item at line {line})", fld, msg))

    unknown = sorted(set(item) - set(AGREEMENT_KEYS))
    for key in unknown:
        bad(key, f"unknown key; the keys are {', '.join(AGREEMENT_KEYS)}")
    if not SLUG.match(aid):
        bad("id", f"{aid!r} is not a slug; use lower-case letters, digits and hyphens")
    title_en = _text(item, "title_en", bad, required=True)
    title_zh = _text(item, "title_zh", bad)
    summary_en = _text(item, "summary_en", bad, required=True)
    summary_zh = _text(item, "summary_zh", bad)
    date_note = _text(item, "date_note", bad)

    date = _date(item.get("date"), bad)
    precision = item.get("date_precision", "day")
    if precision not in DATE_PRECISIONS:
        bad("date_precision", f"{precision!r} is not a date precision; use day, month or year")

    atype = item.get("type")
    if atype not in AGREEMENT_TYPES:
        bad("type", f"{atype!r} is not a type; use one of {', '.join(AGREEMENT_TYPES)}")

    partners = _list(item, "partners", bad)
    if not partners:
        bad("partners", "no partner places; list at least one place id from places.csv")
    for pid in partners:
        if pid not in place_ids and pid not in broken:
            bad("partners", f"unknown place id {pid!r}; add it to places.csv or fix the spelling")
    site = item.get("shanghai_site")
    if site not in place_ids and site not in broken:
        bad("shanghai_site", f"unknown place id {site!r}; use a place id from places.csv such as shanghai")

    sectors = _list(item, "sectors", bad)
    for s in sectors:
        if s not in SECTORS:
            bad("sectors", f"unknown sector {s!r}; use one of {', '.join(SECTORS)}")

    value = item.get("value_cny")
    if value is not None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            bad("value_cny", f"{value!r} is not a number; write the amount in yuan (13700000000) or null")
            value = None
        elif value < 0:
            bad("value_cny", f"{value} is negative; write the amount in yuan, or null where none is stated")

    parties = []
    for p in _list(item, "parties", bad, of=dict):
        extra = sorted(set(p) - {"name", "role", "__line__"}, key=str)
        if extra:
            bad("parties", f"a party has the unknown key(s) {', '.join(map(str, extra))}; each party is "
                           "{name, role} (quote a name that holds a comma)")
        if not str(p.get("name") or "").strip():
            bad("parties", "a party without a name; give each party {name, role}")
        else:
            parties.append(Party(str(p["name"]).strip(), str(p.get("role") or "").strip()))

    sources = []
    for s in _list(item, "sources", bad, of=dict):
        sources.append(_source(s, sources_dir, bad))
    if not sources:
        bad("sources", "no source; cite the article the agreement comes from")

    if len(problems) > before:
        return None
    return Agreement(
        id=aid, title_en=title_en, title_zh=title_zh, date=date, date_precision=precision,
        date_note=date_note, type=atype, partners=tuple(partners), shanghai_site=site,
        parties=tuple(parties), sectors=tuple(sectors),
        value_cny=float(value) if value is not None else None,
        summary_en=summary_en, summary_zh=summary_zh, sources=tuple(sources), line=line,
    )


def _text(item: dict, key: str, bad, required: bool = False) -> str | None:
    value = item.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            bad(key, "empty; this text is required")
        return None
    if not isinstance(value, str):
        bad(key, f"{value!r} is not text; quote it")
        return None
    return value.strip()


def _date(value, bad) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        bad("date", f"{value!r} is not an ISO date; write YYYY-MM-DD (use date_precision for month or year)")
        return dt.date(1, 1, 1)


def _list(item: dict, key: str, bad, of=str) -> list:
    value = item.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, of) for v in value):
        kind = "place ids or tags" if of is str else "mappings"
        bad(key, f"must be a YAML list of {kind}")
        return []
    return [v.strip() if isinstance(v, str) else v for v in value]


@lru_cache(maxsize=4096)
def _is_file(path: Path) -> bool:
    """Many agreements cite the same article: ask the file system once per load."""
    return path.is_file()


def _source(s: dict, sources_dir: Path, bad) -> Source:
    url = s.get("url")
    if url is not None and not re.match(r"^https?://[^\s<>\"']+$", str(url)):
        bad("sources", f"url {url!r} is not an http(s) address; give the article's web address or null")
    doc = s.get("document")
    if doc is not None:
        doc = str(doc)
        if "/" in doc or "\\" in doc or doc.startswith(".") or not _is_file(sources_dir / doc):
            bad("sources", f"document {doc!r} does not exist in {sources_dir.parent.name}/{SOURCES_DIR}/; copy the article there or fix the file name")
    if not str(s.get("title") or "").strip():
        bad("sources", "a source without a title; give the article's headline")
    date = s.get("date")
    return Source(
        publisher=str(s["publisher"]).strip() if s.get("publisher") else None,
        title=str(s.get("title") or "").strip(),
        date=str(date) if date is not None else None,
        url=str(url) if url else None,
        document=doc,
    )
