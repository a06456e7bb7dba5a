"""The commands that look after a store and its geocode cache: ``store copy/upgrade``, ``cache``.

``mapapp.cli`` adds both groups to the ``mapapp`` command.
"""

from __future__ import annotations

import json

import click

from mapapp.cli_options import settings_for, store_option
from mapapp.cli_progress import progress_bar
from mapapp.settings import describe_store


@click.group("store")
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
    with progress_bar(total, not quiet and total > 0, label="copying articles") as advance:
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

    location = settings_for(store).store
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


def _geocode_cache(store: str | None, cache_file: str | None):
    """The configured geocode cache; a ClickException when there is none yet."""
    from mapapp.resolution.online.cache import GeocodeCache
    from mapapp.resolution.online.factory import geocode_cache_path

    config = settings_for(store, GEOCODE_CACHE=cache_file)
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


@click.group()
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
