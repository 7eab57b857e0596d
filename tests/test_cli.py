"""The `geomap` command: exit codes, one line per problem, geocode --write, export."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from conftest import GEODATA
from geomap.cli import main

EXIT_USAGE = 2


def run(data_dir: Path, *args: str):
    return CliRunner().invoke(main, list(args), env={"GEOMAP_DATA_DIR": str(data_dir)})


def run_subprocess(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, GEOMAP_DATA_DIR=str(data_dir))
    env.pop("GEOMAP_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "geomap.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def blank(data_dir: Path, *pids: str) -> None:
    path = data_dir / "places.csv"
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert set(pids) <= {r["id"] for r in rows}
    for r in rows:
        if r["id"] in pids:
            r.update(lon="", lat="", precision="", source="")
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def places_rows(data_dir: Path) -> dict[str, dict]:
    text = (data_dir / "places.csv").read_text(encoding="utf-8-sig")
    return {r["id"]: r for r in csv.DictReader(io.StringIO(text))}


def break_two_agreements(data_dir: Path) -> None:
    y = data_dir / "agreements.yaml"
    edit(y, "type: work-plan", "type: treaty")
    edit(y, "sectors: [technology-transfer]\n", "sectors: [technology-transfer, space]\n")


# -- validate ------------------------------------------------------------------------------------

def test_validate_ok_on_shipped_data():
    result = run(GEODATA, "validate")
    assert result.exit_code == 0, result.output
    assert "OK" in result.stdout
    assert result.stderr == ""


def test_validate_broken_copy_one_line_per_problem(data_copy):
    break_two_agreements(data_copy)
    result = run(data_copy, "validate")
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 3, result.stderr  # two problems and the summary
    problem_lines = lines[:2]
    assert any("agreements.yaml:" in ln and "qingpu-wujiang-jiashan-2019-work-plan" in ln
               and ": type:" in ln and "treaty" in ln for ln in problem_lines), problem_lines
    assert any("agreements.yaml:" in ln and "fenhu-branch-center-framework" in ln
               and ": sectors:" in ln and "space" in ln for ln in problem_lines), problem_lines
    assert "2 problems" in lines[2]
    assert "OK" not in result.stdout


def test_validate_subprocess(data_copy):
    ok = run_subprocess(GEODATA, "validate")
    assert ok.returncode == 0, ok.stderr
    assert "OK" in ok.stdout

    break_two_agreements(data_copy)
    bad = run_subprocess(data_copy, "validate")
    assert bad.returncode != 0
    assert "Traceback" not in bad.stderr + bad.stdout
    lines = bad.stderr.splitlines()
    assert len(lines) == 3, bad.stderr
    # Only the copy is broken: failing at all shows GEOMAP_DATA_DIR was read.
    assert sum("agreements.yaml:" in ln for ln in lines) == 2


# -- geocode -------------------------------------------------------------------------------------

def test_geocode_reports_precision_and_source_then_write(data_copy):
    original = places_rows(data_copy)
    blank(data_copy, "shangyu", "fenhu-hitech-zone")

    result = run(data_copy, "geocode")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    for pid, precision in (("shangyu", 8), ("fenhu-hitech-zone", 3)):
        line = next(ln for ln in lines if f" {pid}:" in ln)
        assert f"precision {precision}" in line and "adcode-seat" in line, line
    assert "wrote" not in result.output
    assert places_rows(data_copy)["shangyu"]["lon"] == ""  # not written without --write

    result = run(data_copy, "geocode", "--write")
    assert result.exit_code == 0, result.output
    rows = places_rows(data_copy)
    # The district comes back to its seat as shipped (the shipped value is the same seat).
    assert float(rows["shangyu"]["lon"]) == pytest.approx(float(original["shangyu"]["lon"]), abs=1e-6)
    assert float(rows["shangyu"]["lat"]) == pytest.approx(float(original["shangyu"]["lat"]), abs=1e-6)
    assert rows["shangyu"]["precision"] == "8" and "adcode-seat" in rows["shangyu"]["source"]
    assert rows["fenhu-hitech-zone"]["precision"] == "3" and rows["fenhu-hitech-zone"]["lon"]
    # Every other row is untouched.
    for pid, row in original.items():
        if pid not in ("shangyu", "fenhu-hitech-zone"):
            assert rows[pid] == row

    again = run(data_copy, "geocode")
    assert again.exit_code == 0
    assert "nothing to geocode" in again.stdout
    assert run(data_copy, "validate").exit_code == 0


def test_geocode_not_found_fails(data_copy):
    blank(data_copy, "ningbo-hitech-zone")  # no adcode, no GeoNames entry
    result = run(data_copy, "geocode")
    assert result.exit_code != 0
    assert "ningbo-hitech-zone" in result.stdout and "not found" in result.stdout
    assert "Traceback" not in result.output


# -- export --------------------------------------------------------------------------------------

def test_export_agreements_geojson(tmp_path):
    out = tmp_path / "agreements.geojson"
    result = run(GEODATA, "export", "--layer", "agreements", "--format", "geojson", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left beside it
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection"

    agreements = yaml.safe_load((GEODATA / "agreements.yaml").read_text(encoding="utf-8"))
    pairs = {(a["id"], pid) for a in agreements for pid in a["partners"]}
    assert len(doc["features"]) == sum(len(a["partners"]) for a in agreements) == len(pairs)
    got = {(f["properties"]["agreement_id"], f["properties"]["place_id"]) for f in doc["features"]}
    assert got == pairs

    places = places_rows(GEODATA)
    for f in doc["features"]:
        assert f["type"] == "Feature"
        assert f["geometry"]["type"] == "Point"
        row = places[f["properties"]["place_id"]]
        assert f["geometry"]["coordinates"] == [float(row["lon"]), float(row["lat"])]


def test_export_subprocess_to_stdout_with_filter():
    result = run_subprocess(GEODATA, "export", "--layer", "agreements", "--province", "Jiangsu")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    places = places_rows(GEODATA)
    jiangsu = {pid for pid, r in places.items() if r["province"] == "Jiangsu"}
    agreements = yaml.safe_load((GEODATA / "agreements.yaml").read_text(encoding="utf-8"))
    expected = {(a["id"], p) for a in agreements for p in a["partners"] if p in jiangsu}
    assert expected
    assert {(f["properties"]["agreement_id"], f["properties"]["place_id"]) for f in doc["features"]} == expected


@pytest.mark.parametrize("flags, word", [
    (["--year-from", "abc"], "year_from"),
    (["--year-to", "20x0"], "year_to"),
    (["--type", "nonsense"], "type"),
    (["--sector", "space"], "sector"),
    (["--partner", "atlantis"], "partner"),
    (["--province", "Atlantis"], "province"),
])
def test_export_bad_filter_exits_2_with_one_line(tmp_path, flags, word):
    out = tmp_path / "out.geojson"
    result = run(GEODATA, "export", "--layer", "agreements", "--output", str(out), *flags)
    assert result.exit_code == EXIT_USAGE, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert word in lines[0] and flags[1] in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists()


def test_export_bad_filter_subprocess():
    result = run_subprocess(GEODATA, "export", "--layer", "agreements", "--year-from", "abc")
    assert result.returncode == EXIT_USAGE
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and "abc" in result.stderr
    assert "Traceback" not in result.stderr


def test_export_to_missing_directory_fails_cleanly(tmp_path):
    out = tmp_path / "no-such-dir" / "agreements.geojson"
    result = run(GEODATA, "export", "--layer", "agreements", "--output", str(out))
    assert result.exit_code != 0
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "Traceback" not in result.output
    assert not out.exists() and not out.parent.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("setting, value", [
    ("GEOMAP_FRAME_ANCESTORS", "ftp://partner.example"),
    ("GEOMAP_DEFAULT_TILES", "google"),
])
def test_a_bad_setting_stops_serve_with_one_line(setting, value):
    import subprocess
    import sys

    env = dict(os.environ, **{setting: value})
    out = subprocess.run([sys.executable, "-m", "geomap.cli", "serve", "--port", "1"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and setting in lines[0] and "Traceback" not in out.stderr
