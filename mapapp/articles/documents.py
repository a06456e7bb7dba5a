"""Word (.docx, by python-docx) and PDF (text layer, by pypdf) stories.

A .docx's headline is its first ``Title``-style paragraph, else its first paragraph; the
rest is the body, and the date is the document's ``created`` core property.  A PDF's
headline is its ``/Title`` metadata, else its first line; a PDF with no text layer (a
scan) is skipped with a message saying so.  Both have a content id, as .txt stories do.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from datetime import datetime

from mapapp.articles.sourced import build, date_of
from mapapp.errors import ArticleParseError
from mapapp.records import Article

MAX_UNPACKED_BYTES = 200 * 1024 * 1024  # a .docx that unpacks past this is a zip bomb


def docx_articles(data: bytes, *, where: str) -> Iterator[Article | ArticleParseError]:
    """The one story of a .docx file, or the error saying why it cannot be read."""
    try:
        yield docx_article(data, where=where)
    except ArticleParseError as err:
        yield err


def docx_article(data: bytes, *, where: str) -> Article:
    """A .docx document as an Article.

    :raise ArticleParseError: not a Word document, too big unpacked, or no text.
    """
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    _check_zip(data, where)
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as err:
        raise ArticleParseError(f"{where}: not a Word .docx document ({err})") from err
    paragraphs = [
        (p.style.name if p.style is not None else "", p.text.strip()) for p in document.paragraphs
    ]
    paragraphs = [(style, text) for style, text in paragraphs if text]
    if not paragraphs:
        raise ArticleParseError(f"{where}: the document has no text")
    title = next((i for i, (style, _) in enumerate(paragraphs) if style == "Title"), 0)
    headline = paragraphs[title][1]
    body = [text for i, (_, text) in enumerate(paragraphs) if i != title]
    if not body:
        raise ArticleParseError(f"{where}: only a headline, no body text")
    created = document.core_properties.created
    return build(
        where=where,
        identifier=None,
        headline=headline,
        text="\n\n".join(body),
        published=created.date() if isinstance(created, datetime) else None,
    )


def _check_zip(data: bytes, where: str) -> None:
    """Refuse a zip that is not one, or that would unpack past MAX_UNPACKED_BYTES."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as err:
        raise ArticleParseError(f"{where}: not a Word .docx document (not a zip file)") from err
    if unpacked > MAX_UNPACKED_BYTES:
        raise ArticleParseError(
            f"{where}: unpacks to {unpacked:,} bytes (at most {MAX_UNPACKED_BYTES:,}); skipped"
        )


def pdf_articles(data: bytes, *, where: str) -> Iterator[Article | ArticleParseError]:
    """The one story of a PDF file, or the error saying why it cannot be read."""
    try:
        yield pdf_article(data, where=where)
    except ArticleParseError as err:
        yield err


def pdf_article(data: bytes, *, where: str) -> Article:
    """A PDF's text layer as an Article.

    :raise ArticleParseError: not a PDF, encrypted, or no text layer.
    """
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ArticleParseError(f"{where}: the PDF is encrypted; skipped")
        pages = [page.extract_text() or "" for page in reader.pages]
        metadata = reader.metadata
    except ArticleParseError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as err:
        raise ArticleParseError(f"{where}: not a readable PDF ({err})") from err
    text = "\n\n".join(pages).replace("\r\n", "\n").strip()
    if not text:
        raise ArticleParseError(
            f"{where}: no text layer in this PDF (a scanned image? run it through OCR "
            "first); skipped"
        )
    title = " ".join(((metadata.title if metadata is not None else None) or "").split())
    first, _, rest = text.partition("\n")
    if not title or " ".join(first.split()) == title:  # the first line is the headline
        title, text = title or first.strip(), rest
    paragraphs = pdf_paragraphs(text)
    created = _pdf_date(metadata)
    return build(
        where=where,
        identifier=None,
        headline=title,
        text="\n\n".join(paragraphs),
        published=created,
    )


_SENTENCE_END = re.compile(r"[.!?:\"\u201d\u2019)]\s*$")
_HYPHENATED = re.compile(r"[^\W\d_]-$")


def pdf_paragraphs(text: str) -> list[str]:
    """A PDF's text layer as paragraphs: hard-wrapped lines joined (a word split by a
    hyphen at a line end mended), a paragraph ending at a blank line or, where the layer
    has none, at a line that ends a sentence."""
    paragraphs: list[str] = []
    current = ""
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.strip()
        if not line:
            if current:
                paragraphs.append(current)
            current = ""
            continue
        if not current:
            current = line
        elif _HYPHENATED.search(current) and line[:1].islower():
            current = current[:-1] + line
        else:
            current = f"{current} {line}"
        if _SENTENCE_END.search(line):
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return paragraphs


def _pdf_date(metadata: object) -> object:
    """The PDF's creation date, if its metadata has one that reads."""
    if metadata is None:
        return None
    try:
        created = metadata.creation_date  # type: ignore[attr-defined]
    except (ValueError, TypeError):
        created = None
    if isinstance(created, datetime):
        return created.date()
    return date_of(getattr(metadata, "get", lambda k: None)("/CreationDate"))
