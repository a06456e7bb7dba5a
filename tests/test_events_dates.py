"""Event dates resolved against the publication date (sentences written for these tests)."""

from __future__ import annotations

from datetime import date

import pytest

from mapapp.events.dates import resolve_date

MONDAY = date(2024, 3, 4)  # a Monday
NEW_YEAR = date(2024, 1, 2)  # a Tuesday, early in January
MARCH_FIRST = date(2024, 3, 1)  # a Friday, the first of a month


@pytest.mark.parametrize(
    ("sentence", "published", "day", "start", "end", "text"),
    [
        ("Rebels took the hill on Sunday.", MONDAY, date(2024, 3, 3), None, None, "Sunday"),
        ("Crowds gathered Monday.", MONDAY, MONDAY, None, None, "Monday"),
        ("It began last Monday.", MONDAY, date(2024, 2, 26), None, None, "last Monday"),
        ("Gunfire rang out Tuesday night.", MONDAY, date(2024, 2, 27), None, None,
         "Tuesday night"),
        ("Troops arrived on Nov. 12.", MONDAY, date(2023, 11, 12), None, None, "Nov. 12"),
        ("The dam broke on Dec. 30.", NEW_YEAR, date(2023, 12, 30), None, None, "Dec. 30"),
        ("Voting ended on Sunday.", NEW_YEAR, date(2023, 12, 31), None, None, "Sunday"),
        ("The vote was held Thursday.", MARCH_FIRST, date(2024, 2, 29), None, None, "Thursday"),
        ("It was signed on 3 February 2021.", MONDAY, date(2021, 2, 3), None, None,
         "3 February 2021"),
        ("Fire crews left yesterday.", MARCH_FIRST, date(2024, 2, 29), None, None, "yesterday"),
        ("The camp was cleared three days ago.", MONDAY, date(2024, 3, 1), None, None,
         "three days ago"),
        ("Strikes spread last week.", MONDAY, None, date(2024, 2, 26), date(2024, 3, 3),
         "last week"),
        ("Strikes spread last week.", NEW_YEAR, None, date(2023, 12, 25), date(2023, 12, 31),
         "last week"),
        ("Floods hit earlier this month.", MONDAY, None, date(2024, 3, 1), date(2024, 3, 3),
         "earlier this month"),
        ("Prices rose last month.", NEW_YEAR, None, date(2023, 12, 1), date(2023, 12, 31),
         "last month"),
        ("The clinic opened in December.", NEW_YEAR, None, date(2023, 12, 1),
         date(2023, 12, 31), "in December"),
    ],
)  # fmt: skip
def test_stated_dates(sentence, published, day, start, end, text) -> None:
    found = resolve_date(sentence, published)
    assert found.date == day
    assert (found.start, found.end) == ((start, end) if day is None else (day, day))
    assert found.text == text
    assert not found.is_publication


@pytest.mark.parametrize("sentence", ["A bridge collapsed.", "Nobody knows why the well ran dry."])
def test_publication_date_when_nothing_is_said(sentence: str) -> None:
    found = resolve_date(sentence, MONDAY)
    assert (found.date, found.start, found.end, found.text) == (MONDAY, MONDAY, MONDAY, None)
    assert found.is_publication


def test_no_publication_date_leaves_relative_days_open() -> None:
    assert resolve_date("It happened on Sunday.", None).date is None
    assert resolve_date("It happened on Nov. 12, 2019.", None).date == date(2019, 11, 12)
    assert not resolve_date("Nothing said.", None).is_publication


def test_the_date_nearest_the_trigger_wins() -> None:
    sentence = "Talks broke down on Monday; on Friday soldiers fired on the crowd."
    assert resolve_date(sentence, MONDAY, near=sentence.index("fired")).text == "Friday"
