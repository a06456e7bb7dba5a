"""The ``mapapp`` command line: ingest, serve, geoparse, export, stats, evaluate, cache.

Every command takes ``--store`` (env ``MAPAPP_STORE``).  Failures end with a
one-line message and a non-zero exit; a bad input file is reported and
skipped while the rest of the batch lands (exit code 2 says some were skipped).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import click

from mapapp import __version__
from mapapp.errors import MapappError
from mapapp.settings import Settings, describe_store, load_settings

if TYPE_CHECKING:
    from mapapp.geoparsing import Geoparser

store_option = click.option(
    "--store",
    "store",
    envvar="MAPAPP_STORE",
    type=click.Path(),
    default=None,
    help="Store to use: a GeoPackage file, a GeoParquet folder (NAME.parquet) or "
    "postgresql://user@host/db (env MAPAPP_STORE).",
)


def _config(store: str | None, **extra: Any) -> Settings:
    """The settings, with what the command line gave on top of the environment's."""
    return load_settings({"STORE": store, **extra})


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


class ProgressBar:
    """A rich progress bar on stderr, entered for one run; yields its ``advance(n)``.

    With an online geocoder it also shows requests, cache hits, failures and
    the time its rate limit implies for the rest (read live from ``online``).
    The class itself is the ``progress`` factory `mapapp.ingest.pipeline` takes.
    """

    def __init__(
        self, total: int, online: Any = None, *, label: str = "geoparsing articles"
    ) -> None:
        self.total, self.progress = total, None
        self.online, self.label = online, label

    def __enter__(self) -> Callable[[int], None]:
        from rich.progress import Progress

        columns = [*Progress.get_default_columns()]
        if self.online is not None:  # a shorter bar leaves room for the online counters
            from rich.progress import BarColumn

            columns = [BarColumn(bar_width=16) if isinstance(c, BarColumn) else c for c in columns]
            columns.append(_online_column(self.online, self.total))
        self.progress = Progress(*columns, transient=False, console=_stderr_console())
        self.progress.__enter__()
        task = self.progress.add_task(self.label, total=self.total)
        return lambda n: self.progress.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)


def _progress_bar(
    total: int, enabled: bool, online: Any = None, *, label: str = "geoparsing articles"
) -> AbstractContextManager[Any]:
    """A `ProgressBar`, or nothing shown when not ``enabled``."""
    if not enabled:
        return nullcontext(lambda n: None)
    return ProgressBar(total, online, label=label)


def _online_column(stats: Any, total: int) -> Any:
    """A progress column: "nominatim 12 req · 30 cached · 1 failed · ~0:02:10 at 1 req/s"."""
    from datetime import timedelta

    from rich.progress import ProgressColumn
    from rich.text import Text

    class OnlineColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            eta = timedelta(seconds=int(stats.eta_seconds(total)))
            return Text(
                f"{stats.service} {stats.requests} req · {stats.cache_hits} cached · "
                f"{stats.failures} failed · ~{eta} at {1 / stats.min_delay_seconds:g} "
                "req/s",
                style="progress.remaining",
                no_wrap=True,
                overflow="ellipsis",
            )

    return OnlineColumn()


