"""The review queue: what most needs a human eye before a map is published.

One item is a name and the place it is shown at now (all the mentions of
"Georgia" placed in the US state are one item), flagged for one or more
reasons:

- ``low_score``: the calibrated score is below the map's doubtful threshold;
- ``ambiguous_name``: the same name is placed at different places across stories;
- ``lone_country``: the place is in a country no other place of its story is in;
- ``not_placed``: the name was considered (it had candidates) but not placed;
- ``disagrees``: an editor decided this mention, and the geoparser now says
  something else than when they did (after ``--reprocess`` with new rules or
  a new model); the editor's decision still stands on the map.

Mentions an editor decided (corrected or accepted) leave the queue, except
for disagreements.  Items are ranked by the stories they touch, then the
mentions.  The CLI (``mapapp review``) and the web's ``/review`` both read it.
"""

from __future__ import annotations

from typing import Any

import pandas

from mapapp.maps.points import LOW_SCORE
from mapapp.maps.view import MapView
from mapapp.records import MAP_ROLES
from mapapp.stores import Store
from mapapp.stores.corrections import mention_record, parse_candidates
from mapapp.text import name_key

REASONS = ("disagrees", "low_score", "ambiguous_name", "lone_country", "not_placed")
NO_CANDIDATES = "not in the gazetteer"  # the resolver's reason when nothing was weighed


def _lower(column: pandas.Series) -> pandas.Series:
    return column.astype(object).where(column.notna(), "").astype(str).str.lower()


def _in_view(
    frame: pandas.DataFrame, view: MapView, everything: pandas.DataFrame
) -> pandas.DataFrame:
    """The mentions of ``frame`` that the map's filters (dates, country, search) keep.

    With a country, a story's unplaced names stay when another place of the
    story (in ``everything``, the whole store) is in that country.
    """
    published = frame["published"].astype(object).where(frame["published"].notna(), "")
    dated = published != ""
    keep = dated.copy()
    if view.start:
        keep &= published >= view.start.isoformat()
    if view.end:
        keep &= published <= view.end.isoformat()
    keep |= ~dated & view.undated
    if view.country:
        country = _lower(frame["country_code"]) == view.country.lower()
        in_country = _lower(everything["country_code"]) == view.country.lower()
        stories = set(everything.loc[in_country, "article_id"])
        keep &= country | (frame.geometry.isna() & frame["article_id"].isin(stories))
    if view.q:
        needle = view.q.lower()
        keep &= (
            _lower(frame["name"]).str.contains(needle, regex=False)
            | _lower(frame["resolved_name"]).str.contains(needle, regex=False)
            | _lower(frame["headline"]).str.contains(needle, regex=False)
        )
    return frame[keep.to_numpy()]


def _flags(
    frame: pandas.DataFrame, corrections: dict[int, dict[str, Any]], threshold: float
) -> pandas.DataFrame:
    """One boolean column per reason, for every mention of ``frame``."""
    resolved = frame.geometry.notna()
    open_ = ~frame["reviewed"].astype(bool)
    geonameid = frame["geonameid"].astype("Int64")
    flags = pandas.DataFrame(index=frame.index)
    flags["low_score"] = resolved & open_ & (frame["score"].astype(float) < threshold)
    placed = frame[resolved]
    places_per_name = placed.groupby("key")["geonameid"].nunique()
    stories_per_name = placed.groupby("key")["article_id"].nunique()
    ambiguous = set(places_per_name[(places_per_name > 1) & (stories_per_name > 1)].index)
    flags["ambiguous_name"] = resolved & open_ & frame["key"].isin(ambiguous)
    flags["lone_country"] = resolved & open_ & _lone_country(frame, resolved, geonameid)
    reason = frame["reason"].astype(object)
    flags["not_placed"] = (
        ~resolved & open_ & reason.notna() & (reason != NO_CANDIDATES) & frame["corrected"].isna()
    )
    flags["disagrees"] = [
        _disagrees(corrections.get(int(cid)) if pandas.notna(cid) else None, now)
        for cid, now in zip(frame["correction_id"], frame["geoparser_geonameid"], strict=False)
    ]
    return flags


