"""Read news stories from files into :class:`~mapapp.records.Article` records.

Three formats are accepted:

* ``.txt``: one story in the plain newspaper layout: a headline line, an
  optional deck, a dateline paragraph that opens with an ALL-CAPS place and a
  dash (``BEIRUT -- ...``), the body, and a footer such as
  ``A Section on 11/20/2017`` that gives the date and ends the story.
* ``.jsonl``: one JSON object per line.
* ``.csv``: a header row, then one story per row.

Feed records name their fields ``text``/``body``, ``headline``/``title``,
``date``/``published`` and ``url``.  Their text is kept verbatim, so offsets
that come with a feed stay valid.  Every article's id is a hash of its
content, so ingesting the same story twice gives the same record.
"""

from __future__ import annotations

import csv
import email.utils
import hashlib
import io
import json
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path

from mapapp.errors import ArticleParseError
from mapapp.records import Article
from mapapp.text import strip_bidi

SUFFIXES = (".txt", ".jsonl", ".csv")

_DATE_FORMATS = "YYYY-MM-DD, MM/DD/YYYY, 'November 20, 2017' or an RFC 2822 date"
_DECK_MAX_CHARS = 300  # a paragraph longer than this before the dateline is body
_MAX_DECK_PARAGRAPHS = 2
_HEADLINE_MAX_CHARS = 120  # for feed records that have text but no headline
# The longest story accepted.  Real ones run to tens of thousands of characters; a
# bigger "story" is a mis-export (a whole feed in one field), and geoparsing time grows
# faster than its length, so it is refused with a message instead of stalling a batch.
MAX_ARTICLE_CHARS = 500_000

# ``PLACE[, Region] [(Agency)] -- `` at the very start of a paragraph.  The
# place must be ALL CAPS; that is checked in _find_dateline, because ``re``
# has no class for upper-case letters beyond ASCII ("SÃO PAULO").
_DATELINE = re.compile(
    r"\s*(?P<place>[^\W\d_][^\n,()]{1,40}?)"
    r"(?:,\s*(?P<region>[^\W\d_][^\n()]{0,30}?))?"
    r"\s*(?:\([A-Z][\w&.'-]*(?:\s[A-Z][\w&.'-]*){0,3}\)\s*)?"  # (AP), (Reuters)
    r"(?:--|[\u2014\u2013\ufffd]|\s-(?=\s)|(?<=\))\s)"  # 'PLACE (AP) The' needs no dash
)
_NAME_CHARS = re.compile(r"[^\W\d_]+(?:[ ,.'\u2019-]+[^\W\d_]+)*\.?")
_ABBREVIATION = re.compile(r"(?:[^\W\d_]\.)+")  # D.C., U.S.
_SMALL_WORDS = frozenset(
    "al an au aux da das de del den der des di do dos du el en es la las le "
    "les los of on sur the upon van von y".split()
)

_FOOTER = re.compile(r"(?:[A-Z][\w&'\u2019. -]{0,40}?\s+)?[Ss]ection,?\s+on\s+(?P<date>\S.{0,40})")
_DATE_LINE = re.compile(
    r"(?:(?:published|updated|posted|filed|dated|date)\b:?\s*(?:on\s+)?)?(?P<date>.{6,40})",
    re.I,
)
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


def content_id(headline: str, text: str) -> str:
    """Return the story's stable id (a content hash), so re-ingesting is idempotent."""
    digest = hashlib.sha256(f"{headline}\n{text}".encode())
    return digest.hexdigest()[:16]


def parse_text(raw: str, *, source: str = "") -> Article:
    """Parse one plain-text story (headline, deck, dateline, body, footer) into an Article."""
    label = source or "<text>"
    lines = _normalise(raw).split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        raise ArticleParseError(f"{label}: empty story (expected a headline line, then the story)")
    headline = lines[0].strip()
    body_lines, published = _cut_footer(lines[1:])
    paragraphs, line_date = _clean_paragraphs(_paragraphs(body_lines))
    deck, dateline, body = _split_deck(paragraphs)
    if not body:
        raise ArticleParseError(
            f"{label}: no body text (expected paragraphs after the headline, "
            "starting with a 'CITY -- ' dateline)"
        )
    text = "\n\n".join(body)
    _check_length(text, label)
    return Article(
        article_id=content_id(headline, text),
        headline=headline,
        text=text,
        published=published or line_date,
        dateline=dateline,
        deck=deck,
        url=None,
        source=source,
    )


def parse_file(path: Path) -> list[Article]:
    """Read every story in a .txt, .jsonl or .csv file; raise on the first bad one."""
    articles = []
    for item in _read_file(Path(path)):
        if isinstance(item, ArticleParseError):
            raise item
        articles.append(item)
    return articles


