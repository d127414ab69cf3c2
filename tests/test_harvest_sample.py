"""The bundled sample: shipped inside the package, varied, and faithful to the pool format."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from importlib import resources

from lxml import etree

from bot.sample import SAMPLE_FILE, load_sample, sample_rows
from bot.sample.atom import render_feed

POOL_FIELDS = {"id", "title", "abstract", "authors", "categories", "primary", "date"}


def test_sample_is_small_package_data() -> None:
    data = resources.files("bot.sample").joinpath(SAMPLE_FILE)
    assert data.is_file()
    assert len(data.read_bytes()) < 300_000


def test_sample_is_varied_and_complete() -> None:
    rows = sample_rows()
    assert 250 <= len(rows) <= 350
    assert all(row.keys() >= POOL_FIELDS for row in rows)
    assert len({row["id"] for row in rows}) == len(rows)
    primaries = Counter(row["primary"] for row in rows)
    assert len(primaries) >= 10
    assert max(primaries.values()) < len(rows) / 3
    assert len({row["date"] for row in rows}) >= 15


def test_sample_records_follow_the_loader_rules() -> None:
    records = load_sample()
    assert all(r.version == 1 for r in records)
    assert all(r.submitted_at.time() == dt.time(12, 0) and r.submitted_at.tzinfo == dt.UTC for r in records)
    assert all(r.submitted_at.strftime("%Y-%m") == "2025-05" for r in records)
    assert all(r.primary_category in r.categories for r in records)


def test_atom_feed_is_well_formed_even_for_hostile_text() -> None:
    (record,) = load_sample()[:1]
    hostile = dataclasses.replace(
        record,
        title="<script>alert('x')</script> & \x00\x07 control \ufffe chars 🤖",
        authors=('"Quoted" O\'Neil', "A & B"),
        comment="]]> <![CDATA[ nope",
        doi='10.1/a"b',
    )
    xml = render_feed([hostile], total=1, start=0, items_per_page=10, query='cat:"x" & y').encode()
    root = etree.fromstring(xml)  # strict parser: raises if the XML is not well formed
    ns = {"a": "http://www.w3.org/2005/Atom", "o": "http://a9.com/-/spec/opensearch/1.1/"}
    assert root.findtext("o:totalResults", namespaces=ns) == "1"
    assert (
        root.findtext("a:entry/a:title", namespaces=ns) == "<script>alert('x')</script> &  control  chars 🤖"
    )
