"""Every mistake a maintainer can make in geodata/ gets one line naming the file, the field's own
line, the record, the field and the fix: the exact message is asserted for each. None of them
is an "internal error", a traceback or a 500 later.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from geomap import atlas as atlas_mod
from geomap.cli import main
from geomap.load import DataError, load
from test_load import agreement_line, edit_agreement, edit_place, find, place_line, problems_of

PLACES = "places.csv"
AGREEMENTS = "agreements.yaml"


def only(problems):
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def validate(data_dir: Path):
    return CliRunner().invoke(main, ["validate"], env={"GEOMAP_DATA_DIR": str(data_dir)})


def insert_after(data_dir: Path, aid: str, after: str, text: str) -> int:
    """Insert `text` after the line `after` of agreement `aid`; return the new text's line."""
    return edit_agreement(data_dir, aid, after, after + text) + after.count("\n")


# -- several sites, sides and places ---------------------------------------------------------------

def test_a_list_of_sites_crashes_nothing_and_an_unknown_one_is_named(data_copy):
    line = edit_agreement(data_copy, "qingpu-wujiang-jiashan-2019-work-plan",
                          "shanghai_site: qingpu", "shanghai_site: [qingpu, pudong]")
    p = only(problems_of(data_copy))
    assert (p.line, p.record, p.field) == (line, "qingpu-wujiang-jiashan-2019-work-plan", "shanghai_site")
    assert p.message == "unknown place id 'pudong'; add it to places.csv or fix the spelling (e.g. shanghai)"


def test_a_missing_site_says_it_is_missing(data_copy):
    edit_agreement(data_copy, "fenhu-branch-center-framework", "  shanghai_site: qingpu\n", "")
    p = only(problems_of(data_copy))
    assert (p.line, p.field) == (agreement_line(data_copy, "fenhu-branch-center-framework"), "shanghai_site")
    assert p.message == "missing; give the Shanghai-side place id (e.g. shanghai), or a list of them"


def test_a_shanghai_district_as_a_partner(data_copy):
    line = edit_agreement(data_copy, "fenhu-branch-center-framework",
                          "partners: [fenhu-hitech-zone]", "partners: [fenhu-hitech-zone, qingpu]")
    p = only(problems_of(data_copy))
    assert (p.line, p.record, p.field) == (line, "fenhu-branch-center-framework", "partners")
    assert p.message == ("'qingpu' (Qingpu District) lies in Shanghai; partners lie outside Shanghai: "
                         "put it in shanghai_site, or fix the place's province in places.csv")


def test_a_zhejiang_city_as_the_shanghai_side(data_copy):
    line = edit_agreement(data_copy, "shangyu-week-2023-forum", "shanghai_site: shanghai", "shanghai_site: shaoxing")
    p = only(problems_of(data_copy))
    assert (p.line, p.record, p.field) == (line, "shangyu-week-2023-forum", "shanghai_site")
    assert p.message == ("'shaoxing' (Shaoxing) lies in Zhejiang, not in Shanghai; the Shanghai-side "
                         "site is inside Shanghai: put it in partners")


def test_a_site_of_unknown_province(data_copy):
    edit_place(data_copy, "shanghai-stock-exchange", province="", adcode="")
    line = agreement_line(data_copy, "shaoxing-sse-securities-cooperation")
    p = only(problems_of(data_copy))
    assert (p.record, p.field) == ("shaoxing-sse-securities-cooperation", "shanghai_site") and p.line > line
    assert p.message == ("'shanghai-stock-exchange' (Shanghai Stock Exchange) has no province or adcode in "
                         "places.csv; give it province Shanghai so it can be checked to lie inside Shanghai")


def test_an_adcode_that_contradicts_the_province(data_copy):
    line = edit_place(data_copy, "jiashan", province="Jiangsu")
    p = only(problems_of(data_copy))
    assert (p.file.endswith(PLACES), p.line, p.record, p.field) == (True, line, "jiashan", "adcode")
    assert p.message == "330421 is in Zhejiang (33...), but the province is Jiangsu (32...); fix the adcode or the province"


