"""When an event happened, resolved against the story's publication date.

News reports the past: "Sunday" in a Monday story is the day before, "Nov. 12"
in a January story is last November.  Vague spans give a range ("last week"
is the previous Monday to Sunday, "earlier this month" the 1st to the day
before).  With nothing said, the publication date stands, marked as such.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = {
    **{name.lower(): i for i, name in enumerate(calendar.month_name) if name},
    **{name.lower(): i for i, name in enumerate(calendar.month_abbr) if name},
    "sept": 9,
}
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(?P<year>(?:19|20)\d\d))?"
_PART = r"(?:\s+(?:night|morning|evening|afternoon))?"

PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        ("iso", r"\b(?P<year>(?:19|20)\d\d)-(?P<month>[01]\d)-(?P<day>[0-3]\d)\b"),
        ("month_day", r"\b" + _MONTH + r"\s+" + _DAY + r"\b" + _YEAR),
        ("day_month", r"\b" + _DAY + r"\s+(?:of\s+)?" + _MONTH + r"\b" + _YEAR),
        ("ago", r"\b(?P<n>\w+)\s+(?P<unit>days?|weeks?)\s+ago\b"),
        ("relative_day", r"\b(?:the\s+day\s+before\s+yesterday|yesterday|today|tonight)\b"),
        ("this_part", r"\bthis\s+(?:morning|afternoon|evening)\b|\blast\s+night\b"),
        ("weekday", r"\b(?P<last>last\s+)?(?P<weekday>" + "|".join(WEEKDAYS) + r")" + _PART),
        ("range", r"\b(?:last|this|earlier\s+this|past)\s+(?P<period>week|month|year)\b"),
        ("month", r"\bin\s+" + _MONTH + r"\b" + _YEAR),
    )
)
#: Words before a date that plan rather than report: "talks set for Nov. 28" lie ahead.
AHEAD = re.compile(
    r"\b(?:set|scheduled|planned|slated|due|expected|postponed|delayed)\s+(?:for|on|until|to)?\s*"
    r"(?:on\s+)?$|\b(?:until|from)\s+$",
    re.IGNORECASE,
)
_SMALL = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "ten": 10}


@dataclass(frozen=True)
class EventDate:
    """The day (or range) an event happened, and the words that said so."""

    date: date | None
    start: date | None
    end: date | None
    text: str | None
    is_publication: bool = False


def resolve_date(sentence: str, published: date | None, near: int | None = None) -> EventDate:
    """The event date a sentence states, against ``published``; the latter if none is stated.

    With several dates in the sentence the one closest to offset ``near`` (the trigger) wins.
    """
    found = []
    for kind, pattern in PATTERNS:
        for match in pattern.finditer(sentence):
            if any(match.start() < e and s < match.end() for s, e, _, _ in found):
                continue
            found.append((match.start(), match.end(), kind, match))
    for _start, _end, kind, match in sorted(found, key=lambda f: abs(f[0] - (near or 0))):
        answer = _resolve(kind, match, published)
        if answer is not None:
            return answer
    if published is None:
        return EventDate(None, None, None, None)
    return EventDate(published, published, published, None, is_publication=True)


def _resolve(kind: str, match: re.Match[str], published: date | None) -> EventDate | None:
    """The date one matched expression means, or None when it cannot be placed."""
    text = match.group(0).strip()
    groups = match.groupdict()
    if kind in ("iso", "month_day", "day_month"):
        month = int(groups["month"]) if kind == "iso" else MONTHS[groups["month"].lower()]
        day, year = int(groups["day"]), groups.get("year")
        if year is None and published is None:
            return None
        ahead = bool(AHEAD.search(match.string[max(0, match.start() - 24) : match.start()]))
        return _day(_dated(int(year) if year else None, month, day, published, ahead), text)
    if published is None:
        return EventDate(None, None, None, text)
    if kind == "ago":
        n = int(groups["n"]) if groups["n"].isdigit() else _SMALL.get(groups["n"].lower())
        if n is None:
            return None
        return _day(published - timedelta(days=n * (7 if groups["unit"].startswith("w") else 1)),
                    text)  # fmt: skip
    if kind == "relative_day":
        back = {"today": 0, "tonight": 0, "yesterday": 1}.get(text.lower(), 2)
        return _day(published - timedelta(days=back), text)
    if kind == "this_part":
        return _day(published - timedelta(days=1 if text.lower().startswith("last") else 0), text)
    if kind == "weekday":
        return _day(_weekday(groups["weekday"], published, bool(groups["last"])), text)
    if kind == "range":
        return _range(match.group(0).lower(), groups["period"].lower(), published, text)
    month, year = MONTHS[groups["month"].lower()], groups.get("year")
    first = date(int(year) if year else published.year, month, 1)
    if not year and first > published:
        first = first.replace(year=first.year - 1)
    last = first.replace(day=calendar.monthrange(first.year, month)[1])
    return EventDate(None, first, last, text)


def _day(day: date | None, text: str) -> EventDate | None:
    return None if day is None else EventDate(day, day, day, text)


def _dated(
    year: int | None, month: int, day: int, published: date | None, ahead: bool = False
) -> date | None:
    """The day of ``month``/``day``; with no year, the latest one not after publication (or,
    ``ahead``, for a planned day such as "set for Nov. 28", the first one not before it)."""
    try:
        if year is not None:
            return date(year, month, day)
        assert published is not None
        candidate = date(published.year, month, day)
        if ahead:
            return candidate if candidate >= published else date(published.year + 1, month, day)
        return candidate if candidate <= published else date(published.year - 1, month, day)
    except ValueError:  # "Feb. 30"
        return None


def _weekday(name: str, published: date, last: bool) -> date:
    """The latest ``name``-day on or before publication ("last Sunday": strictly before)."""
    back = (published.weekday() - WEEKDAYS.index(name.lower())) % 7
    if last and back == 0:
        back = 7
    return published - timedelta(days=back)


def _range(phrase: str, period: str, published: date, text: str) -> EventDate:
    """A week, month or year range: "last week" is the previous Monday to Sunday."""
    if period == "week":
        monday = published - timedelta(days=published.weekday())
        if phrase.startswith("last"):
            return EventDate(None, monday - timedelta(days=7), monday - timedelta(days=1), text)
        if phrase.startswith("past"):
            return EventDate(None, published - timedelta(days=7), published, text)
        return EventDate(None, monday, published, text)
    if period == "month":
        first = published.replace(day=1)
        if phrase.startswith(("last", "past")):
            end = first - timedelta(days=1)
            return EventDate(None, end.replace(day=1), end, text)
        end = max(first, published - timedelta(days=1)) if "earlier" in phrase else published
        return EventDate(None, first, end, text)
    first = published.replace(month=1, day=1)
    if phrase.startswith(("last", "past")):
        return EventDate(None, first.replace(year=first.year - 1), first - timedelta(days=1), text)
    return EventDate(None, first, published, text)
