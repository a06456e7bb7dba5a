"""What every command shares: the ``--store`` option and the settings it selects."""

from __future__ import annotations

from typing import Any

import click

from mapapp.settings import Settings, load_settings

store_option = click.option(
    "--store",
    "store",
    envvar="MAPAPP_STORE",
    type=click.Path(),
    default=None,
    help="Store to use: a GeoPackage file, a GeoParquet folder (NAME.parquet) or "
    "postgresql://user@host/db (env MAPAPP_STORE).",
)


def settings_for(store: str | None, **extra: Any) -> Settings:
    """The settings, with what the command line gave on top of the environment's."""
    return load_settings({"STORE": store, **extra})
