"""The ``mapapp`` command line: ingest, serve, geoparse, export, stats, evaluate.

Every command takes ``--store`` (env ``MAPAPP_STORE``).  Failures end with a
one-line message and a non-zero exit; a bad input file is reported and
skipped while the rest of the batch lands (exit code 2 says some were skipped).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import click

from mapapp.config import load_config
from mapapp.errors import ArticleParseError, MapappError
from mapapp.records import Article

BATCH_SIZE = 64
store_option = click.option(
    "--store", "store", envvar="MAPAPP_STORE", type=click.Path(dir_okay=False),
    default=None, help="GeoPackage store to use (env MAPAPP_STORE).")


def _config(store: str | None, **extra: Any) -> dict[str, Any]:
    return load_config({"STORE": store, **extra})


def _geoparser(config: dict[str, Any]):
    from mapapp.geoparsing import Geoparser

    geoparser = Geoparser.from_config(config)
    if not geoparser.has_model:
        click.echo(f"note: spaCy model {config['NER_MODEL']!r} not available; "
                   "recognising places with the gazetteer alone", err=True)
    return geoparser


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mapapp", message="mapapp %(version)s")
def cli() -> None:
    """mapapp: a map of the places news stories report on."""


def main() -> None:
    """Console-script entry point: MapappError becomes a one-line message."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except MapappError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


# -- ingest -----------------------------------------------------------------

def _batches(items: Iterable[Article], size: int) -> Iterator[list[Article]]:
    batch: list[Article] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def ingest_paths(paths: Sequence[Path], config: dict[str, Any], *, echo=click.echo,
                 progress: bool = True) -> dict[str, Any]:
    """Parse, geoparse and store every article under ``paths``; returns a summary."""
    from mapapp.articles import iter_articles
    from mapapp.store import Store

    store = Store(config["STORE"])
    known = store.known_ids()
    summary = {"articles": 0, "already_stored": 0, "places": 0, "unresolved": 0, "errors": []}
    fresh: list[Article] = []
    for item in iter_articles(paths):
        if isinstance(item, ArticleParseError):
            summary["errors"].append(str(item))
            echo(f"skipped: {item}", err=True)
        elif item.article_id in known:
            summary["already_stored"] += 1
        else:
            known.add(item.article_id)
            fresh.append(item)
    if not fresh:
        return summary
    geoparser = _geoparser(config)
    with _progress_bar(len(fresh), progress) as advance:
        for batch in _batches(fresh, BATCH_SIZE):
            parsed = geoparser.parse_articles(batch)
            result = store.add(parsed)
            summary["articles"] += result.added
            summary["already_stored"] += result.skipped
            for _, resolutions in parsed:
                summary["places"] += sum(r.resolved for r in resolutions)
                summary["unresolved"] += sum(not r.resolved for r in resolutions)
            advance(len(batch))
    return summary


class _progress_bar:
    """A rich progress bar on stderr (silent when not wanted)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled, self.progress = total, enabled, None

    def __enter__(self):
        if not self.enabled:
            return lambda n: None
        from rich.progress import Progress

        self.progress = Progress(transient=False, console=_stderr_console())
        self.progress.__enter__()
        task = self.progress.add_task("geoparsing articles", total=self.total)
        return lambda n: self.progress.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@store_option
@click.option("--quiet", is_flag=True, help="No progress bar.")
def ingest(paths: tuple[Path, ...], store: str | None, quiet: bool) -> None:
    """Geoparse article files or folders (.txt, .jsonl, .csv) into the store."""
    config = _config(store)
    summary = ingest_paths(list(paths), config, progress=not quiet)
    click.echo(
        f"{summary['articles']} new articles, {summary['places']} places resolved, "
        f"{summary['unresolved']} unresolved, {summary['already_stored']} already stored, "
        f"{len(summary['errors'])} errors -> {config['STORE']}")
    if summary["errors"]:
        sys.exit(2)


# -- serve ------------------------------------------------------------------

@cli.command()
@store_option
@click.option("--host", envvar="MAPAPP_HOST", default=None,
              help="Interface to bind (default 127.0.0.1; env MAPAPP_HOST).")
@click.option("--port", envvar="MAPAPP_PORT", type=int, default=None,
              help="Port to listen on (default 5000; env MAPAPP_PORT).")
def serve(store: str | None, host: str | None, port: int | None) -> None:
    """Serve the map on http://HOST:PORT/ with a production WSGI server."""
    from mapapp.web import create_app
    from mapapp.web import serve as run_server

    config = _config(store, HOST=host, PORT=port)
    if config["HOST"] not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: binding {config['HOST']} makes the map reachable from other "
                   "machines", err=True)
    run_server(create_app(config), config["HOST"], int(config["PORT"]))


