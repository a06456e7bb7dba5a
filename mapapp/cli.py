"""The ``mapapp`` command line: ingest, serve, geoparse, export, stats, evaluate, cache.

Every command takes ``--store`` (env ``MAPAPP_STORE``).  Failures end with a
one-line message and a non-zero exit; a bad input file is reported and
skipped while the rest of the batch lands (exit code 2 says some were skipped).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import click

from mapapp import __version__
from mapapp.cli_editors import editors_group
from mapapp.cli_options import settings_for, store_option
from mapapp.cli_progress import ProgressBar
from mapapp.cli_review import correct, corrections_group, review
from mapapp.cli_store import cache, store_group
from mapapp.cli_watch import watch
from mapapp.errors import MapappError
from mapapp.settings import Settings, describe_store

if TYPE_CHECKING:
    from mapapp.geoparsing import Geoparser


def _note(line: str) -> None:
    """Tell the user ``line`` on stderr (skipped files, waits, missing model)."""
    click.echo(line, err=True)


def _geoparser(config: Settings) -> Geoparser:
    """The configured geoparser, noting on stderr when the spaCy model is missing."""
    from mapapp.geoparsing import load_geoparser

    return load_geoparser(config, _note)


class MapappGroup(click.Group):
    """A click group that shows a MapappError as a one-line ``Error: ...``."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MapappError as err:
            raise click.ClickException(str(err)) from err


@click.group(cls=MapappGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version=__version__, prog_name="mapapp", message="%(prog)s %(version)s")
def cli() -> None:
    """mapapp: a map of the places news stories report on."""


cli.add_command(store_group)  # store copy, store upgrade
cli.add_command(cache)  # cache stats, cache clear
cli.add_command(watch)  # poll folders and feeds
cli.add_command(editors_group)  # editors add, list, remove
cli.add_command(review)  # the review queue
cli.add_command(correct)  # one editor's decision about a mention
cli.add_command(corrections_group)  # corrections export, corrections import


