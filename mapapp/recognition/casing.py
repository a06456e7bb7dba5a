"""Case restoration for text written without capitals (or all in capitals).

spaCy's small model and the gazetteer scan both read capital letters; an archive
in lower case ("police fired on protesters in karachi") or a headline in capitals
would go unread.  A sentence whose letters carry no case information gets a
readable copy of the same length: capitals where a sentence starts and on words
that name a notable place (or a weekday), lower case elsewhere.  Offsets into the
copy are offsets into the original, so the original text is what is kept and
shown; only recognition and the parse read the copy.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

LOWER_SHARE = 0.05  # at most this share of words capitalised: the sentence is in lower case
UPPER_SHARE = 0.8  # at least this share of words in capitals: the sentence is in capitals
MIN_WORDS = 4  # fewer words than this say nothing about the writer's casing
LONGEST_NAME = 4  # words in the longest place name tried
INNER_WORDS = frozenset("of de du des del della la le al el the and da do dos das on upon".split())
WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())

_CHUNK = re.compile(r"(?:[^\n.!?]|[.!?](?=\S))+[.!?]*")  # a line's sentences, roughly
_FULL_STOP = re.compile(r"(?<![^\W\d_])[a-z]{3,}\.\W*$")  # "... in karachi." ends a sentence
_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")

Known = Callable[[str], bool]  # does this lower-case phrase name a notable place?


def restore_case(text: str, known: Known) -> str:
    """``text`` with case restored in its caseless sentences; the same text when it has case."""
    if not text:
        return text
    out = list(text)
    changed = False
    for chunk in _sentences(text):
        mode = casing_of(chunk.group())
        if mode is None:
            continue
        changed = True
        if mode == "upper":
            for i in range(chunk.start(), chunk.end()):
                out[i] = _same_length(out[i], out[i].lower())
        _capitalise(out, chunk.start(), chunk.end(), known)
    return "".join(out) if changed else text


def _sentences(text: str) -> Iterator[re.Match[str]]:
    """The chunks of ``text`` that open a sentence: a line's start, or after "?", "!" or a
    lower-case word's full stop (never after "U.S." or "Jan.", where cased text goes on
    in lower case)."""
    previous = None
    for chunk in _CHUNK.finditer(text):
        if previous is None or text.find("\n", previous.end(), chunk.start() + 1) >= 0:
            yield chunk
        elif previous.group().rstrip().endswith(("?", "!")) or _FULL_STOP.search(previous.group()):
            yield chunk
        previous = chunk


def casing_of(sentence: str) -> str | None:
    """``"lower"`` or ``"upper"`` for a sentence whose case says nothing; else None."""
    words = [w for w in _WORD.findall(sentence) if len(w) > 1]
    if len(words) < MIN_WORDS:
        return None
    if sum(w.isupper() for w in words) >= UPPER_SHARE * len(words):
        return "upper"
    if words[0][0].islower() and sum(w[0].isupper() for w in words) <= LOWER_SHARE * len(words):
        return "lower"  # a sentence that opens with a capital has case, whatever it names
    return None


def _capitalise(out: list[str], start: int, end: int, known: Known) -> None:
    """Capitals on the chunk's first word, "I", weekdays and the place names ``known`` takes."""
    text = "".join(out[start:end])
    words = [(m.start() + start, m.end() + start) for m in _WORD.finditer(text)]
    if words and not any(ch.isalnum() for ch in out[start : words[0][0]]):
        _upper_first(out, words[0][0])  # the sentence's first word, not "of" in "6% of all"
    i = 0
    while i < len(words):
        for n in range(min(LONGEST_NAME, len(words) - i), 0, -1):
            span = words[i : i + n]
            phrase = "".join(out[span[0][0] : span[-1][1]]).lower()
            if n > 1 and _inner(out, span[0]) or _inner(out, span[-1]):
                continue  # "the gulf" is no name: a name neither opens nor ends on "the", "of"
            if n == 1 and (phrase == "i" or phrase in WEEKDAYS) or known(phrase):
                for k, (s, e) in enumerate(span):
                    word = "".join(out[s:e]).lower()
                    if k == 0 or word not in INNER_WORDS:
                        _upper_first(out, s)
                i += n
                break
        else:
            i += 1


def _inner(out: list[str], word: tuple[int, int]) -> bool:
    """Is this word one that only joins the words of a name ("of", "the")?"""
    return "".join(out[word[0] : word[1]]).lower() in INNER_WORDS


def _upper_first(out: list[str], at: int) -> None:
    out[at] = _same_length(out[at], out[at].upper())


def _same_length(old: str, new: str) -> str:
    """``new`` if it is one code point (so offsets hold: "ß".upper() is "SS"), else ``old``."""
    return new if len(new) == 1 else old
