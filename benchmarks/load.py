"""Load test: ``mapapp serve`` on 127.0.0.1 under a steady 200 requests per second.

Builds a store of 50,000 synthetic mentions (``map_scale.synthetic_batch``),
starts the real server (``python -m mapapp serve``, waitress) in its own
process, and drives it from this process with an open-loop client: request
``i`` is due at ``start + i / rate`` whatever happened to the ones before, so
a slow server shows up as latency (measured from when the request was due,
queueing included) instead of as a politely lower rate.  Each of the client's
threads keeps one HTTP/1.1 connection, as browsers do.

Two phases of the same length, one after the other against the same server:

* ``static``: ``/static/map.js`` only: the baseline of what the server and
  the client cost with no app code in the way;
* ``app``: what readers of the map ask for: the map page (30%: plain, and
  with a filtered view), ``/api/points`` (30%, gzipped as browsers take it,
  never a 304), ``/api/evidence`` (15%, popups), ``/api/stats`` (10%),
  ``/api/places.geojson`` for one day (5%), and story pages (10%, chosen
  with Zipf popularity over the stories, as news traffic runs).

Counted as errors: anything but 200, a connection failure, or a body shorter
than the Content-Length.  Percentiles per phase and per route, the achieved
rate and the server's CPU time go to ``benchmarks/results/load.json`` and
``load.md``.  The run fails (exit 1) if the app phase had any error or fell
more than 2% short of the rate.

    python benchmarks/load.py [--rate 200] [--duration 60] [--mentions 50000]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from map_scale import build_store  # noqa: E402

OUT_DIR = ROOT / "benchmarks" / "results"
WORKERS = 32
PERCENTILES = (50, 90, 99, 99.9)
GZIP = {"Accept-Encoding": "gzip"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(store: Path, port: int, cache: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAPAPP_")}
    env["MAPAPP_CACHE_DIR"] = str(cache)
    server = subprocess.Popen(
        [sys.executable, "-m", "mapapp", "serve", "--store", str(store), "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start: {server.communicate()}")
            time.sleep(0.1)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def get(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> tuple[int, int]:
    """One GET on a kept-alive connection: (status, body bytes); raises on a short body."""
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    length = response.getheader("Content-Length")
    if length is not None and int(length) != len(body):
        raise OSError(f"short body: {len(body)} of {length} bytes")
    return response.status, len(body)


def app_mix(base: str, rng: random.Random) -> list[tuple[str, str, dict[str, str], float]]:
    """(route label, path, headers, weight) of what map readers ask for."""
    host, port = base.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", "/api/points")
    points = json.loads(conn.getresponse().read())
    conn.close()
    version, count = points["version"], len(points["mentions"]["story"])
    articles = points["stories"]["id"]
    popularity = [1 / (rank + 1) for rank in range(len(articles))]  # Zipf: a few stories lead
    days = [f"2024-{m:02d}-{d:02d}" for m in range(1, 13) for d in (3, 11, 19, 27)]
    mix = []
    for _ in range(400):
        day = rng.choice(days)
        rows = ",".join(str(rng.randrange(count)) for _ in range(rng.randint(1, 5)))
        mix += [
            ("map page", "/", {}, 0.20),
            (
                "map page, filtered",
                f"/?start={day}&end=2024-12-31&q=Place+1&min_score=0.5",
                {},
                0.10,
            ),
            ("/api/points", "/api/points", GZIP, 0.30),
            ("/api/evidence", f"/api/evidence?v={version}&m={rows}", {}, 0.15),
            ("/api/stats", "/api/stats", {}, 0.10),
            (
                "/api/places.geojson (1 day)",
                f"/api/places.geojson?start={day}&end={day}",
                GZIP,
                0.05,
            ),
            ("story page", f"/stories/{rng.choices(articles, popularity)[0]}", {}, 0.10),
        ]
    return mix


def run_phase(
    base: str,
    name: str,
    choices: Sequence[tuple[str, str, dict, float]],
    rate: float,
    duration: float,
    server_pid: int,
) -> dict[str, Any]:
    """Send ``rate * duration`` requests open-loop; latency counts from when each was due."""
    total = int(rate * duration)
    weights = [c[3] for c in choices]
    rng = random.Random(7)
    plan = rng.choices(choices, weights=weights, k=total)
    counter = itertools.count()
    lock = threading.Lock()
    records: list[tuple[str, float, float, int, int]] = []
    errors: list[str] = []
    host, port = base.split(":")
    start = time.perf_counter() + 0.5
    cpu_before = cpu_seconds(server_pid)

    def worker() -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        while True:
            i = next(counter)
            if i >= total:
                break
            label, path, headers, _ = plan[i]
            due = start + i / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            sent = time.perf_counter()
            try:
                status, size = get(conn, path, headers)
            except (OSError, http.client.HTTPException) as err:
                status, size = 0, 0
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
                with lock:
                    errors.append(f"{label}: {type(err).__name__}: {err}")
            done = time.perf_counter()
            with lock:
                records.append((label, done - due, done - sent, status, size))
                if status not in (0, 200):
                    errors.append(f"{label}: HTTP {status} for {path}")
        conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    cpu = cpu_seconds(server_pid) - cpu_before
    return summarise(name, records, errors, rate, elapsed, cpu)


def percentiles(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    out = {}
    for p in PERCENTILES:
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        out[f"p{p:g}"] = round(ordered[index] * 1000, 2)
    out["max"] = round(ordered[-1] * 1000, 2)
    out["mean"] = round(statistics.fmean(ordered) * 1000, 2)
    return out


def summarise(
    name: str, records, errors, rate: float, elapsed: float, cpu: float
) -> dict[str, Any]:
    routes: dict[str, list] = {}
    for record in records:
        routes.setdefault(record[0], []).append(record)
    return {
        "phase": name,
        "requests": len(records),
        "errors": len(errors),
        "error_samples": errors[:10],
        "target_rate": rate,
        "achieved_rate": round(len(records) / elapsed, 1),
        "seconds": round(elapsed, 1),
        "server_cpu_percent": round(100 * cpu / elapsed, 1),
        "megabytes": round(sum(r[4] for r in records) / 1e6, 1),
        "latency_ms": percentiles([r[1] for r in records]),
        "service_ms": percentiles([r[2] for r in records]),
        "routes": {
            label: {
                "requests": len(rs),
                "latency_ms": percentiles([r[1] for r in rs]),
                "mean_kb": round(statistics.fmean(r[4] for r in rs) / 1000, 1),
            }
            for label, rs in sorted(routes.items())
        },
    }


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Load test: mapapp serve on 127.0.0.1",
        "",
        f"`python benchmarks/load.py --rate {report['rate']:g} --duration "
        f"{report['duration']:g} --mentions {report['mentions']}` on {report['machine']} "
        f"({report['when']}). Open-loop client in its own process, {WORKERS} kept-alive "
        "connections; latency counts from when each request was due.",
        "",
        f"Store: {report['mentions']:,} mentions in {report['articles']:,} stories.",
        "",
        "| phase | requests | errors | rate (req/s) | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms "
        "| server CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for phase in report["phases"]:
        lat = phase["latency_ms"]
        lines.append(
            f"| {phase['phase']} | {phase['requests']} | {phase['errors']} | "
            f"{phase['achieved_rate']} | {lat['p50']} | {lat['p90']} | {lat['p99']} | "
            f"{lat['p99.9']} | {lat['max']} | {phase['server_cpu_percent']}% |"
        )
    lines += [
        "",
        "Per route (app phase):",
        "",
        "| route | requests | mean kB | p50 ms | p90 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, route in report["phases"][-1]["routes"].items():
        lat = route["latency_ms"]
        lines.append(
            f"| {label} | {route['requests']} | {route['mean_kb']} | {lat['p50']} | "
            f"{lat['p90']} | {lat['p99']} | {lat['max']} |"
        )
    lines += ["", f"Verdict: {report['verdict']}", ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per phase")
    parser.add_argument("--mentions", type=int, default=50_000, help="mentions in the store")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="folder for load.json/.md")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="mapapp-load-") as scratch:
        folder = Path(scratch)
        store = build_store(folder, args.mentions)
        stats = store.stats()
        port = free_port()
        server = start_server(store.path, port, folder / "cache")
        base = f"127.0.0.1:{port}"
        try:
            for path in ("/", "/api/points", "/api/stats", "/basemap/countries.geojson"):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                get(conn, path, GZIP)  # build the server's caches before timing
                conn.close()
            static = run_phase(
                base,
                "static file (baseline)",
                [("/static/map.js", "/static/map.js", GZIP, 1.0)],
                args.rate,
                args.duration,
                server.pid,
            )
            app = run_phase(
                base,
                "map page + /api",
                app_mix(base, random.Random(3)),
                args.rate,
                args.duration,
                server.pid,
            )
        finally:
            server.terminate()
            server.communicate(timeout=30)

    ok = app["errors"] == 0 and static["errors"] == 0 and app["achieved_rate"] >= 0.98 * args.rate
    report = {
        "rate": args.rate,
        "duration": args.duration,
        "mentions": stats["mentions"],
        "articles": stats["articles"],
        "machine": f"{platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}",
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "phases": [static, app],
        "verdict": (
            f"held: {app['requests']} requests at {app['achieved_rate']} req/s, 0 errors"
            if ok
            else f"NOT held: {app['errors']} errors, {app['achieved_rate']} req/s"
        ),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "load.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (args.out / "load.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
