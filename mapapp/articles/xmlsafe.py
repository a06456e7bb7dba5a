"""Hostile XML refused: entity declarations (billion laughs), external references, and DTDs
where the format needs none, by defusedxml before any other parser reads the bytes."""

from __future__ import annotations

from typing import Any

from mapapp.errors import ArticleParseError


def parse_xml(data: bytes, *, where: str, forbid_dtd: bool = True) -> Any:
    """The root element of ``data`` parsed by defusedxml (entities, external refs forbidden).

    :raise ArticleParseError: not well-formed, or a DTD, entity or external reference.
    """
    import defusedxml
    from defusedxml import ElementTree

    try:
        return ElementTree.fromstring(
            data, forbid_dtd=forbid_dtd, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DTDForbidden as err:
        raise ArticleParseError(
            f"{where}: refused: the XML declares a DTD ({err.name or 'inline'}), which "
            "mapapp does not read (entity expansion, external fetches)"
        ) from err
    except defusedxml.EntitiesForbidden as err:
        raise ArticleParseError(
            f"{where}: refused: the XML declares an entity ({err.name!r}); entity "
            "expansion is not allowed (a 'billion laughs' file?)"
        ) from err
    except defusedxml.ExternalReferenceForbidden as err:
        raise ArticleParseError(
            f"{where}: refused: the XML refers to an external resource "
            f"({err.sysid or err.pubid}); mapapp fetches nothing an XML file names"
        ) from err
    except defusedxml.DefusedXmlException as err:
        raise ArticleParseError(f"{where}: refused: unsafe XML ({err})") from err
    except ElementTree.ParseError as err:
        raise ArticleParseError(f"{where}: not well-formed XML ({err})") from err


def refuse_hostile(data: bytes, *, where: str) -> None:
    """Raise if ``data`` declares an entity or names an external resource; a DTD alone
    (old RSS 0.91 feeds carry one) and malformed XML (feedparser copes) pass."""
    try:
        parse_xml(data, where=where, forbid_dtd=False)
    except ArticleParseError as err:
        if "refused" in str(err):
            raise
