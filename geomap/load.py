"""Read geodata/ into records, collecting every problem with its file, line, record and field.

Loading never stops at the first problem: a maintainer fixing the data wants the whole
list at once, one line per problem, each saying what would fix it. Whatever shape the files
take (a mapping where a list belongs, a list where text belongs, YAML anchors, a CSV row with
too many values, a file that is a symbolic link loop), the answer is a Problem, never an
exception from deeper down. Each problem's line is the line of the field itself.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from .records import (
    AGREEMENT_KEYS, AGREEMENT_TYPES, DATE_PRECISIONS, DEFAULT_STATUS, PARTY_KEYS, PLACE_COLUMNS,
    PLACE_KINDS, PRECISION_CODES, PROVINCE_CODES, SECTORS, SHANGHAI, SOURCE_KEYS, STATUSES,
    Agreement, Party, Place, Source,
)

PLACES_FILE = "places.csv"
AGREEMENTS_FILE = "agreements.yaml"
SOURCES_DIR = "sources"

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ADCODE = re.compile(r"^\d{6}$")
# China's extent, generously: the check is for typos and swapped axes, not borders.
CHINA_LON = (73.0, 135.5)
CHINA_LAT = (18.0, 54.0)
# csv's own limit on one field; past it the rest of the file is usually one unclosed quote.
CSV_FIELD_LIMIT = csv.field_size_limit()
# At most this many lines about YAML anchors, aliases and tags; then one line says how many more.
MAX_YAML_ISSUES = 20


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    record: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return _one_line(f"{where}: {self.record or '-'}: {self.field or '-'}: {self.message}")


_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def _one_line(text: str) -> str:
    """Line breaks and other control characters (from a key or an id) shown escaped."""
    return _BREAKS.sub(lambda m: repr(m.group())[1:-1], text)


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
    if not data_dir.is_dir():
        what = _missing(data_dir, "directory")
        raise DataError([Problem(str(data_dir), 0, "", "", f"the data directory {what}; "
                                 "point GEOMAP_DATA_DIR at a directory holding places.csv and agreements.yaml")])
    broken: set[str] = set()
    places = _read_places(data_dir, problems, broken)
    by_id = {p.id: p for p in places or ()}
    # With places.csv unreadable as a whole, every place id would be "unknown": say nothing of them.
    agreements = _read_agreements(data_dir, by_id, problems, ALL if places is None else broken)
    if problems:
        raise DataError(problems)
    return Records(tuple(places or ()), tuple(agreements), data_dir)


class _All(frozenset):
    """Contains everything: the broken place ids when places.csv cannot be read at all."""

    def __contains__(self, item) -> bool:
        return True


ALL = _All()


def _missing(path: Path, what: str) -> str:
    """Why `path` cannot be read as a `what`, in words."""
    if path.is_symlink():
        try:
            os.stat(path)
        except OSError as exc:
            if exc.errno == 40:  # ELOOP
                return "is a symbolic link loop (it leads back to itself)"
        return f"is a symbolic link to {os.readlink(path)!r}, which does not exist"
    if path.exists():
        return f"is not a {what}"
    return "does not exist"


def _display(data_dir: Path, file: str) -> str:
    # realpath, not Path.resolve(): it never raises, even on a symbolic link loop.
    return f"{os.path.basename(os.path.realpath(data_dir)) or data_dir}/{file}"


def _short(value, limit: int = 60) -> str:
    """A value for a message: its repr, cut short (a value may be megabytes of text)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 5] + "…" + text[-4:]


def _shape(value) -> str:
    """What a YAML value is, in a maintainer's words."""
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return f"true/false ({'true' if value else 'false'})"
    if isinstance(value, (int, float)):
        return f"a number ({_short(value)})"
    if isinstance(value, dict):
        return "a mapping (key: value lines)"
    if isinstance(value, list):
        return "a list"
    return _short(value)


# -- dates -----------------------------------------------------------------------------------

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_ISO_LIKE = re.compile(r"^(\d{1,4})-(\d{1,2})-(\d{1,2})$")


def parse_date(value) -> dt.date:
    """An ISO date (YYYY-MM-DD) from a YAML value; ValueError saying what is wrong and the fix."""
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list, float)):
        raise ValueError(f"{_shape(value)} is not a date; write YYYY-MM-DD")
    if isinstance(value, int):
        raise ValueError(f"{value} is not a full date; write YYYY-MM-DD "
                         f"(for a year only: {value:04d}-01-01 with precision year)")
    text = str(value).strip()
    m = _ISO_LIKE.match(text)
    if not m:
        if re.match(r"^\d{4}-\d{2}$", text):
            raise ValueError(f"{text!r} has no day; write {text}-01 and give the precision as month")
        if re.match(r"^\d{4}$", text):
            raise ValueError(f"{text!r} is a year only; write {text}-01-01 and give the precision as year")
        raise ValueError(f"{_short(text)} is not an ISO date; write YYYY-MM-DD")
    year, month, day = (int(g) for g in m.groups())
    if len(m.group(1)) != 4 or len(m.group(2)) != 2 or len(m.group(3)) != 2:
        raise ValueError(f"{text!r}: write the year with four digits and month and day with two: "
                         f"{year:04d}-{month:02d}-{day:02d}")
    if not 1 <= month <= 12:
        raise ValueError(f"{text!r}: month {month} does not exist; months run from 01 to 12")
    if year < 1:
        raise ValueError(f"{text!r}: year {year} does not exist")
    try:
        return dt.date(year, month, day)
    except ValueError:
        days = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
        raise ValueError(f"{text!r}: day {day} does not exist; {_MONTHS[month - 1]} {year} has {days} days") from None