def main() -> None:
    """Console-script entry point: failures end as one ``Error: ...`` line."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Error: aborted", err=True)
        sys.exit(1)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except MapappError as err:
        click.echo(f"Error: {err}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


# -- ingest -----------------------------------------------------------------


def _geocoder_option(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[str, ...] | None:
    """Check each ``key=value``; secrets are refused here (shell history, ``ps``)."""
    from mapapp.resolution.online.options import parse_option, refuse_secret

    for value in values:
        try:
            refuse_secret(parse_option(value)[0])
        except MapappError as err:
            raise click.BadParameter(str(err), ctx=ctx, param=param) from err
    return values or None


@cli.command()
@click.argument(
    "paths",
    nargs=-1,
    required=False,
    # not readable=True: an unreadable file is skipped with the others, not fatal; a URL
    # (a feed or a page) is fetched, so the argument stays text until it is told apart
    type=click.UNPROCESSED,
)
@store_option
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option(
    "--reprocess",
    is_flag=True,
    help="Re-run every stored article with the current rules and corrections "
    "(MAPAPP_CORRECTIONS), replacing their places in one transaction.",
)
@click.option(
    "--geocoder",
    envvar="MAPAPP_GEOCODER",
    default=None,
    metavar="NAME",
    help="Online geocoder for mentions the gazetteer cannot place: a geopy service "
    "name such as 'nominatim', or 'offline' (default; env MAPAPP_GEOCODER).",
)
@click.option(
    "--geocoder-option",
    "geocoder_options",
    multiple=True,
    metavar="KEY=VALUE",
    callback=_geocoder_option,
    help="Option of the online geocoder, e.g. domain=nominatim.example.org "
    "(repeatable; replaces MAPAPP_GEOCODER_OPTIONS). API keys go in the "
    "environment as MAPAPP_GEOCODER_API_KEY, never here.",
)
@click.option(
    "--user-agent",
    envvar="MAPAPP_USER_AGENT",
    default=None,
    help="User-Agent naming your application and a contact, sent to the online "
    "geocoder (required by Nominatim; env MAPAPP_USER_AGENT).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Geoparsing processes, each loading the model and gazetteer once (local "
    "engine: results are written in input order; dask: LocalCluster size).",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="Where geoparsing runs: this machine, or a Dask cluster (writes a "
    "GeoParquet store: --store NAME.parquet).",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Dask scheduler to use, e.g. tcp://HOST:8786 (default: a LocalCluster of "
    "--workers processes).",
)
def ingest(
    paths: tuple[str, ...],
    store: str | None,
    quiet: bool,
    reprocess: bool,
    geocoder: str | None,
    geocoder_options: tuple[str, ...] | None,
    user_agent: str | None,
    workers: int,
    engine: str,
    scheduler: str | None,
) -> None:
    """Geoparse article files, folders or URLs (feeds and pages) into the store.

    Files: .txt, .jsonl, .csv, .rss/.atom/.xml feeds, NewsML-G2 .xml, ninjs .json,
    .html pages, .docx and .pdf.
    """
    from mapapp.ingest import pipeline
    from mapapp.ingest.sources import ingest_sources

    config = settings_for(
        store, GEOCODER=geocoder, GEOCODER_OPTIONS=geocoder_options, USER_AGENT=user_agent
    )
    progress = None if quiet else ProgressBar
    if reprocess:
        done = pipeline.reprocess(config, progress=progress, report=_note)
        click.echo(
            f"{done.articles} articles reprocessed, {done.places} places resolved, "
            f"{done.unresolved} unresolved -> {describe_store(config.store)}"
        )
        if not paths:
            return
    elif not paths:
        raise click.UsageError("give files or folders to ingest, or --reprocess")
    try:
        summary, resolved = ingest_sources(
            list(paths),
            config,
            progress=progress,
            report=_note,
            workers=workers,
            engine=engine,
            scheduler=scheduler,
        )
    except MapappError as err:
        raise click.ClickException(str(err)) from err
    click.echo(
        f"{summary.articles} new articles, {summary.places} places resolved, "
        f"{summary.unresolved} unresolved, {summary.already_stored} already stored, "
        f"{len(summary.errors)} errors -> {describe_store(config.store)}"
    )
    if summary.online is not None:
        click.echo(f"{summary.online.describe()} (failed mentions keep their reason in the store)")
    unchanged = [read.url for read in resolved.urls if read.not_modified]
    for url in unchanged:
        _note(f"note: {url}: not modified since it was last read (nothing new)")
    if not summary.articles and not summary.already_stored and not unchanged:
        click.echo(
            "Error: found no story to ingest in "
            + ", ".join(map(str, paths))
            + " (nothing was stored)",
            err=True,
        )
        sys.exit(2)
    if summary.errors:
        sys.exit(2)


# -- serve ------------------------------------------------------------------


@cli.command()
@store_option
@click.option(
    "--host",
    envvar="MAPAPP_HOST",
    default=None,
    help="Interface to bind (default 127.0.0.1; env MAPAPP_HOST).",
)
@click.option(
    "--port",
    envvar="MAPAPP_PORT",
    type=int,
    default=None,
    help="Port to listen on (default 5000; env MAPAPP_PORT).",
)
def serve(store: str | None, host: str | None, port: int | None) -> None:
    """Serve the map on http://HOST:PORT/ with a production WSGI server."""
    from mapapp.web import create_app
    from mapapp.web.server import serve as run_server

    config = settings_for(store, HOST=host, PORT=port)
    if config.host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(
            f"warning: binding {config.host} makes the map reachable from other machines: "
            "list the names they use in MAPAPP_ALLOWED_HOSTS, and add editors with "
            "'mapapp editors add NAME'",
            err=True,
        )
    from mapapp.recognition.place_search import place_search_for

    app = create_app(config, place_search_for(config), ingest_files=upload_ingest(config))
    run_server(app, config.host, config.port)


