"""Load test: ``mapapp serve`` on 127.0.0.1 under steady traffic, idle sockets and a crowd.

Builds a store of 50,000 synthetic mentions (``map_scale.synthetic_batch``),
starts the real server (``python -m mapapp serve``, waitress) in its own
process, and drives it from this process.  Four phases, one after the other
against the same server:

* ``static``: ``/static/map.js`` only, open-loop at ``--rate``: the baseline
  of what the server and the client cost with no app code in the way.
  Open-loop means request ``i`` is due at ``start + i / rate`` whatever
  happened to the ones before, so a slow server shows up as latency
  (measured from when the request was due, queueing included) instead of as
  a politely lower rate; each of the client's threads keeps one HTTP/1.1
  connection, as browsers do;
* ``app``: the same open loop over what readers of the map ask for: the map
  page (30%: plain, and with a filtered view), ``/api/points`` (30%, gzipped
  as browsers take it, never a 304), ``/api/evidence`` (15%, popups),
  ``/api/stats`` (10%), ``/api/places.geojson`` for one day (5%), and story
  pages (10%, chosen with Zipf popularity over the stories, as news traffic
  runs);
* ``idle sockets``: 300 connections held open (a third idle, a third with
  half a request sent, a third trickling a header one byte every 5 s, as a
  slow-loris client does; any the server closes is opened again), while a
  new client asks for ``/api/stats`` on a fresh connection 50 times, 0.4 s
  apart (about 20 s, longer than ``MAPAPP_CHANNEL_TIMEOUT``), with a 5 s
  timeout (three timeouts in a row end the phase);
* ``crowd``: 200 clients, each with its own kept-alive connection, starting
  over the first second; each loads the map page then ``/api/stats`` (what
  a reader opening the map asks first), thinks 1-3 s (uniformly at random)
  and does it again, for ``--duration`` seconds.  Every request's latency
  is recorded, and each client's time from its start to its first answer
  (a client never answered is "starved").

Counted as errors: anything but 200, a connection failure or timeout, or a
body shorter than the Content-Length.  Figures go to
``benchmarks/results/load.json`` and ``load.md``, with ratios against the
static file's p99 from the same run.  ``--compare-waitress-defaults`` also
runs the idle-sockets and crowd phases against a second server started the
way ``mapapp serve`` started before (waitress's defaults: 4 threads, 100
connections, 120 s channel timeout) for a before/after table.  The run
fails (exit 1) if the static or app phase had any error or fell more than 2%
short of the rate, or a target of the new phases is missed: idle-sockets
p99 under 1 s, crowd p99 of the map page and of ``/api/stats`` under 1 s,
first-answer p99 under 2 s, no client starved, 0 errors.

    python benchmarks/load.py [--rate 200] [--duration 30] [--mentions 50000]
        [--compare-waitress-defaults]
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


# How `mapapp serve` started waitress before issue 16 (waitress's defaults otherwise),
# for --compare-waitress-defaults: the same app, the same store.
WAITRESS_DEFAULTS = """
import sys
from waitress import serve
from mapapp.settings import load_settings
from mapapp.web import create_app
app = create_app(load_settings({"STORE": sys.argv[1]}))
print("waitress defaults: 4 threads, up to 100 connections, idle ones closed after 120 s")
sys.stdout.flush()
serve(app, host="127.0.0.1", port=int(sys.argv[2]), ident="mapapp",
      max_request_body_size=app.config["MAX_CONTENT_LENGTH"], max_request_header_size=64 * 1024)