def iter_articles(paths: Iterable[Path]) -> Iterator[Article | ArticleParseError]:
    """Yield the stories in files and folders, and an error per bad file or record.

    Errors are yielded, not raised, so one bad input does not stop a batch.
    """
    for path in _expand(paths):
        if isinstance(path, ArticleParseError):
            yield path
        else:
            yield from _read_file(path)


# --- files -----------------------------------------------------------------


def _expand(paths: Iterable[Path]) -> Iterator[Path | ArticleParseError]:
    """Replace each folder by its story files (sorted, recursive); keep files.

    What a folder holds but mapapp cannot read (a sub-folder it may not list,
    a file of another type, a FIFO) comes out as an error, so it is reported
    rather than skipped without a word; hidden files and READMEs are not stories.
    """
    for path in map(Path, paths):
        if path.is_dir():
            yield from _folder(path)
        else:
            yield path


def _folder(root: Path) -> Iterator[Path | ArticleParseError]:
    """The story files under ``root`` in name order, then an error for each thing skipped."""
    found: list[Path] = []
    skipped: list[ArticleParseError] = []

    def unreadable(err: OSError) -> None:
        skipped.append(
            ArticleParseError(
                f"{err.filename}: cannot read this folder ({err.strerror or err}); skipped"
            )
        )

    for folder, subfolders, files in os.walk(root, onerror=unreadable):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in files:
            path = Path(folder) / name
            if name.startswith(".") or name.upper().startswith("README"):
                continue
            if path.suffix.lower() not in SUFFIXES:
                skipped.append(
                    ArticleParseError(
                        f"{path}: unknown format '{path.suffix or name}' (expected one of "
                        f"{', '.join(SUFFIXES)}); skipped"
                    )
                )
            else:
                found.append(path)
    if not found and not skipped:
        skipped.append(
            ArticleParseError(
                f"{root}: no story files in this folder (expected {', '.join(SUFFIXES)} files)"
            )
        )
    yield from sorted(found)
    yield from sorted(skipped, key=str)


def _read_file(path: Path) -> Iterator[Article | ArticleParseError]:
    """Yield the articles of one file, or errors for it or its bad records."""
    reader = _READERS.get(path.suffix.lower())
    kind = _file_kind(path)
    if kind is not None:
        yield ArticleParseError(f"{path}: {kind}")
    elif reader is None:
        yield ArticleParseError(
            f"{path}: unknown format '{path.suffix}' (expected one of {', '.join(SUFFIXES)})"
        )
    else:
        try:
            text = _read_text(path)
        except ArticleParseError as err:
            yield err
            return
        yield from reader(text, path)


def _file_kind(path: Path) -> str | None:
    """Why ``path`` cannot be read as a story file (missing, a FIFO...), or None if it can.

    Checked with ``stat`` before opening: opening a FIFO would wait for a writer forever.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "no such file or folder"
    except OSError as err:
        return f"cannot read ({err.strerror or err}); skipped"
    if stat.S_ISREG(mode):
        return None
    what = (
        "a FIFO"
        if stat.S_ISFIFO(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "not a file"
    )
    return f"{what}, not a regular file; skipped"


def _read_text(path: Path) -> str:
    """Return a file's text, or raise ArticleParseError if it is not UTF-8 text."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ArticleParseError(f"{path}: cannot read ({err.strerror or err})") from err
    if b"\x00" in data:
        raise ArticleParseError(f"{path}: binary data, not text (expected a UTF-8 text file)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ArticleParseError(
            f"{path} line {line}: not valid UTF-8 (byte {err.start}); save the file as UTF-8"
        ) from err
    if not text.strip():
        raise ArticleParseError(f"{path}: empty file (expected at least one story)")
    return text


def _read_txt(text: str, path: Path) -> Iterator[Article | ArticleParseError]:
    """Yield the one story of a plain-text file, or its error."""
    try:
        yield parse_text(text, source=str(path))
    except ArticleParseError as err:
        yield err


def _read_jsonl(text: str, path: Path) -> Iterator[Article | ArticleParseError]:
    """Yield one article or error per non-blank line of a JSON Lines file."""
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path} line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            yield _error(f"{where}: not valid JSON ({err.msg}; expected one object per line)", err)
            continue
        except RecursionError as err:
            yield _error(
                f"{where}: not valid JSON (nested too deeply; expected one object per line)", err
            )
            continue
        if not isinstance(record, dict):
            yield ArticleParseError(f"{where}: expected a JSON object, got {type(record).__name__}")
            continue
        yield _try_record(record, where=where, source=f"{path}:{number}")