def test_an_unknown_province(data_copy):
    line = edit_place(data_copy, "jiashan", province="Zhejang")
    p = only(problems_of(data_copy))
    assert (p.line, p.record, p.field) == (line, "jiashan", "province")
    assert p.message.startswith("'Zhejang' is not a province-level name; use one of Beijing, Tianjin,")


# -- dates -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("written, message", [
    ("2019-13-01", "'2019-13-01': month 13 does not exist; months run from 01 to 12"),
    ("2019-02-30", "'2019-02-30': day 30 does not exist; February 2019 has 28 days"),
    ("2020-02-30", "'2020-02-30': day 30 does not exist; February 2020 has 29 days"),
    ("2019-1-5", "'2019-1-5': write the year with four digits and month and day with two: 2019-01-05"),
    ("2019-07", "'2019-07' has no day; write 2019-07-01 and give the precision as month"),
    ("2019", "2019 is not a full date; write YYYY-MM-DD (for a year only: 2019-01-01 with precision year)"),
    ("'2019'", "'2019' is a year only; write 2019-01-01 and give the precision as year"),
    ("23 July 2019", "'23 July 2019' is not an ISO date; write YYYY-MM-DD"),
])
def test_a_date_says_what_is_wrong(data_copy, written, message):
    line = edit_agreement(data_copy, "fenhu-branch-center-framework", "date: 2019-07-23", f"date: {written}")
    p = only(problems_of(data_copy))
    assert (p.line, p.record, p.field) == (line, "fenhu-branch-center-framework", "date")
    assert p.message == message


def test_a_source_date_that_does_not_exist(data_copy):
    line = edit_agreement(data_copy, "shangyu-week-2023-forum", "      date: 2023-03-21", "      date: 2019-02-30")
    p = only(problems_of(data_copy))
    assert (p.line, p.record, p.field) == (line, "shangyu-week-2023-forum", "sources")
    assert p.message == "date '2019-02-30': day 30 does not exist; February 2019 has 28 days"


def test_a_source_date_of_2019_02_30_never_reaches_a_page(data_copy):
    edit_agreement(data_copy, "shangyu-week-2023-forum", "      date: 2023-03-21", "      date: 2019-02-30")
    result = validate(data_copy)
    assert result.exit_code == 1
    assert "day 30 does not exist; February 2019 has 28 days" in result.output
    assert "internal error" not in result.output and "Traceback" not in result.output


def test_a_period_that_ends_before_it_starts(data_copy):
    line = insert_after(data_copy, "fenhu-branch-center-framework", "  date_precision: day\n", "  date_end: 2018-12-31\n")
    p = only(problems_of(data_copy))
    assert (p.line, p.field) == (line, "date_end")
    assert p.message == "2018-12-31 is before date 2019-07-23; a period ends after it starts"


def test_an_end_precision_without_an_end(data_copy):
    line = insert_after(data_copy, "fenhu-branch-center-framework", "  date_precision: day\n", "  date_end_precision: year\n")
    p = only(problems_of(data_copy))
    assert (p.line, p.field) == (line, "date_end_precision")
    assert p.message == "given without date_end; give date_end too, or remove it"


# -- status and parts -------------------------------------------------------------------------------

def test_an_unknown_status(data_copy):
    line = insert_after(data_copy, "fenhu-branch-center-framework", "  date_precision: day\n", "  status: rumoured\n")
    p = only(problems_of(data_copy))
    assert (p.line, p.field) == (line, "status")
    assert p.message == "'rumoured' is not one of signed, announced, intention"