def upload_ingest(config: Settings) -> Callable[[Sequence[Path], Callable[[str], None]], Any]:
    """What the map's uploads call (``mapapp.web.uploads.IngestFiles``): the CLI's own ingest."""

    def ingest_files(paths: Sequence[Path], report: Callable[[str], None]) -> Any:
        from mapapp.ingest import pipeline

        return pipeline.ingest(list(paths), config, report=report)

    return ingest_files


# -- geoparse ---------------------------------------------------------------


@cli.command()
@click.argument("input", type=click.File("rb"), default="-")
@store_option
def geoparse(input: BinaryIO, store: str | None) -> None:
    """Geoparse JSON lines {"id", "text"[, "spans"]} from INPUT (default stdin).

    Writes one JSON line per input line, in order: {"id", "toponyms": [...]};
    with "spans" given, exactly those spans are resolved.  A malformed line
    gets {"id", "error"} and a message on stderr; the others are answered.
    """
    from mapapp.geoparsing import answer_requests

    failed = 0
    for answer in answer_requests(_geoparser(settings_for(store)), input):
        if "error" in answer:
            failed += 1
            _note(answer["error"])
        click.echo(json.dumps(answer, ensure_ascii=False))
    if failed:
        sys.exit(2)


# -- export / stats -----------------------------------------------------------


def _existing_store(store: str | None):
    """The configured store, refusing a path where nothing was ever ingested (a typo)."""
    from mapapp.stores import open_store

    location = settings_for(store).store
    found = open_store(location)
    if not found.exists():
        raise click.ClickException(
            f"no store at {describe_store(location)}: run 'mapapp ingest' first or check --store"
        )
    return found


@cli.command()
@store_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["geojson", "csv", "gpkg"]),
    default=None,
    help="File format (default: from the output file's suffix).",
)
@click.option(
    "--start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day (YYYY-MM-DD)."
)
@click.option(
    "--end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day (YYYY-MM-DD)."
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File to write.",
)
@click.option(
    "--view",
    "view",
    default="",
    metavar="QUERY",
    help="A map URL's query (e.g. 'start=2026-09-01&country=SY&role=dateline'): "
    "export exactly what the map shows for it.",
)
def export(store: str | None, fmt: str, start, end, output: Path, view: str) -> None:
    """Export the resolved places (optionally a date range) as GeoJSON, CSV or GeoPackage."""
    suffixes = {".geojson": "geojson", ".json": "geojson", ".csv": "csv", ".gpkg": "gpkg"}
    fmt = fmt or suffixes.get(output.suffix.lower())
    if fmt is None:
        raise click.UsageError(
            f"cannot tell the format of {output.name!r}: give --format "
            "geojson|csv|gpkg or a .geojson/.csv/.gpkg file name"
        )
    if start and end and start > end:
        raise click.UsageError(
            f"--start {start:%Y-%m-%d} is after --end {end:%Y-%m-%d}: give the earlier day first"
        )
    if view:
        from mapapp.maps.export import export_view

        click.echo(
            f"wrote {export_view(_existing_store(store).location, output, fmt, view.lstrip('?'))}"
        )
        return
    path = _existing_store(store).export(
        output, fmt, start.date() if start else None, end.date() if end else None
    )
    click.echo(f"wrote {path}")


@cli.command()
@store_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def stats(store: str | None, as_json: bool) -> None:
    """Articles, mentions, unresolved, date range and top places of the store."""
    data = _existing_store(store).stats()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, default=str))
        return
    click.echo(f"articles:   {data['articles']} ({data['undated_articles']} undated)")
    click.echo(f"mentions:   {data['mentions']} ({data['unresolved']} unresolved)")
    click.echo(f"date range: {data['first_date'] or '-'} .. {data['last_date'] or '-'}")
    for name, country, count in data["top_places"]:
        click.echo(f"  {count:5d}  {name} ({country})")


