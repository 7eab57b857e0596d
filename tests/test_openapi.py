"""/openapi.json describes every route, and schemathesis holds the app to it.

The fuzzing is bounded: a fixed number of generated cases per operation (derandomised, so CI
runs the same cases every time) and a deadline per case, through the WSGI app (no server).
A failure of any of the four checks fails the build.
"""
from __future__ import annotations

import json
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from geomap.options import NAMES
from geomap.web import create_app

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CASES_PER_OPERATION = 15  # 19 operations: about 300 cases in all


def _template(rule: str) -> str:
    """A Flask rule or an OpenAPI path with its variables blanked: /ogc/collections/{}/items."""
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", rule)


@pytest.fixture(scope="module")
def doc(app):
    resp = app.test_client().get("/openapi.json")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    return json.loads(resp.data)


def test_every_url_rule_of_the_app_is_documented(app, doc):
    """Add a route, describe it in geomap/openapi.py: this fails until you do."""
    documented = {_template(p) for p in doc["paths"]}
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods:
            assert _template(rule.rule) in documented, f"{rule.rule} is not in /openapi.json (geomap/openapi.py)"
    rules = {_template(r.rule) for r in app.url_map.iter_rules()}
    assert documented <= rules, f"documented but not served: {documented - rules}"


def test_every_option_is_a_documented_parameter(doc):
    names = {p["name"] for p in doc["components"]["parameters"].values()}
    assert set(NAMES) <= names
    index = doc["paths"]["/"]["get"]["parameters"]
    assert {ref["$ref"].rsplit("_", 1)[-1] if "$ref" in ref else ref["name"] for ref in index} >= {
        n for n in NAMES if "_" not in n}


def test_parameters_carry_their_real_constraints(doc, atlas):
    params = {p["name"]: p for p in doc["components"]["parameters"].values()}
    assert params["year_from"]["schema"] == {"type": "integer", "minimum": 1949, "maximum": 2100}
    assert params["type"]["schema"]["items"]["enum"] == list(__import__("geomap.records", fromlist=["x"]).AGREEMENT_TYPES)
    assert params["q"]["schema"]["maxLength"] == 200
    assert params["partner"]["schema"]["enum"] == sorted(atlas.partners.index)
    export = doc["paths"]["/export/{layer}.{fmt}"]["get"]
    fmt = next(p for p in export["parameters"] if p.get("name") == "fmt")
    assert fmt["schema"]["enum"] == ["geojson", "csv", "gpkg", "kml", "parquet", "fgb"]
    assert set(export["responses"]["200"]["content"]) == {
        "application/geo+json", "text/csv", "application/geopackage+sqlite3",
        "application/vnd.google-earth.kml+xml", "application/vnd.apache.parquet", "application/flatgeobuf"}
    items = doc["paths"]["/ogc/collections/{collectionId}/items"]["get"]
    limit = next(p for p in items["parameters"] if p.get("name") == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1, "default": 100}
    props = doc["components"]["schemas"]["AgreementsProperties"]
    assert props["properties"]["value_cny"]["type"] == "number"
    assert props["properties"]["agreement_id"] == {"type": "string", "nullable": True}


def test_the_document_is_self_contained(doc):
    text = json.dumps(doc)
    refs = re.findall(r'"\$ref": "([^"]+)"', text)
    assert refs and all(r.startswith("#/") for r in refs)
    for ref in set(refs):  # and every one resolves
        node = doc
        for part in ref[2:].split("/"):
            node = node[part]
    assert "schemas.opengis.net" not in text and "http" not in doc["servers"][0]["url"]


def test_the_html_page_lists_every_operation(client, doc):
    page = client.get("/openapi.html?lang=zh").get_data(as_text=True)
    for path in doc["paths"]:
        assert f"<code>GET {path}</code>" in page
    assert "<script" not in page and "cdn" not in page.lower()
    assert "API 文档" in page


# -- schemathesis ----------------------------------------------------------------------------------

# Loaded at collection through the WSGI app, as a client would: GET /openapi.json.
schema = schemathesis.openapi.from_wsgi("/openapi.json", create_app({"TESTING": True}))


@schema.parametrize()
@settings(max_examples=CASES_PER_OPERATION, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
def test_the_app_keeps_to_its_openapi_document(case):
    # The WSGI test client does not inflate gzip bodies (a browser would): ask for them plain.
    case.call_and_validate(checks=CHECKS, headers={"Accept-Encoding": "identity"})