# -- places.csv ------------------------------------------------------------------------------

def _read_text(path: Path, name: str, problems: list[Problem], create_hint: str) -> str | None:
    if not path.is_file():
        why = _missing(path, "file")
        hint = "replace the link with the file itself" if path.is_symlink() else create_hint
        problems.append(Problem(name, 0, "", "", f"the file {why}; {hint}"))
        return None
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(Problem(name, 0, "", "", f"not UTF-8 ({exc.reason} at byte {exc.start}); save the file as UTF-8"))
    except OSError as exc:
        problems.append(Problem(name, 0, "", "", f"cannot be read ({exc.strerror}); check its permissions"))
    return None


def _read_places(data_dir: Path, problems: list[Problem], broken: set[str]) -> list[Place] | None:
    """`broken` collects the ids of rows with problems, so agreements citing them are not
    also told the id is unknown. None when the file cannot be read as a whole."""
    name = _display(data_dir, PLACES_FILE)
    text = _read_text(data_dir / PLACES_FILE, name, problems,
                      f"create it with the columns {','.join(PLACE_COLUMNS)}")
    if text is None:
        return None
    # StringIO, not splitlines(): a value may hold U+2028 and other breaks csv keeps as text.
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = _csv_rows(reader, name, problems)
    if not rows:
        if not problems:
            problems.append(Problem(name, 1, "", "", "empty; the first line must be the header " + ",".join(PLACE_COLUMNS)))
        return None
    header_line, header = rows[0][0], [h.strip() for h in rows[0][1]]
    missing = [c for c in PLACE_COLUMNS if c not in header]
    unknown = [c for c in header if c not in PLACE_COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        what = []
        if missing:
            what.append("missing column(s) " + ",".join(missing))
        if unknown:
            what.append("unknown column(s) " + ",".join(_short(c, 30) for c in unknown))
        if len(set(header)) != len(header):
            what.append("a column given twice")
        field = missing[0] if missing else (_short(unknown[0], 30).strip("'") if unknown else "-")
        problems.append(Problem(name, header_line, "", field,
                                "; ".join(what) + "; the header must be " + ",".join(PLACE_COLUMNS)))
        return None
    places: list[Place] = []
    seen: dict[str, int] = {}
    for start, fields in rows[1:]:
        if not fields or fields == [""]:
            continue  # a blank line
        lines = _field_lines(start, fields)
        if len(fields) != len(header):
            _wrong_width(fields, header, start, lines, name, problems)
            broken.add(fields[header.index("id")].strip() if len(fields) > header.index("id") else "")
            continue
        row = dict(zip(header, fields))
        at = dict(zip(header, lines))
        p = _place(row, at, name, problems)
        if p is None:
            broken.add((row.get("id") or "").strip())
            continue
        if p.id in seen:
            problems.append(Problem(name, at["id"], p.id, "id", f"duplicate id (first on line {seen[p.id]}); give each place its own id"))
            continue
        seen[p.id] = at["id"]
        places.append(p)
    return places


def _csv_rows(reader, name: str, problems: list[Problem]) -> list[tuple[int, list[str]]]:
    """(line the row starts on, its values) for every row csv can read."""
    rows = []
    last = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            message = str(exc)
            if "field larger than field limit" in message:
                problems.append(Problem(name, last + 1, "", "", f"a value longer than {CSV_FIELD_LIMIT:,} characters "
                                        "starts on this line: most likely a double quote that is never closed; "
                                        "close it, or double a quote meant as text (\"\")"))
            else:
                problems.append(Problem(name, last + 1, "", "", f"not valid CSV ({message}); quote values that hold commas or quotes"))
            break
        rows.append((last + 1, fields))
        last = reader.line_num
    return rows


def _field_lines(start: int, fields: list[str]) -> list[int]:
    """The line each value starts on: a quoted value may hold line breaks."""
    out, line = [], start
    for f in fields:
        out.append(line)
        line += f.count("\n")
    return out


def _wrong_width(fields: list[str], header: list[str], start: int, lines: list[int], name: str,
                 problems: list[Problem]) -> None:
    """A row with more or fewer values than the header: usually an unquoted comma. Say where."""
    pid = fields[0].strip() if fields else ""
    record = pid if SLUG.match(pid) else f"(row {start})"
    n, width = len(fields), len(header)
    if n < width:
        problems.append(Problem(name, start, record, header[n], f"the row has {n} values for {width} columns; "
                                f"it ends before {header[n]}: give every column, empty ones as nothing between two commas"))
        return
    # Which comma is the stray one? Try joining each pair of neighbours back: the join that
    # gives a valid row is the value that needs quotes.
    fits = []
    extra = n - width
    for i in range(width):
        joined = fields[:i] + [",".join(fields[i:i + extra + 1])] + fields[i + extra + 1:]
        trial: list[Problem] = []
        if _place(dict(zip(header, joined)), {h: start for h in header}, name, trial) is not None:
            fits.append((i, joined[i]))
    if len(fits) == 1:
        i, value = fits[0]
        problems.append(Problem(name, lines[i], record, header[i],
                                f"the row has {n} values for {width} columns: the comma in {_short(value)} splits it; "
                                f"put the value in double quotes: \"{value[:60]}\""))
    else:
        problems.append(Problem(name, lines[width], record, "-",
                                f"the row has {n} values for {width} columns (extra: {_short(','.join(fields[width:]))}); "
                                "a value holding a comma must be in double quotes"))


def _place(row: dict, at: dict, name: str, problems: list[Problem]) -> Place | None:
    def bad(fld: str, msg: str) -> None:
        record = pid if SLUG.match(pid) else f"(row {at.get('id', 0)})"
        problems.append(Problem(name, at.get(fld, at.get("id", 0)), record, fld, msg))

    get = lambda k: (row.get(k) or "").strip()  # noqa: E731
    pid = get("id")
    before = len(problems)
    if not SLUG.match(pid):
        bad("id", f"{_short(pid)} is not a slug; use lower-case letters, digits and hyphens, e.g. fenhu-hitech-zone")
    if not get("name_en"):
        bad("name_en", "empty; give the English name")
    kind = get("kind")
    if kind not in PLACE_KINDS:
        bad("kind", f"{_short(kind)} is not a kind; use one of {', '.join(PLACE_KINDS)}")
    province = get("province")
    if province and province not in PROVINCE_CODES:
        bad("province", f"{_short(province)} is not a province-level name; use one of {', '.join(PROVINCE_CODES)}")
    adcode = get("adcode")
    if adcode and not ADCODE.match(adcode):
        bad("adcode", f"{_short(adcode)} is not a 6-digit administrative code; leave it empty if none applies")
    elif adcode and province in PROVINCE_CODES and adcode[:2] != PROVINCE_CODES[province]:
        other = next((k for k, v in PROVINCE_CODES.items() if v == adcode[:2]), None)
        lies = f"is in {other} ({adcode[:2]}...)" if other else f"starts with {adcode[:2]}, which is no province"
        bad("adcode", f"{adcode} {lies}, but the province is {province} ({PROVINCE_CODES[province]}...); "
                      "fix the adcode or the province")

    lon = _coordinate(get("lon"), "lon", bad)
    lat = _coordinate(get("lat"), "lat", bad)
    if (lon is None) != (lat is None) and len(problems) == before:
        bad("lon" if lon is None else "lat", "one coordinate without the other; give both lon and lat, or leave both empty for `geomap geocode`")
    if lon is not None and lat is not None:
        _check_in_china(lon, lat, bad)

    precision = None
    if get("precision"):
        text = get("precision")
        precision = int(text) if text.isascii() and text.isdigit() else -1
        if precision not in PRECISION_CODES:
            bad("precision", f"{_short(text)} is not a precision code; use 1 to 9 (1 exact site, 2 within 25 km, 8 seat of a division)")
            precision = None
    elif lon is not None:
        bad("precision", "empty for a located place; say how exact the coordinates are, 1 to 9")
    if lon is not None and not get("source"):
        bad("source", "empty for a located place; say where the coordinates came from, e.g. 'manual: zone HQ address'")

    if len(problems) > before:
        return None
    return Place(pid, get("name_en"), get("name_zh"), kind, province, get("prefecture"),
                 adcode, lon, lat, precision, get("source"), at.get("id", 0))


def _coordinate(text: str, axis: str, bad) -> float | None:
    if not text:
        return None
    example = "120.58" if axis == "lon" else "30.03"
    if not re.match(r"^[+-]?\d+(\.\d+)?$", text):
        bad(axis, f"{_short(text)} is not a number; write WGS-84 decimal degrees such as {example}")
        return None
    if "." in text and len(text.split(".")[1]) > 6:
        bad(axis, f"{text!r} has more than 6 decimals; round to 6 (about 0.1 m)")
        return None
    return float(text)


def _check_in_china(lon: float, lat: float, bad) -> None:
    def inside(x: float, y: float) -> bool:
        return CHINA_LON[0] <= x <= CHINA_LON[1] and CHINA_LAT[0] <= y <= CHINA_LAT[1]

    if inside(lon, lat):
        return
    if inside(lat, lon):
        bad("lon", f"lon={lon} and lat={lat} look swapped; put longitude (73..135 E) in lon and latitude (18..54 N) in lat")
    else:
        bad("lon", f"({lon}, {lat}) lies outside China; check the coordinates are WGS-84 lon/lat in decimal degrees")


# -- agreements.yaml: plain YAML from libyaml's events -----------------------------------------

class YamlMap(dict):
    """A mapping that knows the line it starts on and the line of each key."""

    __slots__ = ("line", "lines", "aliased")


class YamlList(list):
    """A sequence that knows the line it starts on and the line of each item."""

    __slots__ = ("line", "lines")


# libyaml's parser where PyYAML was built with it (the wheels are): the pure-Python one is
# about ten times slower. Both give the same events with marks.
_SafeBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeBase):
    """A safe loader whose implicit resolvers leave dates as text: _date() checks them and says
    what is wrong, where YAML's own timestamp parsing would raise a bare ValueError."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _SafeBase.yaml_implicit_resolvers.items()
}

_T = "tag:yaml.org,2002:"
_STR, _NULL, _BOOL, _INT, _FLOAT = (_T + t for t in ("str", "null", "bool", "int", "float"))
_TEXT_TAGS = {_STR, _T + "timestamp", _T + "binary", _T + "value", _T + "merge", "!"}
_COLLECTION_TAGS = {_T + "map", _T + "seq", "!"}


@dataclass
class YamlIssue:
    """A YAML feature geomap refuses, found while reading: where, and in which record and field."""
    line: int
    record: YamlMap | None
    field: str | None
    message: str


def parse_yaml(data: bytes) -> tuple[object, list[YamlIssue]]:
    """The document as plain data (YamlMap, YamlList, scalars) and the issues met on the way.

    Built from the parser's events rather than PyYAML's node tree: faster (the nodes cost
    seconds per ten thousand agreements) and it lets every shape be answered in words.
    Anchors and aliases are refused rather than expanded: an alias bomb of a few hundred
    bytes expands to gigabytes, and a record that spells out its sources reviews better than
    one that points elsewhere. Tags other than YAML's own scalar types are refused too.
    Raises yaml.YAMLError for text that is not YAML at all.
    """
    loader = _Loader(data)
    try:
        return _build(loader)
    finally:
        loader.dispose()


def _build(loader) -> tuple[object, list[YamlIssue]]:
    from yaml.events import (
        AliasEvent, DocumentEndEvent, DocumentStartEvent, MappingEndEvent, MappingStartEvent,
        ScalarEvent, SequenceEndEvent, SequenceStartEvent, StreamEndEvent,
    )
    from yaml.nodes import ScalarNode

    resolvers = _Loader.yaml_implicit_resolvers
    wildcard = resolvers.get(None, [])
    construct = {_NULL: loader.construct_yaml_null, _BOOL: loader.construct_yaml_bool,
                 _INT: loader.construct_yaml_int, _FLOAT: loader.construct_yaml_float}
    issues: list[YamlIssue] = []
    anchors: dict[str, int] = {}  # name -> line, for the alias's message
    # The open collections: [container, pending key (or NO_KEY), is-a-key].
    stack: list[list] = []
    no_key = object()

    def where() -> tuple[YamlMap | None, str | None]:
        """The record (an item of the top-level list) and field being read."""
        if len(stack) >= 2 and isinstance(stack[1][0], YamlMap):
            key = stack[1][1]
            return stack[1][0], (key if isinstance(key, str) else None)
        return None, None

    def issue(line: int, message: str, aliased: bool = False, key: str | None = None) -> None:
        record, field = where()
        if key is not None and len(stack) == 2:  # a key of the record itself
            field = key
        if aliased and record is not None and field is not None:
            record.aliased.add(field)
        issues.append(YamlIssue(line, record, field, message))

    def scalar(ev):
        line = ev.start_mark.line + 1
        if ev.anchor is not None:
            anchors.setdefault(ev.anchor, line)
            issue(line, f"YAML anchor &{ev.anchor}: geomap does not use anchors and aliases; remove "
                        f"'&{ev.anchor}' and write the value out in full wherever *{ev.anchor} is used")
        value, tag = ev.value, ev.tag
        if tag is not None and tag not in ("!",):
            if tag in _TEXT_TAGS:
                return value
            if tag in construct:
                try:
                    return construct[tag](ScalarNode(tag, value))
                except (ValueError, TypeError, yaml.YAMLError):
                    issue(line, f"{_short(value)} is not a {tag[len(_T):]}; remove the tag {tag!r}")
                    return value
            issue(line, f"YAML tag {tag!r}: geomap reads plain YAML; remove the tag")
            return value
        if not ev.implicit[0]:  # quoted, literal or folded: text
            return value
        for tag, rx in resolvers.get(value[0] if value else "", []) + wildcard:
            if rx.match(value):
                if tag in construct:
                    return construct[tag](ScalarNode(tag, value))
                return value  # text, and "<<" or "=" as the plain text they are
        return value

    get = loader.get_event
    get()  # StreamStartEvent
    ev = get()
    if isinstance(ev, StreamEndEvent):
        return None, issues
    root = None
    while True:
        ev = get()
        cls = type(ev)
        line = ev.start_mark.line + 1
        # Whether the value now read is a key of the open mapping (for a collection's end,
        # it is set again below from the frame, which knew it when the collection began).
        is_key = bool(stack) and type(stack[-1][0]) is YamlMap and stack[-1][1] is no_key
        if cls is ScalarEvent:
            value = ev.value if is_key else scalar(ev)
            if is_key and (ev.anchor is not None or ev.tag not in (None, "!")):
                scalar(ev)  # its anchor or tag is reported; the key stays its text
        elif cls is MappingStartEvent or cls is SequenceStartEvent:
            if ev.anchor is not None:
                anchors.setdefault(ev.anchor, line)
                issue(line, f"YAML anchor &{ev.anchor}: geomap does not use anchors and aliases; remove "
                            f"'&{ev.anchor}' and write the value out in full wherever *{ev.anchor} is used")
            if ev.tag is not None and ev.tag not in _COLLECTION_TAGS:
                issue(line, f"YAML tag {ev.tag!r}: geomap reads plain YAML; remove the tag")
            if cls is MappingStartEvent:
                new = YamlMap()
                new.lines = {}
                new.aliased = set()
            else:
                new = YamlList()
                new.lines = []
            new.line = line
            stack.append([new, no_key, is_key])
            continue
        elif cls is MappingEndEvent or cls is SequenceEndEvent:
            value, _, is_key = stack.pop()
            line = value.line
            if is_key:
                issue(line, "a key that is itself a list or mapping; keys are plain words such as title_en")
                value = f"(a {'mapping' if isinstance(value, dict) else 'list'} as a key, line {line})"
        elif cls is AliasEvent:
            at = f" (line {anchors[ev.anchor]})" if ev.anchor in anchors else ""
            issue(line, f"YAML alias *{ev.anchor}: geomap does not use anchors and aliases; "
                        f"write the value of &{ev.anchor}{at} out in full here", aliased=True)
            value = f"*{ev.anchor}" if is_key else None
        elif cls is DocumentEndEvent:
            break
        else:  # pragma: no cover - the parser gives no other event inside a document
            raise yaml.YAMLError(f"unexpected {cls.__name__}")
        if not stack:
            root = value
            continue
        top = stack[-1]
        container = top[0]
        if type(container) is YamlList:
            container.append(value)
            container.lines.append(line)
        elif is_key:
            key = value if isinstance(value, str) else str(value)
            if key in container:
                issue(line, f"the key {_short(key, 40)} is given twice in this mapping (first on line "
                            f"{container.lines[key]}); keep one", key=key)
            top[1] = key
            container.lines.setdefault(key, line)
        else:
            container[top[1]] = value
            top[1] = no_key
    ev = get()
    if isinstance(ev, DocumentStartEvent):
        issues.append(YamlIssue(ev.start_mark.line + 1, None, None,
                                "a second YAML document ('---'); keep every agreement in the one list"))
    return root, issues


def _read_agreements(data_dir: Path, places: dict[str, Place], problems: list[Problem],
                     broken_places: set[str] = frozenset()) -> list[Agreement]:
    name = _display(data_dir, AGREEMENTS_FILE)
    path = data_dir / AGREEMENTS_FILE
    text = _read_text(path, name, problems, "create it as a YAML list of agreements")
    if text is None:
        return []
    try:
        raw, issues = parse_yaml(text.encode("utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problems.append(Problem(name, line, "", "", f"not valid YAML ({what}); check indentation and quoting"))
        return []

    def record_of(item) -> str:
        if isinstance(item, YamlMap) and isinstance(item.get("id"), str) and item["id"]:
            return item["id"]
        return f"(item at line {item.line})" if item is not None else ""

    # One line per (record, field) and kind of issue, and a bounded number of lines in all:
    # an alias bomb of a few hundred bytes holds hundreds of aliases.
    reported: set = set()
    shown = 0
    for i in issues:
        key = (id(i.record), i.field, i.message[:10])
        if i.field is not None and key in reported:
            continue
        reported.add(key)
        if shown == MAX_YAML_ISSUES:
            rest = len(issues) - issues.index(i)
            problems.append(Problem(name, i.line, "", "", f"and {rest} more YAML anchors, aliases or tags "
                                    "from this line on; write every value out in full"))
            break
        shown += 1
        problems.append(Problem(name, i.line, record_of(i.record), i.field or "", i.message))

    if raw is None:
        raw = YamlList()
    if not isinstance(raw, list):
        problems.append(Problem(name, getattr(raw, "line", 1), "", "", f"the file is {_shape(raw)}; it must be "
                                "a YAML list of agreements, each item starting with '- id: ...'"))
        return []

    sources_dir = data_dir / SOURCES_DIR
    _is_file.cache_clear()  # per load: a file added since the last load must be seen
    agreements: list[Agreement] = []
    seen: dict[str, int] = {}
    broken: set[str] = set()
    part_of_lines: dict[str, int] = {}
    for item, line in zip(raw, raw.lines):
        if not isinstance(item, dict):
            problems.append(Problem(name, line, f"(item at line {line})", "", f"a list item is {_shape(item)}; "
                                    "each agreement is a mapping of 'key: value' lines starting with '- id: ...'"))
            continue
        a = _agreement(item, name, places, broken_places, sources_dir, problems)
        if a is None:
            if isinstance(item.get("id"), str):
                broken.add(item["id"])
            continue
        if a.id in seen:
            problems.append(Problem(name, item.lines.get("id", item.line), a.id, "id",
                                    f"duplicate id (first on line {seen[a.id]}); give each agreement its own id"))
            continue
        seen[a.id] = item.lines.get("id", item.line)
        part_of_lines[a.id] = item.lines.get("part_of", item.line)
        agreements.append(a)
    _check_parts(agreements, broken, part_of_lines, name, problems)
    return agreements


def _check_parts(agreements: list[Agreement], broken: set[str], lines: dict[str, int], name: str,
                 problems: list[Problem]) -> None:
    """part_of names a known agreement, never itself, and never closes a cycle."""
    by_id = {a.id: a for a in agreements}
    cyclic: set[str] = set()
    for a in agreements:
        if a.part_of is None:
            continue
        line = lines[a.id]
        if a.part_of == a.id:
            problems.append(Problem(name, line, a.id, "part_of", "an agreement cannot be part of itself; "
                                    "give the id of the agreement it belongs to, or remove part_of"))
            continue
        if a.part_of not in by_id:
            if a.part_of not in broken:
                problems.append(Problem(name, line, a.id, "part_of", f"unknown agreement id {_short(a.part_of)}; "
                                        "give the id of the agreement this one belongs to"))
            continue
        chain, at = [a.id], by_id[a.part_of]
        while at is not None and at.id not in chain:
            chain.append(at.id)
            at = by_id.get(at.part_of) if at.part_of else None
        if at is not None and at.id == a.id and a.id not in cyclic:
            cyclic.update(chain)
            problems.append(Problem(name, line, a.id, "part_of", f"the agreements form a cycle: "
                                    f"{' → '.join(chain + [a.id])}; one of them must not be part of the other"))


def _agreement(item: YamlMap, name: str, places: dict[str, Place], broken_places: set[str],
               sources_dir: Path, problems: list[Problem]) -> Agreement | None:
    aid = item.get("id") if isinstance(item.get("id"), str) else ""
    record = aid or f"(item at line {item.line})"
    before = len(problems)
    skip = getattr(item, "aliased", set())

    def bad(fld: str, msg: str, line: int | None = None) -> None:
        if fld in skip:
            return  # its alias is reported already
        problems.append(Problem(name, line or item.lines.get(fld, item.line), record, fld, msg))

    for key in item:
        if key not in AGREEMENT_KEYS:
            bad(key, f"unknown key; the keys are {', '.join(AGREEMENT_KEYS)}")
    if "id" not in item:
        bad("id", "missing; give the agreement an id (a slug such as shaoxing-12-projects-2020)")
    elif not SLUG.match(aid):
        bad("id", f"{_shape(item.get('id'))} is not a slug; use lower-case letters, digits and hyphens")
    title_en = _text(item, "title_en", bad, required=True)
    title_zh = _text(item, "title_zh", bad)
    summary_en = _text(item, "summary_en", bad, required=True)
    summary_zh = _text(item, "summary_zh", bad)
    date_note = _text(item, "date_note", bad)
    date_note_zh = _text(item, "date_note_zh", bad)

    date = _date(item, "date", bad, required=True)
    precision = _choice(item, "date_precision", DATE_PRECISIONS, "day", bad)
    date_end = _date(item, "date_end", bad)
    end_precision = _choice(item, "date_end_precision", DATE_PRECISIONS, precision, bad)
    if "date_end_precision" in item and item.get("date_end") is None:
        bad("date_end_precision", "given without date_end; give date_end too, or remove it")
    if date_end is not None and date is not None and date_end < date:
        bad("date_end", f"{date_end.isoformat()} is before date {date.isoformat()}; a period ends after it starts")
    if date_end is None:
        end_precision = None
    status = _choice(item, "status", STATUSES, DEFAULT_STATUS, bad)
    part_of = None
    if item.get("part_of") is not None:
        if not isinstance(item["part_of"], str) or not SLUG.match(item["part_of"]):
            bad("part_of", f"{_shape(item['part_of'])} is not an agreement id; give the id of the agreement this one belongs to")
        else:
            part_of = item["part_of"]

    atype = item.get("type")
    if atype not in AGREEMENT_TYPES:
        what = "missing" if atype is None else f"{_shape(atype)} is not a type"
        bad("type", f"{what}; use one of {', '.join(AGREEMENT_TYPES)}")

    partners = _ids(item, "partners", bad, allow_bare=False)
    if partners is not None and not partners:
        bad("partners", "no partner places; list at least one place id from places.csv, e.g. [shaoxing]")
    sites = _ids(item, "shanghai_site", bad, allow_bare=True)
    if sites is not None and not sites:
        bad("shanghai_site", "missing; give the Shanghai-side place id (e.g. shanghai), or a list of them")
    _check_sides(item, partners or [], sites or [], places, broken_places, bad)

    sectors = _ids(item, "sectors", bad, allow_bare=False, what="sector tags") or []
    for s, line in zip(sectors, item.get("sectors").lines if isinstance(item.get("sectors"), YamlList) else []):
        if s not in SECTORS:
            bad("sectors", f"unknown sector {_short(s)}; use one of {', '.join(SECTORS)}", line)

    value = item.get("value_cny")
    if value is not None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            bad("value_cny", f"{_shape(value)} is not a number; write the amount in yuan (13700000000) or null")
            value = None
        elif value < 0:
            bad("value_cny", f"{value} is negative; write the amount in yuan, or null where none is stated")

    parties = [p for p in (_party(p, line, bad) for p, line in _mappings(item, "parties", bad)) if p]
    sources = [_source(s, line, sources_dir, bad) for s, line in _mappings(item, "sources", bad)]
    if not sources and "sources" not in skip and not any(p.field == "sources" and p.record == record
                                                         for p in problems[before:]):
        bad("sources", "no source; cite the article the agreement comes from")

    if len(problems) > before:
        return None
    return Agreement(
        id=aid, title_en=title_en, title_zh=title_zh, date=date, date_precision=precision,
        date_note=date_note, type=atype, partners=tuple(partners), shanghai_site=tuple(sites),
        parties=tuple(parties), sectors=tuple(sectors),
        value_cny=float(value) if value is not None else None,
        summary_en=summary_en, summary_zh=summary_zh, sources=tuple(sources),
        line=item.line, date_note_zh=date_note_zh, date_end=date_end,
        date_end_precision=end_precision, status=status, part_of=part_of,
    )


def in_shanghai(place: Place) -> bool | None:
    """Whether a place lies in Shanghai: by its province, else its adcode; None if neither says."""
    if place.province:
        return place.province == SHANGHAI
    if place.adcode:
        return place.adcode.startswith(PROVINCE_CODES[SHANGHAI])
    return None


def _check_sides(item: YamlMap, partners: list[str], sites: list[str], places: dict[str, Place],
                 broken: set[str], bad) -> None:
    """Every id is a known place; partners lie outside Shanghai and the sites inside it."""
    for fld, ids in (("partners", partners), ("shanghai_site", sites)):
        value = item.get(fld)
        lines = value.lines if isinstance(value, YamlList) else [item.lines.get(fld, item.line)] * len(ids)
        seen = set()
        for pid, line in zip(ids, lines):
            if pid in seen:
                bad(fld, f"{pid!r} is listed twice; list each place once", line)
                continue
            seen.add(pid)
            place = places.get(pid)
            if place is None:
                if pid not in broken:
                    example = "shaoxing" if fld == "partners" else "shanghai"
                    bad(fld, f"unknown place id {_short(pid)}; add it to places.csv or fix the spelling (e.g. {example})", line)
                continue
            inside = in_shanghai(place)
            label = f"{pid!r} ({place.name_en})"
            if fld == "partners" and inside:
                bad(fld, f"{label} lies in Shanghai; partners lie outside Shanghai: put it in shanghai_site, "
                         "or fix the place's province in places.csv", line)
            elif fld == "shanghai_site" and inside is False:
                bad(fld, f"{label} lies in {place.province or 'province ' + place.adcode[:2]}, not in Shanghai; "
                         "the Shanghai-side site is inside Shanghai: put it in partners", line)
            elif fld == "shanghai_site" and inside is None:
                bad(fld, f"{label} has no province or adcode in places.csv; give it province Shanghai "
                         "so it can be checked to lie inside Shanghai", line)


def _text(item: YamlMap, key: str, bad, required: bool = False) -> str | None:
    value = item.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            bad(key, "missing; this text is required" if key not in item else "empty; this text is required")
        return None
    if not isinstance(value, str):
        if isinstance(value, (dict, list)):
            bad(key, f"{_shape(value)} where text belongs; write the text on one line after '{key}:' "
                     "(in quotes if it holds ': ' or ' #')")
        else:
            bad(key, f"{_shape(value)} where text belongs; put it in quotes")
        return None
    return value.strip()


def _date(item: YamlMap, key: str, bad, required: bool = False) -> dt.date | None:
    value = item.get(key)
    if value is None:
        if required:
            bad(key, "missing; give the date of signing or of the event as YYYY-MM-DD")
        return None
    try:
        return parse_date(value)
    except ValueError as exc:
        bad(key, str(exc))
        return None


def _choice(item: YamlMap, key: str, allowed: tuple[str, ...], default, bad):
    value = item.get(key)
    if value is None:
        return default
    if value not in allowed:
        bad(key, f"{_shape(value)} is not one of {', '.join(allowed)}")
        return default
    return value


def _ids(item: YamlMap, key: str, bad, allow_bare: bool, what: str = "place ids") -> list[str] | None:
    """A list of ids (or, where allowed, one bare id); None where the value has the wrong shape."""
    value = item.get(key)
    if value is None:
        return []
    if isinstance(value, str) and allow_bare:
        return [value.strip()]
    example = "[qingpu, shanghai]" if key == "shanghai_site" else ("[shaoxing]" if key == "partners" else "[finance]")
    if not isinstance(value, list):
        hint = f" or one id" if allow_bare else ""
        if isinstance(value, str):
            bad(key, f"{_short(value)} is text; write a list of {what} in brackets, e.g. {example}")
        else:
            bad(key, f"{_shape(value)} where a list of {what}{hint} belongs; write e.g. {example}")
        return None
    out = []
    for v, line in zip(value, value.lines):
        if not isinstance(v, str) or not v.strip():
            bad(key, f"an item is {_shape(v)}; each item is one of the {what}, e.g. {example}", line)
            return None
        out.append(v.strip())
    return out


def _mappings(item: YamlMap, key: str, bad) -> list[tuple[YamlMap, int]]:
    value = item.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        bad(key, f"{_shape(value)} where a list belongs; write each item on its own line starting with '- '")
        return []
    out = []
    for v, line in zip(value, value.lines):
        if v is None and key in getattr(item, "aliased", ()):
            continue
        if not isinstance(v, dict):
            fields = "{name, role}" if key == "parties" else "{publisher, title, date, url, document}"
            bad(key, f"an item is {_shape(v)}; each item is a mapping {fields}", line)
            continue
        out.append((v, line))
    return out


def _party(p: YamlMap, line: int, bad) -> Party | None:
    def at(k: str) -> int:
        return p.lines.get(k, line)

    ok = True
    for k in p:
        if k not in PARTY_KEYS:
            bad("parties", f"a party has the unknown key {_short(k, 40)}; each party is {{name, role, name_zh, role_zh}} "
                           "(quote a name that holds a comma)", at(k))
            ok = False
    texts = {}
    for k in PARTY_KEYS:
        v = p.get(k)
        if v is not None and not isinstance(v, str):
            bad("parties", f"a party's {k} is {_shape(v)}; write it as text (in quotes if it holds a comma)", at(k))
            ok = False
            v = None
        texts[k] = v.strip() if isinstance(v, str) and v.strip() else None
    if not texts["name"]:
        bad("parties", "a party without a name; give each party {name, role}", at("name"))
        ok = False
    if not ok:
        return None
    return Party(texts["name"], texts["role"] or "", texts["name_zh"], texts["role_zh"])


@lru_cache(maxsize=4096)
def _is_file(path: Path) -> bool:
    """Many agreements cite the same article: ask the file system once per load."""
    return path.is_file()


def _source(s: YamlMap, line: int, sources_dir: Path, bad) -> Source:
    def at(k: str) -> int:
        return s.lines.get(k, line)

    for k in s:
        if k not in SOURCE_KEYS:
            bad("sources", f"a source has the unknown key {_short(k, 40)}; the keys are {', '.join(SOURCE_KEYS)}", at(k))
    texts = {}
    for k in SOURCE_KEYS:
        v = s.get(k)
        if k == "date":
            continue
        if v is not None and not isinstance(v, str):
            bad("sources", f"a source's {k} is {_shape(v)}; write it as text", at(k))
            v = None
        texts[k] = v.strip() if isinstance(v, str) and v.strip() else None
    url = texts["url"]
    if url is not None and not re.match(r"^https?://[^\s<>\"']+$", url):
        bad("sources", f"url {_short(url)} is not an http(s) address; give the article's web address or null", at("url"))
    doc = texts["document"]
    if doc is not None:
        path = sources_dir / doc
        if "/" in doc or "\\" in doc or doc.startswith(".") or "\x00" in doc:
            bad("sources", f"document {_short(doc)} is not a file name in {sources_dir.parent.name}/{SOURCES_DIR}/; "
                           "give the article's file name only", at("document"))
        elif not _is_file(path):
            bad("sources", f"document {_short(doc)} {_missing(path, 'file')} in {sources_dir.parent.name}/{SOURCES_DIR}/; "
                           "copy the article there or fix the file name", at("document"))
    if not texts["title"]:
        bad("sources", "a source without a title; give the article's headline", at("title"))
    date = s.get("date")
    if date is not None:
        try:
            date = parse_date(date).isoformat()
        except ValueError as exc:
            bad("sources", f"date {exc}", at("date"))
            date = None
    return Source(publisher=texts["publisher"], title=texts["title"] or "", date=date, url=url,
                  document=doc, title_zh=texts["title_zh"])
