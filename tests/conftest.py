"""Shared fixtures: the shipped data, broken copies of it, the app and its test client."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from geomap import atlas as atlas_mod
from geomap.web import create_app

REPO = Path(__file__).resolve().parent.parent
GEODATA = REPO / "geodata"
SEEDS = REPO.parent / "shared" / "seeds"  # the seed articles, beside the repository in CI


@pytest.fixture(scope="session")
def atlas():
    return atlas_mod.build(GEODATA)


@pytest.fixture()
def data_copy(tmp_path) -> Path:
    """A fresh copy of geodata/ that a test may break."""
    dst = tmp_path / "geodata"
    shutil.copytree(GEODATA, dst)
    return dst


@pytest.fixture(scope="session")
def app():
    return create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(GEODATA)})


@pytest.fixture()
def client(app):
    return app.test_client()
