"""How long a reviewer takes to clear the review queue from the keyboard (headless Chromium).

Ingests the bundled stories (``data/``) into a temporary GeoPackage (or
copies ``--store``, so the original is never written), serves the real app on
a loopback port, opens ``/review`` and clears items with the keyboard alone:
``a`` (accept as is) for a placed name, ``x`` (not a place) for one that is
not placed, waiting after each key until the page has saved the decision
(the counter drops).  Prints the queue's size at the start and the time to
clear ``--items`` of them, end to end (key press, POST /api/corrections,
the store's write, the page's update), median of ``--runs`` fresh copies.

    python benchmarks/review_keyboard.py [--store mapapp.gpkg] [--items 10] [--runs 3]

A measurement to print, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
LEFT = "() => +document.querySelector('.review-count').getAttribute('data-left')"


@contextmanager
def serving(store: str, cache: Path) -> Iterator[str]:
    """The app on ``store`` served by werkzeug on a free loopback port; yields its URL."""
    from werkzeug.serving import make_server

    from mapapp.web import create_app

    app = create_app({"STORE": store, "CACHE_DIR": str(cache), "SECRET_KEY": "b" * 32})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def bundled_store(folder: Path) -> Path:
    """A GeoPackage of the stories in data/, made with the real ``mapapp ingest``."""
    target = folder / "bundled.gpkg"
    subprocess.run(
        [sys.executable, "-m", "mapapp", "ingest", str(ROOT / "data"), "--store", str(target)],
        check=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "MAPAPP_CACHE_DIR": str(folder / "cache"), "PATH": ""},
    )
    return target


def clear(page, base: str, items: int) -> tuple[int, float]:
    """(queue size at the start, seconds to clear ``items`` from the keyboard)."""
    page.goto(base + "/review")
    page.wait_for_selector(".review-queue[data-state=ready]")
    start_left = page.evaluate(LEFT)
    page.locator(".review-item").first.focus()
    began = time.perf_counter()
    for done in range(1, min(items, start_left) + 1):
        placed = page.evaluate(
            "() => !document.querySelector('.review-item.current .review-accept').disabled"
        )
        page.keyboard.press("a" if placed else "x")
        page.wait_for_function(f"() => ({LEFT})() === {start_left - done}")
    return start_left, time.perf_counter() - began


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", help="a GeoPackage to copy (default: ingest data/)")
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = Path(args.store) if args.store else bundled_store(folder)
        sizes, times = [], []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS
            )
            for run in range(args.runs):
                copy = folder / f"run-{run}.gpkg"
                shutil.copyfile(source, copy)
                with serving(str(copy), folder / f"cache-{run}") as base:
                    context = browser.new_context(viewport={"width": 1280, "height": 900})
                    size, seconds = clear(context.new_page(), base, args.items)
                    context.close()
                sizes.append(size)
                times.append(seconds)
                print(f"run {run + 1}: {size} items in the queue; cleared {args.items}", end=" ")
                print(f"in {seconds:.2f} s")
            browser.close()
    median = statistics.median(times)
    print(
        f"review queue of {source.name}: {sizes[0]} items at the start; clearing {args.items} "
        f"from the keyboard took {median:.2f} s (median of {len(times)}, "
        f"{min(times):.2f}-{max(times):.2f} s), {median / args.items * 1000:.0f} ms an item"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
