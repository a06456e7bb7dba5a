"""The two store backends side by side: GeoPackage (embedded) and PostGIS (team server).

Fills one store of each kind with the same synthetic stories
(``map_scale.synthetic_batch``: 5 mentions a story over a year), in batches of
64 as ``mapapp ingest`` writes them, then times what the app asks of a store:

* reading every mention (what the map loads once per store version);
* a one-month window, a 10 x 10 degree box and one story's mentions (filters
  that PostGIS answers from its date, GiST and article indexes);
* one article, ``stats()`` and ``version()`` (every web request asks for it);
* ``mapapp store copy`` of the whole GeoPackage into an empty PostGIS database.

Each read is the median of ``--repeat`` runs.  Figures are given as ratios in
the same run: PostGIS against GeoPackage, and each filter against reading
everything from the same backend.  Results go to
``benchmarks/results/store_backends.{json,md}``.

    python benchmarks/store_backends.py [--mentions 50000] [--repeat 5] [--url ADMIN_URL]

The PostGIS server is ``--url`` (an admin URL that may create databases), else
``MAPAPP_TEST_POSTGRES``, else the throwaway one ``scripts/postgis-test-server``
starts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import pandas  # noqa: E402
from map_scale import synthetic_batch  # noqa: E402

from mapapp.settings import describe_store  # noqa: E402
from mapapp.stores import open_store  # noqa: E402
from mapapp.stores.copy import copy_store  # noqa: E402
from mapapp.stores.postgis_db import dispose_engines  # noqa: E402

OUT_DIR = ROOT / "benchmarks" / "results"
BATCH = 64  # mapapp ingest's batch size


def admin_url(given: str | None) -> str:
    url = given or os.environ.get("MAPAPP_TEST_POSTGRES", "").strip()
    if url:
        return url
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "postgis-test-server"), "start"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


class Databases:
    """Fresh databases with PostGIS on the server at ``admin``, dropped at the end."""

    def __init__(self, admin: str) -> None:
        import sqlalchemy

        self.url = sqlalchemy.engine.make_url(admin).set(drivername="postgresql+psycopg")
        self.engine = sqlalchemy.create_engine(
            self.url, isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.pool.NullPool
        )
        self.names: list[str] = []

    def create(self) -> str:
        import sqlalchemy

        name = f"mapapp_bench_{uuid.uuid4().hex[:10]}"
        with self.engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        self.names.append(name)
        fresh = sqlalchemy.create_engine(
            self.url.set(database=name),
            isolation_level="AUTOCOMMIT",
            poolclass=sqlalchemy.pool.NullPool,
        )
        with fresh.connect() as conn:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
        return self.url.set(drivername="postgresql", database=name).render_as_string(
            hide_password=False
        )

    def drop_all(self) -> None:
        dispose_engines()
        with self.engine.connect() as conn:
            for name in self.names:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def median_seconds(call: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def fill(store: Any, batch: list) -> float:
    began = time.perf_counter()
    for i in range(0, len(batch), BATCH):
        store.add(batch[i : i + BATCH])
    return time.perf_counter() - began


READS: dict[str, Callable[[Any, str], Any]] = {  # (store, a story's id) -> answer
    "every mention": lambda s, _: s.mentions(include_undated=True),
    "one month (date index)": lambda s, _: s.mentions(date(2024, 3, 1), date(2024, 3, 31)),
    "10x10 degree box (GiST)": lambda s, _: s.mentions(
        bbox=(0.0, 40.0, 10.0, 50.0), include_undated=True
    ),
    "one story's mentions": lambda s, story: s.mentions(article_id=story, resolved_only=False),
    "one article": lambda s, story: s.article(story),
    "stats()": lambda s, _: s.stats(),
    "version()": lambda s, _: s.version(),
}


def run(mentions: int, repeat: int, admin: str) -> dict[str, Any]:
    batch = synthetic_batch(mentions)
    databases = Databases(admin)
    folder = Path(tempfile.mkdtemp(prefix="mapapp-bench-stores-"))
    try:
        stores = {
            "GeoPackage": open_store(folder / "bench.gpkg"),
            "PostGIS": open_store(databases.create()),
        }
        writes, reads, rows = {}, {}, {}
        for backend, store in stores.items():
            writes[backend] = fill(store, batch)
            story = batch[len(batch) // 2][0].article_id
            reads[backend], rows[backend] = {}, {}
            for name, read in READS.items():
                seconds, result = median_seconds(
                    lambda read=read, store=store, story=story: read(store, story), repeat
                )
                reads[backend][name] = seconds
                rows[backend][name] = len(result) if isinstance(result, pandas.DataFrame) else None
        target = databases.create()
        began = time.perf_counter()
        copied = copy_store(stores["GeoPackage"].location, target)
        copy_seconds = time.perf_counter() - began
        assert rows["GeoPackage"] == rows["PostGIS"], rows  # same answers from both
    finally:
        databases.drop_all()
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
    stories = len(batch)
    return {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
        ),
        "command": f"python benchmarks/store_backends.py --mentions {mentions} --repeat {repeat}",
        "server": describe_store(admin),
        "stories": stories,
        "mentions": stories * 5,
        "batch": BATCH,
        "write_seconds": writes,
        "write_articles_per_second": {b: stories / s for b, s in writes.items()},
        "read_seconds": reads,
        "rows": rows["PostGIS"],
        "copy": {"seconds": copy_seconds, "articles": copied.added, "mentions": copied.mentions},
    }


def markdown(result: dict[str, Any]) -> str:
    gp, pg = "GeoPackage", "PostGIS"
    reads, writes = result["read_seconds"], result["write_articles_per_second"]
    lines = [
        "# Store backends: GeoPackage and PostGIS",
        "",
        f"`{result['command']}` on {result['machine']} ({result['when']}); PostGIS at "
        f"`{result['server']}`, on this machine.",
        "",
        f"Store: {result['mentions']:,} mentions in {result['stories']:,} stories, written in "
        f"batches of {result['batch']} (one transaction each).",
        "",
        "| | GeoPackage | PostGIS | PostGIS / GeoPackage |",
        "|---|---:|---:|---:|",
        f"| write, articles/s | {writes[gp]:,.0f} | {writes[pg]:,.0f} | "
        f"{writes[pg] / writes[gp]:.2f}x |",
    ]
    for name in READS:
        a, b = reads[gp][name], reads[pg][name]
        count = result["rows"][name]
        label = f"{name} ({count:,} rows)" if count is not None else name
        lines.append(f"| {label}, ms | {a * 1000:,.1f} | {b * 1000:,.1f} | {b / a:.2f}x |")
    lines += [
        "",
        "Each filter against reading every mention from the same backend "
        "(how much of a full read it costs):",
        "",
        "| filter | GeoPackage | PostGIS |",
        "|---|---:|---:|",
    ]
    for name in list(READS)[1:4]:
        lines.append(
            f"| {name} | {reads[gp][name] / reads[gp]['every mention']:.3f} | "
            f"{reads[pg][name] / reads[pg]['every mention']:.3f} |"
        )
    copy = result["copy"]
    lines += [
        "",
        f"`mapapp store copy` GeoPackage -> PostGIS: {copy['articles']:,} articles and "
        f"{copy['mentions']:,} mentions in {copy['seconds']:.1f} s "
        f"({copy['seconds'] / result['write_seconds'][pg]:.2f}x the time of writing them "
        "batch by batch).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--url", help="admin URL of a PostGIS server that may create databases")
    args = parser.parse_args(argv)
    result = run(args.mentions, args.repeat, admin_url(args.url))
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "store_backends.json").write_text(json.dumps(result, indent=1) + "\n")
    (OUT_DIR / "store_backends.md").write_text(markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
