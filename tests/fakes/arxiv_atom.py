"""Render `PaperRecord`s as an arXiv API Atom feed, byte for byte in arXiv's shape.

Used by the fake arXiv server in tests and benchmarks (and handy for recording fixtures): the feed
carries the three namespaces arXiv declares (Atom, `arxiv:`, `opensearch:`), the paging header
(`totalResults`, `startIndex`, `itemsPerPage`), and per entry the versioned id
`http://arxiv.org/abs/<id>v<n>`, dates, title, summary, authors, comment, journal reference, DOI,
primary and other categories, and the abstract/PDF links.

Characters XML forbids (controls, lone surrogates) are left out, as arXiv's own feeds do. With
`raw=True` they are written the way a broken upstream would: as numeric character references
(`&#1;`, `&#xD800;`), and a lone surrogate from \udc80 to \udcff as the raw byte it stands for
(Python's surrogateescape), i.e. invalid UTF-8 on the wire; `encode_feed` makes the bytes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

from bot.paper_records import PaperRecord

# Characters XML 1.0 forbids (and lone surrogates, which UTF-8 cannot carry); real feeds never
# contain them, so neither may ours, unless a test asks for raw text.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_AS_REFERENCE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udc7f\udd00-\udfff]")

_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
    'xmlns:arxiv="http://arxiv.org/schemas/atom">\n'
)


def _reference(match: re.Match[str]) -> str:
    return f"&#x{ord(match.group()):X};"


def _text(value: str, raw: bool = False) -> str:
    if raw:
        return _AS_REFERENCE.sub(_reference, escape(value))
    return escape(_INVALID_XML.sub("", value))


def _attr(value: str, raw: bool = False) -> str:
    if raw:
        return _AS_REFERENCE.sub(_reference, quoteattr(value))
    return quoteattr(_INVALID_XML.sub("", value))


def encode_feed(feed: str) -> bytes:
    """The feed's bytes: UTF-8, with \udc80–\udcff (left by `raw=True`) as the raw bytes they stand for."""
    return feed.encode("utf-8", errors="surrogateescape")


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_entry(record: PaperRecord, raw: bool = False) -> str:
    versioned = record.versioned_id
    parts = [
        "  <entry>\n",
        f"    <id>http://arxiv.org/abs/{versioned}</id>\n",
        f"    <title>{_text(record.title, raw)}</title>\n",
        f"    <updated>{_stamp(record.updated_at)}</updated>\n",
        f'    <link href="https://arxiv.org/abs/{versioned}" rel="alternate" type="text/html"/>\n',
        f'    <link href="https://arxiv.org/pdf/{versioned}" rel="related" type="application/pdf" '
        'title="pdf"/>\n',
        f"    <summary>{_text(record.abstract, raw)}</summary>\n",
    ]
    parts += [
        f'    <category term={_attr(c, raw)} scheme="http://arxiv.org/schemas/atom"/>\n'
        for c in record.categories
    ]
    parts.append(f"    <published>{_stamp(record.submitted_at)}</published>\n")
    if record.comment:
        parts.append(f"    <arxiv:comment>{_text(record.comment, raw)}</arxiv:comment>\n")
    if record.journal_ref:
        parts.append(f"    <arxiv:journal_ref>{_text(record.journal_ref, raw)}</arxiv:journal_ref>\n")
    if record.doi:
        parts.append(f"    <arxiv:doi>{_text(record.doi, raw)}</arxiv:doi>\n")
        parts.append(
            f'    <link href={_attr("https://doi.org/" + record.doi, raw)} rel="related" title="doi"/>\n'
        )
    parts.append(
        f"    <arxiv:primary_category term={_attr(record.primary_category, raw)} "
        'scheme="http://arxiv.org/schemas/atom"/>\n'
    )
    parts += [
        f"    <author>\n      <name>{_text(name, raw)}</name>\n    </author>\n" for name in record.authors
    ]
    parts.append("  </entry>\n")
    return "".join(parts)


def render_feed(
    records: Sequence[PaperRecord],
    *,
    total: int,
    start: int,
    items_per_page: int,
    query: str = "",
    updated: dt.datetime | None = None,
    raw: bool = False,
) -> str:
    """A whole API response for one page of results (`raw`: see the module docstring)."""
    stamp = _stamp(updated or dt.datetime.now(dt.UTC))
    feed_id = "https://arxiv.org/api/" + quote(query or "query", safe="")[:40]
    head = (
        _HEAD + f"  <link href={_attr('https://arxiv.org/api/query?search_query=' + quote(query))} "
        'rel="self" type="application/atom+xml"/>\n'
        + f'  <title type="html">ArXiv Query: search_query={_text(query)}</title>\n'
        + f"  <id>{_text(feed_id)}</id>\n"
        + f"  <updated>{stamp}</updated>\n"
        + f"  <opensearch:totalResults>{total}</opensearch:totalResults>\n"
        + f"  <opensearch:startIndex>{start}</opensearch:startIndex>\n"
        + f"  <opensearch:itemsPerPage>{items_per_page}</opensearch:itemsPerPage>\n"
    )
    return head + "".join(render_entry(r, raw) for r in records) + "</feed>\n"