"""


def start_server(
    store: Path, port: int, cache: Path, log: Path, *, waitress_defaults: bool = False
) -> subprocess.Popen:
    """The server in its own process, its output to ``log`` (a pipe nobody reads would
    fill up and stall it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAPAPP_")}
    env["MAPAPP_CACHE_DIR"] = str(cache)
    if waitress_defaults:
        command = [sys.executable, "-c", WAITRESS_DEFAULTS, str(store), str(port)]
    else:
        command = [sys.executable, "-m", "mapapp", "serve", "--store", str(store)]
        command += ["--port", str(port)]
    with log.open("w", encoding="utf-8") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise SystemExit(f"the server did not start: {log.read_text()}") from None
            time.sleep(0.1)


def server_plan(log: Path) -> str:
    """The server's own line saying how many threads and connections it runs with."""
    for line in log.read_text(encoding="utf-8").splitlines():
        if "threads, up to" in line:
            return line.strip().removeprefix("waitress defaults: ")
    return "unknown"


def load_average() -> str:
    """The machine's 1-minute load average (what else was running), as text."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


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


# -- idle sockets ------------------------------------------------------------

IDLE_SOCKETS = 300
IDLE_REQUESTS = 50
IDLE_GAP = 0.4  # seconds between the new client's requests: 20 s, past the channel timeout
IDLE_TIMEOUT = 5.0  # seconds the new client waits for an answer
HALF_A_REQUEST = b"GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
TRICKLE_EVERY = 5.0  # seconds between a slow-loris socket's bytes
KINDS = ("idle", "half a request", "trickling")


class SocketHolder:
    """Holds ``count`` connections open, a third of each of `KINDS`, reopening any the
    server closes, until stopped (what a crowd of idle tabs or a slow-loris client does)."""

    def __init__(self, port: int, count: int) -> None:
        self.port = port
        self.kinds = [KINDS[i % len(KINDS)] for i in range(count)]
        self.sockets: list[socket.socket | None] = [None] * count
        self.reopened = 0
        self.failed_opens = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _open(self, i: int) -> None:
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=2)
            if self.kinds[i] != "idle":
                sock.sendall(HALF_A_REQUEST)
            sock.setblocking(False)
        except OSError:
            self.failed_opens += 1
            self.sockets[i] = None
            return
        self.sockets[i] = sock

    def start(self) -> None:
        """Open every socket (in order, so they queue ahead of any new client), then hold."""
        for i in range(len(self.kinds)):
            self._open(i)
        self.thread.start()

    def _hold(self) -> None:
        next_trickle = time.monotonic() + TRICKLE_EVERY
        while not self.stopping.wait(0.25):
            for i, sock in enumerate(self.sockets):
                if sock is None:
                    self._open(i)
                    continue
                try:
                    closed = sock.recv(4096) == b""
                except BlockingIOError:
                    closed = False
                except OSError:
                    closed = True
                if closed:
                    sock.close()
                    self.reopened += 1
                    self._open(i)
            if time.monotonic() >= next_trickle:
                next_trickle += TRICKLE_EVERY
                for kind, sock in zip(self.kinds, self.sockets, strict=True):
                    if kind == "trickling" and sock is not None:
                        try:
                            sock.send(b"a")
                        except OSError:
                            pass

    def stop(self) -> None:
        """Stop holding and close every socket."""
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join(timeout=10)
        for sock in self.sockets:
            if sock is not None:
                sock.close()


def run_idle_phase(port: int, name: str, server_pid: int) -> dict[str, Any]:
    """A new client's ``/api/stats`` on fresh connections while `IDLE_SOCKETS` are held."""
    holder = SocketHolder(port, IDLE_SOCKETS)
    holder.start()
    time.sleep(1)  # let the server take in what it will
    latencies: list[float] = []
    errors: list[str] = []
    in_a_row = 0
    start = time.perf_counter()
    cpu_before = cpu_seconds(server_pid)
    try:
        for _ in range(IDLE_REQUESTS):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=IDLE_TIMEOUT)
            sent = time.perf_counter()
            try:
                status, _ = get(conn, "/api/stats", {})
                if status != 200:
                    errors.append(f"/api/stats: HTTP {status}")
                in_a_row = 0
            except (OSError, http.client.HTTPException) as err:
                errors.append(f"/api/stats: {type(err).__name__}: {err}")
                in_a_row += 1
            finally:
                conn.close()
            latencies.append(time.perf_counter() - sent)
            if in_a_row == 3:
                errors.append("three timeouts in a row: phase ended early")
                break
            time.sleep(IDLE_GAP)
    finally:
        elapsed = time.perf_counter() - start
        cpu = cpu_seconds(server_pid) - cpu_before
        holder.stop()
    return {
        "phase": name,
        "sockets_held": IDLE_SOCKETS,
        "kinds": {kind: holder.kinds.count(kind) for kind in KINDS},
        "reopened_after_server_closed": holder.reopened,
        "failed_opens": holder.failed_opens,
        "requests": len(latencies),
        "errors": sum(1 for e in errors if not e.startswith("three")),
        "error_samples": errors[:10],
        "seconds": round(elapsed, 1),
        "server_cpu_percent": round(100 * cpu / elapsed, 1),
        "load_average": load_average(),
        "latency_ms": percentiles(latencies),
    }


# -- crowd ---------------------------------------------------------------------

CROWD = 200
CROWD_RAMP = 1.0  # seconds over which the clients start
THINK = (1.0, 3.0)  # seconds a reader looks at the map between visits (uniform)
CROWD_TIMEOUT = 30.0  # seconds a crowd client waits for an answer
VISIT = (("map page", "/"), ("/api/stats", "/api/stats"))


