"""Validation of geodata/: every problem names its file, record, field and (in places.csv) line.

Each test breaks its own copy of the shipped data (the `data_copy` fixture) in one way and
checks that loading reports exactly that, where a maintainer would look for it.
"""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest

from geomap import atlas as atlas_mod
from geomap.load import DataError, Problem, load

PLACES = "places.csv"
AGREEMENTS = "agreements.yaml"


# -- helpers: edit a copy of the data and find where things are -------------------------------

def place_line(data_dir: Path, pid: str) -> int:
    """The 1-based line of places.csv on which the row of `pid` starts."""
    for n, line in enumerate((data_dir / PLACES).read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith(pid + ","):
            return n
    raise AssertionError(f"{pid} not in places.csv")


def edit_place(data_dir: Path, pid: str, **changes: str) -> int:
    """Set columns of one places.csv row (as raw text); return the row's line number."""
    path = data_dir / PLACES
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    header = rows[0]
    for row in rows[1:]:
        if row and row[0] == pid:
            for key, value in changes.items():
                row[header.index(key)] = value
            break
    else:
        raise AssertionError(f"{pid} not in places.csv")
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return place_line(data_dir, pid)


def agreement_line(data_dir: Path, aid: str) -> int:
    for n, line in enumerate((data_dir / AGREEMENTS).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() == f"- id: {aid}":
            return n
    raise AssertionError(f"{aid} not in agreements.yaml")


def edit_agreement(data_dir: Path, aid: str, old: str, new: str) -> int:
    """Replace the first `old` inside the YAML block of agreement `aid`; return the line on
    which the new text's first non-blank character stands (the field's own line)."""
    path = data_dir / AGREEMENTS
    text = path.read_text(encoding="utf-8")
    start = text.index(f"- id: {aid}\n")
    end = text.find("\n- id: ", start + 1)
    end = len(text) if end == -1 else end
    block = text[start:end]
    assert old in block, f"{old!r} not in the block of {aid}"
    at = start + block.index(old)
    path.write_text(text[:start] + block.replace(old, new, 1) + text[end:], encoding="utf-8")
    lead = len(new) - len(new.lstrip())
    return text[:at].count("\n") + new[:lead].count("\n") + 1


def problems_of(data_dir: Path, build: bool = False) -> list[Problem]:
    with pytest.raises(DataError) as info:
        (atlas_mod.build if build else load)(data_dir)
    assert info.value.problems, "a DataError without problems"
    return info.value.problems


def find(problems, file: str, record: str, field: str) -> Problem:
    hits = [p for p in problems
            if p.file.endswith(file) and p.record == record and p.field == field]
    assert hits, f"no problem for {file} {record} {field} in:\n" + "\n".join(map(str, problems))
    assert len(hits) == 1, "reported more than once:\n" + "\n".join(map(str, hits))
    return hits[0]


def only_in(problems, file: str) -> list[Problem]:
    return [p for p in problems if p.file.endswith(file)]


# -- the shipped data --------------------------------------------------------------------------

def test_shipped_data_loads(data_copy):
    records = load(data_copy)
    ids = [p.id for p in records.places]
    assert "shanghai" in ids and len(ids) == len(set(ids))
    assert records.agreements


# -- places.csv --------------------------------------------------------------------------------

def test_duplicate_place_id(data_copy):
    path = data_copy / PLACES
    lines = path.read_text(encoding="utf-8").splitlines()
    first = place_line(data_copy, "cixi")
    lines.append(lines[first - 1])  # the same row again, at the end
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problem = find(problems_of(data_copy), "places.csv", "cixi", "id")
    assert problem.line == len(lines)
    assert "duplicate" in problem.message and str(first) in problem.message


def test_unparseable_coordinate(data_copy):
    line = edit_place(data_copy, "shaoxing", lon="abc")
    problems = problems_of(data_copy)
    problem = find(problems, "places.csv", "shaoxing", "lon")
    assert problem.line == line
    assert "'abc'" in problem.message and "not a number" in problem.message
    assert only_in(problems, PLACES) == [problem]


def test_swapped_coordinates(data_copy):
    line = edit_place(data_copy, "jiashan", lon="30.83329", lat="120.921894")
    problems = problems_of(data_copy)
    problem = find(problems, "places.csv", "jiashan", "lon")
    assert problem.line == line
    assert "swapped" in problem.message
    assert only_in(problems, PLACES) == [problem]


def test_point_outside_china(data_copy):
    line = edit_place(data_copy, "xiangshan", lon="2.35", lat="48.85")  # Paris
    problems = problems_of(data_copy)
    problem = find(problems, "places.csv", "xiangshan", "lon")
    assert problem.line == line
    assert "outside China" in problem.message and "swapped" not in problem.message
    assert only_in(problems, PLACES) == [problem]


@pytest.mark.parametrize("axis", ["lon", "lat"])
def test_more_than_six_decimals(data_copy, axis):
    value = {"lon": "121.5424291", "lat": "29.8190821"}[axis]
    line = edit_place(data_copy, "yinzhou", **{axis: value})
    problems = problems_of(data_copy)
    problem = find(problems, "places.csv", "yinzhou", axis)
    assert problem.line == line
    assert "6 decimals" in problem.message
    assert only_in(problems, PLACES) == [problem]


def test_six_decimals_are_accepted(data_copy):
    edit_place(data_copy, "yinzhou", lon="121.542429", lat="29.819082")
    assert {p.id for p in load(data_copy).places} >= {"yinzhou"}


@pytest.mark.parametrize("precision", ["0", "10"])
def test_precision_outside_1_to_9(data_copy, precision):
    line = edit_place(data_copy, "beilun", precision=precision)
    problems = problems_of(data_copy)
    problem = find(problems, "places.csv", "beilun", "precision")
    assert problem.line == line
    assert repr(precision) in problem.message
    assert only_in(problems, PLACES) == [problem]


@pytest.mark.parametrize("precision", ["1", "9"])
def test_precision_bounds_are_accepted(data_copy, precision):
    edit_place(data_copy, "beilun", precision=precision)
    beilun = next(p for p in load(data_copy).places if p.id == "beilun")
    assert beilun.precision == int(precision)


def test_place_outside_its_province_bbox(data_copy):
    # Wujiang (Jiangsu) moved to Shaoxing's seat, in Zhejiang: inside China, wrong province.
    line = edit_place(data_copy, "wujiang", lon="120.576277", lat="30.032824")
    load(data_copy)  # the loader alone cannot know: the check needs the gazetteer
    problems = problems_of(data_copy, build=True)
    problem = find(problems, "places.csv", "wujiang", "lon")
    assert problem.line == line
    assert "Jiangsu" in problem.message and "outside" in problem.message
    assert problems == [problem]


# -- agreements.yaml ---------------------------------------------------------------------------

def test_unknown_place_in_partners(data_copy):
    line = edit_agreement(data_copy, "shangyu-week-2023-forum",
                          "partners: [shangyu,", "partners: [shangyu-x,")
    problems = problems_of(data_copy)
    problem = find(problems, "agreements.yaml", "shangyu-week-2023-forum", "partners")
    assert problem.line == line
    assert "'shangyu-x'" in problem.message
    assert problems == [problem]


def test_unknown_place_in_shanghai_site(data_copy):
    line = edit_agreement(data_copy, "qingpu-wujiang-jiashan-2019-work-plan",
                          "shanghai_site: qingpu", "shanghai_site: pudong")
    problems = problems_of(data_copy)
    problem = find(problems, "agreements.yaml", "qingpu-wujiang-jiashan-2019-work-plan", "shanghai_site")
    assert problem.line == line
    assert "'pudong'" in problem.message
    assert problems == [problem]


def test_duplicate_agreement_id(data_copy):
    first = agreement_line(data_copy, "yinzhou-brain-hospital")
    second = agreement_line(data_copy, "beilun-aidenberg-intelligent-manufacturing-park")
    assert second > first
    path = data_copy / AGREEMENTS
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("- id: beilun-aidenberg-intelligent-manufacturing-park\n",
                                 "- id: yinzhou-brain-hospital\n", 1), encoding="utf-8")
    problems = problems_of(data_copy)
    problem = find(problems, "agreements.yaml", "yinzhou-brain-hospital", "id")
    assert problem.line == second  # the second occurrence is the one reported
    assert "duplicate" in problem.message and str(first) in problem.message
    assert problems == [problem]


def test_bad_date_unquoted(data_copy):
    line = edit_agreement(data_copy, "shaoxing-tech-transfer-sub-center",
                          "date: 2019-01-19", "date: 2019-13-45")
    problems = problems_of(data_copy)
    problem = find(problems, "agreements.yaml", "shaoxing-tech-transfer-sub-center", "date")
    assert problem.line == line


def test_bad_date_quoted(data_copy):
    line = edit_agreement(data_copy, "shaoxing-tech-transfer-sub-center",
                          "date: 2019-01-19", 'date: "2019-13-45"')
    problems = problems_of(data_copy)
    problem = find(problems, "agreements.yaml", "shaoxing-tech-transfer-sub-center", "date")
    assert problem.line == line
    assert "2019-13-45" in problem.message
    assert problems == [problem]


def test_unknown_date_precision(data_copy):
    line = edit_agreement(data_copy, "fenhu-branch-center-framework",
                          "date_precision: day", "date_precision: week")
    problems = problems_of(data_copy)
    problem = find(problems, "agreements.yaml", "fenhu-branch-center-framework", "date_precision")
    assert problem.line == line
    assert "'week'" in problem.message
    assert problems == [problem]


def test_unknown_type(data_copy):
    line = edit_agreement(data_copy, "qingpu-wujiang-jiashan-2019-work-plan",
                          "type: work-plan", "type: treaty")
    problems = problems_of(data_copy)
    problem = find(problems, "agreements.yaml", "qingpu-wujiang-jiashan-2019-work-plan", "type")
    assert problem.line == line
    assert "'treaty'" in problem.message
    assert problems == [problem]


def test_unknown_sector(data_copy):
    line = edit_agreement(data_copy, "fenhu-branch-center-framework",
                          "sectors: [technology-transfer]", "sectors: [technology-transfer, space]")
    problems = problems_of(data_copy)
    problem = find(problems, "agreements.yaml", "fenhu-branch-center-framework", "sectors")
    assert problem.line == line
    assert "'space'" in problem.message
    assert problems == [problem]


def test_negative_value(data_copy):
    line = edit_agreement(data_copy, "ningbo-seven-projects-signing",
                          "value_cny: 13700000000", "value_cny: -5")
    problems = problems_of(data_copy)
    problem = find(problems, "agreements.yaml", "ningbo-seven-projects-signing", "value_cny")
    assert problem.line == line
    assert "negative" in problem.message
    assert problems == [problem]


def test_missing_source_document(data_copy):
    line = edit_agreement(data_copy, "shangyu-week-2023-forum",
                          "document: 002_317456791a856a0d.txt", "document: 999_missing.txt")
    problems = problems_of(data_copy)
    problem = find(problems, "agreements.yaml", "shangyu-week-2023-forum", "sources")
    assert problem.line == line
    assert "999_missing.txt" in problem.message
    assert problems == [problem]


def test_source_document_outside_sources_dir(data_copy):
    # A path escaping sources/ must not count as an existing document, even if the file exists.
    edit_agreement(data_copy, "shangyu-week-2023-forum",
                   "document: 002_317456791a856a0d.txt", "document: ../places.csv")
    problem = find(problems_of(data_copy), "agreements.yaml", "shangyu-week-2023-forum", "sources")
    assert "../places.csv" in problem.message


def test_javascript_url(data_copy):
    line = edit_agreement(data_copy, "shaoxing-tech-transfer-sub-center",
                          "url: null", "url: javascript:alert(1)")
    problems = problems_of(data_copy)
    problem = find(problems, "agreements.yaml", "shaoxing-tech-transfer-sub-center", "sources")
    assert problem.line == line
    assert "javascript:alert(1)" in problem.message
    assert problems == [problem]


def test_https_url_is_accepted(data_copy):
    edit_agreement(data_copy, "shaoxing-tech-transfer-sub-center",
                   "url: null", "url: https://example.org/article?id=1")
    a = next(a for a in load(data_copy).agreements if a.id == "shaoxing-tech-transfer-sub-center")
    assert a.sources[0].url == "https://example.org/article?id=1"


def test_invalid_yaml_reports_its_line(data_copy):
    path = data_copy / AGREEMENTS
    lines = path.read_text(encoding="utf-8").splitlines()
    at = agreement_line(data_copy, "shangyu-week-2023-forum")
    lines.insert(at, "   broken: [")  # an unclosed, mis-indented flow list right after the id
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = problems_of(data_copy)
    assert len(problems) == 1
    problem = problems[0]
    assert problem.file.endswith("agreements.yaml")
    assert problem.line == at + 1  # the inserted line
    assert "YAML" in problem.message


def test_unknown_key(data_copy):
    line = edit_agreement(data_copy, "shangyu-week-2023-forum",
                          "  type: forum\n", "  type: forum\n  colour: red\n")
    problems = problems_of(data_copy)
    problem = find(problems, "agreements.yaml", "shangyu-week-2023-forum", "colour")
    assert problem.line == line + 1  # the line of colour itself
    assert "unknown key" in problem.message
    assert problems == [problem]


# -- reporting -----------------------------------------------------------------------------------

def test_several_problems_are_all_reported(data_copy):
    csv_line = edit_place(data_copy, "ningbo-hitech-zone", precision="0")
    a1 = edit_agreement(data_copy, "qingpu-wujiang-jiashan-2019-work-plan",
                        "type: work-plan", "type: treaty")
    a2 = edit_agreement(data_copy, "shangyu-week-2023-forum",
                        "document: 002_317456791a856a0d.txt", "document: 999_missing.txt")
    # Two problems in one agreement: both, not just the first.
    a3 = edit_agreement(data_copy, "fenhu-branch-center-framework",
                        "date_precision: day", "date_precision: week")
    a4 = edit_agreement(data_copy, "fenhu-branch-center-framework",
                        "sectors: [technology-transfer]", "sectors: [space]")
    problems = problems_of(data_copy)
    got = {(Path(p.file).name, p.line, p.record, p.field) for p in problems}
    expected = {
        ("places.csv", csv_line, "ningbo-hitech-zone", "precision"),
        ("agreements.yaml", a1, "qingpu-wujiang-jiashan-2019-work-plan", "type"),
        ("agreements.yaml", a2, "shangyu-week-2023-forum", "sources"),
        ("agreements.yaml", a3, "fenhu-branch-center-framework", "date_precision"),
        ("agreements.yaml", a4, "fenhu-branch-center-framework", "sectors"),
    }
    assert expected <= got
    # The only others follow from the broken place: the agreement that names it.
    for extra in got - expected:
        assert extra[0] == "agreements.yaml" and extra[3] == "partners", extra


def test_problem_str_is_one_line_with_file_record_field(data_copy):
    line = edit_place(data_copy, "shaoxing", lon="abc")
    edit_agreement(data_copy, "qingpu-wujiang-jiashan-2019-work-plan", "type: work-plan", "type: treaty")
    problems = problems_of(data_copy)
    csv_problem = find(problems, "places.csv", "shaoxing", "lon")
    text = str(csv_problem)
    assert "\n" not in text
    assert f"places.csv:{line}" in text and "shaoxing" in text and "lon" in text
    yaml_problem = find(problems, "agreements.yaml", "qingpu-wujiang-jiashan-2019-work-plan", "type")
    text = str(yaml_problem)
    assert "\n" not in text
    assert "agreements.yaml" in text and "qingpu-wujiang-jiashan-2019-work-plan" in text and "type" in text
    # And the exception as a whole is one line per problem.
    with pytest.raises(DataError) as info:
        load(data_copy)
    assert str(info.value).splitlines() == [str(p) for p in info.value.problems]


def test_problem_str_format():
    p = Problem("geodata/places.csv", 7, "cixi", "lat", "fix it")
    assert str(p) == "geodata/places.csv:7: cixi: lat: fix it"
    assert str(Problem("geodata/agreements.yaml", 0, "", "", "x")) == "geodata/agreements.yaml: -: -: x"


def test_problem_file_for_relative_data_dir(data_copy, monkeypatch):
    edit_place(data_copy, "shaoxing", lon="abc")
    monkeypatch.chdir(data_copy)
    problems = problems_of(Path("."))
    problem = find(problems, "places.csv", "shaoxing", "lon")
    assert not problem.file.startswith("/"), problem.file


def test_party_name_with_an_unquoted_comma_is_reported(data_copy):
    """YAML reads {name: Qingpu District, Shanghai, role: x} as three keys: say so."""
    path = data_copy / "agreements.yaml"
    text = path.read_text(encoding="utf-8")
    broken = text.replace('{name: "Qingpu District, Shanghai", role: signatory,',
                          "{name: Qingpu District, Shanghai, role: signatory,")
    assert broken != text
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(DataError) as err:
        load(data_copy)
    [problem] = err.value.problems
    assert problem.record == "qingpu-wujiang-jiashan-2019-work-plan"
    assert problem.field == "parties" and "Shanghai" in problem.message and "quote" in problem.message