def test_part_of_an_unknown_agreement(data_copy):
    line = edit_agreement(data_copy, "yinzhou-brain-hospital", "part_of: ningbo-seven-projects-signing",
                          "part_of: ningbo-eight-projects")
    p = only(problems_of(data_copy))
    assert (p.line, p.record, p.field) == (line, "yinzhou-brain-hospital", "part_of")
    assert p.message == "unknown agreement id 'ningbo-eight-projects'; give the id of the agreement this one belongs to"


def test_part_of_itself(data_copy):
    line = edit_agreement(data_copy, "yinzhou-brain-hospital", "part_of: ningbo-seven-projects-signing",
                          "part_of: yinzhou-brain-hospital")
    p = only(problems_of(data_copy))
    assert (p.line, p.field) == (line, "part_of")
    assert p.message == "an agreement cannot be part of itself; give the id of the agreement it belongs to, or remove part_of"


def test_a_cycle_of_parts(data_copy):
    insert_after(data_copy, "ningbo-seven-projects-signing", "  date_precision: day\n",
                 "  part_of: yinzhou-brain-hospital\n")
    line = [n for n, text in enumerate((data_copy / AGREEMENTS).read_text(encoding="utf-8").splitlines(), 1)
            if text == "  part_of: yinzhou-brain-hospital"][0]
    p = only(problems_of(data_copy))
    assert (p.line, p.record, p.field) == (line, "ningbo-seven-projects-signing", "part_of")
    assert p.message == ("the agreements form a cycle: ningbo-seven-projects-signing → yinzhou-brain-hospital → "
                         "ningbo-seven-projects-signing; one of them must not be part of the other")


# -- YAML shapes -----------------------------------------------------------------------------------

def test_a_mapping_where_a_list_belongs(data_copy):
    line = edit_agreement(data_copy, "fenhu-branch-center-framework", "partners: [fenhu-hitech-zone]",
                          "partners: {fenhu-hitech-zone: yes}")
    p = only(problems_of(data_copy))
    assert (p.line, p.field) == (line, "partners")
    assert p.message == "a mapping (key: value lines) where a list of place ids belongs; write e.g. [shaoxing]"


def test_a_list_where_text_belongs(data_copy):
    line = edit_agreement(data_copy, "fenhu-branch-center-framework", "title_en: Cooperation",
                          "title_en: [Cooperation, Framework]\n  title_old: Cooperation")
    problems = problems_of(data_copy)
    p = find(problems, AGREEMENTS, "fenhu-branch-center-framework", "title_en")
    assert p.line == line
    assert p.message == ("a list where text belongs; write the text on one line after 'title_en:' "
                         "(in quotes if it holds ': ' or ' #')")


def test_text_where_a_list_belongs(data_copy):
    line = edit_agreement(data_copy, "fenhu-branch-center-framework", "sectors: [technology-transfer]",
                          "sectors: technology-transfer")
    p = only(problems_of(data_copy))
    assert (p.line, p.field) == (line, "sectors")
    assert p.message == "'technology-transfer' is text; write a list of sector tags in brackets, e.g. [finance]"


def test_a_party_that_is_text(data_copy):
    line = edit_agreement(data_copy, "fenhu-branch-center-framework",
                          '    - {name: "Wu Weibin, Director, Economic Development Bureau, Fenhu Hi-Tech Industrial Development Zone", role: signatory}',
                          "    - Wu Weibin")
    p = only(problems_of(data_copy))
    assert (p.line, p.field) == (line, "parties")
    assert p.message == "an item is 'Wu Weibin'; each item is a mapping {name, role}"


def test_a_key_given_twice(data_copy):
    first = agreement_line(data_copy, "fenhu-branch-center-framework") + 4  # date_precision
    line = insert_after(data_copy, "fenhu-branch-center-framework", "  date_precision: day\n", "  date_precision: month\n")
    assert first == line - 1
    p = only(problems_of(data_copy))
    assert (p.line, p.field) == (line, "date_precision")
    assert p.message == f"the key 'date_precision' is given twice in this mapping (first on line {first}); keep one"


