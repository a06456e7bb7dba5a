"""Alembic migrations of the PostGIS store's schema (see `mapapp.postgis_store`)."""
