"""``mapapp editors add/list/remove``: who may correct the map from beyond its own machine.

Editors live in the store (so a team on PostGIS shares them); only a salted
hash of each password is kept.  ``mapapp.cli`` adds the group.
"""

from __future__ import annotations

import sys

import click

from mapapp.cli_options import settings_for, store_option
from mapapp.settings import describe_store


def _editors(store: str | None):
    """The editor methods of the configured store (a StoreError if it keeps none)."""
    from mapapp.stores import open_store
    from mapapp.stores.editors import editor_store

    location = settings_for(store).store
    return editor_store(open_store(location)), describe_store(location)


@click.group("editors")
def editors_group() -> None:
    """Add, list or remove the editors who may correct the map after signing in."""


@editors_group.command("add")
@click.argument("name")
@store_option
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of asking twice.",
)
@click.option("--replace", is_flag=True, help="Give an existing editor a new password.")
def editors_add(name: str, store: str | None, password_stdin: bool, replace: bool) -> None:
    """Let NAME correct the map after signing in with a password (asked twice)."""
    from mapapp.stores.editors import check_name, hash_password

    check_name(name)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True)
    editors, where = _editors(store)
    editors.add_editor(name, hash_password(password), replace=replace)
    click.echo(f"{name} may now sign in and correct the map in {where}")


@editors_group.command("list")
@store_option
def editors_list(store: str | None) -> None:
    """Print every editor and when they were added."""
    editors, where = _editors(store)
    rows = editors.editors()
    if not rows:
        click.echo(f"no editors in {where} (add one with: mapapp editors add NAME)")
    for row in rows:
        click.echo(f"{row['name']}\tadded {row['created']}")


@editors_group.command("remove")
@click.argument("name")
@store_option
def editors_remove(name: str, store: str | None) -> None:
    """Stop NAME from signing in (their past corrections keep their name)."""
    editors, where = _editors(store)
    if not editors.remove_editor(name):
        raise click.ClickException(f"{name!r} is not an editor of {where}")
    click.echo(f"{name} is no longer an editor of {where}")