def _read_csv(text: str, path: Path) -> Iterator[Article | ArticleParseError]:
    """Yield one article or error per row of a CSV file with a header row."""
    # A cell may hold a whole story, past the stdlib's 128 KiB cap: a story too long
    # is then refused by its own row, and the rows after it still land.
    csv.field_size_limit(2**31 - 1)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    try:
        header = [name.strip().lower() for name in next(reader)]
        if not {"text", "body"} & set(header):
            yield ArticleParseError(
                f"{path}: no 'text' or 'body' column (header row has: {_shown(', '.join(header))})"
            )
            return
        start, rows = reader.line_num + 1, 0
        for row in reader:
            if any(cell.strip() for cell in row):
                rows += 1
                record = dict(zip(header, row, strict=False))
                where = f"{path} line {start}"
                yield _try_record(record, where=where, source=f"{path}:{start}")
            start = reader.line_num + 1
        if not rows:
            yield ArticleParseError(f"{path}: a header row but no stories under it")
    except csv.Error as err:
        # strict parsing stops at a stray or unclosed quote instead of letting one field
        # swallow every row after it; the record that failed began at ``start``
        yield _error(
            f"{path} line {start}: unreadable CSV ({err}); check the quotes of the "
            f"field that starts on line {start} (no row from there on was read)",
            err,
        )


_READERS: dict[str, Callable[[str, Path], Iterator[Article | ArticleParseError]]] = {
    ".txt": _read_txt,
    ".jsonl": _read_jsonl,
    ".csv": _read_csv,
}


# --- feed records ----------------------------------------------------------


def _try_record(record: dict, *, where: str, source: str) -> Article | ArticleParseError:
    """Return the record's article, or the error that explains why there is none."""
    try:
        return _article_from_record(record, where=where, source=source)
    except ArticleParseError as err:
        return err


def _article_from_record(record: dict, *, where: str, source: str) -> Article:
    """Build an article from a JSONL object or CSV row, keeping its text verbatim."""
    fields = {str(key).strip().lower(): value for key, value in record.items()}
    text = _field(fields, ("text", "body"), where)
    if text is None:
        raise ArticleParseError(f"{where}: no 'text' or 'body' field (expected the story's text)")
    if not text.strip():
        raise ArticleParseError(f"{where}: the story's text is empty")
    _check_length(text, where)
    headline = (_field(fields, ("headline", "title"), where) or "").strip()
    raw_date = (_field(fields, ("date", "published"), where) or "").strip()
    published = _parse_date(raw_date) if raw_date else None
    if raw_date and published is None:
        raise ArticleParseError(
            f"{where}: date '{_shown(raw_date)}' not recognised (expected {_DATE_FORMATS})"
        )
    headline = headline or _headline_from(text)
    return Article(
        article_id=content_id(headline, text),
        headline=headline,
        text=text,
        published=published,
        dateline=_find_dateline(text),
        deck=(_field(fields, ("deck",), where) or "").strip() or None,
        url=(_field(fields, ("url",), where) or "").strip() or None,
        source=source,
    )


def _field(fields: dict, names: tuple[str, ...], where: str) -> str | None:
    """Return the first present field among ``names``; it must be a string."""
    for name in names:
        value = fields.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ArticleParseError(
                f"{where}: '{name}' should be a string, not {type(value).__name__}"
            )
        return _plain_text(value)
    return None


def _plain_text(value: str) -> str:
    """A JSON string as text every store can hold: NUL characters (``\\u0000``) dropped,
    halves of surrogate pairs that lost their other half (``\\ud800``) shown as U+FFFD,
    bidi controls dropped."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    return strip_bidi(_LONE_SURROGATE.sub("\ufffd", value))


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _shown(value: str, limit: int = 60) -> str:
    """Input text quoted in a one-line message: whitespace runs as one space, cut short."""
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[:limit] + "..."


def _check_length(text: str, where: str) -> None:
    """Refuse a story longer than MAX_ARTICLE_CHARS, saying how long it is."""
    if len(text) > MAX_ARTICLE_CHARS:
        raise ArticleParseError(
            f"{where}: the story is {len(text):,} characters long; mapapp takes at most "
            f"{MAX_ARTICLE_CHARS:,} (is it several stories in one? split them)"
        )


def _headline_from(text: str) -> str:
    """Stand in for a missing headline with the start of the text's first line."""
    first = text.strip().split("\n", 1)[0].strip()
    if len(first) <= _HEADLINE_MAX_CHARS:
        return first
    return first[:_HEADLINE_MAX_CHARS].rsplit(" ", 1)[0] + "\u2026"