def _lone_country(
    frame: pandas.DataFrame, resolved: pandas.Series, geonameid: pandas.Series
) -> pandas.Series:
    """Is the mention's place the only place of its country in its story (the story naming
    other places)?"""
    places = pandas.DataFrame(
        {"article_id": frame["article_id"], "country": frame["country_code"], "gid": geonameid}
    )[resolved.to_numpy()].drop_duplicates()
    per_story = places.groupby("article_id")["gid"].nunique()
    per_country = places.groupby(["article_id", "country"])["gid"].nunique()
    lone = []
    for article, country, gid, located in zip(
        frame["article_id"], frame["country_code"], geonameid, resolved, strict=False
    ):
        if not located or not isinstance(country, str) or pandas.isna(gid):
            lone.append(False)
            continue
        lone.append(per_story.get(article, 0) > 1 and per_country.get((article, country), 0) == 1)
    return pandas.Series(lone, index=frame.index)


def _disagrees(correction: dict[str, Any] | None, now: Any) -> bool:
    """Does the geoparser now say something else than when the editor decided?"""
    if correction is None or correction["scope"] == "everywhere":  # rules feed the geoparser
        return False
    then = (correction.get("old") or {}).get("geoparser_geonameid")
    now = None if pandas.isna(now) else int(now)
    return then != now


def _sentence(reason: str, first: pandas.Series, group: pandas.DataFrame, **facts: Any) -> str:
    """A sentence saying why an item is in the queue."""
    name = first["name"]
    if reason == "low_score":
        return f"score {float(group['score'].min()):.2f} is below {facts['threshold']:.2f}"
    if reason == "ambiguous_name":
        return f"{name!r} is placed at {facts['places']} different places across stories"
    if reason == "lone_country":
        return f"the only place in {first['country_code']} in its story"
    if reason == "not_placed":
        return f"considered but not placed ({first['reason']})"
    correction = facts["correction"] or {}
    now = first["geoparser_geonameid"]
    now_text = "nothing" if pandas.isna(now) else f"GeoNames {int(now)}"
    return (
        f"the geoparser now says {now_text}; {correction.get('editor') or 'an editor'} "
        f"decided {correction.get('action')} on {correction.get('created')}"
    )


def review_queue(
    store: Store, view: MapView | None = None, *, threshold: float = LOW_SCORE
) -> list[dict[str, Any]]:
    """The queue's items for ``view`` (the map's filters), most touching first."""
    view = view or MapView()
    frame = store.mentions(include_undated=True, resolved_only=False)
    frame = frame[frame["role"].isin(MAP_ROLES)]
    if frame.empty:
        return []
    frame = frame.assign(key=frame["name"].map(lambda v: name_key(v) if isinstance(v, str) else ""))
    corrections = {c["id"]: c for c in store.corrections(include_undone=False)}
    places_per_name = frame[frame.geometry.notna()].groupby("key")["geonameid"].nunique()
    flags = _flags(frame, corrections, threshold)  # over every story: the view only filters
    keep = flags.any(axis=1)
    flagged = _in_view(frame[keep.to_numpy()], view, frame)
    if flagged.empty:
        return []
    flags = flags.loc[flagged.index]
    flagged = flagged.assign(gid=flagged["geonameid"].astype("Int64").fillna(-1))
    items = []
    for (_, _), group in flagged.groupby(["key", "gid"], sort=False):
        first = group.sort_values(["score", "published", "article_id", "start"]).iloc[0]
        record = mention_record(first.to_dict())
        reasons = [r for r in REASONS if flags.loc[group.index, r].any()]
        correction = corrections.get(record["correction_id"]) if record["correction_id"] else None
        facts = {
            "threshold": threshold,
            "places": int(places_per_name.get(first["key"], 0)),
            "correction": correction,
        }
        place = None
        if record["lat"] is not None:
            place = {
                "geonameid": record["geonameid"],
                "name": record["resolved_name"],
                "country_code": record["country_code"],
                "admin1": record["admin1_name"],
                "lat": record["lat"],
                "lon": record["lon"],
            }
        items.append(
            {
                "mention_id": record["mention_id"],
                "name": record["name"],
                "article_id": record["article_id"],
                "headline": record["headline"],
                "published": record["published"],
                "place": place,
                "score": round(float(group["score"].min()), 3),
                "reasons": reasons,
                "why": [_sentence(r, first, group, **facts) for r in reasons],
                "candidates": parse_candidates(first["candidates"]),
                "stories": int(group["article_id"].nunique()),
                "mentions": len(group),
                "mention_ids": group["mention_id"].tolist(),
            }
        )
    items.sort(key=lambda i: (-i["stories"], -i["mentions"], i["score"], i["name"] or ""))
    return items
