"""The map's script is built from its ES modules (geomap/static/src/map/) by esbuild, and the
built file is committed: it must be exactly what the modules build."""
from __future__ import annotations

import subprocess

from conftest import REPO


def test_the_committed_map_script_is_what_its_modules_build():
    esbuild = REPO / "node_modules" / ".bin" / "esbuild"
    assert esbuild.exists(), "run `make js` (npm ci) first: esbuild builds geomap.js"
    done = subprocess.run(["node", "geomap/static/src/build.mjs", "--check"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr + done.stdout


def test_the_build_is_served_and_its_sources_are_not():
    from geomap import assets

    assert "geomap/geomap.js" in assets.MAP_JS
    assert not any(name.startswith("geomap/src/") for name in assets.FILES)
    # rbush and quickselect are vendored with their licences and exact versions.
    for package in ("rbush", "quickselect"):
        folder = REPO / "geomap" / "static" / "vendor" / package
        assert (folder / "LICENSE").exists() and (folder / "VERSION").read_text().split()[1][0].isdigit()