# --- plain-text layout -----------------------------------------------------


def _normalise(raw: str) -> str:
    """Drop a byte-order mark and bidi controls; turn CRLF/CR line ends into LF."""
    return strip_bidi(raw.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n"))


def _cut_footer(lines: list[str]) -> tuple[list[str], date | None]:
    """Cut the lines at an 'A Section on MM/DD/YYYY' footer; return its date."""
    for index, line in enumerate(lines):
        match = _FOOTER.fullmatch(line.strip())
        published = _parse_date(match["date"]) if match else None
        if published is not None:
            return lines[:index], published
    return lines, None


def _paragraphs(lines: list[str]) -> list[str]:
    """Group lines into paragraphs at blank lines, unwrapping hard-wrapped lines.

    A story with no blank line at all is taken to have one paragraph per line.
    """
    stripped = [line.strip() for line in lines]
    while stripped and not stripped[-1]:
        stripped.pop()
    while stripped and not stripped[0]:
        stripped.pop(0)
    if "" not in stripped:
        return stripped
    paragraphs: list[str] = []
    current: list[str] = []
    for line in stripped + [""]:
        if line:
            current.append(line)
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    return paragraphs


def _clean_paragraphs(paragraphs: list[str]) -> tuple[list[str], date | None]:
    """Drop bracketed editorial notes and date lines; return the first such date."""
    kept: list[str] = []
    found: date | None = None
    for paragraph in paragraphs:
        if paragraph.startswith("[") and paragraph.endswith("]"):
            continue
        line_date = _date_line(paragraph)
        if line_date is not None:
            found = found or line_date
            continue
        kept.append(paragraph)
    return kept, found


def _date_line(paragraph: str) -> date | None:
    """Return the date of a line like 'Published 2017-11-20', else None."""
    match = _DATE_LINE.fullmatch(paragraph)
    return _parse_date(match["date"]) if match else None


def _split_deck(paragraphs: list[str]) -> tuple[str | None, str | None, list[str]]:
    """Split paragraphs into (deck, dateline place, body) around the dateline paragraph."""
    for index, paragraph in enumerate(paragraphs[: _MAX_DECK_PARAGRAPHS + 1]):
        place = _find_dateline(paragraph)
        if place:
            deck = " ".join(paragraphs[:index]) or None
            return deck, place, paragraphs[index:]
        if len(paragraph) > _DECK_MAX_CHARS:
            break
    return None, None, paragraphs


def _find_dateline(text: str) -> str | None:
    """Return the dateline place ('BEIRUT -- ...' -> 'Beirut') opening ``text``, if any."""
    match = _DATELINE.match(text)
    if not match:
        return None
    place, region = match["place"].strip(), (match["region"] or "").strip()
    if not (place.isupper() and _NAME_CHARS.fullmatch(place)):
        return None
    if region and not (region[0].isupper() and _NAME_CHARS.fullmatch(region)):
        return None
    name = _title_case(place)
    if region:
        keep = not region.isupper() or (len(region) == 2 and region.isalpha())
        name += ", " + (region if keep else _title_case(region))
    return name


def _title_case(name: str) -> str:
    """Title-case an ALL-CAPS place name: 'PORT-AU-PRINCE' -> 'Port-au-Prince'."""
    words = []
    for w, word in enumerate(name.split()):
        pieces = [_title_piece(p, first=w == 0 and i == 0) for i, p in enumerate(word.split("-"))]
        words.append("-".join(pieces))
    return " ".join(words)


def _title_piece(piece: str, *, first: bool) -> str:
    """Title-case one word: abbreviations stay upper, particles go lower."""
    if _ABBREVIATION.fullmatch(piece):
        return piece.upper()
    low = piece.lower()
    if not first and low.rstrip(",") in _SMALL_WORDS:
        return low
    if len(low) > 3 and low.startswith("mc"):
        return "Mc" + low[2:].capitalize()
    match = re.fullmatch(r"([^\W\d_])(['\u2019])(.+)", low)
    if match:  # N'DJAMENA -> N'Djamena, COTE D'IVOIRE -> Cote d'Ivoire
        head = match[1] if not first and match[1] in "dl" else match[1].upper()
        return head + match[2] + match[3].capitalize()
    return low.capitalize()


# --- dates -----------------------------------------------------------------


def _parse_date(value: str) -> date | None:
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


def _error(message: str, cause: BaseException) -> ArticleParseError:
    """Make an ArticleParseError that records the exception behind it."""
    error = ArticleParseError(message)
    error.__cause__ = cause
    return error
