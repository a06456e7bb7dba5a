"""Sample stories in every format mapapp reads, written for these tests (none copied)."""

from __future__ import annotations

import io
from datetime import datetime

FLOOD_TEXT = (
    "HOMS, Syria -- Heavy rain flooded the old quarter of Homs on Tuesday, and the road "
    "south to Damascus was closed for most of the day, the provincial office said.",
    "Crews from Hama pumped water out of cellars near the citadel while traders counted "
    "the losses of a second flood in a month.",
)
PORT_TEXT = (
    "LATAKIA, Syria -- Gales shut the port of Latakia on Monday and ships waited off "
    "Tartus for the wind to drop, harbour officials said.",
    "Fishermen in Jableh kept their boats ashore for a third day.",
)
BRIDGE_TEXT = (
    "MOSUL, Iraq -- Engineers reopened the old bridge over the Tigris in Mosul on "
    "Thursday, two years after it was closed for repairs.",
    "Traffic to Erbil moved faster within hours, drivers said.",
)
MARKET_TEXT = (
    "ALEPPO, Syria -- The covered market of Aleppo reopened a restored section on "
    "Sunday, with stalls selling soap and spices from Idlib.",
    "Shopkeepers said visitors came from as far as Raqqa.",
)


def html_paragraphs(paragraphs: tuple[str, ...]) -> str:
    """``<p>`` elements for ``paragraphs``."""
    return "".join(f"<p>{p}</p>" for p in paragraphs)


def article_page(headline: str, paragraphs: tuple[str, ...], *, author: str, day: str) -> str:
    """An article page wrapped in the boilerplate a news site adds (nav, ads, footer)."""
    return f"""<!DOCTYPE html><html><head><title>{headline} | The Valley Courier</title>
<meta name="author" content="{author}">
<meta property="article:published_time" content="{day}T08:30:00Z">
<script>window.tracker = "do not index me";</script><style>.ad {{ color: red }}</style>
</head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
<div class="ad">Subscribe today for unlimited access to every story!</div>
<article><h1>{headline}</h1><p class="byline">By {author}</p>{html_paragraphs(paragraphs)}
</article>
<footer>Copyright 2026 The Valley Courier. All rights reserved. Privacy policy.</footer>
</body></html>"""


def rss_feed(base: str, *, extra_item: str = "") -> str:
    """An RSS 2.0 feed: one entry with its full text, one with a teaser linking a page."""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Valley Courier: Region</title><link>{base}/</link>
<description>Regional news</description>
<item><title>Floods close the road to Damascus</title><link>{base}/stories/flood</link>
<guid isPermaLink="false">courier-2026-0902-flood</guid>
<pubDate>Wed, 02 Sep 2026 07:00:00 GMT</pubDate><dc:creator>Rana Haddad</dc:creator>
<description>Rain floods Homs.</description>
<content:encoded><![CDATA[{html_paragraphs(FLOOD_TEXT)}<script>alert("no")</script>]]>
</content:encoded></item>
<item><title>Gales shut Latakia port</title><link>{base}/stories/port</link>
<guid isPermaLink="false">courier-2026-0831-port</guid>
<pubDate>Mon, 31 Aug 2026 18:00:00 GMT</pubDate>
<description>Ships wait off the coast.</description></item>
{extra_item}
</channel></rss>"""


def rss_item(base: str, slug: str, title: str, paragraphs: tuple[str, ...]) -> str:
    """One more RSS item with its full text."""
    return f"""<item><title>{title}</title><link>{base}/stories/{slug}</link>
<guid isPermaLink="false">courier-{slug}</guid><pubDate>Thu, 03 Sep 2026 09:00:00 GMT</pubDate>
<content:encoded><![CDATA[{html_paragraphs(paragraphs)}]]></content:encoded></item>"""


def atom_feed(base: str) -> str:
    """An Atom 1.0 feed with one entry whose content is escaped HTML."""
    body = html_paragraphs(BRIDGE_TEXT).replace("<", "&lt;").replace(">", "&gt;")
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Tigris Wire</title>
<id>urn:tigris-wire:feed</id><updated>2026-09-03T12:00:00Z</updated>
<entry><id>urn:tigris-wire:2026:bridge</id><title>Mosul bridge reopens</title>
<link href="{base}/wire/bridge"/><updated>2026-09-03T11:00:00Z</updated>
<author><name>Omar Aziz</name></author><content type="html">{body}</content></entry>
</feed>"""


NINJS_1 = {
    "uri": "urn:example:ninjs:market-1",
    "version": "1",
    "type": "text",
    "versioncreated": "2026-09-06T10:15:00Z",
    "firstcreated": "2026-09-06T09:00:00Z",
    "headline": "Aleppo's covered market reopens a section",
    "byline": "Lina Saleh",
    "located": "Aleppo",
    "body_html": html_paragraphs(MARKET_TEXT) + "<script>steal()</script>",
}
NINJS_2 = {
    "uri": "urn:example:ninjs:bridge-2",
    "versioncreated": "2026-09-03T11:00:00+00:00",
    "headlines": [
        {"role": "short", "value": "Bridge reopens"},
        {"role": "main", "value": "Mosul's old bridge reopens after two years"},
    ],
    "by": "Omar Aziz",
    "places": [{"name": "Mosul"}],
    "bodies": [
        {"role": "main", "contenttype": "text/html", "value": html_paragraphs(BRIDGE_TEXT)},
        {"role": "main", "contenttype": "text/plain", "value": "\n\n".join(BRIDGE_TEXT)},
    ],
}

