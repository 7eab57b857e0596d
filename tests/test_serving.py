"""Serving for real (issue 11, findings 2, 3, 10 and 11): reloads that neither leak nor miss, gunicorn
with broken data, forwarded headers under gunicorn, and `geomap serve` on waitress surviving slow
clients. These start real servers as subprocesses; no timing is asserted, only outcomes (a request
answered at all gets a generous timeout)."""
from __future__ import annotations

import gc
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import weakref
from pathlib import Path

import pytest

from conftest import GEODATA, REPO
from geomap.web import create_app
from geomap.web.reload import ReloadingApp

sys.path.insert(0, str(REPO / "bench"))
import generate  # noqa: E402

BIN = Path(sys.executable).parent
ANSWER_TIMEOUT = 60  # seconds a request may take on a loaded 2-core machine before it counts as lost


@pytest.fixture()
def unfreeze():
    """ReloadingApp freezes the collector's survivors, as in a worker; give this process back."""
    yield
    gc.unfreeze()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, headers: dict | None = None, timeout: float = ANSWER_TIMEOUT):
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.status, dict(resp.headers), resp.read()


def wait_until_up(url: str, proc: subprocess.Popen, limit: float = 180) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
        try:
            get(url, timeout=5)
            return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {limit} s")


def stop(proc: subprocess.Popen) -> None:
    """End a server this test started, and its children (its own process group)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)


def server_env(data_dir: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEOMAP_")}
    env.update(PYTHONPATH=str(REPO), GEOMAP_DATA_DIR=str(data_dir), **extra)
    return env


def gunicorn(data_dir: Path, port: int, *args: str, log: Path | None = None, **env) -> subprocess.Popen:
    """gunicorn as the README runs it; its stderr to `log` (a file: a long run must not fill a pipe)."""
    err = open(log, "w") if log else subprocess.PIPE
    try:
        return subprocess.Popen(
            [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", *args, "wsgi:app"],
            cwd=REPO, env=server_env(data_dir, **env), stdout=subprocess.DEVNULL, stderr=err,
            text=True, start_new_session=True)
    finally:
        if log:
            err.close()


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def publish(path: Path, text: str) -> None:
    """Copy a file in as the README says: a temporary name, then a rename."""
    tmp = path.with_name(f".{path.name}.new")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# -- the reloader, in this process -----------------------------------------------------------------

@pytest.fixture()
def reloading(monkeypatch, unfreeze):
    """reloading(data_dir) -> a ReloadingApp over it that looks twice with no pause between."""
    def make(data_dir: Path) -> ReloadingApp:
        monkeypatch.setenv("GEOMAP_DATA_DIR", str(data_dir))
        app = ReloadingApp(lambda: create_app({"TESTING": True}), interval=3600)
        app.settle = 0
        return app
    return make


def test_the_old_app_is_collected_after_a_reload(data_copy, reloading):
    """Finding 2: gc.freeze() ran before the swap, so every replaced app stayed in memory."""
    app = reloading(data_copy)
    gc.collect()
    gc.freeze()  # as wsgi.py does after start-up
    old = weakref.ref(app.app)
    old_atlas = weakref.ref(app.app.extensions["geomap.atlas"])
    path = data_copy / "agreements.yaml"
    publish(path, path.read_text(encoding="utf-8").replace("Shangyu Week forum in Shanghai", "Shangyu Week, Shanghai"))
    assert app.check() is True
    gc.collect()
    assert old() is None and old_atlas() is None
    assert gc.get_freeze_count() > 0  # the new app is frozen again


def test_a_copy_that_finishes_during_a_failed_build_is_loaded_next_time(data_copy, reloading):
    """Finding 3: after a failed build the reloader recorded the files as they were *after* it, so
    a copy that finished meanwhile was never loaded."""
    path = data_copy / "agreements.yaml"
    good = path.read_text(encoding="utf-8").replace("Shangyu Week forum in Shanghai", "Shangyu Week, Shanghai")
    app = reloading(data_copy)
    first = app.version
    builds = []
    factory = app.factory

    def copy_finishes_while_building():
        builds.append(1)
        try:
            return factory()
        finally:
            if len(builds) == 1:
                publish(path, good)  # the rest of the copy lands while the half file fails

    app.factory = copy_finishes_while_building
    publish(path, good[: good.index("- id:", len(good) // 2)] + "- id: [broken\n")  # half a copy
    assert app.check() is False and app.version == first  # the half file: refused, old data kept
    assert app.check() is True  # the finished copy, on the next look
    assert len(builds) == 2 and "Shangyu Week, Shanghai" in path.read_text(encoding="utf-8")
    with_good = create_app({"TESTING": True, "GEOMAP_DATA_DIR": str(data_copy)})
    assert app.version == with_good.extensions["geomap.atlas"].version


def test_files_still_changing_are_not_taken_until_two_looks_agree(data_copy, reloading):
    path = data_copy / "agreements.yaml"
    text = path.read_text(encoding="utf-8")
    app = reloading(data_copy)
    builds = []
    factory = app.factory
    app.factory = lambda: builds.append(1) or factory()
    writes = iter([text[: len(text) // 3], text[: 2 * len(text) // 3]])

    def copy_in_progress(_seconds):  # between the two looks, the copy goes on
        chunk = next(writes, None)
        if chunk is not None:
            path.write_text(chunk, encoding="utf-8")

    app._sleep = copy_in_progress
    path.write_text(text[: len(text) // 4], encoding="utf-8")
    assert app.check() is False and builds == []  # changed between the looks: not built
    assert app.check() is False and builds == []
    path.write_text(text.replace("Shangyu Week forum in Shanghai", "Shangyu Week, Shanghai"), encoding="utf-8")
    assert app.check() is True and builds == [1]  # stable across two looks: built once


# -- gunicorn ---------------------------------------------------------------------------------------

PAGES = ("/?lang=en", "/?lang=zh", "/embed?lang=en", "/api/agreements.geojson", "/export/links.csv",
         "/partners/{pid}?lang=en")


def test_worker_memory_stays_flat_across_eight_reloads_under_gunicorn(tmp_path):
    """Finding 2, end to end: 8 reloads of 2,000 agreements under gunicorn with
    GEOMAP_RELOAD_SECONDS; the worker's RSS stays within 1.5 times its RSS after start-up."""
    data_dir = generate.generate(tmp_path / "geodata", agreements=2_000, seed=5)
    path = data_dir / "agreements.yaml"
    text = path.read_text(encoding="utf-8")
    first_title = re.search(r'title_en: "([^"]+)"', text).group(1)
    pid_of_partner = re.search(r"partners: \[([^],]+)", text).group(1)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "gunicorn.log"
    proc = gunicorn(data_dir, port, "--workers", "1", "--timeout", "300", log=log, GEOMAP_RELOAD_SECONDS="1")
    try:
        wait_until_up(base + "/healthz", proc)
        worker = children(proc.pid)[0]

        def visit():
            for page in PAGES:
                assert get(base + page.format(pid=pid_of_partner))[0] == 200

        visit()
        start = rss_kb(worker)
        sizes = []
        version = json.loads(get(base + "/healthz")[2])["data_version"]
        for i in range(8):
            publish(path, text.replace(f'"{first_title}"', f'"{first_title} (edition {i})"', 1))
            deadline = time.monotonic() + 300
            while json.loads(get(base + "/healthz")[2])["data_version"] == version:
                assert time.monotonic() < deadline, f"reload {i} not seen: {log.read_text()[-2000:]}"
                time.sleep(0.5)
            version = json.loads(get(base + "/healthz")[2])["data_version"]
            visit()
            assert children(proc.pid) == [worker]  # the same worker: reloaded, not restarted
            sizes.append(rss_kb(worker))
        print(f"\nworker RSS after start-up {start / 1024:.0f} MB; after each of 8 reloads (MB): "
              + ", ".join(f"{s / 1024:.0f}" for s in sizes) + f"; max/start {max(sizes) / start:.2f}")
        assert max(sizes) <= 1.5 * start, (start, sizes)
        assert log.read_text().count("reloaded in") == 8
    finally:
        stop(proc)


