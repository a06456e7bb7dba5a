"""Alembic migrations of the PostGIS store's schema (see `mapapp.stores.postgis`)."""
