"""Alembic's entry point for the PostGIS store.

mapapp runs migrations itself (`mapapp.stores.postgis.PostgisStore.upgrade`), handing over a
connection that is already inside a transaction and holds the migration lock,
so the whole upgrade commits or rolls back as one.  There is no offline (SQL
script) mode: a store is always upgraded against the live database.
"""

from alembic import context

from mapapp.stores.postgis_db import VERSION_TABLE

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "mapapp migrations run through PostgisStore.upgrade(), which passes the database connection"
    )
context.configure(connection=connection, version_table=VERSION_TABLE, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
