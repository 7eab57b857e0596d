"""Whatever shape the data files take, loading answers with named problems, never a crash.

Hypothesis writes wrong YAML and CSV: any value of any YAML type in any field (mappings where
lists belong, lists where text belongs, numbers, nulls, nesting), whole records that are not
mappings, text cut and spliced, anchors and aliases, tags; CSV rows with too many or too few
values, stray quotes and commas, line breaks and NUL bytes. Each run must either load or raise
DataError whose every problem is one line naming the file; anything else (a TypeError, a
KeyError, "internal error") fails.
"""
from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import GEODATA
from geomap import atlas as atlas_mod
from geomap.load import DataError, load
from geomap.records import AGREEMENT_KEYS, PLACE_COLUMNS

SETTINGS = settings(max_examples=120, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**15),
                    st.floats(allow_nan=True, allow_infinity=True), text,
                    st.sampled_from(["shanghai", "qingpu", "shaoxing", "2019-02-30", "2019-13-01", "2020-05-17",
                                     "signed", "intention", "project", "finance", "day", "year", "null", "~",
                                     "ningbo-seven-projects-signing", "yinzhou-brain-hospital"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(st.one_of(text, st.sampled_from(list(AGREEMENT_KEYS))),
                                                                      inner, max_size=4)),
                      max_leaves=12)

SHIPPED = yaml.safe_load((GEODATA / "agreements.yaml").read_text(encoding="utf-8"))


def _plain(value):
    """The shipped records as plain YAML-dumpable data (dates as text)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value.isoformat() if hasattr(value, "isoformat") else value


BASE = _plain(SHIPPED)


@st.composite
def broken_records(draw):
    records = [dict(r) for r in BASE]
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(records) - 1))
        how = draw(st.sampled_from(["set", "drop", "replace", "add"]))
        if not isinstance(records[i], dict):
            how = "replace"
        if how == "set":
            records[i][draw(st.sampled_from(list(AGREEMENT_KEYS)))] = draw(values)
        elif how == "drop":
            records[i].pop(draw(st.sampled_from(list(AGREEMENT_KEYS))), None)
        elif how == "replace":
            records[i] = draw(values)
        else:
            records[i][draw(text)] = draw(values)
    return records


def check(data_dir: Path, build: bool = False) -> None:
    try:
        (atlas_mod.build if build else load)(data_dir)
    except DataError as exc:
        assert exc.problems
        for p in exc.problems:
            line = str(p)
            assert "\n" not in line and "\r" not in line and p.message, line
            assert p.file.endswith((".csv", ".yaml", ".json")) or p.file == str(data_dir), line
            assert len(line) < 2_000, line[:300]


@pytest.fixture()
def fresh(tmp_path):
    counter = iter(range(10**6))

    def make() -> Path:
        dst = tmp_path / f"d{next(counter)}" / "geodata"
        shutil.copytree(GEODATA, dst)
        return dst

    return make


@SETTINGS
@given(records=broken_records())
def test_any_yaml_shape_gives_named_problems(fresh, records):
    d = fresh()
    (d / "agreements.yaml").write_text(yaml.safe_dump(records, allow_unicode=True, sort_keys=False), encoding="utf-8")
    check(d)


SOURCE_TEXT = (GEODATA / "agreements.yaml").read_text(encoding="utf-8")
YAML_BITS = st.sampled_from(["&a ", "*a", "!!python/object:os.system ", "!x ", "<<: ", "? ", "---\n", "- ", ": ",
                             "{", "}", "[", "]", '"', "'", "\t", "\n", "  ", "|\n", ">-\n", "#", "%YAML 1.1\n", "\x00"])


@SETTINGS
@given(cuts=st.lists(st.tuples(st.integers(0, len(SOURCE_TEXT)), st.integers(0, 40),
                               st.one_of(YAML_BITS, text)), min_size=1, max_size=4))
def test_spliced_yaml_text_gives_named_problems(fresh, cuts):
    out = SOURCE_TEXT
    for at, drop, insert in cuts:
        at = min(at, len(out))
        out = out[:at] + insert + out[at + drop:]
    d = fresh()
    (d / "agreements.yaml").write_text(out, encoding="utf-8")
    check(d)


PLACE_ROWS = list(csv.reader(io.StringIO((GEODATA / "places.csv").read_text(encoding="utf-8-sig"))))
CSV_BITS = st.sampled_from([",", '"', '""', "\n", "\r\n", "\x00", ";", "x" * 200, "120.5", "31.2", "8", "zone",
                            "town", "Shanghai", "Zhejiang", "310118", "330000", "-", "1e400", "nan", "１２０"])


@st.composite
def broken_rows(draw):
    rows = [list(r) for r in PLACE_ROWS]
    for _ in range(draw(st.integers(1, 5))):
        i = draw(st.integers(0, len(rows) - 1))
        row = rows[i]
        how = draw(st.sampled_from(["cell", "extend", "shorten", "raw"]))
        if how == "cell" and row:
            row[draw(st.integers(0, len(row) - 1))] = draw(st.one_of(CSV_BITS, text))
        elif how == "extend":
            row.extend(draw(st.lists(st.one_of(CSV_BITS, text), min_size=1, max_size=3)))
        elif how == "shorten" and row:
            del row[draw(st.integers(0, len(row) - 1)):]
        else:
            rows[i] = [draw(st.one_of(CSV_BITS, text))]
    return rows, draw(st.booleans())


@SETTINGS
@given(case=broken_rows())
def test_any_csv_shape_gives_named_problems(fresh, case):
    rows, quoted = case
    d = fresh()
    if quoted:  # valid CSV, wrong content
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        body = out.getvalue()
    else:  # values written raw: stray commas and quotes break the rows themselves
        body = "\n".join(",".join(r) for r in rows) + "\n"
    (d / "places.csv").write_text(body, encoding="utf-8")
    check(d, build=True)


def test_the_fuzzed_columns_are_the_real_ones():
    # Guards the strategies above against drifting from the interface they fuzz.
    assert tuple(PLACE_ROWS[0]) == PLACE_COLUMNS
    assert set().union(*(r.keys() for r in BASE)) <= set(AGREEMENT_KEYS)
