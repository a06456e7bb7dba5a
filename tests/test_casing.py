"""Case restoration: a readable copy of caseless text, the same length as the original."""

from __future__ import annotations

import pytest

from mapapp.recognition.casing import casing_of, restore_case

KNOWN = {"karachi", "new york", "bay of bengal"}


def known(phrase: str) -> bool:
    """A stand-in gazetteer: these phrases name notable places."""
    return phrase in KNOWN


@pytest.mark.parametrize(
    ("sentence", "mode"),
    [
        ("police fired tear gas at marchers in karachi.", "lower"),
        ("THOUSANDS MARCHED THROUGH THE CAPITAL ON SUNDAY.", "upper"),
        ("Police fired tear gas at marchers in Karachi.", None),
        ("the mayor of Leeds said the roads would reopen soon.", None),  # has case: a name
        ("ok then", None),  # too short to judge
        ("He said the water was cold and the road was shut for a week.", None),  # names nothing
        ("UN aid reached the camp.", None),
    ],
)
def test_casing_of(sentence: str, mode: str | None) -> None:
    assert casing_of(sentence) == mode


@pytest.mark.parametrize(
    ("text", "readable"),
    [
        (
            "police fired tear gas at marchers in karachi on friday.",
            "Police fired tear gas at marchers in Karachi on Friday.",
        ),
        (
            "ships sheltered in the bay of bengal. i saw them leave new york.",
            "Ships sheltered in the Bay of Bengal. I saw them leave New York.",
        ),
        (
            "FLOODS HIT KARACHI AFTER THREE DAYS OF RAIN.",
            "Floods hit Karachi after three days of rain.",
        ),
        # a sentence with case is left alone, even beside one without
        (
            "Rain fell in the hills. then the river rose past the old bridge.",
            "Rain fell in the hills. Then the river rose past the old bridge.",
        ),
        # cased text goes on in lower case after an abbreviation: not a caseless sentence
        (
            "The U.S. has sent aid to the people of the coast.",
            "The U.S. has sent aid to the people of the coast.",
        ),
        (
            "Rain fell on Jan. 13 to the east and the river rose.",
            "Rain fell on Jan. 13 to the east and the river rose.",
        ),
        (
            "POLICE SEALED THE ROAD\nschools in karachi stayed shut on monday",
            "Police sealed the road\nSchools in Karachi stayed shut on Monday",
        ),
        ("Rain fell on Karachi and Lahore.", "Rain fell on Karachi and Lahore."),
        (  # a name neither opens nor ends on "the" or "of"
            "ships crossed the bay of bengal and the gulf of the sea.",
            "Ships crossed the Bay of Bengal and the gulf of the sea.",
        ),
        ("2 held after the fire in karachi", "2 held after the fire in Karachi"),
        ("", ""),
    ],
)
def test_restore_case(text: str, readable: str) -> None:
    assert restore_case(text, known) == readable


@pytest.mark.parametrize(
    ("text", "readable"),
    [
        (
            "ßa is what the river is called near karachi",
            "ßa is what the river is called near Karachi",
        ),
        ("ǆemal walked to karachi in the rain today", "Ǆemal walked to Karachi in the rain today"),
    ],
)
def test_restored_copy_keeps_every_offset(text: str, readable: str) -> None:
    """A capital longer than its letter ("ß" -> "SS") is not written, so offsets hold."""
    assert restore_case(text, known) == readable
