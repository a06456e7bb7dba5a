"""Dates as news files write them: ISO, MM/DD/YYYY, 'Nov. 20, 2017', RFC 2822."""

from __future__ import annotations

import email.utils
import re
from datetime import date

DATE_FORMATS = "YYYY-MM-DD, MM/DD/YYYY, 'November 20, 2017' or an RFC 2822 date"
_ISO_DATE = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
    r"\s*(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
)
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
_MONTH_FIRST = re.compile(_WEEKDAY + r"([a-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})", re.I)
_DAY_FIRST = re.compile(_WEEKDAY + r"(\d{1,2})\s+([a-z]+)\.?,?\s+(\d{4})", re.I)
_MONTHS = {
    name: number
    for number, full in enumerate(
        (
            "january february march april may june july august september october november december"
        ).split(),
        start=1,
    )
    for name in (full, full[:3])
} | {"sept": 9}


def parse_date(value: str) -> date | None:
    """Read a date written as ISO, MM/DD/YYYY, 'Nov. 20, 2017' or RFC 2822."""
    value = value.strip()
    if match := _ISO_DATE.fullmatch(value):
        return _make_date(match[1], match[2], match[3])
    if match := _US_DATE.fullmatch(value):
        return _make_date(match[3], match[1], match[2])
    if match := _MONTH_FIRST.fullmatch(value):
        return _make_date(match[3], _MONTHS.get(match[1].lower()), match[2])
    if match := _DAY_FIRST.fullmatch(value):
        return _make_date(match[3], _MONTHS.get(match[2].lower()), match[1])
    try:
        return email.utils.parsedate_to_datetime(value).date()
    except (TypeError, ValueError, IndexError):
        return None


def _make_date(year: str, month: str | int | None, day: str) -> date | None:
    """Build a date, or None when the parts do not make one (month 13, Feb 30)."""
    if month is None:
        return None
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None
