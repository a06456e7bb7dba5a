"""Reading story files: folders expanded, files checked and decoded, feeds split into records."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mapapp.errors import ArticleParseError


@dataclass(frozen=True)
class FeedRecord:
    """One JSON Lines object or CSV row, with where it was read (for messages) and its source."""

    fields: dict
    where: str
    source: str


def expand(paths: Iterable[Path], suffixes: tuple[str, ...]) -> Iterator[Path | ArticleParseError]:
    """Replace each folder by its story files (sorted, recursive); keep files.

    What a folder holds but mapapp cannot read (a sub-folder it may not list,
    a file of another type, a FIFO) comes out as an error, so it is reported
    rather than skipped without a word; hidden files and READMEs are not stories.
    """
    for path in map(Path, paths):
        if path.is_dir():
            yield from _folder(path, suffixes)
        else:
            yield path


def _folder(root: Path, suffixes: tuple[str, ...]) -> Iterator[Path | ArticleParseError]:
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
            if path.suffix.lower() not in suffixes:
                skipped.append(
                    ArticleParseError(
                        f"{path}: unknown format '{path.suffix or name}' (expected one of "
                        f"{', '.join(suffixes)}); skipped"
                    )
                )
            else:
                found.append(path)
    if not found and not skipped:
        skipped.append(
            ArticleParseError(
                f"{root}: no story files in this folder (expected {', '.join(suffixes)} files)"
            )
        )
    yield from sorted(found)
    yield from sorted(skipped, key=str)


def file_kind(path: Path) -> str | None:
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


def read_text(path: Path) -> str:
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


def read_jsonl(text: str, path: Path) -> Iterator[FeedRecord | ArticleParseError]:
    """Yield one record or error per non-blank line of a JSON Lines file."""
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
        yield FeedRecord(record, where, f"{path}:{number}")


def read_csv(text: str, path: Path) -> Iterator[FeedRecord | ArticleParseError]:
    """Yield one record or error per row of a CSV file with a header row."""
    # A cell may hold a whole story, past the stdlib's 128 KiB cap: a story too long
    # is then refused by its own row, and the rows after it still land.
    csv.field_size_limit(2**31 - 1)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    try:
        header = [name.strip().lower() for name in next(reader)]
        if not {"text", "body"} & set(header):
            yield ArticleParseError(
                f"{path}: no 'text' or 'body' column (header row has: {shown(', '.join(header))})"
            )
            return
        start, rows = reader.line_num + 1, 0
        for row in reader:
            if any(cell.strip() for cell in row):
                rows += 1
                record = dict(zip(header, row, strict=False))
                where = f"{path} line {start}"
                yield FeedRecord(record, where, f"{path}:{start}")
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


def shown(value: str, limit: int = 60) -> str:
    """Input text quoted in a one-line message: whitespace runs as one space, cut short."""
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[:limit] + "..."


def _error(message: str, cause: BaseException) -> ArticleParseError:
    """Make an ArticleParseError that records the exception behind it."""
    error = ArticleParseError(message)
    error.__cause__ = cause
    return error
