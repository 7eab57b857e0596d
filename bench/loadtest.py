"""A bounded load test of geomap under gunicorn, on 127.0.0.1 only.

    .venv/bin/python bench/loadtest.py                      # 10,000 synthetic agreements, 3 workers
    .venv/bin/python bench/loadtest.py --tool wrk --workers 2 --duration 10

Starts `gunicorn wsgi:app` on a free loopback port over a data directory (synthetic, from
bench/generate.py, unless --data-dir), waits for /healthz, warms every worker's render cache,
then loads each path in turn for at most --duration seconds and (with the Python client) at most
--max-requests requests, with --concurrency connections, sending the headers a browser sends
(Accept-Encoding: gzip). It reports requests per second, latency percentiles and errors (any
status but 200, any connection error or timeout) per path, and stops gunicorn.

Two load generators: "python" (threads here, bounded by requests and time; it shares the two CPUs
with the server, so its figures are a floor) and "wrk" (Debian's `apt-get install wrk`, bounded
by time, lighter on the CPU; bench/wrk_report.lua prints its percentiles as JSON).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

import generate  # noqa: E402

PATHS = ["/?lang=en", "/embed?lang=en", "/api/partners.geojson"]
HEADERS = {"Accept-Encoding": "gzip, deflate", "Accept-Language": "en"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(data_dir: Path, port: int, workers: int, threads: int, log: Path) -> subprocess.Popen:
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    cmd = [gunicorn, "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--chdir", str(REPO),
           "--log-level", "warning", "--timeout", "120"]
    if threads > 1:
        cmd += ["--worker-class", "gthread", "--threads", str(threads)]
    cmd.append("wsgi:app")
    env = dict(os.environ, GEOMAP_DATA_DIR=str(data_dir))
    return subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("gunicorn did not answer /healthz in time")


def warm(base: str, paths: list[str], workers: int) -> None:
    """Each path several times per worker, so that every worker has it cached, both encodings."""
    for path in paths:
        for _ in range(4 * workers):
            for headers in (HEADERS, {}):
                req = urllib.request.Request(base + path, headers=headers)
                with urllib.request.urlopen(req, timeout=120) as r:
                    r.read()


def percentile(sorted_xs: list[float], p: float) -> float:
    if not sorted_xs:
        return float("nan")
    k = min(len(sorted_xs) - 1, max(0, round(p / 100 * (len(sorted_xs) - 1))))
    return sorted_xs[k]


def python_load(port: int, path: str, concurrency: int, duration: float, max_requests: int) -> dict:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    budget = [max_requests]
    stop_at = time.monotonic() + duration

    def take() -> bool:
        with lock:
            if budget[0] <= 0:
                return False
            budget[0] -= 1
            return True

    def worker():
        conn = None
        mine, bad = [], {}
        while time.monotonic() < stop_at and take():
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            t = time.perf_counter()
            try:
                conn.request("GET", path, headers=HEADERS)
                resp = conn.getresponse()
                resp.read()
                dt = time.perf_counter() - t
                if resp.status != 200:
                    bad[f"HTTP {resp.status}"] = bad.get(f"HTTP {resp.status}", 0) + 1
                else:
                    mine.append(dt)
                if resp.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as exc:
                bad[type(exc).__name__] = bad.get(type(exc).__name__, 0) + 1
                conn.close()
                conn = None
        if conn is not None:
            conn.close()
        with lock:
            latencies.extend(mine)
            for k, v in bad.items():
                errors[k] = errors.get(k, 0) + v

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    n_err = sum(errors.values())
    return {"path": path, "requests": len(latencies) + n_err, "seconds": elapsed,
            "rps": (len(latencies) + n_err) / elapsed, "p50_ms": percentile(latencies, 50) * 1000,
            "p95_ms": percentile(latencies, 95) * 1000, "p99_ms": percentile(latencies, 99) * 1000,
            "errors": n_err, "error_kinds": errors}


def wrk_load(port: int, path: str, concurrency: int, duration: float, threads: int) -> dict:
    wrk = shutil.which("wrk")
    if not wrk:
        raise SystemExit("wrk is not installed: apt-get install -y wrk, or use --tool python")
    cmd = [wrk, f"-t{threads}", f"-c{concurrency}", f"-d{int(duration)}s", "--timeout", "30s",
           "-s", str(REPO / "bench" / "wrk_report.lua"), f"http://127.0.0.1:{port}{path}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("{"))
    r = json.loads(line)
    errors = {k: r[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts") if r[k]}
    seconds = r["duration_us"] / 1e6
    return {"path": path, "requests": r["requests"], "seconds": seconds, "rps": r["requests"] / seconds,
            "p50_ms": r["p50_us"] / 1000, "p95_ms": r["p95_us"] / 1000, "p99_ms": r["p99_us"] / 1000,
            "errors": sum(errors.values()), "error_kinds": errors}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agreements", type=int, default=10_000, help="synthetic agreements (without --data-dir)")
    ap.add_argument("--data-dir", type=Path, help="serve this data directory instead")
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="gunicorn gthread threads per worker (1: sync workers)")
    ap.add_argument("--tool", choices=("python", "wrk"), default="python")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per path, at most")
    ap.add_argument("--max-requests", type=int, default=20_000, help="requests per path, at most (python)")
    ap.add_argument("--paths", default=",".join(PATHS))
    args = ap.parse_args(argv)
    paths = [p for p in args.paths.split(",") if p]

    with tempfile.TemporaryDirectory(prefix="geomap-load-") as tmp:
        data_dir = args.data_dir or generate.generate(Path(tmp) / "geodata", agreements=args.agreements)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start_gunicorn(data_dir, port, args.workers, args.threads, Path(tmp) / "gunicorn.log")
        results = []
        try:
            t = time.monotonic()
            wait_ready(base, proc)
            ready_s = time.monotonic() - t
            warm(base, paths, args.workers)
            for path in paths:
                print(f"loading {path} ...", file=sys.stderr, flush=True)
                if args.tool == "wrk":
                    results.append(wrk_load(port, path, args.concurrency, args.duration, threads=2))
                else:
                    results.append(python_load(port, path, args.concurrency, args.duration, args.max_requests))
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
            log_text = (Path(tmp) / "gunicorn.log").read_text(errors="replace")

    print(f"gunicorn wsgi:app, {args.workers} {'sync' if args.threads <= 1 else f'gthread x{args.threads}'} "
          f"workers on {os.cpu_count()} CPUs; data: {data_dir if args.data_dir else f'{args.agreements:,} synthetic agreements'}; "
          f"ready in {ready_s:.1f} s; load: {args.tool}, {args.concurrency} connections, "
          f"at most {args.duration:g} s" + (f" and {args.max_requests:,} requests" if args.tool == "python" else "")
          + " per path, Accept-Encoding: gzip")
    print()
    print("| path | requests | req/s | p50 | p95 | p99 | errors |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        kinds = f" ({', '.join(f'{k} {v}' for k, v in r['error_kinds'].items())})" if r["errors"] else ""
        print(f"| {r['path']} | {r['requests']:,} | {r['rps']:.0f} | {r['p50_ms']:.1f} ms | {r['p95_ms']:.1f} ms "
              f"| {r['p99_ms']:.1f} ms | {r['errors']}{kinds} |")
    worker_errors = [ln for ln in log_text.splitlines() if "Traceback" in ln or "[ERROR]" in ln]
    print()
    print(f"gunicorn log: {len(worker_errors)} error line(s)" + ("".join("\n  " + ln for ln in worker_errors[:5])))
    return 1 if any(r["errors"] for r in results) or worker_errors else 0


if __name__ == "__main__":
    sys.exit(main())
