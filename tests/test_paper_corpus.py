"""The team-written fixture generator: deterministic, hostile where it should be, valid in every format."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import json
import re
from pathlib import Path

from lxml import etree

from bot.arxiv_ids import is_valid_category, parse_arxiv_id
from bot.db.papers import newest_per_paper
from bot.ranking.evaluation import load_pool
from tests.fakes.arxiv_atom import encode_feed, render_feed
from tests.paper_corpus import (
    HUGE_TITLE_CHARS,
    LONG_ABSTRACT_CHARS,
    LONG_TITLE_CHARS,
    SEARCH_ABSTRACT_TOKENS,
    SEARCH_TITLE_TOKENS,
    generate_papers,
    hostile_papers,
    iter_papers,
    new_style_id,
    pool_rows,
    search_corpus,
    snapshot_rows,
    storage_hostile_papers,
    write_pool,
)


def test_same_seed_same_papers_other_seed_other_papers() -> None:
    assert generate_papers(200, seed=5) == generate_papers(200, seed=5)
    assert generate_papers(200, seed=5) != generate_papers(200, seed=6)
    assert hostile_papers() == hostile_papers()
    assert search_corpus() == search_corpus()
    assert list(iter_papers(250, batch=100)) == list(iter_papers(250, batch=100))


def test_generated_papers_are_valid_records_in_their_window() -> None:
    first = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    papers = generate_papers(1000, first=first, days=31)
    assert len({p.arxiv_id for p in papers}) == 1000
    assert [p.submitted_at for p in papers] == sorted(p.submitted_at for p in papers)
    assert all(first <= p.submitted_at < first + dt.timedelta(days=31) for p in papers)
    assert all(parse_arxiv_id(p.arxiv_id).base == p.arxiv_id for p in papers)
    assert all(
        p.primary_category == p.categories[0] and all(map(is_valid_category, p.categories)) for p in papers
    )
    assert sum(len(p.categories) > 1 for p in papers) > 300  # cross-lists are common
    assert {p.version for p in papers} == {1, 2, 3}
    assert all(p.updated_at >= p.submitted_at for p in papers)
    text = " ".join(p.title + " " + p.abstract for p in papers)
    for shape in (r"\$\\mathbb", "&amp;", "<b>", r"\\textit", "🤖", "中文", "Gödel"):
        assert re.search(shape, text), shape
    assert any(not p.authors for p in papers)
    ids = {p.arxiv_id for p in iter_papers(2500, batch=1000)}
    assert len(ids) == 2500  # batches never reuse an id
    # Past 99,999 papers the ids move on to the next months and stay valid.
    assert [new_style_id(first, n) for n in (99_999, 100_000, 1_000_001)] == [
        "2603.99999",
        "2604.00000",
        "2701.00001",
    ]


def test_hostile_papers_have_every_breaking_shape() -> None:
    shapes = hostile_papers()
    (latex,) = shapes["latex"]
    assert "$\\alpha$" in latex.title
    assert '\\"o' in latex.title
    assert "\\%" in latex.title
    assert "~" in latex.title
    (html,) = shapes["html"]
    assert "<b>" in html.title
    assert "&amp;" in html.title
    (names,) = shapes["unicode_names"]
    assert any("ł" in a.lower() for a in names.authors)
    assert "王 小明" in names.authors
    assert any("🤖" in a for a in names.authors)
    assert any("\u0600" <= ch <= "\u06ff" for a in names.authors for ch in a)
    assert len(shapes["long_abstract"][0].abstract) == LONG_ABSTRACT_CHARS
    assert len(shapes["long_title"][0].title) >= LONG_TITLE_CHARS - 1
    assert len(shapes["cross_list"][0].categories) == 5
    assert shapes["empty_authors"][0].authors == ()
    versions = shapes["versions"]
    assert [v.version for v in versions] == [1, 2, 3]
    assert len({v.arxiv_id for v in versions}) == 1
    assert newest_per_paper(versions) == [versions[-1]]
    assert {p.arxiv_id for p in shapes["old_style"]} == {"hep-th/9901001", "math.GT/0309136"}
    assert all(parse_arxiv_id(p.arxiv_id).base == p.arxiv_id for p in shapes["old_style"])


def test_storage_hostile_papers_break_every_storage_rule() -> None:
    shapes = storage_hostile_papers()
    assert storage_hostile_papers() == shapes
    assert len(shapes["long_id"].arxiv_id) > 32
    assert len(shapes["long_category"].primary_category) > 32
    assert len(shapes["huge_title"].title) == HUGE_TITLE_CHARS
    control = shapes["control_chars"]
    assert "\x00" in control.abstract
    assert "\x01" in control.title
    assert any("\x00" in name for name in control.authors)
    surrogates = shapes["lone_surrogates"]
    assert "\ud800" in surrogates.title
    assert "\udcff" in surrogates.abstract
    assert all("cs.LG" in record.categories for record in shapes.values())


def test_a_raw_feed_sends_what_a_broken_upstream_would() -> None:
    shapes = storage_hostile_papers()
    records = [shapes["control_chars"], shapes["lone_surrogates"]]
    clean = encode_feed(render_feed(records, total=2, start=0, items_per_page=10))
    etree.fromstring(clean)  # by default nothing XML forbids gets out
    raw = encode_feed(render_feed(records, total=2, start=0, items_per_page=10, raw=True))
    assert b"Control&#x1; characters&#x7;" in raw
    assert b"Lone &#xD800; surrogates" in raw
    assert b"the byte \xff that" in raw  # \udcff stands for the raw byte 0xFF: invalid UTF-8


def test_search_corpus_has_fixed_lengths_and_real_ties() -> None:
    corpus = search_corpus()
    assert 300 <= len(corpus) <= 500
    assert {len(re.findall(r"[^\W_]+", p.title)) for p in corpus} == {SEARCH_TITLE_TOKENS}
    assert {len(re.findall(r"[^\W_]+", p.abstract)) for p in corpus} == {SEARCH_ABSTRACT_TOKENS}
    assert len({p.submitted_at for p in corpus}) == len(corpus) // 3
    text = " ".join(p.title + " " + p.abstract for p in corpus).lower()
    for word in (
        "learning",
        "learned",
        "learns",
        "graphon",
        "paragraph",
        "nyström",
        "state-of-the-art",
        "中文",
    ):
        assert word in text, word


def test_atom_feed_is_well_formed_even_for_hostile_text() -> None:
    (record,) = generate_papers(1)
    hostile = dataclasses.replace(
        record,
        title="<script>alert('x')</script> & \x00\x07 control \ufffe chars 🤖",
        authors=('"Quoted" O\'Neil', "A & B"),
        comment="]]> <![CDATA[ nope",
        doi='10.1/a"b',
    )
    every = [hostile, *(r for group in hostile_papers().values() for r in group)]
    xml = render_feed(every, total=len(every), start=0, items_per_page=100, query='cat:"x" & y').encode()
    root = etree.fromstring(xml)  # strict parser: raises if the XML is not well formed
    ns = {"a": "http://www.w3.org/2005/Atom", "o": "http://a9.com/-/spec/opensearch/1.1/"}
    assert root.findtext("o:totalResults", namespaces=ns) == str(len(every))
    assert (
        root.findtext("a:entry/a:title", namespaces=ns) == "<script>alert('x')</script> &  control  chars 🤖"
    )
    assert len(root.findall("a:entry", namespaces=ns)) == len(every)


def test_pool_file_reads_back_with_the_evaluation_loader(tmp_path: Path) -> None:
    papers = generate_papers(50) + list(hostile_papers()["unicode_names"])
    for name in ("pool.jsonl", "pool.jsonl.gz"):
        loaded = load_pool(write_pool(tmp_path / name, papers))
        assert [c.arxiv_id for c in loaded] == [p.arxiv_id for p in papers]
        assert [c.title for c in loaded] == [p.title for p in papers]
        assert loaded[-1].authors == papers[-1].authors
    assert set(pool_rows(papers)[0]) == {
        "id",
        "title",
        "abstract",
        "authors",
        "categories",
        "primary",
        "date",
    }
    with gzip.open(tmp_path / "pool.jsonl.gz", "rt", encoding="utf-8") as lines:
        assert sum(1 for _ in lines) == len(papers)


def test_snapshot_rows_have_the_bulk_metadata_shape() -> None:
    papers = [
        *hostile_papers()["versions"],
        *hostile_papers()["old_style"],
        *hostile_papers()["empty_authors"],
    ]
    rows = [json.loads(json.dumps(row)) for row in snapshot_rows(papers)]
    third, old_hep = rows[2], rows[3]
    assert third["id"] == papers[2].arxiv_id
    assert [v["version"] for v in third["versions"]] == ["v1", "v2", "v3"]
    created = [dt.datetime.strptime(v["created"], "%a, %d %b %Y %H:%M:%S GMT") for v in third["versions"]]
    assert created == sorted(created)
    assert created[-1].replace(tzinfo=dt.UTC) == papers[2].updated_at
    assert old_hep["categories"] == "hep-th gr-qc"
    assert old_hep["authors_parsed"] == [["Halvorsen", "Ingrid", ""]]
    assert rows[-1]["authors"] == ""
    assert rows[-1]["authors_parsed"] == []
    assert " and " in third["authors"]