NEWSML_NITF = f"""<?xml version="1.0" encoding="UTF-8"?>
<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:newsml:example.org:20260831:port"
  version="3" standard="NewsML-G2" standardversion="2.29" conformance="power" xml:lang="en">
 <catalogRef href="http://www.iptc.org/std/catalog/catalog.IPTC-G2-Standards_38.xml"/>
 <itemMeta><itemClass qcode="ninat:text"/><provider literal="example.org"/>
  <versionCreated>2026-09-01T06:00:00Z</versionCreated></itemMeta>
 <contentMeta>
  <contentCreated>2026-08-31T17:45:00Z</contentCreated>
  <located qcode="geo:latakia"><name>Latakia</name></located>
  <creator><name>Samir Khoury</name></creator>
  <headline>Gales shut Latakia port for a third day</headline>
  <dateline>LATAKIA, Syria</dateline>
 </contentMeta>
 <contentSet><inlineXML contenttype="application/nitf+xml">
  <nitf xmlns="http://iptc.org/std/NITF/2006-10-18/"><body>
   <body.head><hedline><hl1>Gales shut Latakia port for a third day</hl1></hedline></body.head>
   <body.content>{html_paragraphs(PORT_TEXT)}</body.content>
   <body.end><tagline>Reporting desk: coast bureau</tagline></body.end>
  </body></nitf>
 </inlineXML></contentSet>
</newsItem>"""

NEWSML_MESSAGE = f"""<?xml version="1.0" encoding="UTF-8"?>
<newsMessage xmlns="http://iptc.org/std/nar/2006-10-01/"><header><sent>2026-09-06T12:00:00Z</sent>
 </header><itemSet>
 <newsItem guid="urn:newsml:example.org:20260906:market" version="1" standard="NewsML-G2"
   standardversion="2.29">
  <itemMeta><itemClass qcode="ninat:text"/><versionCreated>2026-09-06T11:00:00Z</versionCreated>
  </itemMeta>
  <contentMeta><headline>Market section reopens in Aleppo</headline>
   <located><name>Aleppo</name></located><by>Lina Saleh</by></contentMeta>
  <contentSet><inlineXML contenttype="application/xhtml+xml">
   <html xmlns="http://www.w3.org/1999/xhtml"><head><title>x</title></head>
   <body>{html_paragraphs(MARKET_TEXT)}</body></html>
  </inlineXML></contentSet>
 </newsItem>
 <newsItem guid="urn:newsml:example.org:20260906:empty" version="1" standard="NewsML-G2"
   standardversion="2.29"><contentMeta><headline>No body</headline></contentMeta></newsItem>
 </itemSet></newsMessage>"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE newsItem [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:lol"><contentSet>
<inlineData>&lol4;</inlineData></contentSet></newsItem>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE newsItem [ <!ENTITY secret SYSTEM "file:///etc/passwd"> ]>
<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:xxe"><contentSet>
<inlineData>&secret;</inlineData></contentSet></newsItem>"""

HOSTILE_FEED = """<?xml version="1.0"?>
<!DOCTYPE rss [ <!ENTITY secret SYSTEM "file:///etc/passwd"> ]>
<rss version="2.0"><channel><title>t</title><item><title>x</title><guid>g</guid>
<description>&secret;</description></item></channel></rss>"""


def docx_bytes(*, title_style: bool = True) -> bytes:
    """A small Word document: a Title paragraph (or a plain first one), then the body."""
    import docx

    document = docx.Document()
    document.add_paragraph(
        "Floods close the road to Damascus", style="Title" if title_style else None
    )
    for paragraph in FLOOD_TEXT:
        document.add_paragraph(paragraph)
    document.core_properties.created = datetime(2026, 9, 2, 7, 30)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pdf_bytes(*, text: bool = True) -> bytes:
    """A one-page PDF drawn by matplotlib: the headline and body as text, or a picture only."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8.5, 11))
    if text:
        figure.text(0.08, 0.92, "Mosul bridge reopens", fontsize=16)
        # hard-wrapped as a page is, with a word hyphenated at a line end
        first = BRIDGE_TEXT[0].replace(" in Mosul", "\nin Mosul").replace("closed", "clo-\nsed")
        figure.text(0.08, 0.8, first, fontsize=9)
        figure.text(0.08, 0.7, BRIDGE_TEXT[1], fontsize=9)
    else:
        axes = figure.add_axes((0.1, 0.1, 0.8, 0.8))
        axes.axis("off")  # no tick labels: a picture of a page, as a scan is
        axes.imshow([[0, 1], [1, 0]])
    out = io.BytesIO()
    figure.savefig(out, format="pdf", metadata={"CreationDate": datetime(2026, 9, 3, 12, 0)})
    return out.getvalue()
