"""An online service's answers as the same records as the gazetteer's.

Nominatim, Photon and OpenCage put the country, the state, the kind of place
and their own id in different keys of ``raw``; these functions read each of
them and `to_place` turns an answer into a `Place` (no ``geonameid``, the
service's id as ``provider_id``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from geopy.location import Location

from mapapp.records import Place, Toponym

OSM_CLASSES = {
    "place": "P",
    "boundary": "A",
    "highway": "R",
    "railway": "R",
    "natural": "T",
    "waterway": "H",
    "water": "H",
    "landuse": "L",
    "leisure": "L",
}
ADDRESS_TYPES = {
    "country": ("A", "PCLI"),
    "state": ("A", "ADM1"),
    "province": ("A", "ADM1"),
    "region": ("A", "ADM1"),
    "county": ("A", "ADM2"),
    "district": ("A", "ADM2"),
    "city": ("P", "PPL"),
    "town": ("P", "PPL"),
    "village": ("P", "PPL"),
    "hamlet": ("P", "PPL"),
    "suburb": ("P", "PPLX"),
    "quarter": ("P", "PPLX"),
    "neighbourhood": ("P", "PPLX"),
}
OSM_TYPES = {"N": "node", "W": "way", "R": "relation"}


def _parts(raw: Mapping[str, Any]) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """(address details, properties) of a Nominatim, Photon or OpenCage answer."""
    props = raw.get("properties") if isinstance(raw.get("properties"), Mapping) else {}
    address = raw.get("address") or raw.get("components") or {}
    return (address if isinstance(address, Mapping) else {}), props


def country_of(raw: Mapping[str, Any]) -> str:
    """ISO 3166-1 alpha-2 code of an answer, "" when the service did not say."""
    address, props = _parts(raw)
    code = (
        address.get("country_code")
        or address.get("ISO_3166-1_alpha-2")
        or props.get("countrycode")
        or ""
    )
    return str(code).upper() if len(str(code)) == 2 else ""


def admin1_of(raw: Mapping[str, Any]) -> str:
    """The state or province an answer lies in, when known."""
    address, props = _parts(raw)
    return str(address.get("state") or props.get("state") or "")


def feature_of(raw: Mapping[str, Any]) -> tuple[str, str]:
    """A GeoNames-style (feature class, feature code) guessed from OSM tags; S for a spot."""
    address, props = _parts(raw)
    kind = raw.get("addresstype") or props.get("type") or raw.get("type") or ""
    if kind in ADDRESS_TYPES:
        return ADDRESS_TYPES[kind]
    osm_class = raw.get("class") or raw.get("category") or props.get("osm_key") or ""
    fclass = OSM_CLASSES.get(osm_class, "S")
    return fclass, {"P": "PPL", "A": "ADMD"}.get(fclass, "")


def provider_id_of(raw: Mapping[str, Any]) -> str | None:
    """The service's id of an answer: "relation/62422" for OSM-based ones, else its own id."""
    _, props = _parts(raw)
    osm_type = raw.get("osm_type") or props.get("osm_type")
    osm_id = raw.get("osm_id") or props.get("osm_id")
    if osm_type and osm_id:
        return f"{OSM_TYPES.get(str(osm_type), osm_type)}/{osm_id}"
    found = raw.get("place_id") or raw.get("id") or props.get("gid") or props.get("id")
    return None if found is None else str(found)


def to_place(location: Location) -> Place:
    """An online answer as a `Place` (no geonameid; the provider's id kept)."""
    raw = location.raw if isinstance(location.raw, Mapping) else {}
    fclass, fcode = feature_of(raw)
    name = str(raw.get("name") or location.address.split(",")[0]).strip()
    return Place(
        None,
        name or location.address,
        float(location.latitude),
        float(location.longitude),
        fclass,
        fcode,
        country_of(raw),
        admin1_name=admin1_of(raw),
        provider_id=provider_id_of(raw),
    )


def query_for(toponym: Toponym) -> str:
    """The text sent to the service: the name, with its qualifier ("Paris, Texas")."""
    return f"{toponym.name}, {toponym.qualifier}" if toponym.qualifier else toponym.name