def run_crowd_phase(port: int, name: str, duration: float, server_pid: int) -> dict[str, Any]:
    """`CROWD` closed-loop clients, one kept-alive connection each, for ``duration`` s."""
    lock = threading.Lock()
    records: list[tuple[str, float, int]] = []
    errors: list[str] = []
    first_answers: list[float] = []
    starved: list[float] = []
    start = time.perf_counter() + 0.5
    end = start + duration
    cpu_before = cpu_seconds(server_pid)

    def client(index: int, rng: random.Random) -> None:
        begin = start + CROWD_RAMP * index / CROWD
        time.sleep(max(0.0, begin - time.perf_counter()))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=CROWD_TIMEOUT)
        answered = False
        while time.perf_counter() < end:
            for label, path in VISIT:
                sent = time.perf_counter()
                try:
                    status, _ = get(conn, path, {})
                except (OSError, http.client.HTTPException) as err:
                    status = 0
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=CROWD_TIMEOUT)
                    with lock:
                        errors.append(f"{label}: {type(err).__name__}: {err}")
                done = time.perf_counter()
                with lock:
                    records.append((label, done - sent, status))
                    if status not in (0, 200):
                        errors.append(f"{label}: HTTP {status} for {path}")
                    if status == 200 and not answered:
                        answered = True
                        first_answers.append(done - begin)
            time.sleep(max(0.0, min(rng.uniform(*THINK), end - time.perf_counter())))
        conn.close()
        if not answered:
            with lock:
                starved.append(time.perf_counter() - begin)

    threads = [
        threading.Thread(target=client, args=(i, random.Random(i)), daemon=True)
        for i in range(CROWD)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    cpu = cpu_seconds(server_pid) - cpu_before
    routes: dict[str, list[float]] = {}
    for label, latency, _ in records:
        routes.setdefault(label, []).append(latency)
    # A starved client's first answer is counted as never: later than any answered one.
    waits = first_answers + [float("inf")] * len(starved)
    return {
        "phase": name,
        "clients": CROWD,
        "think_seconds": list(THINK),
        "requests": len(records),
        "errors": len(errors),
        "error_samples": errors[:10],
        "starved_clients": len(starved),
        "seconds": round(elapsed, 1),
        "achieved_rate": round(len(records) / elapsed, 1),
        "server_cpu_percent": round(100 * cpu / elapsed, 1),
        "load_average": load_average(),
        "latency_ms": percentiles([r[1] for r in records]),
        "first_answer_ms": percentiles(waits),
        "routes": {
            label: {"requests": len(v), "latency_ms": percentiles(v)} for label, v in routes.items()
        },
    }


def percentiles(values: Sequence[float]) -> dict[str, float | None]:
    """Percentiles, max and mean in ms; an infinite value (never answered) shows as None."""
    ordered = sorted(values)
    if not ordered:
        return {f"p{p:g}": None for p in PERCENTILES} | {"max": None, "mean": None}

    def ms(seconds: float) -> float | None:
        return None if seconds == float("inf") else round(seconds * 1000, 2)

    out = {}
    for p in PERCENTILES:
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        out[f"p{p:g}"] = ms(ordered[index])
    out["max"] = ms(ordered[-1])
    out["mean"] = ms(statistics.fmean(ordered))
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
        "load_average": load_average(),
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


def shown(value: float | None) -> str:
    """A figure in ms for a table; None (never answered) as 'never'."""
    return "never" if value is None else f"{value:g}"


def ratio(value: float | None, baseline: float) -> str:
    """``value`` as a multiple of ``baseline`` for a table."""
    return "-" if value is None or not baseline else f"{value / baseline:,.1f}x"


def targets(idle: dict[str, Any], crowd: dict[str, Any]) -> list[tuple[str, bool]]:
    """The issue's targets for the idle-sockets and crowd phases, each met or not."""

    def under(value: float | None, limit: float) -> bool:
        return value is not None and value < limit

    return [
        ("idle sockets: new client's p99 < 1 s", under(idle["latency_ms"]["p99"], 1000)),
        ("idle sockets: 0 errors", idle["errors"] == 0),
        (
            "crowd: map page p99 < 1 s",
            under(crowd["routes"].get("map page", {}).get("latency_ms", {}).get("p99"), 1000),
        ),
        (
            "crowd: /api/stats p99 < 1 s",
            under(crowd["routes"].get("/api/stats", {}).get("latency_ms", {}).get("p99"), 1000),
        ),
        ("crowd: first-answer p99 < 2 s", under(crowd["first_answer_ms"]["p99"], 2000)),
        ("crowd: no client starved", crowd["starved_clients"] == 0),
        ("crowd: 0 errors", crowd["errors"] == 0),
    ]


def markdown(report: dict[str, Any]) -> str:
    static_p99 = report["phases"][0]["latency_ms"]["p99"]
    lines = [
        "# Load test: mapapp serve on 127.0.0.1",
        "",
        f"`{report['command']}` on {report['machine']} ({report['when']}); load average "
        f"{report['load_average_before']} before the run, {report['load_average_after']} "
        f"after, the 'load' columns at the end of each phase ({os.cpu_count()} cores shared "
        "with other work: a load above that is CPU the server waited for). Clients run in "
        "the benchmark's "
        f"own process. Server: `mapapp serve` with {report['server']}."
        + (
            " Rows marked 'before': the same app on waitress's defaults "
            f"({report['server_before']}), as `mapapp serve` ran it until issue 16."
            if report.get("server_before")
            else ""
        ),
        "",
        f"Store: {report['mentions']:,} mentions in {report['articles']:,} stories.",
        "",
        f"## Steady traffic ({report['rate']:g} req/s, open loop)",
        "",
        f"{WORKERS} kept-alive connections; latency counts from when each request was due.",
        "",
        "| phase | requests | errors | rate (req/s) | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms "
        "| server CPU | load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for phase in report["phases"][:2]:
        lat = phase["latency_ms"]
        lines.append(
            f"| {phase['phase']} | {phase['requests']} | {phase['errors']} | "
            f"{phase['achieved_rate']} | {lat['p50']} | {lat['p90']} | {lat['p99']} | "
            f"{lat['p99.9']} | {lat['max']} | {phase['server_cpu_percent']}% | "
            f"{phase['load_average']} |"
        )
    lines += [
        "",
        "Per route (app phase):",
        "",
        "| route | requests | mean kB | p50 ms | p90 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, route in report["phases"][1]["routes"].items():
        lat = route["latency_ms"]
        lines.append(
            f"| {label} | {route['requests']} | {route['mean_kb']} | {lat['p50']} | "
            f"{lat['p90']} | {lat['p99']} | {lat['max']} |"
        )
    idles = [report["phases"][2]] + [p for p in report.get("before", []) if "sockets_held" in p]
    crowds = [report["phases"][3]] + [p for p in report.get("before", []) if "clients" in p]
    lines += [
        "",
        f"## Idle sockets ({IDLE_SOCKETS} held open)",
        "",
        f"{IDLE_SOCKETS} connections held open: a third idle, a third with half a request "
        f"sent, a third trickling one header byte every {TRICKLE_EVERY:g} s (slow-loris); any "
        f"the server closes is opened again. Meanwhile a new client asks for `/api/stats` on "
        f"a fresh connection, {IDLE_REQUESTS} times, {IDLE_GAP:g} s apart ({IDLE_TIMEOUT:g} s "
        "timeout; three timeouts in a row end the phase). Ratio: p99 against the static "
        "file's p99 above.",
        "",
        "| server | requests | errors | reopened | p50 ms | p99 ms | max ms | p99 / static p99 "
        "| load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for phase in idles:
        lat = phase["latency_ms"]
        lines.append(
            f"| {phase['phase']} | {phase['requests']} | {phase['errors']} | "
            f"{phase['reopened_after_server_closed']} | {shown(lat['p50'])} | "
            f"{shown(lat['p99'])} | {shown(lat['max'])} | {ratio(lat['p99'], static_p99)} | "
            f"{phase['load_average']} |"
        )
    lines += [
        "",
        f"## Crowd ({CROWD} kept-alive clients)",
        "",
        f"{CROWD} clients started over {CROWD_RAMP:g} s, each on its own kept-alive "
        f"connection: the map page, then `/api/stats`, then {THINK[0]:g}-{THINK[1]:g} s of "
        f"thinking (uniform), again until the end of the {report['duration']:g} s phase. "
        "Latency per request; first answer from a client's start to its first 200. Ratios: "
        "p99 against the static file's p99 above.",
        "",
        "| server | requests | errors | starved | map page p99 ms | /api/stats p99 ms "
        "| first answer p50 / p99 / max ms | map page p99 / static p99 | server CPU | load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for phase in crowds:
        page = phase["routes"].get("map page", {}).get("latency_ms", {}).get("p99")
        stats = phase["routes"].get("/api/stats", {}).get("latency_ms", {}).get("p99")
        first = phase["first_answer_ms"]
        lines.append(
            f"| {phase['phase']} | {phase['requests']} | {phase['errors']} | "
            f"{phase['starved_clients']} | {shown(page)} | {shown(stats)} | "
            f"{shown(first['p50'])} / {shown(first['p99'])} / {shown(first['max'])} | "
            f"{ratio(page, static_p99)} | {phase['server_cpu_percent']}% | "
            f"{phase['load_average']} |"
        )
    lines += ["", "Targets (this server):", ""]
    lines += [f"- {'met' if ok else 'MISSED'}: {label}" for label, ok in report["targets"]]
    lines += ["", f"Verdict: {report['verdict']}", ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per phase")
    parser.add_argument("--mentions", type=int, default=50_000, help="mentions in the store")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="folder for load.json/.md")
    parser.add_argument(
        "--compare-waitress-defaults",
        action="store_true",
        help="also run the idle and crowd phases against waitress's defaults (the old setup)",
    )
    args = parser.parse_args(argv)
    raise_open_file_limit()
    load_before = load_average()

    with tempfile.TemporaryDirectory(prefix="mapapp-load-") as scratch:
        folder = Path(scratch)
        store = build_store(folder, args.mentions)
        stats = store.stats()
        phases, plan = serve_and_measure(store.path, folder, args, waitress_defaults=False)
        before, before_plan = [], ""
        if args.compare_waitress_defaults:
            before, before_plan = serve_and_measure(
                store.path, folder, args, waitress_defaults=True
            )

    static, app, idle, crowd = phases
    steady_ok = (
        app["errors"] == 0 and static["errors"] == 0 and app["achieved_rate"] >= 0.98 * args.rate
    )
    met = targets(idle, crowd)
    ok = steady_ok and all(good for _, good in met)
    command = (
        f"python benchmarks/load.py --rate {args.rate:g} --duration {args.duration:g} "
        f"--mentions {args.mentions}"
        + (" --compare-waitress-defaults" if args.compare_waitress_defaults else "")
    )
    report = {
        "command": command,
        "rate": args.rate,
        "duration": args.duration,
        "mentions": stats["mentions"],
        "articles": stats["articles"],
        "machine": f"{platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}",
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "server": plan,
        "server_before": before_plan,
        "phases": phases,
        "before": before,
        "targets": met,
        "verdict": (
            f"held: {app['requests']} requests at {app['achieved_rate']} req/s, 0 errors; "
            f"every idle-sockets and crowd target met"
            if ok
            else "NOT held: "
            + "; ".join(
                [f"steady traffic: {app['errors']} errors, {app['achieved_rate']} req/s"]
                * (not steady_ok)
                + [label for label, good in met if not good]
            )
        ),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "load.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (args.out / "load.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))
    return 0 if ok else 1


def serve_and_measure(
    store: Path, folder: Path, args: argparse.Namespace, *, waitress_defaults: bool
) -> tuple[list[dict[str, Any]], str]:
    """Start a server on ``store`` and run the phases against it: (phases, its plan line).

    The steady-traffic phases run only on mapapp's own setup; waitress's defaults get
    the idle-sockets and crowd phases, for comparison.
    """
    port = free_port()
    label = "waitress defaults (before)" if waitress_defaults else "mapapp serve"
    log = folder / f"server-{port}.log"
    server = start_server(store, port, folder / "cache", log, waitress_defaults=waitress_defaults)
    base = f"127.0.0.1:{port}"
    phases = []
    try:
        for path in ("/", "/api/points", "/api/stats", "/basemap/countries.geojson"):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            get(conn, path, GZIP)  # build the server's caches before timing
            conn.close()
        if not waitress_defaults:
            phases.append(
                run_phase(
                    base,
                    "static file (baseline)",
                    [("/static/map.js", "/static/map.js", GZIP, 1.0)],
                    args.rate,
                    args.duration,
                    server.pid,
                )
            )
            phases.append(
                run_phase(
                    base,
                    "map page + /api",
                    app_mix(base, random.Random(3)),
                    args.rate,
                    args.duration,
                    server.pid,
                )
            )
        phases.append(run_idle_phase(port, label, server.pid))
        phases.append(run_crowd_phase(port, label, args.duration, server.pid))
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return phases, server_plan(log)


def raise_open_file_limit() -> None:
    """Room for the client's own sockets (the held ones, the crowd's and the open loop's)."""
    try:
        import resource
    except ImportError:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4 * (IDLE_SOCKETS + CROWD + WORKERS)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        limit = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))


if __name__ == "__main__":
    sys.exit(main())