# -- geoparse ---------------------------------------------------------------

def _read_requests(stream: TextIO) -> Iterator[tuple[int, dict | str]]:
    """(line number, request dict or error message) for each non-blank line."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            yield number, f"line {number}: not valid JSON ({err.msg})"
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            yield number, f"line {number}: expected an object with a string 'text'"
            continue
        spans = obj.get("spans")
        if spans is not None and not _valid_spans(spans, len(obj["text"])):
            yield number, f"line {number}: 'spans' must be [[start, end], ...] inside the text"
            continue
        yield number, obj


def _valid_spans(spans: Any, length: int) -> bool:
    return isinstance(spans, list) and all(
        isinstance(s, (list, tuple)) and len(s) == 2 and all(isinstance(v, int) for v in s)
        and 0 <= s[0] < s[1] <= length for s in spans)


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@cli.command()
@click.argument("input", type=click.File("r", encoding="utf-8"), default="-")
@store_option
def geoparse(input: TextIO, store: str | None) -> None:
    """Geoparse JSON lines {"id", "text"[, "spans"]} from INPUT (default stdin).

    Writes one JSON line per input line, in order: {"id", "toponyms": [...]};
    with "spans" given, exactly those spans are resolved.  A malformed line
    gets {"id", "error"} and a message on stderr; the others are answered.
    """
    geoparser = _geoparser(_config(store))
    failed = 0
    for chunk in _chunks(_read_requests(input), BATCH_SIZE):
        good = [obj for _, obj in chunk if isinstance(obj, dict)]
        results = iter(geoparser.geoparse_many([(o["text"], o.get("spans")) for o in good]))
        for number, obj in chunk:
            if isinstance(obj, str):
                failed += 1
                click.echo(obj, err=True)
                out = {"id": None, "line": number, "error": obj}
            else:
                out = {"id": obj.get("id"), "toponyms": next(results)}
            click.echo(json.dumps(out, ensure_ascii=False))
    if failed:
        sys.exit(2)


# -- export / stats -----------------------------------------------------------

@cli.command()
@store_option
@click.option("--format", "fmt", type=click.Choice(["geojson", "csv", "gpkg"]), default="geojson",
              show_default=True, help="File format.")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day (YYYY-MM-DD).")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day (YYYY-MM-DD).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="File to write.")
def export(store: str | None, fmt: str, start, end, output: Path) -> None:
    """Export the resolved places (optionally a date range) as GeoJSON, CSV or GeoPackage."""
    from mapapp.store import Store

    path = Store(_config(store)["STORE"]).export(
        output, fmt, start.date() if start else None, end.date() if end else None)
    click.echo(f"wrote {path}")


@cli.command()
@store_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def stats(store: str | None, as_json: bool) -> None:
    """Articles, mentions, unresolved, date range and top places of the store."""
    from mapapp.store import Store

    data = Store(_config(store)["STORE"]).stats()
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
@click.option("--setting", type=click.Choice(["end-to-end", "gold-spans", "both"]), default="both",
              show_default=True, help="Recognise and resolve, or resolve the gold spans only.")
@click.option("--limit", type=int, default=None, help="Only the first N articles.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the report as JSON to this file.")
def evaluate(corpus: Path, store: str | None, setting: str, limit: int | None,
             json_out: Path | None) -> None:
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


if __name__ == "__main__":  # pragma: no cover
    main()
