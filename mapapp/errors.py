"""The exceptions mapapp raises on purpose; everything else is a bug."""

from __future__ import annotations


class MapappError(Exception):
    """Base class: a failure with a message fit to show a user as-is."""


class ArticleParseError(MapappError, ValueError):
    """An input file or record could not be read as a news article."""


class GazetteerError(MapappError):
    """The offline gazetteer's data packages are missing or unreadable."""


class GeocodingError(MapappError):
    """A geocoder failed for a reason other than 'no such place'."""


class StoreError(MapappError):
    """The store could not be opened, read or written."""


class ConflictError(StoreError):
    """A write lost a race: someone else changed the same thing first (the sentence says what)."""


class NotFoundError(StoreError, LookupError):
    """The store holds no mention or correction with the id asked for."""


class ConfigError(MapappError, ValueError):
    """A setting has a value mapapp cannot use."""


class QueryError(MapappError, ValueError):
    """A map query (a URL's filters, view or date range) has a value mapapp cannot read."""
