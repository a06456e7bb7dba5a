"""Where ingest geoparses: in this process, in worker processes, or on a Dask cluster.

The parent reads the input twice and holds at most a few batches at once: a
first pass counts the new articles (ids only) and reports the bad files, a
second pass streams the new articles in batches to an engine.  Geoparsing a
batch also builds the rows it adds to a store (a `Part`), so the parent only
writes.

* ``local`` with one worker geoparses in this process.
* ``local`` with N workers starts N processes, each loading the model and
  the gazetteer once; batches come back in input order and the parent writes
  them, one store transaction each, exactly as one process would.
* ``dask`` partitions the new articles into a Dask bag and runs the same
  geoparser on a ``dask.distributed`` cluster (a `LocalCluster` of N workers
  when no scheduler is given), each worker loading the model and gazetteer
  once.  Every partition becomes one GeoParquet file, and the run is
  committed at the end in one step (`mapapp.stores.parquet`).  A worker lost
  mid-run is Dask's business: its partitions are computed again elsewhere,
  and each partition's file is written once, by the parent, under its index.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from mapapp.errors import ArticleParseError, ConfigError
from mapapp.records import Article
from mapapp.settings import Settings
from mapapp.stores.base import NOTHING, WriteResult

ENGINES = ("local", "dask")
PARTITION_SIZE = 500  # articles per Dask partition, and per GeoParquet file
WINDOW_PER_WORKER = 2  # batches in flight per worker process


@dataclass(frozen=True)
class Part:
    """One geoparsed batch as the rows it adds to a store (built where it was parsed)."""

    articles: Any  # pandas.DataFrame, store.ARTICLE_COLUMNS
    mentions: Any  # geopandas.GeoDataFrame, store.MENTION_COLUMNS
    places: int
    unresolved: int
    has_model: bool
    events: Any = None  # geopandas.GeoDataFrame, store.EVENT_COLUMNS; None: not extracted

    def __len__(self) -> int:
        return len(self.articles)


def parse_part(geoparser: Any, batch: Sequence[Article], events: Any = None) -> Part:
    """Geoparse ``batch`` and build its store rows; with ``events`` (an `ArticleEvents`
    over the same geoparser) its event rows too, read from the same parses."""
    from mapapp.stores.event_frames import events_frame
    from mapapp.stores.frames import batch_frames

    if events is not None:
        parsed, found = events.parse_articles(batch)
        happened = events_frame([(a, e) for (a, _), e in zip(parsed, found, strict=True)])
    else:
        parsed, happened = geoparser.parse_articles(batch), None
    articles, mentions = batch_frames(parsed)
    places = sum(r.resolved for _, resolutions in parsed for r in resolutions)
    return Part(articles, mentions, places, len(mentions) - places, geoparser.has_model, happened)


def wants_events(config: Settings) -> bool:
    """Should this run extract events? ``MAPAPP_EVENTS`` on and a store that keeps them."""
    from mapapp.stores import open_store

    return config.events and not open_store(config.store).partitioned


def event_reader(config: Settings, geoparser: Any) -> Any:
    """The `ArticleEvents` of ``geoparser`` when this run extracts events, else None."""
    if not wants_events(config):
        return None
    from mapapp.events.articles import ArticleEvents

    return ArticleEvents.from_geoparser(geoparser, config.ner_model)


# -- reading the input ---------------------------------------------------------


@dataclass(frozen=True)
class Scan:
    """The first pass over the input: ids to ingest (in order), bad files, and repeats."""

    fresh: dict[str, None]  # an ordered set of article ids
    errors: tuple[ArticleParseError, ...] = ()
    already_stored: int = 0


def scan_articles(paths: Sequence[Path], known: set[str]) -> Scan:
    """Which articles under ``paths`` are new: read once, keeping only their ids."""
    fresh: dict[str, None] = {}
    errors: list[ArticleParseError] = []
    already_stored = 0
    for item in read_inputs(paths):
        if isinstance(item, ArticleParseError):
            errors.append(item)
        elif item.article_id in known or item.article_id in fresh:
            already_stored += 1
        else:
            fresh[item.article_id] = None
    return Scan(fresh, tuple(errors), already_stored)


def read_inputs(inputs: Sequence[Any]) -> Iterator[Article | ArticleParseError]:
    """The stories of ``inputs`` in order: files and folders are read, articles and errors
    already read from a URL (`mapapp.ingest.sources`) are passed on as they are."""
    from mapapp.articles import iter_articles

    run: list[Path] = []
    for item in inputs:
        if isinstance(item, (Article, ArticleParseError)):
            yield from iter_articles(run)
            run = []
            yield item
        else:
            run.append(item)
    yield from iter_articles(run)


def fresh_articles(paths: Sequence[Path], scan: Scan) -> Iterator[Article]:
    """The second pass: each new article of ``scan`` once, in input order."""
    wanted = set(scan.fresh)
    for item in read_inputs(paths):
        if not isinstance(item, ArticleParseError) and item.article_id in wanted:
            wanted.discard(item.article_id)
            yield item


# -- running an ingest -----------------------------------------------------------


@dataclass(frozen=True)
class Written:
    """What an engine run wrote: the store's write results summed (a ``WriteResult``), and
    whether every batch was recognised with the spaCy model (each worker loads its own)."""

    stored: WriteResult
    has_model: bool = True

    @classmethod
    def nothing(cls) -> Written:
        """No batch written yet."""
        return cls(NOTHING)

    def plus(self, part: Part, stored: WriteResult | None = None) -> Written:
        """These totals and ``part``; ``stored`` (the store's WriteResult) says which of its
        places really went in (another ingest may have stored some of its articles first).
        Without it the part went in whole (a GeoParquet run)."""
        if stored is None:
            stored = WriteResult(
                added=len(part), skipped=0, mentions=len(part.mentions), resolved=part.places
            )
        return Written(self.stored + stored, self.has_model and part.has_model)


def check_engine(
    config: Settings,
    *,
    workers: int,
    engine: str,
    scheduler: str | None = None,
    fallback: Any = None,
) -> None:
    """Refuse a combination that cannot work, before any file is read.

    :raise ConfigError: unknown engine, fewer than one worker, a scheduler
        without the dask engine, an online geocoder with more than one process
        (its rate limit is per process), or the dask engine without a
        GeoParquet store.
    """
    from mapapp.stores import open_store

    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}: use {' or '.join(ENGINES)}")
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, not {workers}")
    if scheduler and engine != "dask":
        raise ConfigError(f"a scheduler ({scheduler}) is for the dask engine: add --engine dask")
    if fallback is not None and (workers > 1 or engine == "dask"):
        raise ConfigError(
            "an online geocoder keeps its rate limit in one process: ingest with "
            "--workers 1 and the local engine, or without --geocoder"
        )
    if engine == "dask" and not open_store(config.store).partitioned:
        raise ConfigError(
            f"the dask engine writes a GeoParquet store, not {config.store}: "
            "give --store a folder name ending in .parquet"
        )


def run_ingest(
    paths: Sequence[Path],
    scan: Scan,
    config: Settings,
    *,
    workers: int = 1,
    engine: str = "local",
    scheduler: str | None = None,
    batch_size: int = 64,
    geoparser: Any = None,
    advance: Callable[[int], None] = lambda n: None,
    partition_size: int = PARTITION_SIZE,
    events: Any = None,
) -> Written:
    """Geoparse the new articles of ``scan`` and write them to the configured store.

    ``geoparser`` (and ``events``, its `ArticleEvents` or None) are used for
    the in-process case (one local worker); other engines load their own in
    each worker from ``config``.  ``advance`` is
    called with the number of articles of each batch written.
    """
    from mapapp.geoparsing import batches
    from mapapp.stores import open_store

    articles = fresh_articles(paths, scan)
    if engine == "dask":
        with open_store(config.store).writer() as writer:
            return _run_dask(
                articles,
                config,
                writer,
                workers=workers,
                scheduler=scheduler,
                partition_size=partition_size,
                advance=advance,
            )
    if workers == 1:
        parts = (parse_part(geoparser, b, events) for b in batches(articles, batch_size))
        return _write(parts, config, advance, partition_size)
    with _WorkerPool(config, workers) as pool:
        return _write(pool.parts(batches(articles, batch_size)), config, advance, partition_size)


def _write(
    parts: Iterable[Part], config: Settings, advance: Callable[[int], None], partition_size: int
) -> Written:
    """Write parts in order: one transaction each, or GeoParquet files committed at the end."""
    from mapapp.stores import open_store

    written = Written.nothing()
    with open_store(config.store).writer(partition_size) as writer:
        for part in parts:
            stored = writer.add_frames(part.articles, part.mentions, part.events)
            written = written.plus(part, stored)
            advance(len(part))
    return written


# -- local worker processes ------------------------------------------------------

_WORKER: dict[str, Any] = {}  # the geoparser of this worker process


def _start_worker(config: Settings) -> None:
    from mapapp.geoparsing import Geoparser

    _WORKER["geoparser"] = Geoparser.from_settings(config)
    _WORKER["events"] = event_reader(config, _WORKER["geoparser"])


def _parse_in_worker(batch: list[Article]) -> Part:
    return parse_part(_WORKER["geoparser"], batch, _WORKER["events"])


class _WorkerPool:
    """Worker processes that each load the geoparser once; parts come back in input order.

    At most ``WINDOW_PER_WORKER`` batches per worker are in flight, so memory
    stays flat however long the input is.
    """

    def __init__(self, config: Settings, workers: int) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.window = WINDOW_PER_WORKER * workers
        self.pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(config,),
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def parts(self, batches_in: Iterable[list[Article]]) -> Iterator[Part]:
        pending: deque = deque()
        for batch in batches_in:
            pending.append(self.pool.submit(_parse_in_worker, batch))
            if len(pending) >= self.window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


# -- Dask ---------------------------------------------------------------------------

_DASK_LOCK = threading.Lock()
_DASK_GEOPARSERS: dict[str, Any] = {}  # per Dask worker process: config fingerprint -> geoparser


WORKER_PATHS = ("DATA_PACKAGES", "CACHE_DIR", "CORRECTIONS")  # a worker's own MAPAPP_* wins


def _dask_geoparser(config: Settings) -> Any:
    """The geoparser for ``config`` in this Dask worker, loaded on first use only.

    Paths are the client's unless the worker's environment sets them
    (MAPAPP_DATA_PACKAGES, MAPAPP_CACHE_DIR, MAPAPP_CORRECTIONS): on a real
    cluster the data packages rarely sit where they do on the client.
    """
    import dataclasses
    import json
    import os

    from mapapp.geoparsing import Geoparser

    local = {
        name: os.environ[f"MAPAPP_{name}"]
        for name in WORKER_PATHS
        if os.environ.get(f"MAPAPP_{name}")
    }
    config = config.replace(**local)
    key = json.dumps(dataclasses.asdict(config), sort_keys=True, default=str)
    with _DASK_LOCK:
        if key not in _DASK_GEOPARSERS:
            _DASK_GEOPARSERS[key] = Geoparser.from_settings(config)
        return _DASK_GEOPARSERS[key]


def _parse_partition(articles: list[Article], config: Settings) -> list[Part]:
    """One bag partition geoparsed on a Dask worker: one Part (a one-item list, for the bag)."""
    return [parse_part(_dask_geoparser(config), articles)]


def _run_dask(
    articles: Iterable[Article],
    config: Settings,
    writer: Any,
    *,
    workers: int,
    scheduler: str | None,
    partition_size: int,
    advance: Callable[[int], None],
) -> Written:
    """Geoparse a bag of ``articles`` on Dask; the writer stores each partition under its index."""
    import dask.bag
    from dask.distributed import as_completed

    articles = list(articles)
    written = Written.nothing()
    if not articles:
        return written
    bag = dask.bag.from_sequence(articles, partition_size=partition_size)
    partitions = bag.map_partitions(_parse_partition, config).to_delayed()
    with DaskClient(scheduler, workers) as client:
        futures = client.compute(partitions)
        index = {future.key: i for i, future in enumerate(futures)}
        try:
            # results are fetched one by one, not by as_completed: a result lost with a killed
            # worker is recomputed and waited for, where a batch fetch of it could hang
            for future in as_completed(futures):
                (part,) = client.gather(future)
                writer.write(index[future.key], part.articles, part.mentions)
                written = written.plus(part)
                advance(len(part))
        except BaseException:
            client.cancel(futures)
            raise
    return written


class DaskClient:
    """A Client of the scheduler at ``address``, or of a LocalCluster of ``workers`` processes."""

    def __init__(self, address: str | None, workers: int) -> None:
        self.address, self.workers = address, workers
        self.cluster = self.client = None

    def __enter__(self) -> Any:
        from dask.distributed import Client, LocalCluster

        if self.address:
            self.client = Client(self.address)
        else:
            self.cluster = LocalCluster(
                n_workers=self.workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
            self.client = Client(self.cluster)
        return self.client

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