# -- evaluate -----------------------------------------------------------------


@cli.command()
@click.argument("corpus", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@store_option
@click.option(
    "--setting",
    type=click.Choice(["end-to-end", "gold-spans", "both"]),
    default="both",
    show_default=True,
    help="Recognise and resolve, or resolve the gold spans only.",
)
@click.option("--limit", type=int, default=None, help="Only the first N articles.")
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the report as JSON to this file.",
)
def evaluate(
    corpus: Path, store: str | None, setting: str, limit: int | None, json_out: Path | None
) -> None:
    """Score the geoparser on a gold corpus (format of shared/eval/README.md), or the event
    places on an event-location corpus (shared/events/README.md: held-out half, both the
    gold-trigger and end-to-end settings, beside the every-NER-place baseline)."""
    from mapapp.evaluation import reports
    from mapapp.evaluation.corpus import load_corpus
    from mapapp.evaluation.events import is_event_corpus
    from mapapp.evaluation.formatting import format_report
    from mapapp.evaluation.running import SETTINGS

    if is_event_corpus(corpus):
        _evaluate_events(corpus, settings_for(store), limit, json_out)
        return
    articles = load_corpus(corpus, limit)
    settings = SETTINGS if setting == "both" else (setting.replace("-", "_"),)
    geoparser = _geoparser(settings_for(store))
    report = reports.evaluate(geoparser.geoparse_many, articles, settings, corpus=corpus.stem)
    click.echo(format_report(report))
    if json_out:
        json_out.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
        click.echo(f"wrote {json_out}")


def _evaluate_events(corpus: Path, config: Any, limit: int | None, json_out: Path | None) -> None:
    """``mapapp evaluate`` on an event-location corpus (its held-out half)."""
    from mapapp.evaluation.events import evaluate_events, format_event_report, load_event_records
    from mapapp.events.extract import EventExtractor
    from mapapp.geoparsing import load_geoparser

    try:
        records = load_event_records(corpus, limit=limit)
    except ValueError as err:
        raise click.ClickException(str(err)) from err
    try:
        extractor = EventExtractor.from_geoparser(
            load_geoparser(config, lambda line: click.echo(line, err=True)), config.ner_model
        )
    except OSError as err:
        message = f"events need the spaCy model {config.ner_model!r}: {err}"
        raise click.ClickException(message) from err
    report = evaluate_events(extractor, records, corpus=corpus.stem)
    click.echo(format_event_report(report))
    if json_out:
        json_out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        click.echo(f"wrote {json_out}")


# -- events -------------------------------------------------------------------


@cli.command()
@click.argument("input", type=click.File("rb"), default="-")
def events(input: BinaryIO) -> None:
    """Events in JSON lines {"id", "text"[, "published"][, "trigger"]} from INPUT (default stdin).

    Writes one JSON line per input line, in order: {"id", "events": [...]} with
    each event's trigger, type, date, counts and places; with "trigger": [start,
    end] given, that trigger's event only.  A malformed line gets {"id", "line",
    "error"} and a message on stderr; the others are answered.
    """
    from mapapp.events.extract import EventExtractor
    from mapapp.events.requests import answer_requests
    from mapapp.geoparsing import load_geoparser

    config = settings_for(None)
    try:
        extractor = EventExtractor.from_geoparser(
            load_geoparser(config, lambda line: click.echo(line, err=True)), config.ner_model
        )
    except OSError as err:
        message = f"events need the spaCy model {config.ner_model!r}: {err}"
        raise click.ClickException(message) from err
    failed = 0
    for answer in answer_requests(extractor, input):
        if "error" in answer:
            failed += 1
            click.echo(answer["error"], err=True)
        click.echo(json.dumps(answer, ensure_ascii=False))
    if failed:
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