def test_the_file_as_a_mapping(data_copy):
    (data_copy / AGREEMENTS).write_text("agreements:\n  - id: x\n", encoding="utf-8")
    p = only(problems_of(data_copy))
    assert (p.line, p.record, p.field) == (1, "", "")
    assert p.message == ("the file is a mapping (key: value lines); it must be a YAML list of agreements, "
                         "each item starting with '- id: ...'")


def test_a_list_item_that_is_not_a_mapping(data_copy):
    path = data_copy / AGREEMENTS
    path.write_text(path.read_text(encoding="utf-8") + "- just a line\n", encoding="utf-8")
    n = len(path.read_text(encoding="utf-8").splitlines())
    p = only(problems_of(data_copy))
    assert (p.line, p.record) == (n, f"(item at line {n})")
    assert p.message == ("a list item is 'just a line'; each agreement is a mapping of 'key: value' "
                         "lines starting with '- id: ...'")


# -- anchors and aliases ---------------------------------------------------------------------------

def test_anchors_and_aliases_are_refused_with_one_line_each(data_copy):
    a = edit_agreement(data_copy, "shaoxing-auto-parts-park", "  sources:\n", "  sources: &gt\n")
    b = edit_agreement(data_copy, "shaoxing-cell-therapy-park",
                       "  sources:\n    - publisher: Global Times\n      title: E. China's Shaoxing signs 12 co-operative projects with Shanghai\n"
                       "      date: 2020-12-19\n      url: null\n      document: 003_194a35754776e172.txt\n",
                       "  sources: *gt\n")
    problems = problems_of(data_copy)
    assert [(p.line, p.record, p.field, p.message) for p in problems] == [
        (a, "shaoxing-auto-parts-park", "sources",
         "YAML anchor &gt: geomap does not use anchors and aliases; remove '&gt' and write the value out in full wherever *gt is used"),
        (b, "shaoxing-cell-therapy-park", "sources",
         f"YAML alias *gt: geomap does not use anchors and aliases; write the value of &gt (line {a}) out in full here"),
    ]


BOMB = (  # 360 bytes that expand to 10^9 strings under a loader that follows aliases
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
)


@pytest.mark.parametrize("text", [BOMB, "- " + BOMB.replace("\n", "\n  ")])
def test_an_alias_bomb_gives_a_short_answer(data_copy, text):
    (data_copy / AGREEMENTS).write_text(text, encoding="utf-8")
    result = validate(data_copy)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    # A handful of lines (at most 20 about anchors and aliases, then one counting the rest),
    # not the megabytes the expanded aliases would print.
    assert len(lines) <= 60 and len(result.output) < 12_000, result.output[:500]
    assert "YAML anchor &a" in result.output and "YAML alias *a" in result.output
    # Inside a record, one line per field; elsewhere at most 20, then one line counts the rest.
    assert "more YAML anchors, aliases or tags" in result.output or result.output.count("YAML alias") <= 9
    assert "internal error" not in result.output


# -- places.csv shapes -----------------------------------------------------------------------------

def test_an_unquoted_comma_names_the_value_to_quote(data_copy):
    path = data_copy / PLACES
    line = place_line(data_copy, "fenhu-hitech-zone")
    rows = path.read_text(encoding="utf-8").splitlines()
    rows[line - 1] = ("fenhu-hitech-zone,Fenhu Hi-Tech Industrial Development Zone,汾湖高新技术产业开发区,zone,Jiangsu,"
                      "Suzhou,320509,120.84,30.98,2,manual: Handan campus, Tongji")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    problems = problems_of(data_copy)
    p = find(problems, PLACES, "fenhu-hitech-zone", "source")
    assert p.line == line
    assert p.message == ("the row has 12 values for 11 columns: the comma in 'manual: Handan campus, Tongji' "
                         'splits it; put the value in double quotes: "manual: Handan campus, Tongji"')


