"""mapapp: a map of reported events.

News stories go in; every place they report on comes out as a point on an
interactive map that links back to the story.  The pipeline runs one way:
articles -> toponyms -> geocoding -> store -> rendering -> web -> cli.
"""

__version__ = "0.1.0"
