"""How the main map scales: page bytes per marker and time until the markers are drawn.

Builds stores of synthetic stories (an empty one, then 1k, 10k and 50k
mentions) in a temporary folder, serves each with the real app on a loopback
port, and opens the map in headless Chromium (Debian's, through Playwright)
several times, each in a fresh browser context (nothing cached):

* bytes: everything the page transferred (Resource Timing, headers included);
* drawn: milliseconds from navigation start until the markers are drawn
  (the ``mapapp-drawn`` mark map.js sets when the cluster has them all);
* complete: until both the markers and the outlines are drawn (what a reader
  waits for, and the fair comparison with the empty map, which has only
  outlines to draw);
* filter: milliseconds for a date preset (last 30 days) to re-filter and
  re-cluster in the page, with no request to the server;
* DOM markers: marker and cluster icons in the page after drawing.

The empty map, measured in the same run, is the baseline: figures are
reported as ratios to it, and bytes per marker as (bytes - empty) / markers.
The first load of each store also builds the server's cache ("cold"); the
others ("warm", median reported) find it built.  Results go to
``benchmarks/results/map_scale.json`` and ``.md``.

    python benchmarks/map_scale.py [--sizes 1000,10000,50000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mapapp.records import Article, Place, Resolution, Toponym  # noqa: E402
from mapapp.stores import Store, open_store  # noqa: E402

DEFAULT_SIZES = (1_000, 10_000, 50_000)
DEFAULT_OUT_DIR = ROOT / "benchmarks" / "results"
MENTIONS_PER_STORY = 5
ROLES = ("dateline", "focus", "mention", "mention", "mention")
FIRST_DAY = date(2024, 1, 1)
DAYS = 365
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
READY = ".mapapp-filters[data-state=ready]"
WORDS = (
    "council",
    "talks",
    "flood",
    "market",
    "election",
    "strike",
    "harvest",
    "court",
    "bridge",
    "festival",
    "protest",
    "port",
    "rail",
    "school",
    "clinic",
    "storm",
)


# -- synthetic stores ----------------------------------------------------------


def synthetic_places(count: int, rng: random.Random) -> list[Place]:
    """Random places over the inhabited latitudes; one in seven is an area."""
    places = []
    for i in range(count):
        area = i % 7 == 0
        places.append(
            Place(
                geonameid=10_000_000 + i,
                name=f"Place {i}",
                latitude=round(rng.uniform(-55, 70), 5),
                longitude=round(rng.uniform(-180, 180), 5),
                feature_class="A" if area else "P",
                feature_code="ADM1" if area else "PPL",
                country_code=rng.choice(
                    ("SY", "FR", "NG", "EC", "JP", "US", "BR", "IN", "KE", "DE")
                ),
                admin1_code="01",
                admin1_name=f"Province {i % 97}",
                population=rng.randint(0, 10**6),
            )
        )
    return places


def synthetic_batch(mentions: int, seed: int = 1) -> list[tuple[Article, list[Resolution]]]:
    """``mentions`` mentions in stories of five, over one year (3% undated).

    Four mentions in five name a new place, the fifth one already named, so
    the map has about 0.8 markers per mention.
    """
    rng = random.Random(seed)
    places = synthetic_places(mentions, rng)
    used = 0
    batch = []
    for s in range(mentions // MENTIONS_PER_STORY):
        chosen = []
        while len(chosen) < MENTIONS_PER_STORY:
            if used and rng.random() < 0.2:
                place = places[rng.randrange(used)]
            else:
                place, used = places[used], used + 1
            if place not in chosen:
                chosen.append(place)
        words = " ".join(rng.choice(WORDS) for _ in range(5))
        headline = f"Story {s}: {words} in {chosen[0].name}"
        sentences, resolutions, offset = [], [], 0
        for place, role in zip(chosen, ROLES, strict=False):
            sentence = f"Officials in {place.name} said the {rng.choice(WORDS)} went on."
            start = offset + len("Officials in ")
            toponym = Toponym(
                place.name,
                start,
                start + len(place.name),
                role=role,
                sentence=sentence,
                source="gazetteer",
            )
            resolutions.append(Resolution(toponym, place, score=round(rng.uniform(0.3, 1.0), 3)))
            sentences.append(sentence)
            offset += len(sentence) + 1
        published = None if rng.random() < 0.03 else FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        batch.append(
            (
                Article(
                    f"s{s:06d}",
                    headline,
                    " ".join(sentences),
                    published,
                    dateline=chosen[0].name.upper(),
                ),
                resolutions,
            )
        )
    return batch


def build_store(folder: Path, mentions: int) -> Store:
    store = open_store(folder / f"store-{mentions}.gpkg")
    batch = synthetic_batch(mentions)
    store.add([])  # an empty store is a valid store
    for i in range(0, len(batch), 2_000):
        store.add(batch[i : i + 2_000])
    return store


@contextmanager
def serving(store: Store, cache: Path) -> Iterator[str]:
    """The real app on a free loopback port (werkzeug, threaded)."""
    from werkzeug.serving import make_server

    from mapapp.web import create_app

    app = create_app({"STORE": str(store.path), "CACHE_DIR": str(cache)})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


# -- one page load -------------------------------------------------------------

MEASURE = """() => {
    const entries = [...performance.getEntriesByType('navigation'),
                     ...performance.getEntriesByType('resource')];
    const drawn = performance.getEntriesByName('mapapp-drawn')[0];
    const outlines = performance.getEntriesByName('mapapp-basemap')[0];
    const points = performance.getEntriesByType('resource')
        .find(e => e.name.includes('/api/points'));
    const form = document.querySelector('.mapapp-filters');
    return {
        bytes: entries.reduce((n, e) => n + (e.transferSize || 0), 0),
        points_bytes: points ? points.transferSize : 0,
        points_ms: points ? points.responseEnd : null,
        drawn_ms: drawn ? drawn.startTime : null,
        complete_ms: drawn && outlines ? Math.max(drawn.startTime, outlines.startTime) : null,
        markers: +form.getAttribute('data-places'),
        stories: +form.getAttribute('data-stories'),
        mentions: +form.getAttribute('data-mentions'),
        dom_markers: document.querySelectorAll('.leaflet-marker-pane > *').length,
        heap_mb: performance.memory ? performance.memory.usedJSHeapSize / 1048576 : null,
    };
}"""

FILTER = """() => new Promise(resolve => {
    const form = document.querySelector('.mapapp-filters');
    const t0 = performance.now();
    const seen = new MutationObserver(() => {
        if (form.getAttribute('data-state') === 'ready') {
            seen.disconnect();
            resolve({filter_ms: performance.now() - t0,
                     filtered_markers: +form.getAttribute('data-places')});
        }
    });
    seen.observe(form, {attributes: true, attributeFilter: ['data-state']});
    document.querySelector("button[data-preset='30']").click();
})"""


def measure(browser: Any, url: str) -> dict[str, Any]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    foreign: list[str] = []
    page.on(
        "request",
        lambda r: (
            foreign.append(r.url)
            if "127.0.0.1" not in r.url and not r.url.startswith("data:")
            else None
        ),
    )
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(READY, state="attached", timeout=180_000)
    page.wait_for_selector(".mapapp-map[data-basemap=ready]", state="attached", timeout=60_000)
    result = {"wall_ms": (time.perf_counter() - started) * 1000, **page.evaluate(MEASURE)}
    result.update(page.evaluate(FILTER))
    context.close()
    if foreign:
        raise RuntimeError(f"the map asked another host: {foreign[:3]}")
    return result


# -- the run -------------------------------------------------------------------


def run(sizes: Sequence[int], runs: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        raise SystemExit("map_scale: no chromium on PATH (apt-get install chromium)")
    folder = Path(tempfile.mkdtemp(prefix="mapapp-scale-"))
    results: list[dict[str, Any]] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            for size in (0, *sizes):
                started = time.perf_counter()
                store = build_store(folder, size)
                built_s = time.perf_counter() - started
                with serving(store, folder / f"cache-{size}") as base:
                    loads = [measure(browser, base + "/") for _ in range(runs)]
                results.append(
                    {
                        "size": size,
                        "store_build_s": round(built_s, 2),
                        "cold": loads[0],
                        "warm": loads[1:] or loads,
                    }
                )
                print(
                    f"  {size:>6} mentions: drawn in "
                    f"{statistics.median(w['drawn_ms'] for w in results[-1]['warm']):.0f} ms",
                    flush=True,
                )
            version = browser.version
            browser.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": __import__("os").cpu_count(),
            "chromium": version,
            "viewport": VIEWPORT,
        },
        "runs_per_size": runs,
        "sizes": summarise(results),
        "raw": results,
    }


def _median(loads: Sequence[dict[str, Any]], key: str) -> float:
    return statistics.median(float(load[key]) for load in loads)


def summarise(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Medians of the warm loads, as ratios to the empty map of the same run."""
    empty = next(r for r in results if r["size"] == 0)
    base_bytes = _median(empty["warm"], "bytes")
    base_drawn = _median(empty["warm"], "drawn_ms")
    base_complete = _median(empty["warm"], "complete_ms")
    rows = []
    for r in results:
        warm = r["warm"]
        bytes_, drawn = _median(warm, "bytes"), _median(warm, "drawn_ms")
        complete = _median(warm, "complete_ms")
        markers = int(warm[0]["markers"])
        rows.append(
            {
                "mentions": r["size"],
                "markers": markers,
                "stories": int(warm[0]["stories"]),
                "bytes": int(bytes_),
                "bytes_ratio": round(bytes_ / base_bytes, 3),
                "points_bytes": int(_median(warm, "points_bytes")),
                "bytes_per_marker": round((bytes_ - base_bytes) / markers, 1) if markers else None,
                "drawn_ms": round(drawn),
                "drawn_ratio": round(drawn / base_drawn, 2),
                "complete_ms": round(complete),
                "complete_ratio": round(complete / base_complete, 2),
                "cold_complete_ms": round(r["cold"]["complete_ms"]),
                "filter_ms": round(_median(warm, "filter_ms")),
                "filtered_markers": int(warm[0]["filtered_markers"]),
                "dom_markers": int(_median(warm, "dom_markers")),
                "heap_mb": round(_median(warm, "heap_mb"), 1) if warm[0]["heap_mb"] else None,
                "store_build_s": r["store_build_s"],
            }
        )
    return rows


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        "# Map scale",
        "",
        f"Generated {report['generated']} by `python benchmarks/map_scale.py` on "
        f"{m['cpus']} CPUs, Chromium {m['chromium']} (headless), viewport "
        f"{m['viewport']['width']}x{m['viewport']['height']}. Medians of "
        f"{max(1, report['runs_per_size'] - 1)} warm loads per size, each in a fresh "
        "browser context; ratios are to the empty map measured in the same run.",
        "",
        "| mentions | markers | page bytes | x empty | bytes/marker | markers drawn (ms) "
        "| x empty | map complete (ms) | x empty | cold complete (ms) | 30-day filter (ms) "
        "| DOM markers |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in report["sizes"]:
        per = "–" if row["bytes_per_marker"] is None else f"{row['bytes_per_marker']:.1f}"
        lines.append(
            f"| {row['mentions']:,} | {row['markers']:,} | {row['bytes']:,} | "
            f"{row['bytes_ratio']:.2f} | {per} | {row['drawn_ms']:,} | {row['drawn_ratio']:.2f} "
            f"| {row['complete_ms']:,} | {row['complete_ratio']:.2f} "
            f"| {row['cold_complete_ms']:,} | {row['filter_ms']:,} | {row['dom_markers']:,} |"
        )
    lines += [
        "",
        "*markers*: one per distinct place (a place named in several stories is one marker). "
        "*page bytes*: everything transferred, the basemap outlines included (the empty map "
        "is mostly those and the scripts). *markers drawn*: navigation start until every "
        "marker is in the cluster (the empty map has none: its figure is when it knew). "
        "*map complete*: until markers and country outlines are both drawn, the fair "
        "comparison with the empty map. *cold*: the first load after the server started, "
        "which also reads "
        "the store and builds the compact points. *30-day filter*: the 'Last 30 days' preset, "
        "re-filtered and re-clustered in the page with no server round trip.",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, DEFAULT_SIZES)),
        help="comma-separated mention counts (default 1000,10000,50000)",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=3,
        help="page loads per size; the first is the cold one (default 3)",
    )
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=DEFAULT_OUT_DIR,
        help="where map_scale.json and map_scale.md go",
    )
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    report = run(sizes, max(1, args.runs))
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "map_scale.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out_dir / "map_scale.md").write_text(markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
