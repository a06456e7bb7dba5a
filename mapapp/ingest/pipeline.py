"""Ingest and reprocess: read article files, geoparse them, write the store, say what happened.

`ingest` and `reprocess` are what ``mapapp ingest`` and ``run.py`` call.  They
print nothing: the lines a user should see ("skipped: ...", "waiting: ...",
"note: ...") go to ``report``, and progress to ``progress``, a factory of
progress displays (the CLI passes its rich bar).  Only one ingest writes a
store at a time: a second one waits for the store's writer lock, saying so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mapapp.ingest.engines import (
    Scan,
    check_engine,
    event_reader,
    run_ingest,
    scan_articles,
    wants_events,
)
from mapapp.ingest.store_rules import store_rules
from mapapp.settings import Settings, describe_store

if TYPE_CHECKING:
    from mapapp.resolution.online.retry import OnlineStats

BATCH_SIZE = 64  # articles geoparsed together, and written in one store transaction

#: Called with the number of articles just done.
Advance = Callable[[int], None]
#: Called with one line for the user (the CLI writes it to stderr).
Report = Callable[[str], None]
#: Given the number of articles to geoparse and the online geocoder's live counters (or
#: None), a context manager for the run that yields the `Advance` callback.
Progress = Callable[[int, "OnlineStats | None"], AbstractContextManager[Advance]]


@dataclass(frozen=True)
class IngestSummary:
    """What an ingest (or a reprocess) did: articles stored, places resolved, files skipped.

    ``failures`` (mentions whose online lookup failed, each with its reason in
    the store) and ``online`` (the geocoder's counters) are set only when an
    online geocoder was used.
    """

    articles: int = 0
    already_stored: int = 0
    places: int = 0
    unresolved: int = 0
    errors: tuple[str, ...] = ()
    failures: int | None = None
    online: OnlineStats | None = None


def _silent(line: str) -> None:
    """A `Report` that drops the line."""


def _no_progress(total: int, online: Any) -> AbstractContextManager[Advance]:
    """A `Progress` that shows nothing."""
    return nullcontext(lambda n: None)


def ingest(
    paths: Sequence[Path],
    settings: Settings,
    *,
    progress: Progress | None = None,
    report: Report = _silent,
    workers: int = 1,
    engine: str = "local",
    scheduler: str | None = None,
    geoparser: Any = None,
) -> IngestSummary:
    """Parse, geoparse and store every new article under ``paths``; returns what was done.

    ``paths`` may also hold articles and errors already read from URLs
    (`mapapp.ingest.sources`).  ``workers``, ``engine`` and ``scheduler`` choose
    where geoparsing runs (`mapapp.ingest.engines`); an impossible combination, or
    a misconfigured online geocoder, is refused before any file is read.  A
    ``geoparser`` given (``mapapp watch`` keeps one loaded) is used in this process.
    """
    from mapapp.resolution.online.factory import make_fallback

    fallback = make_fallback(settings)  # refuses before any work when misconfigured
    try:
        check_engine(
            settings, workers=workers, engine=engine, scheduler=scheduler, fallback=fallback
        )
        with (
            _writer_lock(settings, report),  # one ingest per store; a second one waits
            store_rules(settings) as ruled,  # the editors' everywhere-rules, seed file too
        ):
            return _ingest(
                paths,
                ruled,
                fallback,
                progress or _no_progress,
                report,
                engine={"workers": workers, "engine": engine, "scheduler": scheduler},
                geoparser=geoparser,
            )
    finally:
        if fallback is not None:
            fallback.close()


def _ingest(
    paths: Sequence[Path],
    settings: Settings,
    fallback: Any,
    progress: Progress,
    report: Report,
    *,
    engine: dict[str, Any],
    geoparser: Any = None,
) -> IngestSummary:
    """The ingest itself, under the writer lock: scan, geoparse the new articles, write."""
    from mapapp.geoparsing import load_geoparser
    from mapapp.stores import open_store

    scan = scan_articles(paths, open_store(settings.store).known_ids())  # ids only: flat memory
    for error in scan.errors:
        report(f"skipped: {error}")
    stats = fallback.stats if fallback is not None else None
    summary = IngestSummary(
        already_stored=scan.already_stored,
        errors=tuple(str(error) for error in scan.errors),
        failures=None if stats is None else 0,
        online=stats,
    )
    if not scan.fresh:
        return summary
    in_process = engine["workers"] == 1 and engine["engine"] == "local"
    if not in_process:
        geoparser = None
    elif geoparser is None or fallback is not None:
        geoparser = load_geoparser(settings, report, fallback)
    events = _events_for(settings, geoparser, report) if in_process else None
    with progress(len(scan.fresh), stats) as advance:
        written = run_ingest(
            paths,
            scan,
            settings,
            **engine,
            batch_size=BATCH_SIZE,
            geoparser=geoparser,
            advance=advance,
            events=events,
        )
    if not written.has_model and not in_process:
        report(
            f"note: spaCy model {settings.ner_model!r} not available on the workers; "
            "places were recognised with the gazetteer alone"
        )
    return _counted(summary, scan, written.stored, stats)


def _counted(
    summary: IngestSummary, scan: Scan, stored: Any, stats: OnlineStats | None
) -> IngestSummary:
    """``summary`` with what the engine stored (an ``AddResult`` of the whole run)."""
    return replace(
        summary,
        articles=stored.added,
        already_stored=scan.already_stored + stored.skipped,
        places=stored.resolved,
        unresolved=stored.mentions - stored.resolved,
        failures=None if stats is None else stats.failures,
    )


def reprocess(
    settings: Settings, *, progress: Progress | None = None, report: Report = _silent
) -> IngestSummary:
    """Re-geoparse every stored article with today's rules and corrections, in one swap."""
    with _writer_lock(settings, report), store_rules(settings) as ruled:
        return _reprocess(ruled, progress or _no_progress, report)


def _reprocess(settings: Settings, progress: Progress, report: Report) -> IngestSummary:
    """The reprocess itself, under the writer lock."""
    from mapapp.geoparsing import batches, load_geoparser
    from mapapp.stores import open_store

    store = open_store(settings.store)
    articles = store.article_records()
    if not articles:
        return IngestSummary()
    geoparser = load_geoparser(settings, report)
    events = _events_for(settings, geoparser, report)
    parsed, happened = [], []
    with progress(len(articles), None) as advance:
        for batch in batches(articles, BATCH_SIZE):
            if events is None:
                parsed.extend(geoparser.parse_articles(batch))
            else:
                done, found = events.parse_articles(batch)
                parsed.extend(done)
                happened.extend((a, e) for (a, _), e in zip(done, found, strict=True))
            advance(len(batch))
    redone = store.replace(parsed, happened if events is not None else None)
    mentions = sum(len(resolutions) for _, resolutions in parsed)
    places = sum(r.resolved for _, resolutions in parsed for r in resolutions)
    return IngestSummary(articles=redone, places=places, unresolved=mentions - places)


def _events_for(settings: Settings, geoparser: Any, report: Report) -> Any:
    """The run's `ArticleEvents` (events read from the geoparser's parses), or None: off
    (MAPAPP_EVENTS=0), a GeoParquet store, or no spaCy model (said through ``report``)."""
    if not wants_events(settings):
        if settings.events:
            report("note: a GeoParquet store keeps no events; events were not extracted")
        return None
    events = event_reader(settings, geoparser)
    if events is None:
        report(
            f"note: events need a spaCy model to parse with (MAPAPP_NER_MODEL is "
            f"{settings.ner_model!r}, which could not be loaded or is off); none were extracted"
        )
    return events


def _writer_lock(settings: Settings, report: Report) -> AbstractContextManager[Any]:
    """The store's writer lock (`mapapp.stores.locking`), saying so when it has to wait."""
    from mapapp.stores.locking import writer_lock

    store = settings.store
    return writer_lock(
        store,
        on_wait=lambda holder: report(
            f"waiting: another ingest into {describe_store(store)} is running ({holder})"
        ),
    )