def _stderr_console() -> Any:
    """A rich console writing to stderr (stdout stays for results)."""
    from rich.console import Console

    return Console(stderr=True)


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
    # not readable=True: an unreadable file is skipped with the others, not fatal
    type=click.Path(path_type=Path, readable=False),
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
    paths: tuple[Path, ...],
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
    """Geoparse article files or folders (.txt, .jsonl, .csv) into the store."""
    from mapapp.ingest import pipeline

    config = _config(
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
        summary = pipeline.ingest(
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
    if not summary.articles and not summary.already_stored:
        click.echo(
            "Error: found no story to ingest in "
            + ", ".join(map(str, paths))
            + " (nothing was stored)",
            err=True,
        )
        sys.exit(2)
    if summary.errors:
        sys.exit(2)


# -- store: copy and upgrade ------------------------------------------------


@cli.group("store")
def store_group() -> None:
    """Move a store between backends, or upgrade a PostGIS store's schema."""


@store_group.command("copy")
@click.argument("source")
@click.argument("target")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def store_copy(source: str, target: str, quiet: bool) -> None:
    """Copy every article and mention from SOURCE to TARGET, losslessly.

    Each is a GeoPackage file, a postgresql://user@host/db URL or a
    GeoParquet folder.  Articles TARGET already holds are kept as they are,
    so an interrupted copy is finished by running it again.
    """
    from mapapp.stores import open_store
    from mapapp.stores.copy import copy_store

    total = len(open_store(source).known_ids())  # 0 without a store (copy_store says so)
    with _progress_bar(total, not quiet and total > 0, label="copying articles") as advance:
        done = copy_store(source, target, advance=advance)
    click.echo(
        f"copied {done.added} articles and {done.mentions} mentions "
        f"({done.skipped} already there): {describe_store(source)} -> "
        f"{describe_store(target)}"
    )


@store_group.command("upgrade")
@store_option
def store_upgrade(store: str | None) -> None:
    """Create or upgrade a PostGIS store's schema to this mapapp's revision (migrations)."""
    from mapapp.stores import open_store

    location = _config(store).store
    revisions = open_store(location).upgrade()
    if revisions is None:
        click.echo(f"{describe_store(location)}: a file store has no schema to upgrade")
        return
    before, after = revisions
    if before == after:
        click.echo(f"{describe_store(location)}: schema already at revision {after}")
    else:
        click.echo(
            f"{describe_store(location)}: schema upgraded from "
            f"{before or 'nothing'} to revision {after}"
        )


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

    config = _config(store, HOST=host, PORT=port)
    if config.host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(
            f"warning: binding {config.host} makes the map reachable from other machines", err=True
        )
    run_server(create_app(config), config.host, config.port)


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
    for answer in answer_requests(_geoparser(_config(store)), input):
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

    location = _config(store).store
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


# -- cache --------------------------------------------------------------------


def _geocode_cache(store: str | None, cache_file: str | None):
    """The configured geocode cache; a ClickException when there is none yet."""
    from mapapp.resolution.online.cache import GeocodeCache
    from mapapp.resolution.online.factory import geocode_cache_path

    config = _config(store, GEOCODE_CACHE=cache_file)
    path = geocode_cache_path(config)
    if not path.exists():
        raise click.ClickException(
            f"no geocode cache at {path} yet (an ingest with an online --geocoder creates it)"
        )
    return GeocodeCache(path, max_age_days=config.geocode_cache_days)


cache_file_option = click.option(
    "--cache-file",
    envvar="MAPAPP_GEOCODE_CACHE",
    type=click.Path(dir_okay=False),
    default=None,
    help="Geocode cache file (default geocode-cache.sqlite beside the store; "
    "env MAPAPP_GEOCODE_CACHE).",
)


@cli.group()
def cache() -> None:
    """The online geocoders' answer cache (kept beside the store)."""


@cache.command("stats")
@store_option
@cache_file_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def cache_stats(store: str | None, cache_file: str | None, as_json: bool) -> None:
    """Answers cached, "not found" answers, expired ones, per service."""
    from dataclasses import asdict

    geocode_cache = _geocode_cache(store, cache_file)
    try:
        data = geocode_cache.stats()
    finally:
        geocode_cache.close()
    if as_json:
        click.echo(json.dumps(asdict(data)))
        return
    click.echo(f"file:      {data.path} ({data.size_bytes / 1024:.0f} KiB)")
    click.echo(f"answers:   {data.entries} ({data.not_found} not found, {data.expired} expired)")
    click.echo(f"fetched:   {data.oldest or '-'} .. {data.newest or '-'}")
    for service, count in data.by_service.items():
        click.echo(f"  {count:6d}  {service}")


@cache.command("clear")
@store_option
@cache_file_option
@click.option("--service", default=None, metavar="NAME", help="Only this geocoder's answers.")
@click.option("--expired", is_flag=True, help="Only answers older than MAPAPP_GEOCODE_CACHE_DAYS.")
def cache_clear(
    store: str | None, cache_file: str | None, service: str | None, expired: bool
) -> None:
    """Forget cached answers (all, one service's, or the expired ones)."""
    geocode_cache = _geocode_cache(store, cache_file)
    try:
        removed = geocode_cache.clear(service, expired_only=expired)
    finally:
        geocode_cache.close()
    click.echo(f"removed {removed} cached answers from {geocode_cache.path}")


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
    """Score the geoparser on a gold corpus (format of shared/eval/README.md)."""
    from mapapp import evaluation as ev

    articles = ev.load_corpus(corpus, limit)
    settings = ev.SETTINGS if setting == "both" else (setting.replace("-", "_"),)
    geoparser = _geoparser(_config(store))
    report = ev.evaluate(geoparser.geoparse_many, articles, settings, corpus=corpus.stem)
    click.echo(ev.format_report(report))
    if json_out:
        json_out.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
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

    config = load_settings({})
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
