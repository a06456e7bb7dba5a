"""The commands of the review desk: ``review``, ``correct`` and ``corrections export/import``.

Thin wrappers over `mapapp.maps.review` and the store's corrections API;
``mapapp.cli`` adds them to the ``mapapp`` command.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import click

from mapapp.cli_options import settings_for, store_option
from mapapp.settings import Settings, describe_store


def _store(settings: Settings) -> Any:
    """The configured store, refusing a location where nothing was ever ingested."""
    from mapapp.stores import open_store

    found = open_store(settings.store)
    if not found.exists():
        raise click.ClickException(
            f"no store at {describe_store(settings.store)}: run 'mapapp ingest' first "
            "or check --store"
        )
    return found


def _default_editor() -> str:
    """The OS user, the editor's name when none is given."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"


editor_option = click.option(
    "--editor",
    default=_default_editor,
    show_default="the OS user",
    help="Who decides (kept in the corrections log).",
)


def _lookup(settings: Settings) -> Any:
    """A GeoNames id -> place function over the offline gazetteer (loaded on first use)."""
    loaded: dict[str, Any] = {}

    def lookup(geonameid: int) -> dict[str, Any] | None:
        if "gazetteer" not in loaded:
            from mapapp.recognition.gazetteer_cache import load_gazetteer

            loaded["gazetteer"] = load_gazetteer(
                Path(settings.data_packages), settings.cache_folder
            )
        gaz = loaded["gazetteer"]
        row = gaz.by_geonameid.get(int(geonameid))
        if row is None:
            return None
        place = gaz.place(row)
        return {
            "geonameid": place.geonameid,
            "name": place.name,
            "lat": float(place.latitude),
            "lon": float(place.longitude),
            "country_code": place.country_code,
            "admin1": place.admin1_name,
            "feature_class": place.feature_class,
            "feature_code": place.feature_code,
            "population": int(place.population),
        }

    return lookup


@click.command("review")
@store_option
@click.option("--json", "as_json", is_flag=True, help="The queue as JSON (one object per item).")
@click.option(
    "--view",
    default="",
    metavar="QUERY",
    help="A map URL's query ('start=2026-09-01&end=2026-09-30&country=SY'): its filters.",
)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Show the first N items.")
def review(store: str | None, as_json: bool, view: str, limit: int | None) -> None:
    """List what most needs a human eye: doubtful, ambiguous, lone or unplaced places."""
    from mapapp.maps.query import parse_view
    from mapapp.maps.review import review_queue

    settings = settings_for(store)
    items = review_queue(_store(settings), parse_view(parse_qs(view.lstrip("?"))))
    shown = items[:limit] if limit else items
    if as_json:
        click.echo(json.dumps({"total": len(items), "items": shown}, ensure_ascii=False, indent=1))
        return
    click.echo(f"{len(items)} items to review in {describe_store(settings.store)}")
    for n, item in enumerate(shown, 1):
        place = item["place"]
        where = f"{place['name']} ({place['country_code'] or '?'})" if place else "not placed"
        click.echo(
            f"{n:>3}. {item['name']} -> {where}  score {item['score']:.2f}  "
            f"{item['stories']} stories, {item['mentions']} mentions  [{item['mention_id']}]"
        )
        for why in item["why"]:
            click.echo(f"       {why}")


@click.command("correct")
@click.argument("mention_id")
@store_option
@click.option("--to", "geonameid", type=int, default=None, help="The GeoNames id it means.")
@click.option("--not-a-place", "not_a_place", is_flag=True, help="The name is not a place here.")
@click.option("--accept", is_flag=True, help="The geoparser was right: accept it as is.")
@click.option(
    "--scope",
    type=click.Choice(["mention", "story", "everywhere"]),
    default="mention",
    show_default=True,
    help="This mention, this name in its story, or this name in every story (and future ingests).",
)
@editor_option
@click.option("--json", "as_json", is_flag=True, help="Print the correction as JSON.")
def correct(
    mention_id: str,
    store: str | None,
    geonameid: int | None,
    not_a_place: bool,
    accept: bool,
    scope: str,
    editor: str,
    as_json: bool,
) -> None:
    """Correct one mention (an id from 'mapapp review' or the map): --to, --not-a-place or
    --accept."""
    chosen = [
        flag
        for flag, on in (
            ("--to", geonameid is not None),
            ("--not-a-place", not_a_place),
            ("--accept", accept),
        )
        if on
    ]
    if len(chosen) != 1:
        raise click.UsageError("give exactly one of --to GEONAMEID, --not-a-place, --accept")
    settings = settings_for(store)
    found = _store(settings)
    place = None
    if geonameid is not None:
        known = found.mention(mention_id)
        weighed = [c for c in (known or {}).get("candidates", []) if c["geonameid"] == geonameid]
        if known is not None and not weighed:
            place = _lookup(settings)(geonameid)
            if place is None:
                raise click.ClickException(f"GeoNames id {geonameid} is not in the gazetteer")
    action = "place" if geonameid is not None else "not_a_place" if not_a_place else "accept"
    done = found.add_correction(
        mention_id, action, scope=scope, geonameid=geonameid, place=place, editor=editor
    )
    if as_json:
        click.echo(json.dumps(done, ensure_ascii=False, indent=1))
        return
    now = done["mention"] or {}
    where = (
        f"{now.get('resolved_name')} ({now.get('country_code')})"
        if now.get("lat") is not None
        else "not a place"
    )
    click.echo(f"correction {done['id']} ({action}, {scope}): {done['name']} -> {where}")


@click.group("corrections")
def corrections_group() -> None:
    """Export or import the store's corrections (the JSON of MAPAPP_CORRECTIONS)."""


@corrections_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@store_option
def corrections_export(file: Path, store: str | None) -> None:
    """Write the store's active corrections to FILE (usable as MAPAPP_CORRECTIONS)."""
    from mapapp.stores.corrections_file import export_corrections

    counts = export_corrections(_store(settings_for(store)), file)
    click.echo(
        f"exported {counts['pins']} pins, {counts['deny']} denied names and "
        f"{counts['mentions']} mention corrections -> {file}"
    )


@corrections_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@store_option
def corrections_import(file: Path, store: str | None) -> None:
    """Add the corrections in FILE (pins and deny become rules for every story)."""
    from mapapp.stores.corrections_file import import_corrections

    settings = settings_for(store)
    counts = import_corrections(_store(settings), file, _lookup(settings))
    click.echo(
        f"imported {counts['added']} corrections ({counts['already']} already decided) "
        f"into {describe_store(settings.store)}"
    )
    if counts["aliases"]:
        click.echo(
            f"note: {counts['aliases']} aliases not imported: they stay in the "
            "MAPAPP_CORRECTIONS file (they add names, they decide no mention)"
        )