def test_a_row_with_extra_values_nothing_explains(data_copy):
    path = data_copy / PLACES
    line = place_line(data_copy, "cixi")
    rows = path.read_text(encoding="utf-8").splitlines()
    # Two stray commas in two values: no one value to quote explains the row.
    rows[line - 1] = "cixi,Ci, xi,慈溪市,county-city,Zhejiang,Ningbo,330282,121.262218,30.172704,8,manual: a, b"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    p = find(problems_of(data_copy), PLACES, "cixi", "-")
    assert p.line == line
    assert p.message == ("the row has 13 values for 11 columns (extra: 'manual: a, b'); a value holding a comma "
                         "must be in double quotes")


def test_a_row_with_too_few_values(data_copy):
    path = data_copy / PLACES
    line = place_line(data_copy, "cixi")
    rows = path.read_text(encoding="utf-8").splitlines()
    rows[line - 1] = "cixi,Cixi,慈溪市,county-city,Zhejiang,Ningbo,330282"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    p = find(problems_of(data_copy), PLACES, "cixi", "lon")
    assert p.line == line
    assert p.message == ("the row has 7 values for 11 columns; it ends before lon: give every column, "
                         "empty ones as nothing between two commas")


def test_a_value_over_csvs_field_limit(data_copy):
    path = data_copy / PLACES
    line = place_line(data_copy, "cixi")
    rows = path.read_text(encoding="utf-8").splitlines()
    rows[line - 1] = 'cixi,"Cixi' + "x" * 140_000
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    problems = problems_of(data_copy)
    p = find(problems, PLACES, "", "")
    assert p.line == line
    assert p.message == ("a value longer than 131,072 characters starts on this line: most likely a double "
                         'quote that is never closed; close it, or double a quote meant as text ("")')
    assert len(str(p)) < 300
    result = validate(data_copy)
    assert result.exit_code == 1 and "internal error" not in result.output


def test_an_unknown_column(data_copy):
    path = data_copy / PLACES
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(",source\n", ",source,colour\n", 1), encoding="utf-8")
    p = only(problems_of(data_copy))
    assert (p.line, p.field) == (1, "colour")
    assert p.message == ("unknown column(s) 'colour'; the header must be "
                         "id,name_en,name_zh,kind,province,prefecture,adcode,lon,lat,precision,source")


# -- files that are not files ----------------------------------------------------------------------

def test_a_symbolic_link_loop_as_a_data_file(data_copy):
    (data_copy / PLACES).unlink()
    os.symlink(data_copy / "loop-b", data_copy / PLACES)
    os.symlink(data_copy / PLACES, data_copy / "loop-b")
    problems = problems_of(data_copy)
    p = find(problems, PLACES, "", "")
    assert p.message == "the file is a symbolic link loop (it leads back to itself); replace the link with the file itself"
    result = validate(data_copy)
    assert result.exit_code == 1 and "symbolic link loop" in result.output and "internal error" not in result.output


def test_a_symbolic_link_loop_as_the_data_directory(tmp_path):
    loop = tmp_path / "geodata"
    os.symlink(tmp_path / "other", loop)
    os.symlink(loop, tmp_path / "other")
    with pytest.raises(DataError) as info:
        load(loop)
    assert [p.message for p in info.value.problems] == [
        "the data directory is a symbolic link loop (it leads back to itself); point GEOMAP_DATA_DIR at "
        "a directory holding places.csv and agreements.yaml"]
    result = validate(loop)
    assert result.exit_code == 1 and "symbolic link loop" in result.output and "internal error" not in result.output


