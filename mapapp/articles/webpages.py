"""Article web pages: main text, headline, date and byline by trafilatura, boilerplate left out.

The page is fetched by the ingest layer; this module only reads HTML it is given.
"""

from __future__ import annotations

from mapapp.articles.sourced import build, date_of
from mapapp.errors import ArticleParseError
from mapapp.records import Article

MIN_TEXT_CHARS = 40  # less than this is a menu, a paywall notice or an error page


def parse_page(
    html: str | bytes, *, url: str, identifier: str | None = None, by_content: bool = False
) -> Article:
    """The story of one article page at ``url`` (its id from ``identifier``, else the URL;
    with ``by_content``, a hash of its text, as for a page saved as a file).

    :raise ArticleParseError: no article text was found on the page.
    """
    import trafilatura

    try:
        found = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            include_images=False,
            include_links=False,
        )
    except (ValueError, TypeError) as err:  # pragma: no cover - trafilatura guards most input
        raise ArticleParseError(f"{url}: not a readable web page ({err})") from err
    fields = found.as_dict() if found is not None and hasattr(found, "as_dict") else found or {}
    text = fields.get("text") or ""
    headline = (fields.get("title") or "").strip()
    paragraphs = [line.strip() for line in text.split("\n") if line.strip()]
    if paragraphs and headline and paragraphs[0] == headline:
        paragraphs.pop(0)  # trafilatura repeats the <h1> as the text's first line
    body = "\n\n".join(paragraphs)
    if len(body) < MIN_TEXT_CHARS:
        raise ArticleParseError(
            f"{url}: no article text found on this page (is it an index page, or a page "
            "that needs JavaScript?); skipped"
        )
    return build(
        where=url,
        identifier=None if by_content else identifier or url,
        headline=headline,
        text=body,
        published=date_of(fields.get("date")),
        byline=fields.get("author"),
        url=None if by_content else url,
    )