def test_gunicorn_believes_no_forwarded_header_of_its_own(tmp_path):
    """Finding 1: gunicorn took X-Forwarded-Proto (and SCRIPT_NAME headers) from any client on
    127.0.0.1; gunicorn.conf.py turns that off, and the app's GEOMAP_PROXY_FIX decides."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = gunicorn(GEODATA, port, "--workers", "1")
    try:
        wait_until_up(base + "/healthz", proc)
        _, _, body = get(f"{base}/oembed?url={base}/&format=json",
                         headers={"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on", "SCRIPT_NAME": "/evil"})
        answer = json.loads(body)
        assert answer["provider_url"] == base + "/"
        assert "evil" not in body.decode() and "https:" not in answer["html"]
    finally:
        stop(proc)


def test_gunicorn_with_broken_data_prints_the_problems_and_exits_without_a_traceback(data_copy):
    """Finding 11: the problems came inside a worker traceback, and the master kept restarting."""
    path = data_copy / "agreements.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("type: forum", "type: treaty", 1), encoding="utf-8")
    proc = gunicorn(data_copy, free_port(), "--workers", "2")
    try:
        _, err = proc.communicate(timeout=180)
    finally:
        stop(proc)
    assert proc.returncode != 0
    assert "Traceback" not in err, err
    assert re.search(r"agreements\.yaml.*type.*treaty", err), err
    assert "problem in the data; fix the lines above" in err


def test_a_bad_reload_setting_stops_the_wsgi_entry_point_with_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=REPO, capture_output=True, text=True,
                            env=server_env(GEODATA, GEOMAP_RELOAD_SECONDS="soon"), timeout=120)
    assert result.returncode == 3
    assert result.stderr.strip().splitlines() == [
        "geomap: error: configuration: GEOMAP_RELOAD_SECONDS='soon' is not a number of seconds; "
        "write e.g. 60, or leave it unset to reload only on restart"]


# -- geomap serve --------------------------------------------------------------------------------------

def slow_client(port: int, stop_at: float, sent: list[int]) -> None:
    """A request that never ends: one byte a second."""
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_TIMEOUT) as sock:
        sock.sendall(b"GET /?lang=en HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        while time.monotonic() < stop_at:
            try:
                sock.sendall(b"a")
            except OSError:
                return
            sent[0] += 1
            time.sleep(1)


def test_geomap_serve_is_waitress_and_keeps_answering_while_20_clients_send_a_byte_a_second():
    """Finding 10: `geomap serve` was Werkzeug's development server."""
    proc = subprocess.Popen([str(BIN / "geomap"), "serve", "--port", "0"], cwd=REPO, env=server_env(GEODATA),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        line = proc.stderr.readline()
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)/", line).group(1))
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base + "/healthz", proc)
        status, headers, _ = get(base + "/healthz")
        assert headers.get("Server") == "waitress" and "waitress" in line
        sent = [0]
        stop_at = time.monotonic() + 25
        slow = [threading.Thread(target=slow_client, args=(port, stop_at, sent), daemon=True) for _ in range(20)]
        for t in slow:
            t.start()
        answered = []
        while time.monotonic() < stop_at:
            status, _, body = get(base + "/?lang=en")
            answered.append(status)
            time.sleep(1)
        for t in slow:
            t.join()
        print(f"\n20 slow clients sent {sent[0]} bytes one a second; meanwhile {len(answered)} other "
              f"requests were answered: {sorted(set(answered))}")
        assert len(answered) >= 5 and set(answered) == {200}
        assert sent[0] >= 20 * 10  # the slow clients were really there all along
        assert proc.poll() is None
    finally:
        stop(proc)


def test_geomap_serve_dev_runs_flasks_reloader():
    port = free_port()
    proc = subprocess.Popen([str(BIN / "geomap"), "serve", "--dev", "--port", str(port)], cwd=REPO,
                            env=server_env(GEODATA), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", proc)
        _, headers, _ = get(f"http://127.0.0.1:{port}/healthz")
        assert headers["Server"].startswith("Werkzeug")
        assert len(children(proc.pid)) == 1  # the reloader's watcher runs the server in a child
    finally:
        stop(proc)