def test_a_document_that_is_a_broken_link(data_copy):
    os.symlink(data_copy / "nowhere.txt", data_copy / "sources" / "gone.txt")
    line = edit_agreement(data_copy, "shangyu-week-2023-forum", "document: 002_317456791a856a0d.txt", "document: gone.txt")
    p = only(problems_of(data_copy))
    assert (p.line, p.field) == (line, "sources")
    assert p.message.startswith("document 'gone.txt' is a symbolic link to ")
    assert p.message.endswith(", which does not exist in geodata/sources/; copy the article there or fix the file name")


@pytest.mark.parametrize("content, line, message", [
    ("{not json", 1, "not valid JSON (Expecting property name enclosed in double quotes, column 2)"),
    ("[]", 1, "not a JSON object of query -> answer"),
    ('{\n "Cixi, Ningbo, Zhejiang, China": {"lon": "east", "lat": 30}\n}', 2,
     "the answer for 'Cixi, Ningbo, Zhejiang, China' is not {lon, lat, service, ...} or null"),
])
def test_a_malformed_geocoding_cache(data_copy, content, line, message):
    (data_copy / "geocode-cache.json").write_text(content, encoding="utf-8")
    with pytest.raises(DataError) as info:
        atlas_mod.build(data_copy)
    [p] = info.value.problems
    assert (Path(p.file).name, p.line) == ("geocode-cache.json", line)
    assert p.message == f"{message}; fix it, or delete it and run `geomap geocode --online` again"
    result = validate(data_copy)
    assert result.exit_code == 1 and message in result.output and "internal error" not in result.output


# -- every place inside its county (geotool-cn's boundaries, installed by the test extra) --------

def test_the_boundary_dataset_is_installed_for_the_tests():
    from geomap.geocode import counties
    assert counties.available(), "pip install '.[test]': the test extra installs geotool-cn"


def test_a_place_in_the_wrong_county(data_copy):
    # Cixi moved to Yuyao's seat: inside Zhejiang and Ningbo (the province box passes), wrong county.
    line = edit_place(data_copy, "cixi", lon="121.154", lat="30.045")
    atlas_mod.build(data_copy)  # loading cannot know
    result = validate(data_copy)
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        f"geodata/places.csv:{line}: cixi: lon: (121.154, 30.045) lies in 余姚市 (330281), not in 慈溪市 (330282), "
        "the unit of its adcode; check the coordinates against the source, or the adcode")


def test_a_prefecture_city_is_checked_against_the_prefecture(data_copy):
    line = edit_place(data_copy, "ningbo", lon="120.576277", lat="30.032824")  # Shaoxing's seat
    result = validate(data_copy)
    assert result.output.splitlines()[0] == (
        f"geodata/places.csv:{line}: ningbo: lon: (120.576277, 30.032824) lies in 绍兴市 (330600), not in 宁波市 (330200), "
        "the unit of its adcode; check the coordinates against the source, or the adcode")


def test_an_adcode_that_names_no_unit(data_copy):
    line = edit_place(data_copy, "cicheng-new-city", adcode="330299")
    result = validate(data_copy)
    assert result.output.splitlines()[0] == (
        f"geodata/places.csv:{line}: cicheng-new-city: adcode: 330299 is no administrative unit in geotool-cn "
        f"{__import__('importlib.metadata').metadata.version('geotool-cn')}'s boundaries; check the code is current "
        "(units are renamed and merged)")


def test_validate_says_what_the_county_check_did(data_copy, monkeypatch):
    result = validate(data_copy)
    assert result.exit_code == 0, result.output
    tested = result.output.splitlines()[1]
    assert tested.startswith("county check: 19 located place(s) tested against geotool-cn ")
    assert tested.endswith("boundaries, 0 outside their unit; 1 without adcode not tested (ningbo-hitech-zone)")
    from geomap.geocode import counties
    monkeypatch.setattr(counties, "_geotool", lambda: None)
    result = validate(data_copy)
    assert result.exit_code == 0
    assert result.output.splitlines()[1] == ("county check skipped: geotool-cn is not installed "
                                             "(pip install 'geotool-cn>=3.1,<4' to check every place against its county)")
